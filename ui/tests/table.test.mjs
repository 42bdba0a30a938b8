// Unit tests of ui/shared/table.js: day blocks and their encoding, the EventTable's bookkeeping, memory per
// event, and that a query reads only the days it needs. (Statistics equivalence: table-equivalence.test.mjs.)
import { test } from "node:test";
import assert from "node:assert/strict";

import { computeStats, parseEvents } from "../shared/stats.js";
import {
  EventTable,
  Tags,
  blockFromParsed,
  computeOperatorStats,
  dayOf,
  decodeBlock,
  emptyBlock,
  encodeBlock,
} from "../shared/table.js";
import { generate, rawEvent, ulid } from "./table-fixtures.mjs";

const DAY = 24 * 60 * 60 * 1000;
const T0 = Date.parse("2026-03-10T08:00:00Z");

function parsedAt(time, n, fields = {}) {
  return parseEvents([rawEvent(time, { eventId: ulid(time, n), ...fields })])[0];
}

test("dayOf gives the UTC day and refuses non-times", () => {
  assert.equal(dayOf(Date.parse("2026-03-29T23:59:59.999Z")), "2026-03-29");
  assert.equal(dayOf(Date.parse("2026-03-30T00:00:00Z")), "2026-03-30");
  assert.throws(() => dayOf(NaN), TypeError);
});

test("blocks: empty, sorted like parseEvents, duplicates dropped, other days refused", () => {
  assert.deepEqual(emptyBlock("2026-03-10"), { v: 1, day: "2026-03-10", checkpoint: null, events: [] });
  assert.throws(() => emptyBlock("2026-02-30"), TypeError);
  const a = parsedAt(T0 + 5000, 2);
  const b = parsedAt(T0, 9);
  const c = parsedAt(T0, 3); // same ms as b: ordered by id
  const block = blockFromParsed("2026-03-10", [a, b, c, a], "01CHECKPOINT0000000000000A");
  assert.deepEqual(
    block.events.map((e) => e.eventId),
    [c.eventId, b.eventId, a.eventId],
  );
  assert.equal(block.checkpoint, "01CHECKPOINT0000000000000A");
  assert.throws(() => blockFromParsed("2026-03-11", [a]), /not on 2026-03-11/);
});

function sampleEvents() {
  const raw = [
    rawEvent(T0, {
      eventId: ulid(T0, 1),
      secretId: "u1",
      sessionId: "s1",
      rawHref: "https://a.example/?utm_campaign=spring&utm_campaign=later&utm_source=news",
      referrer: "https://www.google.de/",
      pageload: 87.25,
      isMobile: true,
      geo: "DE",
    }),
    rawEvent(T0 + 1000, { eventId: ulid(T0 + 1000, 2), secretId: "u1", sessionId: "s1", href: "https://a.example/x" }),
    rawEvent(T0 + 2000, { eventId: ulid(T0 + 2000, 3).toLowerCase(), secretId: null, pageload: 2 ** 40 }),
    rawEvent(T0 + 3000, { eventId: ulid(T0 + 3000, 4), accountId: null, secretId: "u2", pageload: 0 }),
  ];
  return parseEvents(raw);
}

// What stats.js reads of a parsed event; timestamp is not kept and the query only answers the two tags.
function metricFields(e) {
  const { timestamp, query, ...rest } = e;
  return { ...rest, campaign: query.get("utm_campaign"), source: query.get("utm_source") };
}

test("encodeBlock/decodeBlock round trip every field the metrics use, through JSON", () => {
  const events = sampleEvents();
  const block = blockFromParsed("2026-03-10", events, "CP");
  const encoded = encodeBlock(block);
  const json = JSON.parse(JSON.stringify(encoded));
  assert.deepStrictEqual(json, encoded);
  assert.equal(encoded.v, 1);
  assert.equal(encoded.n, 4);
  assert.deepEqual(encoded.dict.secret, ["u1", "u2"]); // first occurrence order, null is 0
  assert.deepEqual(encoded.col.secret, [1, 1, 0, 2]);
  assert.deepEqual(encoded.dict.campaign, ["spring"]); // the first utm_campaign value, as URLSearchParams.get
  // One id is in lower case, so it does not carry the time in canonical form: the time column is written.
  assert.ok(Array.isArray(encoded.t));
  const decoded = decodeBlock(json);
  assert.equal(decoded.day, "2026-03-10");
  assert.equal(decoded.checkpoint, "CP");
  assert.deepStrictEqual(decoded.events.map(metricFields), events.map(metricFields));
  assert.ok(decoded.events[0].query instanceof Tags);
  assert.equal(decoded.events[0].query.get("utm_medium"), null);
  // Canonical ids only: no time column at all.
  const canonical = encodeBlock(blockFromParsed("2026-03-10", events.filter((e) => /^[0-9A-Z]+$/.test(e.eventId))));
  assert.equal(canonical.t, null);
  assert.deepStrictEqual(decodeBlock(canonical).events.map((e) => e.time), [T0, T0 + 1000, T0 + 3000]);
});

