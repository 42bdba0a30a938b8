// computeOperatorStats(table, q) must deep-equal computeStats(raw, {...q, perspective: "operator"}) of stats.js
// (the definition) for the same events: hand-made fixtures and a seeded random generator, every range and
// filter kind, DST zones, and after every way the table changes (removals, replaced days, encode/decode round
// trips, dropped days, incremental adds).
import { test } from "node:test";
import assert from "node:assert/strict";

import { NONE_GEOLOCATION, NONE_REFERRER, computeStats, parseEvents, ulidTime } from "../shared/stats.js";
import {
  EventTable,
  blockFromParsed,
  computeOperatorStats,
  dayOf,
  decodeBlock,
  encodeBlock,
} from "../shared/table.js";
import { generate, random, rawEvent, ulid } from "./table-fixtures.mjs";

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
// Right after Europe/Berlin's spring change (2026-03-29 01:00 UTC) and three weeks after New York's (03-08).
const NOW = Date.parse("2026-03-30T10:00:00Z");
// Right after America/Santiago and Australia/Lord_Howe turned their clocks back (2026-04-05).
const NOW2 = Date.parse("2026-04-06T03:30:00Z");

function tableOf(raw) {
  const table = new EventTable();
  table.addParsedEvents(parseEvents(raw));
  return table;
}

function check(table, raw, query, label = "") {
  const expected = computeStats(raw, { ...query, perspective: "operator" });
  const actual = computeOperatorStats(table, query);
  assert.deepStrictEqual(actual, expected, `${label} ${JSON.stringify(query)}`);
  return actual;
}

// The random fixture: ~200 days of traffic ending after NOW2, plus busy last minutes before both "now"s.
const RAW = [
  ...generate({ seed: 7, count: 1600, users: 300, from: NOW - 200 * DAY, to: NOW2 + 2 * HOUR, twoAccounts: true }),
  ...generate({ seed: 8, count: 80, users: 30, from: NOW - 20 * MIN, to: NOW + MIN }),
  ...generate({ seed: 9, count: 80, users: 30, from: NOW2 - 20 * MIN, to: NOW2 + MIN }),
];

const RANGES = [
  { range: 7, resolution: "days" },
  { range: 30, resolution: "days" },
  { range: 24, resolution: "hours" },
  { range: "yesterday" },
  { range: 6, resolution: "weeks" },
  { range: 12, resolution: "weeks" },
  { range: 6, resolution: "months" },
  { range: 3, resolution: "months" },
  { from: "2026-03-20", to: "2026-03-31", resolution: "days" },
  { from: "2026-03-02T00:00:00Z", to: "2026-01-10T00:00:00Z", resolution: "weeks" },
];

const FILTERS = [
  null,
  "href:https://a.example/about",
  "href:https://a.example/not-a-page/",
  "referrer:Google",
  `referrer:${NONE_REFERRER}`,
  "referrer:example.org",
  "campaign:spring",
  "source:newsletter",
  "landing:https://a.example/",
  "exit:https://a.example/pricing/",
  "geo:DE",
  `geo:${NONE_GEOLOCATION}`,
  "geo:ZZ", // matches no session: everything empty
  { prop: "source", value: "hn" },
  "campaign:", // unusable: no filter
];

// A custom offset rule whose clocks go back across local midnight (00:30 -> 23:30 the day before) on
// 2026-03-25, so a few events fall into an earlier bucket than the one before them.
const BACKWARDS_AT = Date.parse("2026-03-24T22:30:00Z");
const backwards = (ms) => (ms < BACKWARDS_AT ? 120 : 60);

const ZONES = [
  "UTC",
  "Europe/Berlin",
  "America/New_York",
  "Asia/Kolkata",
  "Australia/Lord_Howe",
  "America/Santiago",
  -150,
  undefined,
  backwards,
];

test("random fixture: every range in every zone, a few filters each", () => {
  const table = tableOf(RAW);
  assert.equal(table.size, parseEvents(RAW).length);
  let nonEmpty = 0;
  for (const timeZone of ZONES) {
    // The second "now" is after the April changes of the southern zones.
    const nows = ["Australia/Lord_Howe", "America/Santiago", backwards].includes(timeZone) ? [NOW, NOW2] : [NOW];
    for (const now of nows) {
      for (const range of RANGES) {
        for (const filter of [null, "referrer:Google", "href:https://a.example/about", "geo:US"]) {
          const r = check(table, RAW, { ...range, now: new Date(now), timeZone, filter }, String(timeZone));
          if (r.uniqueSessions > 0) nonEmpty += 1;
        }
      }
    }
  }
  assert.ok(nonEmpty > 150, `most queries see data (${nonEmpty})`);
});

