// The fast paths of ui/shared/table.js: compact secret and session ids (64 hex digits, UUIDs) beside ids of
// any other shape, appends and in-place merges of paged adds (the engine's load and refresh), rows that carry
// odd ids and odd page loads while they move, the column encoder against encodeBlock (the definition), and a
// refresh that touches only today's segment. Every check ends in stats.js equality or exact field round trips.
import { test } from "node:test";
import assert from "node:assert/strict";

import { computeStats, parseEvents } from "../shared/stats.js";
import { EventTable, blockFromParsed, computeOperatorStats, decodeBlock, encodeBlock } from "../shared/table.js";
import { generate, random, rawEvent, ulid } from "./table-fixtures.mjs";

const MIN = 60_000;
const DAY = 24 * 60 * MIN;
const NOW = Date.parse("2026-03-30T10:00:00Z");

/** Deterministic lower-case hex of `digits` digits from a seed text (not crypto: fixture ids only). */
function hexOf(text, digits) {
  let h = 2166136261;
  let out = "";
  while (out.length < digits) {
    for (let i = 0; i < text.length; i += 1) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
    h = Math.imul(h ^ out.length, 16777619);
    out += (h >>> 0).toString(16).padStart(8, "0");
  }
  return out.slice(0, digits);
}

function uuidOf(text) {
  const h = hexOf(text, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * The random fixture with real-looking ids: secret ids as 64 hex digits and session ids as UUIDs, except a
 * few in upper case or of another shape (kept as text), so both kinds of dictionary entry are exercised.
 */
function realistic({ seed, count, users = 150, from = NOW - 40 * DAY, to = NOW }) {
  const rnd = random(seed + 1000);
  const secrets = new Map();
  const sessions = new Map();
  const mapped = (map, key, make) => {
    if (key == null) return key;
    if (!map.has(key)) {
      const roll = rnd();
      let value = make(key);
      if (roll < 0.05) value = value.toUpperCase();
      else if (roll < 0.08) value = `legacy-${key}`;
      map.set(key, value);
    }
    return map.get(key);
  };
  return generate({ seed, count, users, from, to, twoAccounts: true }).map((e) => ({
    ...e,
    secretId: mapped(secrets, e.secretId, (k) => hexOf(k, 64)),
    payload: { ...e.payload, sessionId: mapped(sessions, e.payload.sessionId, uuidOf) },
  }));
}

const QUERIES = [
  { range: 7, resolution: "days" },
  { range: 30, resolution: "days" },
  { range: 24, resolution: "hours" },
  { range: 6, resolution: "months" },
];
const FILTERS = [null, "referrer:Google", "geo:DE", "href:https://a.example/about"];

function checkAll(table, raw, label) {
  for (const q of QUERIES) {
    for (const filter of FILTERS) {
      for (const timeZone of ["UTC", "Europe/Berlin"]) {
        const query = { ...q, filter, now: NOW, timeZone };
        const expected = computeStats(raw, { ...query, perspective: "operator" });
        assert.deepStrictEqual(computeOperatorStats(table, query), expected, `${label} ${JSON.stringify(query)}`);
      }
    }
  }
}

// What stats.js reads of a parsed event; timestamp is not kept and the query only answers the two tags.
function fields(e) {
  const { timestamp, query, ...rest } = e;
  return { ...rest, campaign: query.get("utm_campaign"), source: query.get("utm_source") };
}

function sortedParsed(raw) {
  const parsed = parseEvents(raw);
  return parsed.filter((e, i) => i === 0 || e.eventId !== parsed[i - 1].eventId);
}

test("hex secret ids and UUID session ids come back exactly, beside ids of other shapes", () => {
  const raw = realistic({ seed: 21, count: 2500 });
  const table = new EventTable();
  table.addParsedEvents(parseEvents(raw));
  const parsed = sortedParsed(raw);
  assert.deepStrictEqual(table.toParsedEvents().map(fields), parsed.map(fields));
  const secrets = new Set(parsed.map((e) => e.secretId));
  assert.ok([...secrets].some((s) => /^[0-9a-f]{64}$/.test(s ?? "")), "compact secret ids");
  assert.ok([...secrets].some((s) => /^[0-9A-F]{64}$/.test(s ?? "")), "upper-case secret ids stay text");
  assert.ok([...secrets].some((s) => /^legacy-/.test(s ?? "")), "other secret ids stay text");
  assert.ok(parsed.some((e) => /^[0-9a-f-]{36}$/.test(e.sessionId ?? "")), "compact session ids");
  // The dictionaries hold one entry per distinct value, whatever its kind.
  assert.equal(table.secrets.size - 1, [...secrets].filter((s) => s != null).length);
  checkAll(table, raw, "realistic ids");
});

test("encodeDay equals encodeBlock(blockForDay) for every day, and addEncodedBlock equals addBlock", () => {
  const raw = realistic({ seed: 22, count: 2000, from: NOW - 12 * DAY });
  // A few lower-case ids and fractional or huge page loads among them.
  raw.push(
    rawEvent(NOW - 3 * DAY, {
      eventId: ulid(NOW - 3 * DAY, 5).toLowerCase(),
      pageload: 12.5,
      secretId: hexOf("x", 64),
    }),
    rawEvent(NOW - 3 * DAY + 1, { pageload: 2 ** 40, sessionId: uuidOf("y") }),
  );
  const table = new EventTable();
  table.addParsedEvents(parseEvents(raw));
  const viaBlocks = new EventTable();
  const viaObjects = new EventTable();
  for (const day of table.days()) {
    table.setCheckpoint(day, `CP-${day}`);
    const fast = table.encodeDay(day);
    const slow = encodeBlock(table.blockForDay(day));
    assert.deepStrictEqual(fast, slow, day);
    const json = JSON.parse(JSON.stringify(fast));
    viaBlocks.addEncodedBlock(json);
    viaObjects.addBlock(decodeBlock(json));
  }
  assert.deepStrictEqual(viaBlocks.toParsedEvents().map(fields), table.toParsedEvents().map(fields));
  assert.deepStrictEqual(viaObjects.toParsedEvents().map(fields), table.toParsedEvents().map(fields));
  assert.deepStrictEqual(
    viaBlocks.days().map((d) => viaBlocks.blockForDay(d).checkpoint),
    table.days().map((d) => `CP-${d}`),
  );
  checkAll(viaBlocks, raw, "addEncodedBlock");
});

test("pages in sequence order, late events merged into earlier rows, repeats: equal one sorted add", () => {
  const raw = realistic({ seed: 23, count: 3000, from: NOW - 9 * DAY });
  const parsed = parseEvents(raw);
  // The server's order is almost time order: shuffle a few events a little, and send some twice.
  const rnd = random(5);
  const stream = parsed.slice();
  for (let k = 0; k < 120; k += 1) {
    const i = rnd.int(stream.length - 30);
    const j = i + 1 + rnd.int(25);
    [stream[i], stream[j]] = [stream[j], stream[i]];
  }
  for (let k = 0; k < 60; k += 1) stream.splice(rnd.int(stream.length), 0, parsed[rnd.int(parsed.length)]);
  // A few very late ones: events of the first days arriving at the end.
  const late = stream.splice(100, 40);
  stream.push(...late);
  const table = new EventTable();
  let added = 0;
  for (let at = 0; at < stream.length; ) {
    const size = 1 + rnd.int(400);
    added += table.addParsedEvents(stream.slice(at, at + size));
    at += size;
  }
  const unique = sortedParsed(raw);
  assert.equal(added, unique.length);
  assert.equal(table.size, unique.length);
  assert.deepStrictEqual(table.toParsedEvents().map(fields), unique.map(fields));
  checkAll(table, raw, "paged");
  assert.ok(table.sorted.some((seg) => seg.t.length > seg.n), "some day was still growing");
  // Days not written by the latest call give back their spare room; the newest day (today) keeps it.
  const newest = table.sorted[table.sorted.length - 1];
  const last = newest.start + newest.t[newest.n - 1];
  assert.equal(table.addParsedEvents([{ ...unique[unique.length - 1], eventId: ulid(last, 4242), time: last }]), 1);
  for (const seg of table.sorted) if (seg !== newest) assert.equal(seg.t.length, seg.n, seg.day);
});

test("odd ids and odd page loads move with their rows when earlier events are merged in", () => {
  const base = Date.parse("2026-03-20T12:00:00Z");
  const later = [0, 1, 2, 3].map((k) =>
    parseEvents([
      rawEvent(base + 10_000 + k, {
        eventId: k % 2 ? ulid(base + 10_000 + k, k).toLowerCase() : ulid(base + 10_000 + k, k),
        pageload: [87.25, 2 ** 40, 5, 0.5][k],
        secretId: hexOf(`u${k}`, 64),
      }),
    ])[0],
  );
  const table = new EventTable();
  table.addParsedEvents(later);
  // An id that carries no time at all (a legacy id), placed by its event's time.
  const legacy = { ...later[0], eventId: "legacy-event-7", time: base + 10_002, pageload: 33.3 };
  const earlier = [0, 1, 2].map((k) => ({ ...later[0], eventId: ulid(base + k, 90 + k), time: base + k, pageload: k }));
  assert.equal(table.addParsedEvents([legacy, ...earlier]), 4);
  const back = table.toParsedEvents();
  const expected = [...earlier, ...later.slice(0, 2), legacy, ...later.slice(2)];
  // Ties at the same ms order by id text: "legacy-…" sorts after the upper-case and before lower-case ids.
  expected.sort((a, b) => a.time - b.time || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));
  assert.deepStrictEqual(back.map((e) => e.eventId), expected.map((e) => e.eventId));
  back.forEach((e, i) => assert.ok(Object.is(e.pageload, expected[i].pageload), `${e.pageload} at ${i}`));
  // Removal finds the legacy id (no time in it) and a lower-case ULID; repeats and unknown ids count once.
  assert.equal(table.removeEventIds(["legacy-event-7", later[1].eventId, later[1].eventId, "nope"]), 2);
  assert.deepStrictEqual(
    table.toParsedEvents().map((e) => e.eventId),
    expected.filter((e) => e !== legacy && e !== later[1]).map((e) => e.eventId),
  );
  // A repeated add of a legacy id is a duplicate, not a new event.
  assert.equal(table.addParsedEvents([legacy, legacy]), 1);
  assert.equal(table.addParsedEvents([legacy]), 0);
});

test("a refresh appends to today only: other days and the dictionaries' entries stay as they were", () => {
  const raw = realistic({ seed: 24, count: 3000, from: NOW - 20 * DAY, to: NOW - 5 * MIN });
  const table = new EventTable();
  const parsed = parseEvents(raw);
  for (let at = 0; at < parsed.length; at += 500) table.addParsedEvents(parsed.slice(at, at + 500));
  const query = { range: 7, resolution: "days", now: NOW, timeZone: "Europe/Berlin" };
  computeOperatorStats(table, query);
  const before = new Map(table.sorted.map((seg) => [seg.day, { seg, t: seg.t, secret: seg.secret, n: seg.n }]));
  const secretsBefore = table.secrets.size;
  // Fresh events of the last minutes, mostly known users and pages, one new user.
  const fresh = generate({ seed: 25, count: 60, users: 40, from: NOW - 4 * MIN, to: NOW }).map((e, i) => ({
    ...e,
    secretId: i === 0 ? hexOf("newcomer", 64) : raw[i * 7].secretId,
  }));
  const today = new Date(NOW).toISOString().slice(0, 10);
  const added = table.addParsedEvents(parseEvents(fresh));
  assert.equal(added, parseEvents(fresh).length);
  for (const seg of table.sorted) {
    const old = before.get(seg.day);
    if (seg.day === today) continue;
    assert.ok(old && old.seg === seg && old.t === seg.t && old.secret === seg.secret && old.n === seg.n, seg.day);
  }
  assert.ok(table.secrets.size <= secretsBefore + 1 + fresh.length);
  checkAll(table, [...raw, ...fresh], "after a refresh");
});

test("blockFromParsed/encodeBlock/decodeBlock keep compact-looking ids exactly (the block format is text)", () => {
  const day = "2026-03-10";
  const t = Date.parse(`${day}T08:00:00Z`);
  const hex = hexOf("a", 64);
  const ids = [hex, hex.toUpperCase(), `${hexOf("b", 63)}g`, uuidOf("c"), uuidOf("c").toUpperCase()];
  const at = (k, fields) => parseEvents([rawEvent(t + k, { eventId: ulid(t + k, k), ...fields })])[0];
  const events = ids.map((id, k) => at(k, { secretId: id, sessionId: uuidOf(`s${k}`) }));
  events.push(at(9, { secretId: null, sessionId: ids[1] }));
  const table = new EventTable();
  table.addBlock(blockFromParsed(day, events));
  assert.deepStrictEqual(table.toParsedEvents().map(fields), events.map(fields));
  const decoded = decodeBlock(JSON.parse(JSON.stringify(table.encodeDay(day))));
  assert.deepStrictEqual(decoded.events.map(fields), events.map(fields));
});
