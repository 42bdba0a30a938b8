// The engine's data worker (module worker): the one place that holds an account's decrypted events.
//
// Owns the EventTable (ui/shared/table.js), the network (pager.js), the local cache (idb.js), the pool of
// decryption workers and the pipeline between them: download → key agreement → decryption → aggregation
// → storage. Queries run here (`computeOperatorStats`), never on the page's main thread. Raw ciphertext
// pages are dropped as soon as their events are handed to the pool. Write-back (re-wrapped secrets,
// roll-ups of closed UTC days, the local cache) runs after the first result, and its failures are
// reported in progress, never fatal. docs/dashboard-engine.md describes the whole design.

import { EventTable, Tags, computeOperatorStats, emptyBlock, encodeBlock } from '../../shared/table.js';
import { webCryptoWith } from '../../vault/crypto.js';
import { openCache } from './idb.js';
import { SNAPSHOT_RECORD_VERSION, deriveSnapshotKey, openSnapshot, sealSnapshotPart, snapshotPlainParts } from './shared-cache.js';
import { unpackParsed } from './packing.js';
import {
  EVENT_PAGE,
  HttpError,
  accountClient,
  eventPages,
  fetchAccount,
  fetchAllRollups,
  fetchAllWrappedSecrets,
  fetchEventPage,
  fetchRollup,
  postWrappedSecrets,
  putRollup,
  SECRETS_BATCH,
} from './pager.js';
import { DAY_MS, addDays, coveredByRollup, planScans, retentionMs, ulidMs, utcDay } from './plan.js';

const STAGES = ['download', 'keyAgreement', 'decryption', 'aggregation', 'storage'];
const clock = () => performance.timeOrigin + performance.now();
const CACHE_VERSION = 1;
// Days per step of a flush or a reload. A step's day blocks exist as JS objects, JSON, gzip and base64 at
// once; at 1M events all 180 days together cost hundreds of MB, a step of 8 a few MB. Between steps the
// data worker yields, so a refresh or a query never waits for a whole write-back.
const DAYS_PER_STEP = 8;
// The local snapshot (the whole table, binary, sealed) is rewritten after the first write-back of a load and
// then at most once a minute and only every few refreshes: at 1M events it is ~40 MB to seal and store.
const SNAPSHOT_EVERY_REFRESHES = 5;
const SNAPSHOT_MIN_INTERVAL_MS = 60_000;
const NO_TAGS = new Tags(null, null);
// Most events carry no campaign tags: one shared, never-mutated Tags for all of them.
const makeTags = (campaign, source) => (campaign === null && source === null ? NO_TAGS : new Tags(campaign, source));

/** Wall time and busy time (union of intervals) per stage; stages overlap in the pipeline. */
export function stageClock() {
  const intervals = Object.fromEntries(STAGES.map((s) => [s, []]));
  return {
    add(stage, interval) {
      if (interval && interval[1] >= interval[0]) intervals[stage].push(interval);
    },
    async time(stage, promise) {
      const start = clock();
      try {
        return await promise;
      } finally {
        intervals[stage].push([start, clock()]);
      }
    },
    summary() {
      const wall = {};
      const busy = {};
      for (const stage of STAGES) {
        const list = intervals[stage].slice().sort((a, b) => a[0] - b[0]);
        if (!list.length) {
          wall[stage] = 0;
          busy[stage] = 0;
          continue;
        }
        let total = 0;
        let [start, end] = list[0];
        let last = end;
        for (const [a, b] of list.slice(1)) {
          if (a > end) {
            total += end - start;
            [start, end] = [a, b];
          } else end = Math.max(end, b);
          last = Math.max(last, b);
        }
        total += end - start;
        wall[stage] = Math.round(last - list[0][0]);
        busy[stage] = Math.round(total);
      }
      return { wall, busy };
    },
  };
}

// CryptoKeys made by one decryption worker before it is replaced by a fresh one. Chromium frees dropped
// CryptoKeys late (V8 does not see their ~1.3 KB each), and a first load at 1M events makes about 800k of
// them (three per X25519 key agreement, one per visitor key imported for events): ending the worker frees
// them all at once. 15000 is about 20 MiB of garbage per worker at most; at 30000 the tab's memory rose and
// fell by ~250 MiB between recycles at 1M events, its peak 850-940 MiB, against 870-880 MiB at 15000, for
// about 45 recycles instead of 24 (each a transfer of the key buffer and a fresh worker's start).
export const RECYCLE_KEYS = 15000;
// Wrapped secrets per IndexedDB transaction: Chromium holds a transaction's values until it commits, so
// 200k at once (a second browser's whole shared cache) were tens of MB more at the peak.
const LOCAL_WRAPPED_BATCH = 5000;