test("random fixture: every filter kind (including one without rows) in UTC and Europe/Berlin", () => {
  const table = tableOf(RAW);
  for (const timeZone of ["UTC", "Europe/Berlin"]) {
    for (const range of [RANGES[0], RANGES[1], RANGES[3], RANGES[6], RANGES[8]]) {
      for (const filter of FILTERS) {
        const r = check(table, RAW, { ...range, now: NOW, timeZone, filter });
        if (filter === "geo:ZZ") assert.equal(r.uniqueSessions, 0);
      }
    }
  }
});

test("the data really exercises the metrics", () => {
  const r = computeOperatorStats(tableOf(RAW), { range: 30, resolution: "days", now: NOW, timeZone: "UTC" });
  assert.ok(r.uniqueUsers > 50 && r.uniqueSessions > 100);
  assert.ok(r.liveUsers > 5 && r.livePages.length > 2);
  assert.ok(r.returningUsers > 0 && r.returningUsers < 1);
  assert.ok(r.campaigns.length > 0 && r.sources.length > 0 && r.geo.length > 2 && r.exitPages.length > 2);
  assert.ok(r.retentionMatrix[0][0] === 1 && r.retentionMatrix.flat().some((v) => v > 0 && v < 1));
  assert.equal(r.uniqueAccounts, 2);
  assert.ok(typeof r.avgPageload === "number" && !Number.isInteger(r.avgPageload));
  const backwardsResult = computeOperatorStats(tableOf(RAW), {
    range: 7,
    resolution: "days",
    now: NOW,
    timeZone: backwards,
  });
  assert.ok(backwardsResult.pageviews.some((b) => b.pageviews > 0));
});

// Hand-made: sessions across midnight (UTC and Berlin), events without session or secret, ties in one ms,
// and a DST night.
function handMade() {
  const at = (iso) => Date.parse(iso);
  const e = (iso, fields, n = 0) => rawEvent(at(iso), { eventId: ulid(at(iso), 1000 + n), ...fields });
  return [
    // s1 crosses UTC midnight 2026-03-27/28: Google -> /about -> /pricing
    e(
      "2026-03-27T23:50:00Z",
      { secretId: "u1", sessionId: "s1", referrer: "https://www.google.com/", pageload: 250 },
      1,
    ),
    e("2026-03-28T00:05:00Z", { secretId: "u1", sessionId: "s1", href: "https://a.example/about", pageload: 0 }, 2),
    e("2026-03-28T00:20:00Z", { secretId: "u1", sessionId: "s1", href: "https://a.example/pricing" }, 3),
    // s2 crosses Berlin's midnight (22:55Z = 23:55 CET) and the DST night of 2026-03-29 (01:00Z)
    e("2026-03-28T22:55:00Z", { secretId: "u2", sessionId: "s2", geo: "DE", isMobile: true }, 4),
    e("2026-03-29T00:59:59Z", { secretId: "u2", sessionId: "s2", href: "https://a.example/blog/x", geo: "FR" }, 5),
    e("2026-03-29T01:00:00Z", { secretId: "u2", sessionId: "s2", href: "https://a.example/blog/y" }, 6),
    // two events in the same millisecond: ordered by id
    e("2026-03-29T12:00:00Z", { secretId: "u3", sessionId: "s3", rawHref: "https://a.example/?utm_campaign=c1" }, 8),
    e("2026-03-29T12:00:00Z", { secretId: "u3", sessionId: "s3", href: "https://a.example/about" }, 7),
    // no session, no secret
    e("2026-03-29T13:00:00Z", { secretId: null, sessionId: null, pageload: 99.5 }, 9),
    e("2026-03-29T14:00:00Z", { secretId: "u4", sessionId: null, geo: "FR" }, 10),
    e("2026-03-29T15:00:00Z", { secretId: null, sessionId: "s5", referrer: "https://news.ycombinator.com/" }, 11),
    // u1 returns; an old visit of u3 three weeks before
    e("2026-03-30T09:50:00Z", { secretId: "u1", sessionId: "s6", href: "https://a.example/about" }, 12),
    e("2026-03-30T09:55:00Z", { secretId: null, sessionId: "s6" }, 13),
    e("2026-03-08T06:30:00Z", { secretId: "u3", sessionId: "s0", rawHref: "https://a.example/?utm_source=x" }, 14),
    // in the future (clock skew): counts in the newest retention chunk, not live
    e("2026-03-30T10:00:01Z", { secretId: "u5", sessionId: "s7" }, 15),
    // dropped by parseEvent: not a pageview, and a broken id
    { ...e("2026-03-29T16:00:00Z", { secretId: "u1" }, 16), payload: { type: "CUSTOM", href: "https://a.example/" } },
    { accountId: "acc-a", eventId: "nope", secretId: "u1", payload: { type: "PAGEVIEW", href: "https://a.example/" } },
  ];
}