test("decodeBlock refuses garbage with a clear error", () => {
  const good = encodeBlock(blockFromParsed("2026-03-10", sampleEvents()));
  const bad = (mutate) => {
    const copy = JSON.parse(JSON.stringify(good));
    mutate(copy);
    return copy;
  };
  const cases = [
    [null, /not an object/],
    ["text", /not an object/],
    [bad((b) => (b.v = 2)), /unknown version/],
    [bad((b) => (b.day = "2026-13-01")), /bad day/],
    [bad((b) => (b.checkpoint = 5)), /checkpoint/],
    [bad((b) => (b.n = 5)), /bad ids/],
    [bad((b) => b.ids.reverse() && b.t.reverse()), /not in order/],
    [bad((b) => (b.ids[1] = b.ids[0])), /not in order or repeat/],
    [bad((b) => (b.col.url[0] = 9)), /column url/],
    [bad((b) => (b.dict.geo = [7])), /dictionary geo/],
    [bad((b) => delete b.col.session), /column session/],
    [bad((b) => (b.pageload[0] = "fast")), /pageload/],
    [bad((b) => (b.mobile[0] = true)), /mobile/],
    [bad((b) => (b.t[0] = DAY)), /not on 2026-03-10/],
    [bad((b) => (b.t = null) && (b.ids[2] = "lower-case-id-without-time")), /carries no time/],
  ];
  for (const [input, message] of cases) {
    assert.throws(
      () => decodeBlock(input),
      (err) => err instanceof Error && /^decodeBlock: /.test(err.message) && message.test(err.message),
    );
  }
});

test("EventTable: adds dedupe, days, blocks, removal, dropping, checkpoints", () => {
  const table = new EventTable();
  const events = sampleEvents();
  const other = parsedAt(T0 + DAY, 77, { secretId: "u3" });
  assert.equal(table.addParsedEvents(events), 4);
  assert.equal(table.addParsedEvents([...events, other, other]), 1);
  assert.equal(table.size, 5);
  assert.deepEqual(table.days(), ["2026-03-10", "2026-03-11"]);
  assert.deepStrictEqual(table.toParsedEvents("2026-03-10").map(metricFields), events.map(metricFields));
  assert.equal(table.blockForDay("2026-03-09"), null);
  assert.equal(table.blockForDay("2026-03-10").checkpoint, null);
  table.setCheckpoint("2026-03-10", "CP1");
  assert.equal(table.blockForDay("2026-03-10").checkpoint, "CP1");
  assert.equal(table.encodeDay("2026-03-10").checkpoint, "CP1");
  // A lower-case id is found and removed; an unknown one is not counted.
  assert.equal(table.removeEventIds([events[2].eventId, "01ARZ3NDEKTSV4RRFFQ69G5FAV"]), 1);
  assert.equal(table.size, 4);
  // addBlock replaces the day (and keeps its checkpoint).
  table.addBlock(blockFromParsed("2026-03-10", [events[0]], "CP2"));
  assert.deepEqual(table.toParsedEvents("2026-03-10").map((e) => e.eventId), [events[0].eventId]);
  assert.equal(table.blockForDay("2026-03-10").checkpoint, "CP2");
  assert.equal(table.dropDaysBefore("2026-03-11"), 1);
  assert.deepEqual(table.days(), ["2026-03-11"]);
  assert.equal(table.size, 1);
  // A block whose events are not on its day is refused.
  assert.throws(() => table.addBlock({ v: 1, day: "2026-03-12", checkpoint: null, events }), /not on/);
});

test("page loads of every kind come back exactly", () => {
  const table = new EventTable();
  const loads = [null, 0, 1, 87.25, 2 ** 40, -0, -3, 4294967294, 4294967295];
  const parsed = loads.map((pageload, i) => ({ ...parsedAt(T0 + i, i + 1), pageload }));
  table.addParsedEvents(parsed);
  const back = table.toParsedEvents().map((e) => e.pageload);
  assert.equal(back.length, loads.length);
  back.forEach((v, i) => assert.ok(Object.is(v, loads[i]), `${v} vs ${loads[i]}`));
});

function typedBytes(table) {
  let bytes = 0;
  for (const seg of table.sorted) {
    for (const value of Object.values(seg)) if (ArrayBuffer.isView(value)) bytes += value.byteLength;
  }
  return bytes;
}

test("at most 40 bytes of columns per event", () => {
  const now = Date.parse("2026-03-30T10:00:00Z");
  const raw = generate({ seed: 3, count: 5000, users: 500, from: now - 30 * DAY, to: now });
  const table = new EventTable();
  table.addParsedEvents(parseEvents(raw));
  const perEvent = typedBytes(table) / table.size;
  assert.ok(perEvent <= 40, `${perEvent} bytes per event`);
});

test("a query reads only the days of its range, the live window and four weeks of retention", () => {
  const now = Date.parse("2026-03-30T10:00:00Z");
  const raw = generate({ seed: 4, count: 3000, users: 200, from: now - 120 * DAY, to: now });
  const table = new EventTable();
  table.addParsedEvents(parseEvents(raw));
  computeOperatorStats(table, { range: 7, now, timeZone: "UTC" }); // settles first-seen times
  const expected = computeStats(raw, { range: 7, now, timeZone: "UTC", perspective: "operator" });
  const limit = now - 29 * DAY;
  let poisoned = 0;
  for (const seg of table.sorted) {
    if (seg.start + DAY >= limit) continue;
    poisoned += 1;
    for (const name of ["t", "secret", "session", "page", "tuple", "load"]) {
      seg[name] = new Proxy(seg[name], {
        get(target, key) {
          if (typeof key === "string" && /^\d+$/.test(key)) throw new Error(`read ${seg.day}`);
          const value = Reflect.get(target, key);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
    }
  }
  assert.ok(poisoned > 80);
  assert.deepStrictEqual(computeOperatorStats(table, { range: 7, now, timeZone: "UTC" }), expected);
  assert.throws(() => computeOperatorStats(table, { range: 3, resolution: "months", now, timeZone: "UTC" }), /read/);
});
