// EventTable.exportSnapshot / EventTable.fromSnapshot (the engine's local snapshot): a restored table answers
// every query exactly like the table it came from and like stats.js over the raw events, and behaves the same
// under adds, removals and dropped days afterwards; inconsistent snapshots are refused.
import { test } from "node:test";
import assert from "node:assert/strict";

import { computeStats, parseEvents } from "../shared/stats.js";
import { EventTable, computeOperatorStats, encodeBlock, blockFromParsed } from "../shared/table.js";
import { generate, rawEvent, ulid } from "./table-fixtures.mjs";

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const NOW = Date.parse("2026-03-30T10:00:00Z");

const hex = (n) => n.toString(16).padStart(8, "0").repeat(8);
const uuid = (n) => {
  const h = n.toString(16).padStart(32, "0");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

// Mostly the shapes of real ids (64 hex secret ids, UUID sessions: the compact stores), some other shapes,
// lower-case event ids, fractional page loads, and one url that is not well-formed UTF-16.
function fixture() {
  const raw = generate({ seed: 11, count: 1500, users: 200, from: NOW - 120 * DAY, to: NOW + HOUR, twoAccounts: true });
  raw.push(...generate({ seed: 12, count: 60, users: 20, from: NOW - 20 * MIN, to: NOW + MIN }));
  raw.forEach((e, i) => {
    if (i % 3 !== 0 && e.secretId) e.secretId = hex(Number(e.secretId.slice(5)) + 1);
    if (i % 4 !== 0) e.payload.sessionId &&= uuid(i >> 2);
  });
  raw.push(
    rawEvent(NOW - 2 * DAY, { secretId: hex(7), href: "https://a.example/caf\u00e9/\ud83d\ude00", pageload: 12.5 }),
    rawEvent(NOW - 2 * DAY + 1000, { secretId: hex(7), href: "https://a.example/x\ud800y", pageload: -0 }),
    rawEvent(NOW - 3 * DAY, { secretId: "USER-UPPER", href: "https://a.example/", pageload: 2 ** 40 }),
  );
  return raw;
}

const QUERIES = [
  { range: 7, resolution: "days" },
  { range: 30, resolution: "days", timeZone: "Europe/Berlin" },
  { range: 24, resolution: "hours" },
  { range: 6, resolution: "months" },
  { range: 12, resolution: "weeks", filter: "referrer:Google" },
  { range: 30, resolution: "days", filter: "href:https://a.example/about" },
  { range: 30, resolution: "days", filter: "geo:DE", timeZone: "America/New_York" },
].map((q) => ({ ...q, now: new Date(NOW) }));

function roundTrip(table) {
  const { meta, buffers } = table.exportSnapshot();
  // What IndexedDB does to it: structured clone (the meta through JSON, to be sure it is JSON-able).
  return EventTable.fromSnapshot(structuredClone({ meta: JSON.parse(JSON.stringify(meta)), buffers }));
}

function sameAnswers(a, b, raw, label) {
  for (const q of QUERIES) {
    const expected = computeStats(raw, { ...q, perspective: "operator" });
    assert.deepStrictEqual(computeOperatorStats(a, q), expected, `${label} original ${JSON.stringify(q)}`);
    assert.deepStrictEqual(computeOperatorStats(b, q), expected, `${label} restored ${JSON.stringify(q)}`);
  }
}

test("a restored table answers every query exactly like the original and stats.js", () => {
  const raw = fixture();
  const table = new EventTable();
  table.addParsedEvents(parseEvents(raw));
  table.setCheckpoint(table.days()[3], "01HZZZZZZZZZZZZZZZZZZZZZZZ");
  // Both kinds of values are in the compact stores: raw words and text beside them.
  for (const name of ["secrets", "sessions"]) {
    assert.ok(table[name].otherValues.size > 10 && table[name].size - 1 > 2 * table[name].otherValues.size, name);
  }
  assert.ok(table.oddIds.length > 0 && table.oddLoads.length > 0);
  const restored = roundTrip(table);
  assert.equal(restored.size, table.size);
  for (const name of ["secrets", "sessions"]) assert.equal(restored[name].size, table[name].size);
  assert.deepStrictEqual(restored.days(), table.days());
  assert.equal(restored.blockForDay(table.days()[3]).checkpoint, "01HZZZZZZZZZZZZZZZZZZZZZZZ");
  assert.deepStrictEqual(
    restored.toParsedEvents().map((e) => ({ ...e, query: [e.query.get("utm_campaign"), e.query.get("utm_source")] })),
    table.toParsedEvents().map((e) => ({ ...e, query: [e.query.get("utm_campaign"), e.query.get("utm_source")] })),
  );
  for (const day of table.days()) assert.deepStrictEqual(restored.encodeDay(day), table.encodeDay(day), day);
  sameAnswers(table, restored, raw, "restored");
  // A snapshot of a restored table is the same snapshot.
  const again = roundTrip(restored);
  for (const day of table.days()) assert.deepStrictEqual(again.encodeDay(day), table.encodeDay(day), day);
});

test("adds, removals, replaced and dropped days after a restore behave exactly as without it", () => {
  const raw = fixture();
  const parsed = parseEvents(raw);
  const half = parsed.filter((_, i) => i % 2 === 0);
  const other = parsed.filter((_, i) => i % 2 === 1);
  const table = new EventTable();
  table.addParsedEvents(half);
  const restored = roundTrip(table);
  for (const t of [table, restored]) {
    assert.equal(t.addParsedEvents(other.slice(0, 400)), 400);
    assert.equal(t.addParsedEvents(other), other.length - 400); // duplicates skipped, known values reused
  }
  const gone = parsed.filter((_, i) => i % 7 === 0).map((e) => e.eventId);
  assert.equal(restored.removeEventIds(gone), table.removeEventIds(gone));
  const day = table.days()[5];
  const block = blockFromParsed(day, table.toParsedEvents(day).slice(1), "01J00000000000000000000000");
  table.addEncodedBlock(encodeBlock(block));
  restored.addEncodedBlock(encodeBlock(block));
  const cutoff = table.days()[2];
  assert.equal(restored.dropDaysBefore(cutoff), table.dropDaysBefore(cutoff));
  const keptIds = new Set(table.toParsedEvents().map((e) => e.eventId));
  const rawLeft = raw.filter((e) => keptIds.has(e.eventId));
  assert.equal(rawLeft.length, table.size);
  sameAnswers(table, restored, rawLeft, "after changes");
  // New values after the restore intern to fresh ids without colliding with restored ones.
  const freshRaw = rawEvent(NOW - 5 * MIN, { secretId: hex(99999), href: "https://a.example/new", sessionId: uuid(1) });
  const fresh = parseEvents([freshRaw]);
  table.addParsedEvents(fresh);
  restored.addParsedEvents(fresh);
  assert.equal(restored.secrets.size, table.secrets.size);
  assert.equal(restored.urls.size, table.urls.size);
  sameAnswers(table, restored, [...rawLeft, freshRaw], "after a fresh event");
});

test("the snapshot is a copy: the table changing afterwards does not change it", () => {
  const table = new EventTable();
  table.addParsedEvents(parseEvents(generate({ seed: 3, count: 200, from: NOW - 5 * DAY, to: NOW })));
  const snapshot = table.exportSnapshot();
  const before = table.toParsedEvents().length;
  table.removeEventIds(table.toParsedEvents().slice(0, 50).map((e) => e.eventId));
  assert.equal(EventTable.fromSnapshot(snapshot).size, before);
});

test("an empty table round-trips", () => {
  const restored = roundTrip(new EventTable());
  assert.equal(restored.size, 0);
  assert.equal(computeOperatorStats(restored, QUERIES[0]).empty, true);
  restored.addParsedEvents(parseEvents([rawEvent(NOW - MIN, { eventId: ulid(NOW - MIN, 1) })]));
  assert.equal(restored.size, 1);
});

test("inconsistent snapshots are refused, never half-loaded", () => {
  const table = new EventTable();
  table.addParsedEvents(parseEvents(generate({ seed: 4, count: 300, from: NOW - 9 * DAY, to: NOW })));
  const good = () => {
    const s = table.exportSnapshot();
    return { meta: JSON.parse(JSON.stringify(s.meta)), buffers: s.buffers };
  };
  const cases = {
    version: (s) => (s.meta.version = 2),
    "missing buffer": (s) => s.buffers.pop(),
    "short column": (s) => (s.buffers[s.meta.columns.page] = new ArrayBuffer(8)),
    "size": (s) => (s.meta.size += 1),
    "days out of order": (s) => s.meta.days.reverse(),
    "page out of range": (s) => (new Uint32Array(s.buffers[s.meta.columns.page])[0] = 1e6),
    "secret out of range": (s) => (new Uint32Array(s.buffers[s.meta.columns.secret])[0] = 1e6),
    "dictionary text": (s) => (s.buffers[s.meta.dicts.urls.bytes] = new ArrayBuffer(1)),
    "tuple dictionary id": (s) => (new Uint32Array(s.buffers[s.meta.tuples.tupleGeo])[1] = 1e6),
  };
  for (const [name, spoil] of Object.entries(cases)) {
    const s = good();
    spoil(s);
    assert.throws(() => EventTable.fromSnapshot(s), /fromSnapshot/, name);
  }
  assert.equal(EventTable.fromSnapshot(good()).size, table.size);
});