test("hand-made fixture: midnight, DST, ties, missing ids, custom ranges, yesterday", () => {
  const raw = handMade();
  const table = tableOf(raw);
  assert.equal(table.size, raw.length - 2);
  const queries = [];
  for (const timeZone of ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"]) {
    for (const range of [...RANGES, { range: 3, resolution: "days" }, { range: 48, resolution: "hours" }]) {
      for (const filter of FILTERS) queries.push({ ...range, now: NOW, timeZone, filter });
    }
  }
  for (const q of queries) check(table, raw, q, "hand-made");
});

test("hand-made fixture: worked numbers", () => {
  const table = tableOf(handMade());
  const r = computeOperatorStats(table, { range: "yesterday", now: NOW, timeZone: "UTC" });
  // yesterday (UTC) = 2026-03-29: e4? no (03-28 22:55); e5, e6 (s2), e7, e8 (s3), e9, e10, e11.
  assert.equal(r.resolution, "hours");
  assert.equal(r.pageviews.length, 24);
  assert.equal(r.pageviews.reduce((n, b) => n + b.pageviews, 0), 5); // e9 and e11 have no secret
  assert.equal(r.uniqueSessions, 3); // s2, s3, s5
  assert.equal(r.uniqueUsers, 3); // u2, u3, u4
  // u2 (first seen 03-28) is returning; u3 (first seen 03-08) too; u4 is new: 1 - 1/3.
  assert.equal(r.returningUsers, 1 - 1 / 3);
  assert.equal(r.avgPageload, 99.5);
  assert.equal(r.liveUsers, 1); // u1 at 09:50; the null-secret event at 09:55 counts in livePages only
  assert.deepEqual(r.livePages, [
    { key: "https://a.example/", count: 1 },
    { key: "https://a.example/about/", count: 1 },
  ]);
  assert.deepEqual(r.retentionMatrix[3], [1]);
  // The oldest event in scope is u1's very first one: u1 is new, not returning.
  const first = computeOperatorStats(table, { from: "2026-03-27", to: "2026-03-27", now: NOW, timeZone: "UTC" });
  assert.equal(first.uniqueUsers, 1);
  assert.equal(first.returningUsers, 0);
  // A session's geo is its first event's that has one: s2 counts for DE even if a later event said FR.
  const m = computeOperatorStats(table, { range: 6, resolution: "months", now: NOW, timeZone: "UTC" });
  assert.equal(m.returningUsers, null);
  assert.deepEqual(
    m.geo.find((row) => row.key === "DE"),
    { key: "DE", count: [1, 3] },
  );
});

function withoutIds(raw, ids) {
  const gone = new Set(ids);
  return raw.filter((e) => !gone.has(e.eventId));
}

const SOME_QUERIES = [];
for (const timeZone of ["UTC", "Europe/Berlin", "America/New_York"]) {
  for (const range of [RANGES[0], RANGES[1], RANGES[3], RANGES[6], RANGES[9]]) {
    for (const filter of [null, "referrer:Google", "href:https://a.example/", "landing:https://a.example/about/"]) {
      SOME_QUERIES.push({ ...range, now: NOW, timeZone, filter });
    }
  }
}

function checkAll(table, raw, label) {
  for (const q of SOME_QUERIES) check(table, raw, q, label);
}

test("after removeEventIds (first events of users, lower-case ids, unknown ids)", () => {
  const table = tableOf(RAW);
  const rnd = random(42);
  const parsed = parseEvents(RAW);
  // Remove every user's first event (moves first-seen times) and a random tenth of the rest.
  const firsts = new Map();
  for (const p of parsed) if (p.secretId && !firsts.has(p.secretId)) firsts.set(p.secretId, p.eventId);
  const ids = [...firsts.values(), ...parsed.filter(() => rnd.chance(0.1)).map((p) => p.eventId)];
  const lower = parsed.find((p) => p.eventId !== p.eventId.toUpperCase());
  assert.ok(lower, "the fixture has a lower-case id");
  ids.push(lower.eventId, "01ARZ3NDEKTSV4RRFFQ69G5FAV", "not-an-id");
  const unique = new Set(ids);
  const removed = table.removeEventIds(ids);
  assert.equal(removed, unique.size - 2);
  const raw = withoutIds(RAW, ids);
  assert.equal(table.size, parseEvents(raw).length);
  checkAll(table, raw, "removed");
  assert.equal(table.removeEventIds(ids), 0);
});