/** A pool of decryption workers speaking {id, op, args} → {id, result | error}. */
function createPool(size, url, { recycleAfter = RECYCLE_KEYS } = {}) {
  const workers = [];
  const made = new Array(size).fill(0);
  const pending = new Map();
  let nextId = 1;
  let initArgs = null;
  function spawn(i) {
    const worker = new Worker(url, { type: 'module', name: `offen-decrypt-${i}` });
    worker.onmessage = ({ data }) => {
      const entry = pending.get(data.id);
      if (!entry) return;
      pending.delete(data.id);
      if (data.error !== undefined) entry.reject(new Error(data.error));
      else {
        const keys = data.result && data.result.report && data.result.report.keysMade;
        if (keys) made[i] += keys;
        entry.resolve(data.result);
      }
    };
    worker.onerror = (event) => {
      for (const [id, entry] of pending) {
        if (entry.worker === i) {
          pending.delete(id);
          entry.reject(new Error(`decryption worker failed: ${event.message || 'error'}`));
        }
      }
    };
    workers[i] = worker;
  }
  for (let i = 0; i < size; i++) spawn(i);
  return {
    size,
    call(index, op, args, transfer) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject, worker: index });
        workers[index].postMessage({ id, op, args }, transfer || []);
      });
    },
    all(op, args) {
      if (op === 'init') initArgs = args;
      return Promise.all(workers.map((_, i) => this.call(i, op, args)));
    },
    /** Spread a list over the workers in contiguous slices; results in worker order. */
    spread(op, items, makeArgs) {
      const per = Math.ceil(items.length / size) || 0;
      const calls = [];
      for (let i = 0; i < size && i * per < items.length; i++) calls.push(this.call(i, op, makeArgs(items.slice(i * per, (i + 1) * per))));
      return Promise.all(calls);
    },
    /** Whether a worker made enough CryptoKeys to be worth replacing (see RECYCLE_KEYS). */
    needsRecycling() {
      return Boolean(initArgs) && made.some((n) => n >= recycleAfter);
    },
    /**
     * Replaces each worker past the threshold by a fresh one holding the same visitor keys. The caller
     * makes sure no batch is in flight. The keys' raw bytes pass through this (data) worker, which holds
     * the decrypted events anyway.
     */
    async recycle() {
      let replaced = 0;
      for (let i = 0; i < size; i++) {
        if (made[i] < recycleAfter) continue;
        // A write-back's sealing may still run on it (a refresh that crossed the threshold): next time.
        if ([...pending.values()].some((entry) => entry.worker === i)) continue;
        const exported = await this.call(i, 'exportKeys');
        workers[i].terminate();
        spawn(i);
        made[i] = 0;
        await this.call(i, 'init', initArgs);
        await this.call(i, 'importKeys', exported, [exported.keys.buffer, exported.lengths.buffer]);
        replaced++;
      }
      return replaced;
    },
    /**
     * Ends every worker and starts fresh ones without any visitor key (the caller forgets which visitors
     * it sent): after a load, the workers' CryptoKeys and their garbage are the largest part of the tab,
     * and a refresh needs few keys again (taken from the local cache or the page's secrets).
     */
    async renew() {
      if (pending.size) return false;
      for (let i = 0; i < size; i++) {
        workers[i].terminate();
        spawn(i);
        made[i] = 0;
      }
      if (initArgs) await Promise.all(workers.map((_, i) => this.call(i, 'init', initArgs)));
      return true;
    },
    terminate() {
      for (const worker of workers) worker.terminate();
      for (const entry of pending.values()) entry.reject(new Error('closed'));
      pending.clear();
    },
  };
}

function workerFor(secretId, size) {
  return parseInt(secretId.slice(0, 6), 16) % size;
}

/**
 * The data worker's state for one account. `deps` lets a caller replace fetch, IndexedDB, the clock and
 * the pool size; `emit` receives progress and reports.
 */
