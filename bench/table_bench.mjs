#!/usr/bin/env node
// Benchmark of ui/shared/table.js at the operator dashboard's target size: 1M events, 200k users, 180 days.
//
// Reports build time, bytes per event (columns alone, and everything the table holds including its
// dictionaries), encode + decode time of all day blocks (the engine's cache format), and median query times
// of computeOperatorStats for 7 days / 30 days / 6 months with and without a filter, next to stats.js
// `computeStats` on a 100k-event subset (the exact, object-based baseline it must equal).
//
//   node --expose-gc bench/table_bench.mjs [--events 1000000] [--users 200000] [--days 180] [--runs 5]
//                                          [--page 5000] [--json]
//
// The build feeds addParsedEvents like the engine's data worker does: pages of `--page` events in time order
// (the server's sequence order), pages crossing midnight; `--page 0` adds each day's events in one call,
// unsorted. Encode and decode are timed apart from JSON.stringify/JSON.parse (the engine parses blocks in
// another worker). "refresh" adds 1,200 new events of the last 15 seconds to today and runs the 7-day query
// (the dashboard's 15 s refresh), on fresh events each run.
//
// Synthetic data only, generated from a fixed seed; one core, no I/O.

import { gzipSync } from "node:zlib";
import { spawnSync } from "node:child_process";
import assert from "node:assert/strict";

import { computeStats, parseEvents, referrerBucket } from "../ui/shared/stats.js";
import { EventTable, Tags, computeOperatorStats } from "../ui/shared/table.js";

if (typeof globalThis.gc !== "function" && !process.execArgv.includes("--expose-gc")) {
  // Memory figures need a collection before each reading: run again with the flag.
  const child = spawnSync(process.execPath, ["--expose-gc", ...process.argv.slice(1)], { stdio: "inherit" });
  process.exit(child.status ?? 1);
}

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const EVENTS = option("events", 1_000_000);
const USERS = option("users", 200_000);
const DAYS = option("days", 180);
const RUNS = option("runs", 5);
const SUBSET = Math.min(100_000, EVENTS);
const JSON_OUT = args.includes("--json");
const PAGE = option("page", 5000);

const DAY = 24 * 60 * 60 * 1000;
const ACCOUNT = "9b63c4d8-ee6f-4b4e-8d3b-0f6c1c1f5a10";
const NOW = Date.parse("2026-03-30T10:00:00Z");
const HOST = "www.example.com";
const FIRST_DAY = Math.floor(NOW / DAY) - DAYS + 1;
const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = random(20260330);
const int = (n) => Math.floor(rnd() * n);
// Ids are built as flat strings, like the ones JSON.parse hands the engine (a concatenated string would
// make every dictionary lookup flatten it first, which real data never pays).
const HEX = "0123456789abcdef";
const hex = (n) => String.fromCharCode(...Array.from({ length: n }, () => HEX.charCodeAt(int(16))));
const uuid = () => {
  const codes = Array.from({ length: 36 }, () => HEX.charCodeAt(int(16)));
  for (const at of [8, 13, 18, 23]) codes[at] = 45; // "-"
  return String.fromCharCode(...codes);
};

function ulid(ms) {
  const codes = new Array(26);
  for (let i = 9, x = ms; i >= 0; i -= 1, x = Math.floor(x / 32)) codes[i] = CROCKFORD.charCodeAt(x % 32);
  for (let i = 10; i < 26; i += 1) codes[i] = CROCKFORD.charCodeAt(int(32));
  return String.fromCharCode(...codes);
}

const before = memory(); // before any pool: the table's dictionaries will own the strings it keeps

// Pools: users (secret ids are 64 hex characters), pages, referrer hosts, tags, countries.
let secrets = Array.from({ length: USERS }, () => hex(64));
const PATHS = Array.from({ length: 400 }, (_, i) => (i === 0 ? "/" : `/section-${i % 20}/page-${i}/`));
const URLS = PATHS.map((path) => JSON.parse(JSON.stringify(`https://${HOST}${path}`)));
// Every user arrives once (a new visitor) and may come back: a session brings a new user with the
// probability that spreads all USERS over the expected number of sessions (3.25 events each).
const NEW_USER_SHARE = Math.min(1, USERS / (EVENTS / 3.25));
let seenUsers = 0;
const REFERRERS = [
  ...Array(12).fill(null),
  "www.google.com",
  "www.google.de",
  "google.fr",
  "duckduckgo.com",
  "news.ycombinator.com",
  "t.co",
  "www.reddit.com",
  "blog.example.org",
  "forum.example.net",
  "www.linkedin.com",
];
const TAGS = [
  [null, null],
  ["spring-sale", "newsletter"],
  ["spring-sale", "twitter"],
  ["launch", null],
  [null, "partner"],
];
const GEOS = ["DE", "US", "FR", "GB", "NL", "AT", "CH", "IT", "ES", null];
const tagObjects = TAGS.map(([c, s]) => new Tags(c, s));