test("after addBlock replaces a day, and an empty block removes it", () => {
  const table = tableOf(RAW);
  const day = dayOf(NOW - 2 * DAY);
  const start = Date.parse(`${day}T00:00:00Z`);
  const onDay = (e) => dayOf(ulidTime(e.eventId)) === day;
  const kept = RAW.filter(onDay).filter((_, i) => i % 2 === 0);
  const fresh = generate({ seed: 99, count: 60, users: 40, from: start, to: start + DAY - 3 * HOUR });
  const replacement = [...kept, ...fresh.filter(onDay)];
  table.addBlock(blockFromParsed(day, parseEvents(replacement)));
  const raw = [...RAW.filter((e) => !onDay(e)), ...replacement];
  checkAll(table, raw, "replaced");
  table.addBlock(blockFromParsed(day, []));
  assert.ok(!table.days().includes(day));
  checkAll(table, RAW.filter((e) => !onDay(e)), "emptied");
});

test("after encodeBlock/decodeBlock round trips of every day (through JSON), and addEncodedBlock", () => {
  const source = tableOf(RAW);
  const viaBlocks = new EventTable();
  const viaEncoded = new EventTable();
  for (const day of source.days()) {
    const encoded = JSON.parse(JSON.stringify(encodeBlock(source.blockForDay(day))));
    assert.deepStrictEqual(encoded, JSON.parse(JSON.stringify(source.encodeDay(day))));
    viaBlocks.addBlock(decodeBlock(encoded));
    viaEncoded.addEncodedBlock(encoded);
  }
  assert.deepStrictEqual(viaBlocks.days(), source.days());
  checkAll(viaBlocks, RAW, "decoded");
  checkAll(viaEncoded, RAW, "encoded");
  assert.deepStrictEqual(viaEncoded.toParsedEvents().map(strip), source.toParsedEvents().map(strip));
});

function strip(e) {
  return { ...e, query: [e.query.get("utm_campaign"), e.query.get("utm_source")] };
}

test("after dropDaysBefore", () => {
  const table = tableOf(RAW);
  const cut = dayOf(NOW - 20 * DAY);
  const dropped = table.dropDaysBefore(cut);
  const raw = RAW.filter((e) => !Number.isFinite(ulidTime(e.eventId)) || dayOf(ulidTime(e.eventId)) >= cut);
  assert.equal(dropped, parseEvents(RAW).length - parseEvents(raw).length);
  assert.ok(dropped > 1000);
  assert.equal(table.days()[0] >= cut, true);
  checkAll(table, raw, "dropped");
});

test("incremental adds in random batches, with repeats, equal one big add", () => {
  const rnd = random(5);
  const parsed = parseEvents(RAW);
  const shuffled = [...parsed].sort(() => rnd() - 0.5);
  const table = new EventTable();
  let added = 0;
  for (let i = 0; i < shuffled.length; ) {
    const n = 1 + rnd.int(400);
    const batch = shuffled.slice(i, i + n);
    added += table.addParsedEvents([...batch, ...shuffled.slice(Math.max(0, i - 20), i)]);
    i += n;
    if (rnd.chance(0.2)) computeOperatorStats(table, { range: 30, now: NOW, timeZone: "UTC" });
  }
  assert.equal(added, parsed.length);
  assert.equal(table.size, parsed.length);
  checkAll(table, RAW, "incremental");
});

test("clocks going back across local midnight: events return to an earlier bucket", () => {
  // `backwards` turns 00:30 of 03-25 into 23:30 of 03-24: u1's 22:40Z event belongs to 03-24 again.
  const raw = [
    rawEvent(Date.parse("2026-03-24T20:00:00Z"), { secretId: "u1", sessionId: "s1" }),
    rawEvent(Date.parse("2026-03-24T22:10:00Z"), { secretId: "u1", sessionId: "s1" }),
    rawEvent(Date.parse("2026-03-24T22:40:00Z"), { secretId: "u1", sessionId: "s1" }),
    rawEvent(Date.parse("2026-03-24T23:10:00Z"), { secretId: "u2", sessionId: "s2" }),
  ];
  const table = tableOf(raw);
  const query = { range: 7, resolution: "days", now: Date.parse("2026-03-26T12:00:00Z"), timeZone: backwards };
  const r = check(table, raw, query, "backwards");
  const day24 = r.pageviews.find((b) => b.key === "2026-03-24");
  const day25 = r.pageviews.find((b) => b.key === "2026-03-25");
  assert.deepEqual([day24.pageviews, day24.visitors, day24.accounts], [2, 1, 1]);
  assert.deepEqual([day25.pageviews, day25.visitors, day25.accounts], [2, 2, 1]);
});