export function createDataEngine({ emit = () => {}, fetch: doFetch = globalThis.fetch.bind(globalThis), indexedDB = globalThis.indexedDB } = {}) {
  let client;
  let pool;
  let cache = null;
  let table;
  let account;
  let nowFn = () => Date.now();
  let pageSize = EVENT_PAGE;
  let daysPerStep = DAYS_PER_STEP;
  let secretsBatch = SECRETS_BATCH; // fresh re-wraps saved at a time while a load runs
  let checkpoint = null; // the highest sequence folded into the table
  let stages;
  const sentSecrets = new Set(); // visitors whose secret a worker already holds (or failed for good)
  let sharedWrapped = new Map(); // re-wrapped secrets from the server, until handed to a worker
  const pendingWrapped = new Map(); // fresh re-wraps not yet posted
  const localWrapped = new Map(); // re-wraps not yet in IndexedDB
  const serverDays = new Map(); // period → checkpoint of the roll-up the server holds with our content
  const serverDirty = new Set(); // closed days whose content changed since the server's roll-up
  const localDirty = new Set(); // days whose content changed since the local cache was written
  const uploads = [];
  const counters = { badSnapshots: 0, events: 0, secretsUnwrapped: 0, secretsFromShared: 0, forgedSecrets: 0, forgedRollups: 0, badEvents: 0, badSecrets: 0, missingSecrets: 0, workersRecycled: 0, poolRenewals: 0 };
  let estimate = null;
  let queue = Promise.resolve(); // open, refresh and flush never interleave their table changes
  let flushing = Promise.resolve();
  let lastFlush = null;
  let accountId = null;
  let snapshotKey = null; // AES-GCM key of the local snapshot (null: no snapshot this session)
  let snapshotState = { checkpoint: null, at: -Infinity, refreshes: 0, written: false };
  let localKind = null; // what a cache load restored from: 'snapshot' or 'days'

  const serial = (fn) => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => {});
    return run;
  };

  function progress(stage, done, total) {
    emit({ type: 'progress', stage, done, total: total ?? null });
  }

  function report(kind, detail) {
    emit({ type: 'report', kind, detail });
  }

  function timeWindow() {
    const nowMs = nowFn();
    const today = utcDay(nowMs);
    const cutoffDay = utcDay(nowMs - retentionMs(account.retentionPeriod));
    return { nowMs, today, cutoffDay, firstDay: cutoffDay, lastClosedDay: addDays(today, -1) };
  }

  function markDay(period) {
    localDirty.add(period);
    serverDirty.add(period);
  }

  // ---------------------------------------------------------------------------------------- pages

  /** Hands one page to the pool; resolves with the decrypted results (not yet folded). */
  function decryptPage(page, checkpoints) {
    const parts = Array.from({ length: pool.size }, () => ({ events: [], secrets: {}, shared: {} }));
    let skipped = 0;
    for (const event of page.events) {
      if (!event.secretId) {
        counters.badEvents++; // a legacy anonymous event: nobody holds a key for it
        continue;
      }
      if (checkpoints && coveredByRollup(checkpoints, utcDay(ulidMs(event.eventId)), event.sequence)) {
        skipped++;
        continue;
      }
      const part = parts[workerFor(event.secretId, pool.size)];
      part.events.push({ eventId: event.eventId, secretId: event.secretId, payload: event.payload });
      if (!sentSecrets.has(event.secretId)) {
        const shared = sharedWrapped.get(event.secretId);
        const wrapped = page.secrets[event.secretId];
        if (shared || wrapped) {
          if (shared) part.shared[event.secretId] = shared;
          if (wrapped) part.secrets[event.secretId] = wrapped;
          sentSecrets.add(event.secretId);
          sharedWrapped.delete(event.secretId);
        }
      }
    }
    const calls = parts.map((part, i) => (part.events.length ? pool.call(i, 'decrypt', part) : null));
    return Promise.all(calls).then(async (results) => {
      const missing = new Set();
      for (const result of results) {
        if (!result) continue;
        for (const id of result.report.missing) missing.add(id);
      }
      if (missing.size) results.push(...(await recoverMissing(page, missing, parts)));
      return { page, results, skipped };
    });
  }

  /** Events whose visitor secret came neither with the page nor from the shared cache. */
  async function recoverMissing(page, missing, parts) {
    let found = new Map();
    if (cache) {
      try {
        found = await cache.getWrapped(missing);
      } catch {
        found = new Map();
      }
    }
    let secrets = {};
    if (found.size < missing.size) {
      // `secrets=new` left out visitors seen before `after`: ask for the same page with all its secrets.
      const again = await stages.time('download', fetchEventPage(client, { after: page.after, limit: page.limit, secretsNew: false }));
      secrets = again.secrets;
    }
    const retry = Array.from({ length: pool.size }, () => ({ events: [], secrets: {}, shared: {} }));
    parts.forEach((part, i) => {
      for (const event of part.events) {
        if (!missing.has(event.secretId)) continue;
        const target = retry[i];
        target.events.push(event);
        if (found.has(event.secretId)) target.shared[event.secretId] = found.get(event.secretId);
        if (secrets[event.secretId]) target.secrets[event.secretId] = secrets[event.secretId];
      }
    });
    const results = await Promise.all(retry.map((part, i) => (part.events.length ? pool.call(i, 'decrypt', part) : null)));
    for (const result of results) if (result) counters.missingSecrets += result.report.missing.length;
    return results;
  }

  /** Folds decrypted results into the table (in page order) and applies the page's tombstones. */
  function fold({ page, results }) {
    const start = clock();
    let added = 0;
    let removed = 0;
    const parsed = [];
    for (const result of results) {
      if (!result) continue;
      stages.add('keyAgreement', result.intervals.keyAgreement);
      stages.add('decryption', result.intervals.decryption);
      const r = result.report;
      counters.secretsUnwrapped += r.unwrapped;
      counters.secretsFromShared += r.fromShared;
      counters.forgedSecrets += r.forged;
      counters.badEvents += r.badEvents;
      counters.badSecrets += r.badSecrets;
      for (const [id, value] of Object.entries(result.rewrapped)) {
        pendingWrapped.set(id, value);
        localWrapped.set(id, value);
      }
      // The decryption worker sent the two tags the metrics read; Tags answers get() like URLSearchParams.
      const events = Array.isArray(result.parsed) ? result.parsed : unpackParsed(result.parsed, makeTags);
      let lastDay = -1;
      for (const p of events) {
        const day = Math.floor(p.time / DAY_MS);
        if (day !== lastDay) {
          markDay(utcDay(p.time));
          lastDay = day;
        }
        if (Array.isArray(p.query)) p.query = makeTags(p.query[0], p.query[1]);
        parsed.push(p);
      }
    }
    // One call per page: the table rebuilds each touched day once.
    if (parsed.length) added += table.addParsedEvents(parsed);
    if (page.deletedEvents.length) {
      removed += table.removeEventIds(page.deletedEvents);
      for (const id of page.deletedEvents) {
        const ms = ulidMs(id);
        if (Number.isFinite(ms)) markDay(utcDay(ms));
      }
    }
    if (page.sequence && (!checkpoint || page.sequence > checkpoint)) checkpoint = page.sequence;
    counters.events += added;
    progress('keyAgreement', counters.secretsUnwrapped + counters.secretsFromShared, null);
    progress('decryption', counters.events, estimate);
    stages.add('aggregation', [start, clock()]);
    if (pendingWrapped.size >= secretsBatch) uploadWrapped();
    return { added, removed };
  }

  /** Pages from `after`, two pages in the pool at a time; `until` stops a head scan. */
  async function scan({ after = null, secretsNew = false, checkpoints = null, until = null, limit = pageSize, localSecrets = false }) {
    let added = 0;
    let removed = 0;
    let fetched = 0;
    const startMs = after ? ulidMs(after) : ulidMs(checkpoint || '') || nowFn() - retentionMs(account.retentionPeriod);
    const inflight = [];
    const drain = async () => {
      const folded = fold(await inflight.shift());
      added += folded.added;
      removed += folded.removed;
      progress('aggregation', counters.events, estimate);
    };
    const pages = eventPages(client, { after, limit, secretsNew });
    for (;;) {
      const t = clock();
      const { value: page, done } = await pages.next();
      stages.add('download', [t, clock()]);
      if (done) break;
      page.limit = limit;
      fetched += page.events.length;
      const span = nowFn() - startMs;
      const reached = page.next ? ulidMs(page.next) - startMs : span;
      estimate = page.more && span > 0 && reached > 0 ? Math.max(fetched, Math.round((fetched * span) / reached)) : fetched;
      progress('download', fetched, estimate);
      if (localSecrets) await stages.time('storage', lookUpLocalWrapped(page));
      inflight.push(decryptPage(page, checkpoints));
      if (inflight.length >= 2) await drain();
      if (pool.needsRecycling()) {
        // Between pages with nothing in flight: the fresh workers start with the keys, not the garbage.
        while (inflight.length) await drain();
        counters.workersRecycled += await pool.recycle();
      }
      if (until && page.next && page.next >= until) {
        await pages.return();
        break;
      }
    }
    while (inflight.length) await drain();
    progress('decryption', counters.events, counters.events);
    return { added, removed };
  }

  /**
   * After a reload the workers hold no visitor keys: take the re-wrapped secrets of the page's new
   * visitors from IndexedDB (one AES-GCM each) rather than repeating RSA or X25519 work.
   */
  async function lookUpLocalWrapped(page) {
    if (!cache) return;
    const unknown = new Set();
    for (const event of page.events) {
      const id = event.secretId;
      if (!id || sentSecrets.has(id) || sharedWrapped.has(id)) continue;
      // Re-wraps not yet written to IndexedDB (a refresh right after a load) are still in memory.
      if (localWrapped.has(id)) sharedWrapped.set(id, localWrapped.get(id));
      else unknown.add(id);
    }
    if (!unknown.size) return;
    try {
      for (const [id, value] of await cache.getWrapped(unknown)) sharedWrapped.set(id, value);
    } catch {
      // The account key still works; the cache only saves time.
    }
  }

  function uploadWrapped() {
    if (!pendingWrapped.size) return;
    const batch = new Map(pendingWrapped);
    pendingWrapped.clear();
    // Saved while the work runs: a tab closed mid-way, or another operator, resumes from here.
    const upload = stages.time('storage', postWrappedSecrets(client, batch)).then((outcome) => {
      if (outcome.failed) report('wrapped-secrets', { failed: outcome.failed, error: String(outcome.error && outcome.error.message) });
      progress('storage', outcome.stored, batch.size);
    });
    uploads.push(upload);
  }

  // ---------------------------------------------------------------------------------------- loads

  async function openBlocks(items) {
    const results = await pool.spread('openRollups', items, (slice) => ({ items: slice }));
    const blocks = [];
    const failed = [];
    for (const result of results) {
      stages.add('decryption', result.intervals.decryption);
      blocks.push(...result.blocks);
      failed.push(...result.failed);
    }
    return { blocks, failed };
  }

  function addBlocks(blocks) {
    const start = clock();
    const accepted = new Map();
    for (const { period, checkpoint: cp, encoded } of blocks) {
      // A valid tag means an operator of this account wrote it; the shape is still checked in full.
      try {
        if (!encoded || encoded.day !== period) throw new Error('block of another day');
        table.addEncodedBlock(encoded);
      } catch (error) {
        counters.forgedRollups++;
        report('bad-rollup', { period, error: String(error.message) });
        continue;
      }
      accepted.set(period, cp);
    }
    counters.events = table.size;
    stages.add('aggregation', [start, clock()]);
    return accepted;
  }

  /**
   * Opens and loads day records a few days at a time: `read(periods)` → Promise<[{period, checkpoint,
   * payload}]>. Step i + 1 is read and opened in the pool while step i is loaded into the table, and only
   * two steps of payloads and opened blocks exist at a time (all 180 days of a 1M account at once cost
   * hundreds of MB). With `stopOnFailure` (the local cache) the first failed step ends the walk.
   * Returns {accepted: Map period → checkpoint, failed: [period], error, complete}.
   */
  async function loadInSteps(periods, read, { stopOnFailure = false } = {}) {
    const steps = [];
    for (let i = 0; i < periods.length; i += daysPerStep) steps.push(periods.slice(i, i + daysPerStep));
    const run = (list) =>
      read(list)
        .then((records) => openBlocks(records))
        .then(
          (opened) => ({ ...opened, expected: list.length }),
          (error) => ({ error }),
        );
    const accepted = new Map();
    const failed = [];
    let error = null;
    let complete = true;
    let next = steps.length ? run(steps[0]) : null;
    for (let i = 0; i < steps.length; i++) {
      const current = await next;
      next = i + 1 < steps.length ? run(steps[i + 1]) : null;
      if (current.error) {
        error = current.error;
        failed.push(...steps[i]);
      } else {
        failed.push(...current.failed);
        const added = addBlocks(current.blocks);
        for (const [period, cp] of added) accepted.set(period, cp);
        if (added.size !== current.expected) complete = false;
      }
      if (stopOnFailure && (error || !complete || failed.length)) {
        if (next) await next;
        complete = false;
        break;
      }
    }
    return { accepted, failed, error, complete: complete && !error && !failed.length };
  }

  async function loadFromCache(w) {
    let index;
    try {
      index = await stages.time('storage', cache.index());
    } catch {
      return false;
    }
    const { meta, periods } = index;
    if (!meta || meta.v !== CACHE_VERSION || !meta.checkpoint) return false;
    if (await restoreSnapshot(meta)) {
      localKind = 'snapshot';
      for (const [period, cp] of meta.serverDays || []) serverDays.set(period, cp);
      await scan({ after: checkpoint, secretsNew: false, localSecrets: true });
      return true;
    }
    localKind = 'days';
    const wanted = periods.filter((period) => period >= w.cutoffDay);
    const loaded = await loadInSteps(wanted, (list) => stages.time('storage', cache.getDays(list)), { stopOnFailure: true });
    if (!loaded.complete) {
      // Another key (a re-created account) or a damaged store: start over from the network.
      report('local-cache', { failed: loaded.error ? String(loaded.error.message) : loaded.failed.length });
      await cache.clear().catch(() => {});
      return false;
    }
    checkpoint = meta.checkpoint;
    for (const [period, cp] of meta.serverDays || []) serverDays.set(period, cp);
    await scan({ after: checkpoint, secretsNew: false, localSecrets: true });
    return true;
  }

  /**
   * The table from the local snapshot, when one exists and authenticates: no day blocks are opened. Its
   * checkpoint is never past the day store's (see writeSnapshot), so paging after it also marks every day
   * the day store lacks. A snapshot that fails its tag or its shape is reported, deleted and not used.
   */
  async function restoreSnapshot(meta) {
    if (!snapshotKey) return false;
    let record;
    try {
      record = await stages.time('storage', cache.getSnapshot());
    } catch {
      return false;
    }
    if (!record) return false;
    try {
      const opened = await stages.time('decryption', openSnapshot(globalThis.crypto.subtle, snapshotKey, accountId, record));
      record = null;
      if (opened.checkpoint > meta.checkpoint) throw new Error('snapshot ahead of the day store');
      const start = clock();
      table = EventTable.fromSnapshot(opened.snapshot);
      stages.add('aggregation', [start, clock()]);
      checkpoint = opened.checkpoint;
      // Not 'written': the first write-back after this load stores a fresh one if paging added anything.
      snapshotState = { checkpoint, at: clock(), refreshes: 0, written: false };
      counters.events = table.size;
      return true;
    } catch (error) {
      counters.badSnapshots++;
      report('local-snapshot', { error: String(error && error.message) });
      table = new EventTable();
      await cache.deleteSnapshot().catch(() => {});
      return false;
    }
  }

  /**
   * Seals the whole table under the snapshot key and stores it. Called right after the day store's state
   * was saved with `savedCheckpoint`, and only when the table is still exactly at it (exported in the same
   * turn), so a snapshot never holds events the day store lacks.
   */
  async function writeSnapshot(local, savedCheckpoint, flushStages) {
    if (!snapshotKey || !savedCheckpoint || checkpoint !== savedCheckpoint) return false;
    const s = snapshotState;
    if (s.checkpoint === checkpoint) return false;
    if (s.written && (s.refreshes < SNAPSHOT_EVERY_REFRESHES || clock() - s.at < SNAPSHOT_MIN_INTERVAL_MS)) return false;
    const plain = snapshotPlainParts(table.exportSnapshot());
    const cp = checkpoint;
    const subtle = globalThis.crypto.subtle;
    // One part at a time, each dropped once stored: the table's copy, its sealed copy and IndexedDB's
    // clone of all parts at once were ~200 MB at 1M events, the largest moment of a load.
    const writeParts = async () => {
      await local.startSnapshot();
      for (let index = 0; index < plain.length; index++) {
        const part = await sealSnapshotPart(subtle, snapshotKey, accountId, cp, index, plain.length, plain[index]);
        plain[index] = null;
        await local.putSnapshotPart(index, part);
      }
      await local.finishSnapshot({ v: SNAPSHOT_RECORD_VERSION, checkpoint: cp, count: plain.length });
    };
    try {
      await flushStages.time('storage', writeParts());
      snapshotState = { checkpoint: cp, at: clock(), refreshes: 0, written: true };
      return true;
    } catch (error) {
      report('local-snapshot', { error: String(error && error.message) });
      return false;
    }
  }

  async function loadFromNetwork(w) {
    const [rollups, wrapped] = await Promise.all([
      stages.time('download', fetchAllRollups(client)).catch((error) => (report('rollups', { error: error.message }), [])),
      stages.time('download', fetchAllWrappedSecrets(client)).catch((error) => (report('wrapped-secrets', { error: error.message }), new Map())),
    ]);
    sharedWrapped = wrapped;
    for (const [id, value] of wrapped) localWrapped.set(id, value);
    const usable = new Map();
    for (const r of rollups) if (r.period >= w.firstDay && r.period <= w.lastClosedDay) usable.set(r.period, r);
    rollups.length = 0;
    // Each step takes its records out of `usable`, so their payloads can be collected once opened.
    const take = (list) =>
      Promise.resolve(
        list.map((period) => {
          const record = usable.get(period);
          usable.delete(period);
          return record;
        }),
      );
    const { accepted: checkpoints, failed } = await loadInSteps([...usable.keys()], take);
    if (failed.length) {
      counters.forgedRollups += failed.length;
      report('forged-rollups', { periods: failed });
    }
    for (const [period, cp] of checkpoints) serverDays.set(period, cp);
    for (const period of checkpoints.keys()) localDirty.add(period);
    // Up to today: today never has a roll-up, so its events (whose sequences may be below every
    // checkpoint) are always paged.
    const plan = planScans(checkpoints, w.firstDay, w.today);
    if (plan.head) await scan({ after: null, secretsNew: true, checkpoints, until: plan.head.until });
    await scan({ after: plan.after, secretsNew: plan.after === null && !plan.head, checkpoints });
    return checkpoints.size ? 'shared' : 'network';
  }

  async function open({ accountId: id, keyEncryptionKey, now, workers, workerUrl, pageSize: requested, stepDays, recycleKeys, secretsBatch: batch }) {
    return serial(async () => {
      const started = clock();
      stages = stageClock();
      if (typeof now === 'number') nowFn = () => now;
      if (Number.isInteger(requested) && requested > 0 && requested <= 10000) pageSize = requested;
      if (Number.isInteger(stepDays) && stepDays > 0 && stepDays <= 64) daysPerStep = stepDays;
      if (Number.isInteger(batch) && batch > 0 && batch <= SECRETS_BATCH) secretsBatch = batch;
      accountId = id;
      client = accountClient({ fetch: doFetch, accountId });
      account = await stages.time('download', fetchAccount(client));
      const privateJwk = await webCryptoWith(globalThis.crypto).decryptJSON(keyEncryptionKey, account.encryptedPrivateKey);
      const size = Math.max(1, Math.min(8, workers || globalThis.navigator?.hardwareConcurrency || 2));
      const recycleAfter = Number.isInteger(recycleKeys) && recycleKeys > 0 ? recycleKeys : RECYCLE_KEYS;
      pool = createPool(size, workerUrl || new URL('./decrypt-worker.js', import.meta.url), { recycleAfter });
      await pool.all('init', { accountId, privateJwk, keyEncryptionKey });
      table = new EventTable();
      const w = timeWindow();
      cache = await openCache(accountId, { indexedDB }).catch(() => null);
      snapshotKey = null;
      localKind = null;
      snapshotState = { checkpoint: null, at: -Infinity, refreshes: 0, written: false };
      if (cache && typeof cache.getSnapshot === 'function') {
        snapshotKey = await deriveSnapshotKey(globalThis.crypto.subtle, keyEncryptionKey, accountId).catch(() => null);
      }
      let source = null;
      if (cache && (await loadFromCache(w))) source = 'cache';
      if (!source) {
        table = new EventTable();
        checkpoint = null;
        serverDays.clear();
        source = await loadFromNetwork(w);
      }
      table.dropDaysBefore(w.cutoffDay);
      const { wall, busy } = stages.summary();
      const timings = { ...wall, total: Math.round(clock() - started), source, local: localKind, busy, counts: { ...counters, events: table.size } };
      lastFlush = scheduleFlush({ renewPool: true });
      return { timings, account: describe(), size: table.size };
    });
  }

  function describe() {
    const { accountId, name, accountStyles, retentionPeriod, created } = account;
    return { accountId, name, accountStyles: accountStyles ?? null, retentionPeriod, created };
  }

  async function refresh() {
    return serial(async () => {
      const started = clock();
      stages = stageClock(); // the refresh's own breakdown (the load's was reported when it ended)
      const result = await scan({ after: checkpoint, secretsNew: false, localSecrets: true });
      snapshotState.refreshes++;
      const w = timeWindow();
      table.dropDaysBefore(w.cutoffDay);
      lastFlush = scheduleFlush();
      const { busy } = stages.summary();
      return { ms: Math.round(clock() - started), added: result.added, removed: result.removed, busy };
    });
  }

  // ---------------------------------------------------------------------------------------- write-back

  function scheduleFlush({ renewPool = false } = {}) {
    // A macrotask first: the reply of the load or refresh that scheduled this goes out before the first
    // step's encoding occupies the data worker.
    const run = flushing
      .then(() => new Promise((resolve) => setTimeout(resolve, 0)))
      .then(() => flush({ renewPool }))
      .catch((error) => {
        report('storage', { error: String(error && error.message) });
        return null;
      });
    flushing = run;
    return run;
  }

  /**
   * At the start of a load's write-back: fresh decryption workers and no shared re-wraps kept in memory. The
   * old workers held a CryptoKey per visitor (about 1.3 KB each, 100k per worker at 1M events) plus the
   * key agreements' dropped keys; the re-wraps of visitors whose days came from roll-ups were never used.
   * A later page's visitors come back through the local cache or the page's own secrets.
   */
  async function renewDecryptPool() {
    if (!pool) return;
    if (await pool.renew()) {
      sentSecrets.clear();
      counters.poolRenewals++;
    }
    sharedWrapped = new Map();
  }

  async function flush({ renewPool = false } = {}) {
    const started = clock();
    const flushStages = stageClock();
    // First: the load's workers hold every visitor key and their CryptoKeys' garbage, the largest part of
    // the tab after a load; fresh ones seal the roll-ups below. Serial, so no refresh is decrypting while
    // the pool is replaced.
    if (renewPool) await serial(() => renewDecryptPool()).catch(() => {});
    // The re-wrapped secrets first: they are the expensive work (RSA), and a tab closed during the
    // roll-ups must not lose them.
    uploadWrapped();
    const w = timeWindow();
    const snapshot = checkpoint;
    const toServer = [];
    if (snapshot) {
      // Empty days before the account's first event need no roll-up: a reader's head scan over them
      // ends after one page. From the first event on, every closed day gets one, empty or not.
      const known = table.days();
      const createdDay = account.created ? utcDay(Date.parse(account.created)) : w.today;
      let from = known.length && known[0] < createdDay ? known[0] : createdDay;
      if (from < w.firstDay) from = w.firstDay;
      for (let d = from; d <= w.lastClosedDay; d = addDays(d, 1)) {
        if (!serverDays.has(d) || serverDirty.has(d)) toServer.push(d);
      }
    }
    const present = new Set(table.days());
    const toLocal = [...localDirty].filter((d) => d >= w.cutoffDay && present.has(d));
    const dropLocal = [...localDirty].filter((d) => d < w.cutoffDay || !present.has(d));
    for (const d of toServer) serverDirty.delete(d);
    for (const d of localDirty) localDirty.delete(d);
    const serverSet = new Set(toServer);
    const localSet = new Set(toLocal);
    const periods = [...new Set([...toServer, ...toLocal])].sort();
    const outcomes = { stored: 0, stale: 0, rejected: 0 };
    const local = cache && snapshot ? cache : null;
    if (local && localWrapped.size) {
      // One transaction per batch, each batch taken out of the map before it is written (see
      // LOCAL_WRAPPED_BATCH); entries added meanwhile (a refresh) wait for the next write-back.
      let failed = null;
      for (let left = localWrapped.size; left > 0 && !failed; left -= LOCAL_WRAPPED_BATCH) {
        const batch = [];
        for (const entry of localWrapped) {
          batch.push(entry);
          if (batch.length >= LOCAL_WRAPPED_BATCH) break;
        }
        for (const [id] of batch) localWrapped.delete(id);
        await flushStages.time('storage', local.putWrapped(batch)).catch((error) => (failed = error));
      }
      if (failed) report('local-cache', { error: String(failed && failed.message) });
    }

    const putAll = async (records) => {
      let index = 0;
      const putNext = async () => {
        while (index < records.length) {
          const { period, checkpoint: cp, payload } = records[index++];
          const { outcome, error } = await putRollup(client, period, cp, payload);
          outcomes[outcome]++;
          if (outcome === 'stored') serverDays.set(period, cp);
          else if (outcome === 'stale') {
            // Another browser stored a later checkpoint: re-read it; ours stays local, theirs is newer.
            const theirs = await fetchRollup(client, period).catch(() => null);
            if (theirs) serverDays.set(period, theirs.checkpoint);
          } else report('rollup', { period, status: error instanceof HttpError ? error.status : null });
        }
      };
      await Promise.all([putNext(), putNext(), putNext(), putNext()]);
    };

    // A few days per step; sealing step i + 1 overlaps the uploads and IndexedDB writes of step i.
    const seal = (list) => {
      // Encoded in one synchronous turn with the checkpoint of that moment: the table then holds exactly
      // the events up to it (folds are synchronous too), which is what a roll-up's checkpoint promises.
      const cp = checkpoint;
      const items = list.map((period) => {
        const obj = table.encodeDay(period) || encodeBlock(emptyBlock(period, null));
        obj.checkpoint = cp;
        return { period, checkpoint: cp, encoded: obj };
      });
      return pool.spread('sealRollups', items, (slice) => ({ items: slice }));
    };
    const steps = [];
    if (snapshot) for (let i = 0; i < periods.length; i += daysPerStep) steps.push(periods.slice(i, i + daysPerStep));
    let next = steps.length ? seal(steps[0]) : null;
    for (let i = 0; i < steps.length; i++) {
      const results = await next;
      next = i + 1 < steps.length ? seal(steps[i + 1]) : null;
      const records = [];
      for (const result of results) {
        flushStages.add('storage', result.intervals.storage);
        records.push(...result.sealed);
      }
      await flushStages.time(
        'storage',
        Promise.all([
          putAll(records.filter((r) => serverSet.has(r.period))),
          local
            ? local
                .putDays(records.filter((r) => localSet.has(r.period)))
                .catch((error) => report('local-cache', { error: String(error && error.message) }))
            : null,
        ]),
      );
    }
    uploadWrapped();
    await Promise.all(uploads.splice(0));
    if (local) {
      // The state last: every stored day is complete up to `snapshot` (days sealed later hold more, which
      // a reload pages again and the table de-duplicates).
      await flushStages
        .time('storage', local.save({ meta: { v: CACHE_VERSION, checkpoint: snapshot, serverDays: [...serverDays] }, put: [], drop: dropLocal }))
        .then(
          () => writeSnapshot(local, snapshot, flushStages),
          (error) => report('local-cache', { error: String(error && error.message) }),
        );
    }
    const ms = Math.round(clock() - started);
    progress('storage', periods.length, periods.length);
    return { ms, busy: flushStages.summary().busy.storage, rollups: outcomes, sealed: snapshot ? periods.length : 0 };
  }

  // ---------------------------------------------------------------------------------------- queries

  function query(q) {
    const result = computeOperatorStats(table, q || {});
    result.account = describe();
    return result;
  }

  async function close() {
    await flushing.catch(() => {});
    if (pool) pool.terminate();
    if (cache) cache.close();
  }

  return {
    open,
    refresh,
    query,
    close,
    flushed: () => flushing,
    stats: () => ({ ...counters, events: table ? table.size : 0, checkpoint }),
    lastFlush: () => lastFlush,
  };
}

// In a worker: {id, op, args} → {id, result | error}; progress and reports go out as {type, ...}.
if (typeof WorkerGlobalScope !== 'undefined' && globalThis instanceof WorkerGlobalScope) {
  const engine = createDataEngine({ emit: (message) => globalThis.postMessage(message) });
  const ops = {
    open: (args) => engine.open(args),
    refresh: () => engine.refresh(),
    query: (args) => engine.query(args),
    flushed: async () => engine.lastFlush(),
    stats: () => engine.stats(),
    close: () => engine.close(),
  };
  globalThis.onmessage = async ({ data }) => {
    const { id, op, args } = data;
    try {
      if (!ops[op]) throw new Error(`unknown operation ${op}`);
      const result = await ops[op](args);
      globalThis.postMessage({ type: 'reply', id, result });
    } catch (error) {
      globalThis.postMessage({ type: 'reply', id, error: String((error && error.message) || error), status: error && error.status });
    }
  };
}