/** One day's sessions as parsed events (what the engine hands to the table after decryption). */
function dayEvents(dayNumber, count) {
  const start = dayNumber * DAY;
  const out = [];
  while (out.length < count) {
    const isNew = seenUsers < USERS && (seenUsers === 0 || rnd() < NEW_USER_SHARE);
    const user = secrets[isNew ? seenUsers++ : Math.floor(seenUsers * rnd() ** 2)];
    const session = uuid();
    const length = 1 + Math.min(int(4) * int(4), 11);
    const refHost = REFERRERS[int(REFERRERS.length)];
    const tags = rnd() < 0.06 ? 1 + int(TAGS.length - 1) : 0;
    const geo = GEOS[int(GEOS.length)];
    const mobile = rnd() < 0.35;
    let time = start + int(DAY - 1);
    for (let k = 0; k < length && out.length < count; k += 1) {
      const page = k === 0 ? int(40) : int(PATHS.length);
      const path = PATHS[page];
      out.push({
        accountId: ACCOUNT,
        eventId: ulid(time),
        secretId: user,
        time,
        url: URLS[page],
        host: HOST,
        pathname: path,
        query: tagObjects[k === 0 ? tags : 0],
        referrer: k === 0 && refHost ? referrerBucket(refHost) : null,
        refHost: k === 0 ? refHost : null,
        pageload: k === 0 ? 200 + int(2000) : null,
        isMobile: mobile,
        sessionId: session,
        geo,
        timestamp: null,
      });
      time = Math.min(time + 5000 + int(300_000), start + DAY - 1);
    }
  }
  return out;
}

/** CPU time of this process in ms (all its threads): on a shared machine, next to wall time. */
function cpuMs() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function timed(fn, runs = RUNS) {
  const times = [];
  let result;
  for (let i = 0; i < runs; i += 1) {
    const t0 = performance.now();
    result = fn();
    times.push(performance.now() - t0);
  }
  return { ms: median(times), result };
}

function memory() {
  globalThis.gc();
  globalThis.gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

const report = { events: EVENTS, users: USERS, days: DAYS, runs: RUNS };
const log = (line) => {
  if (!JSON_OUT) console.log(line);
};

// --- build --------------------------------------------------------------------------------------------
// Generation is not timed: only addParsedEvents is. Each day's input is dropped after it is added.
const table = new EventTable();
let buildMs = 0;
let buildCpuMs = 0;
const subsetParsed = [];
let pending = [];
const byTimeThenId = (a, b) => a.time - b.time || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0);
for (let d = 0; d < DAYS; d += 1) {
  const share = Math.floor(EVENTS / DAYS) + (d < EVENTS % DAYS ? 1 : 0);
  const events = dayEvents(FIRST_DAY + d, share);
  if (PAGE > 0) {
    events.sort(byTimeThenId);
    pending.push(...events);
    const last = d === DAYS - 1;
    while (pending.length >= PAGE || (last && pending.length)) {
      const page = pending.slice(0, PAGE);
      pending = pending.slice(PAGE);
      const t0 = performance.now();
      const c0 = cpuMs();
      table.addParsedEvents(page);
      buildMs += performance.now() - t0;
      buildCpuMs += cpuMs() - c0;
    }
  } else {
    const t0 = performance.now();
    const c0 = cpuMs();
    table.addParsedEvents(events);
    buildMs += performance.now() - t0;
    buildCpuMs += cpuMs() - c0;
  }
  // Keep the newest events for the baseline (as raw events below).
  subsetParsed.push(...events);
  if (subsetParsed.length > 2 * SUBSET) subsetParsed.splice(0, subsetParsed.length - SUBSET);
}
let subset = subsetParsed.slice(-SUBSET);
subsetParsed.length = 0;
let columnBytes = 0;
for (const seg of table.sorted) {
  for (const value of Object.values(seg)) if (ArrayBuffer.isView(value)) columnBytes += value.byteLength;
}
report.buildMs = Math.round(buildMs);
report.size = table.size;
report.columnBytesPerEvent = +(columnBytes / table.size).toFixed(1);
report.dictionaryEntries = {
  secrets: table.secrets.size - 1,
  sessions: table.sessions.size - 1,
  urls: table.urls.size - 1,
  tuples: table.tupleAccount.length - 1,
};
log(`build: ${table.size} events, ${report.dictionaryEntries.secrets} users, ${table.days().length} days`);
report.buildMicrosPerEvent = +((buildMs * 1000) / table.size).toFixed(2);
report.buildCpuMs = Math.round(buildCpuMs);
log(
  `build: ${report.buildMs} ms (${report.buildMicrosPerEvent} µs/event, ` +
    `${PAGE ? `pages of ${PAGE}` : "one call per day"}; ` +
    `cpu ${report.buildCpuMs} ms)`,
);

const QUERIES = [
  ["7 days", { range: 7, resolution: "days" }],
  ["30 days", { range: 30, resolution: "days" }],
  ["6 months", { range: 6, resolution: "months" }],
];
const FILTER = "referrer:Google";
const ZONE = "Europe/Berlin";
const label = (name, filter) => (filter ? `${name} + ${filter}` : name);

// --- baseline: stats.js computeStats on the newest 100k events (run first, then the subset is dropped) ---
report.baseline = {};
// Sections run in functions: a block at module level would keep its tables alive (the module's frame is
// still running) and spoil the memory readings.
(function baseline() {
  const raw = subset.map((p) => {
    const [campaign, source] = [p.query.get("utm_campaign"), p.query.get("utm_source")];
    const tags = [campaign && `utm_campaign=${campaign}`, source && `utm_source=${source}`].filter(Boolean).join("&");
    return {
      accountId: p.accountId,
      eventId: p.eventId,
      secretId: p.secretId,
      payload: {
        type: "PAGEVIEW",
        href: p.url,
        rawHref: tags ? `${p.url}?${tags}` : p.url,
        referrer: p.refHost ? `https://${p.refHost}/some/path` : "",
        pageload: p.pageload,
        isMobile: p.isMobile,
        sessionId: p.sessionId,
        geo: p.geo,
        timestamp: null,
      },
    };
  });
  const small = new EventTable();
  small.addParsedEvents(parseEvents(raw));
  report.baseline.events = raw.length;
  for (const [name, range] of QUERIES) {
    for (const filter of [null, FILTER]) {
      const query = { ...range, now: NOW, timeZone: ZONE, filter };
      let stats;
      let statsMs = NaN;
      try {
        ({ ms: statsMs, result: stats } = timed(() => computeStats(raw, { ...query, perspective: "operator" }), 3));
      } catch (err) {
        // stats.js spreads all in-range times into Math.min: a large range can overflow the call stack.
        stats = `${err.name}: ${err.message}`;
      }
      const { ms: tableMs, result } = timed(() => computeOperatorStats(small, query));
      let equal = stats;
      if (typeof stats !== "string") {
        assert.deepStrictEqual(result, stats);
        equal = true;
      }
      report.baseline[label(name, filter)] = {
        computeStatsMs: Number.isNaN(statsMs) ? null : +statsMs.toFixed(1),
        tableMsSameEvents: +tableMs.toFixed(1),
        equal,
      };
    }
  }
})();
subset = null;
secrets = null; // the dictionaries hold their own references to the strings they keep
const after = memory();
report.heapBytesPerEvent = +((after - before) / table.size).toFixed(1);
log(`memory: columns ${report.columnBytesPerEvent} bytes/event`);
log(`memory: whole table with its dictionaries ${report.heapBytesPerEvent} bytes/event`);

// --- encode + decode of every day --------------------------------------------------------------------
(function blocks() {
  // Each way is timed RUNS times over all days (median); JSON and gzip sizes from the first pass.
  const encodeRuns = [];
  const stringifyRuns = [];
  const parseRuns = [];
  const decodeRuns = [];
  const encodeCpuRuns = [];
  const decodeCpuRuns = [];
  let jsonBytes = 0;
  let gzipBytes = 0;
  let copy = null;
  for (let run = 0; run < RUNS; run += 1) {
    let encodeMs = 0;
    let stringifyMs = 0;
    let parseMs = 0;
    let decodeMs = 0;
    let encodeCpu = 0;
    let decodeCpu = 0;
    copy = new EventTable();
    for (const day of table.days()) {
      let t0 = performance.now();
      let c0 = cpuMs();
      const obj = table.encodeDay(day);
      encodeMs += performance.now() - t0;
      encodeCpu += cpuMs() - c0;
      t0 = performance.now();
      const text = JSON.stringify(obj);
      stringifyMs += performance.now() - t0;
      if (run === 0) {
        jsonBytes += text.length;
        gzipBytes += gzipSync(text).length;
      }
      t0 = performance.now();
      const parsed = JSON.parse(text);
      parseMs += performance.now() - t0;
      t0 = performance.now();
      c0 = cpuMs();
      copy.addEncodedBlock(parsed);
      decodeMs += performance.now() - t0;
      decodeCpu += cpuMs() - c0;
    }
    encodeRuns.push(encodeMs);
    stringifyRuns.push(stringifyMs);
    parseRuns.push(parseMs);
    decodeRuns.push(decodeMs);
    encodeCpuRuns.push(encodeCpu);
    decodeCpuRuns.push(decodeCpu);
  }
  assert.equal(copy.size, table.size);
  report.encodeMs = Math.round(median(encodeRuns));
  report.stringifyMs = Math.round(median(stringifyRuns));
  report.decodeMs = Math.round(median(decodeRuns));
  report.parseMs = Math.round(median(parseRuns));
  report.encodeCpuMs = Math.round(median(encodeCpuRuns));
  report.decodeCpuMs = Math.round(median(decodeCpuRuns));
  report.blockJsonBytesPerEvent = +(jsonBytes / table.size).toFixed(1);
  report.blockGzipBytesPerEvent = +(gzipBytes / table.size).toFixed(1);
  log(
    `blocks: encodeDay ${report.encodeMs} ms (+ JSON.stringify ${report.stringifyMs} ms), ` +
      `addEncodedBlock ${report.decodeMs} ms (+ JSON.parse ${report.parseMs} ms) for all days; ` +
      `${report.blockJsonBytesPerEvent} bytes/event as JSON, ${report.blockGzipBytesPerEvent} gzipped; ` +
      `cpu: encodeDay ${report.encodeCpuMs} ms, addEncodedBlock ${report.decodeCpuMs} ms`,
  );
})();

// --- local snapshot: the whole table as binary buffers (export, seal, open, restore) ---------------------
// What the engine's reload restores instead of opening day blocks; sealing is AES-256-GCM (WebCrypto, as in
// the data worker) under a key derived from a random KEK. The restored table must answer like the original.
await (async function snapshot() {
  const { deriveSnapshotKey, openSnapshot, sealSnapshot } = await import("../ui/operator/engine/shared-cache.js");
  const subtle = globalThis.crypto.subtle;
  const kek = { kty: "oct", k: Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(32))).toString("base64url") };
  const key = await deriveSnapshotKey(subtle, kek, ACCOUNT);
  const checkpoint = "01J2ZZZZZZZZZZZZZZZZZZZZZZ";
  const exportRuns = [];
  const sealRuns = [];
  const openRuns = [];
  const restoreRuns = [];
  let bytes = 0;
  let restored = null;
  for (let run = 0; run < RUNS; run += 1) {
    let t0 = performance.now();
    const exported = table.exportSnapshot();
    exportRuns.push(performance.now() - t0);
    bytes = exported.buffers.reduce((n, b) => n + b.byteLength, 0);
    t0 = performance.now();
    const sealed = await sealSnapshot(subtle, key, ACCOUNT, checkpoint, exported);
    sealRuns.push(performance.now() - t0);
    t0 = performance.now();
    const opened = await openSnapshot(subtle, key, ACCOUNT, sealed);
    openRuns.push(performance.now() - t0);
    restored = null;
    t0 = performance.now();
    restored = EventTable.fromSnapshot(opened.snapshot);
    restoreRuns.push(performance.now() - t0);
  }
  assert.equal(restored.size, table.size);
  const query = { range: 30, resolution: "days", now: NOW, timeZone: ZONE };
  assert.deepStrictEqual(computeOperatorStats(restored, query), computeOperatorStats(table, query));
  report.snapshot = {
    exportMs: Math.round(median(exportRuns)),
    sealMs: Math.round(median(sealRuns)),
    openMs: Math.round(median(openRuns)),
    restoreMs: Math.round(median(restoreRuns)),
    bytesPerEvent: +(bytes / table.size).toFixed(1),
  };
  const r = report.snapshot;
  log(
    `snapshot: exportSnapshot ${r.exportMs} ms, seal ${r.sealMs} ms, open ${r.openMs} ms, ` +
      `fromSnapshot ${r.restoreMs} ms; ${r.bytesPerEvent} bytes/event (${(bytes / 1e6).toFixed(1)} MB)`,
  );
})();

// --- queries -----------------------------------------------------------------------------------------
report.queries = {};
for (const [name, range] of QUERIES) {
  for (const filter of [null, FILTER]) {
    const query = { ...range, now: NOW, timeZone: ZONE, filter };
    const { ms, result } = timed(() => computeOperatorStats(table, query));
    const key = label(name, filter);
    report.queries[key] = { ms: +ms.toFixed(1), pageviews: result.pageviews.reduce((n, b) => n + b.pageviews, 0) };
    log(`query ${key.padEnd(26)} ${ms.toFixed(1).padStart(8)} ms  (${report.queries[key].pageviews} pageviews)`);
  }
}

for (const [name] of QUERIES) {
  for (const filter of [null, FILTER]) {
    const key = label(name, filter);
    const base = report.baseline[key];
    const full = report.queries[key].ms;
    base.ratioStats100kToTable1M = base.computeStatsMs === null ? null : +(base.computeStatsMs / full).toFixed(1);
    log(
      `baseline ${key.padEnd(26)} computeStats(${report.baseline.events}) ` +
        `${base.computeStatsMs === null ? "failed" : `${base.computeStatsMs} ms`} | ` +
        `table(${report.baseline.events}) ${base.tableMsSameEvents} ms | equal: ${base.equal}` +
        (base.computeStatsMs === null ? "" : ` | stats@100k / table@1M = ${base.ratioStats100kToTable1M}`),
    );
  }
}

// --- refresh: 1,200 events of the last 15 seconds into today, then the 7-day query ---------------------
(function refresh() {
  const query = { range: 7, resolution: "days", now: NOW, timeZone: ZONE };
  computeOperatorStats(table, query);
  const addRuns = [];
  const totalRuns = [];
  for (let run = 0; run < RUNS; run += 1) {
    const fresh = [];
    while (fresh.length < 1200) {
      const time = NOW - 15_000 + int(15_000);
      const page = int(PATHS.length);
      fresh.push({
        accountId: ACCOUNT,
        eventId: ulid(time),
        secretId: hex(64),
        time,
        url: URLS[page],
        host: HOST,
        pathname: PATHS[page],
        query: tagObjects[0],
        referrer: null,
        pageload: null,
        isMobile: false,
        sessionId: uuid(),
        geo: null,
        timestamp: null,
      });
    }
    fresh.sort(byTimeThenId);
    const t0 = performance.now();
    const added = table.addParsedEvents(fresh);
    const t1 = performance.now();
    computeOperatorStats(table, query);
    const t2 = performance.now();
    assert.equal(added, fresh.length);
    addRuns.push(t1 - t0);
    totalRuns.push(t2 - t0);
  }
  report.refreshAddMs = +median(addRuns).toFixed(1);
  report.refreshMs = +median(totalRuns).toFixed(1);
  log(`refresh: add 1200 events to today ${report.refreshAddMs} ms, with the 7-day query ${report.refreshMs} ms`);
})();

// The queries leave reusable scratch arrays on the table (stamps per user and session): count them too.
report.heapBytesPerEventAfterQueries = +((memory() - before) / table.size).toFixed(1);
log(`memory: after the queries (with their scratch arrays) ${report.heapBytesPerEventAfterQueries} bytes/event`);

if (JSON_OUT) console.log(JSON.stringify(report, null, 2));
