// The operator's events as a columnar table, and the operator statistics over it at a million events.
//
// Owns three things (contract 4 of issue 4):
//  - day blocks: the parsed events (stats.js `parseEvent` output) of one account whose event-id time falls on
//    one UTC day, and their compact JSON-able encoding (`encodeBlock`/`decodeBlock`) that the engine caches
//    locally and, encrypted, on the server as roll-ups;
//  - `EventTable`: every event of an account in typed arrays, one segment per UTC day in time order (ties by
//    event id, the order of `parseEvents`), strings interned in table-wide dictionaries;
//  - `computeOperatorStats(table, query)`: exactly `computeStats(events, {...query, perspective: "operator"})`
//    of stats.js (the definition; same keys, same values, same float arithmetic order) without building
//    objects per event, reading only the segments a query needs (its range, the live window, four weeks of
//    retention).
//
// Built for the engine's paths at a million events: pages of parsed events are interned straight into typed
// staging rows and appended to their day (merged in place only when they come out of order), so a refresh
// touches today's segment alone; a cached block is decoded column by column without an object per event;
// secret and session ids are held as bytes, not strings (bench/table_bench.mjs measures all of it).
//
// Pure: no DOM, no I/O, no clock, no implicit time zone (Web-Worker ready, like stats.js). Everything here
// is plaintext usage data: it lives in the operator's browser only and never goes to the server unencrypted.
//
// Two deliberate limits: the parsed event's `timestamp` (the vault's clock, which no operator metric uses) is
// not kept, so events come back with `timestamp: null`; and of the page address' query only what metrics read
// is kept (`utm_campaign`, `utm_source`), so events come back with a `query` that answers `get()` for those.

import {
  LIVE_WINDOW_MS,
  NONE_GEOLOCATION,
  NONE_REFERRER,
  byCountThenKey,
  bySessionsThenDepth,
  offsetFunction,
  parseFilter,
  timeBuckets,
  toMillis,
} from "./stats.js";

export const BLOCK_VERSION = 1;

const DAY = 24 * 60 * 60 * 1000;
const WEEK = 7 * DAY;
const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const DECODE = new Int8Array(128).fill(-1);
for (let i = 0; i < CROCKFORD.length; i += 1) DECODE[CROCKFORD.charCodeAt(i)] = i;

// ---------------------------------------------------------------------------------------------------------
// Days

/** The UTC day ("YYYY-MM-DD") of an instant in ms. */
export function dayOf(timeMs) {
  if (!Number.isFinite(timeMs)) throw new TypeError(`table: not a time: ${timeMs}`);
  return new Date(timeMs).toISOString().slice(0, 10);
}

function dayStart(day) {
  if (typeof day !== "string" || !DAY_RE.test(day)) throw new TypeError(`table: not a day: ${day}`);
  const ms = Date.parse(`${day}T00:00:00Z`);
  if (!Number.isFinite(ms) || dayOf(ms) !== day) throw new TypeError(`table: not a day: ${day}`);
  return ms;
}

// ---------------------------------------------------------------------------------------------------------
// Day blocks

/** What is left of a page address' query: the two tags metrics read, behind URLSearchParams' `get`. */
export class Tags {
  constructor(campaign = null, source = null) {
    this.campaign = campaign;
    this.source = source;
  }

  get(name) {
    if (name === "utm_campaign") return this.campaign;
    if (name === "utm_source") return this.source;
    return null;
  }
}

function tagOf(event, name) {
  const query = event.query;
  if (!query || typeof query.get !== "function") return null;
  const value = query.get(name);
  return value == null ? null : value;
}

function compareEvents(a, b) {
  return a.time - b.time || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0);
}

/** A block without events. */
export function emptyBlock(day, checkpoint = null) {
  dayStart(day);
  return { v: BLOCK_VERSION, day, checkpoint, events: [] };
}

/**
 * The block of one UTC day from parsed events: sorted like `parseEvents`, duplicates (same event id) dropped.
 * Throws when an event's time is not on that day: a block must never hold another day's events.
 */
export function blockFromParsed(day, parsed, checkpoint = null) {
  const start = dayStart(day);
  const events = [];
  for (const e of parsed || []) {
    if (!e || !Number.isInteger(e.time) || e.time < start || e.time >= start + DAY) {
      throw new RangeError(`table: event ${e && e.eventId} is not on ${day}`);
    }
    events.push(e);
  }
  events.sort(compareEvents);
  const unique = events.filter((e, i) => i === 0 || e.eventId !== events[i - 1].eventId);
  return { v: BLOCK_VERSION, day, checkpoint, events: unique };
}

// The per-block dictionaries of the encoding, in this order; column value 0 is null, k is dict[k - 1].
const BLOCK_FIELDS = [
  "account",
  "secret",
  "session",
  "url",
  "host",
  "pathname",
  "referrer",
  "campaign",
  "source",
  "geo",
];

function eventFields(e) {
  return [
    e.accountId ?? null,
    e.secretId ?? null,
    e.sessionId ?? null,
    e.url ?? null,
    e.host ?? null,
    e.pathname ?? null,
    e.referrer ?? null,
    tagOf(e, "utm_campaign"),
    tagOf(e, "utm_source"),
    e.geo ?? null,
  ];
}

/** Builds per-block dictionaries in first-occurrence order; shared by encodeBlock and EventTable.encodeDay. */
class BlockWriter {
  constructor(day, checkpoint) {
    this.day = day;
    this.start = dayStart(day);
    this.checkpoint = checkpoint ?? null;
    this.maps = BLOCK_FIELDS.map(() => new Map());
    this.dict = {};
    this.col = {};
    for (const f of BLOCK_FIELDS) {
      this.dict[f] = [];
      this.col[f] = [];
    }
    this.ids = [];
    this.t = [];
    this.derived = true;
    this.pageload = [];
    this.mobile = [];
  }

  push(eventId, time, fields, pageload, isMobile) {
    if (typeof eventId !== "string" || !eventId) throw new TypeError("encodeBlock: event ids must be strings");
    for (let k = 0; k < BLOCK_FIELDS.length; k += 1) {
      const value = fields[k];
      const name = BLOCK_FIELDS[k];
      if (value === null) {
        this.col[name].push(0);
        continue;
      }
      if (typeof value !== "string") throw new TypeError(`encodeBlock: ${name} must be a string or null`);
      let index = this.maps[k].get(value);
      if (index === undefined) {
        this.dict[name].push(value);
        index = this.dict[name].length;
        this.maps[k].set(value, index);
      }
      this.col[name].push(index);
    }
    this.ids.push(eventId);
    const offset = time - this.start;
    // Times are implied by canonical ULIDs; the column is written only when some id does not carry its time.
    if (idTime(eventId) !== time) this.derived = false;
    this.t.push(offset);
    if (pageload !== null && (typeof pageload !== "number" || !Number.isFinite(pageload))) {
      throw new TypeError("encodeBlock: pageload must be a finite number or null");
    }
    this.pageload.push(pageload);
    this.mobile.push(isMobile ? 1 : 0);
  }

  finish() {
    return {
      v: BLOCK_VERSION,
      day: this.day,
      checkpoint: this.checkpoint,
      n: this.ids.length,
      ids: this.ids,
      t: this.derived ? null : this.t,
      dict: this.dict,
      col: this.col,
      pageload: this.pageload,
      mobile: this.mobile,
    };
  }
}

/** The compact, JSON-able, columnar form of a block (per-block dictionaries; see `decodeBlock`). */
export function encodeBlock(block) {
  if (!block || typeof block !== "object" || !Array.isArray(block.events)) {
    throw new TypeError("encodeBlock: not a block");
  }
  const writer = new BlockWriter(block.day, block.checkpoint);
  const start = writer.start;
  let previous = null;
  for (const e of [...block.events].sort(compareEvents)) {
    if (previous !== null && e.eventId === previous) continue; // the same event twice is one event
    previous = e.eventId;
    if (!Number.isInteger(e.time) || e.time < start || e.time >= start + DAY) {
      throw new RangeError(`encodeBlock: event ${e.eventId} is not on ${block.day}`);
    }
    writer.push(e.eventId, e.time, eventFields(e), typeof e.pageload === "number" ? e.pageload : null, e.isMobile);
  }
  return writer.finish();
}

function fail(message) {
  throw new Error(`decodeBlock: ${message}`);
}

/**
 * Checks an encoded block's shape completely before anything reads it. Returns its start (ms) and every
 * event id taken apart once: `time` (ms), and for canonical ULIDs (upper-case, carrying their event's time)
 * the 80 random bits in `a`, `b`, `c`; other ids get `a = ODD_ID` and are read from `obj.ids`.
 */
function validateEncoded(obj) {
  if (!obj || typeof obj !== "object" || Array.isArray(obj)) fail("not an object");
  if (obj.v !== BLOCK_VERSION) fail(`unknown version ${JSON.stringify(obj.v)}`);
  if (typeof obj.day !== "string" || !DAY_RE.test(obj.day)) fail("bad day");
  let start;
  try {
    start = dayStart(obj.day);
  } catch {
    fail("bad day");
  }
  if (obj.checkpoint !== null && typeof obj.checkpoint !== "string") fail("checkpoint must be a string or null");
  const n = obj.n;
  if (!Number.isInteger(n) || n < 0) fail("bad event count");
  const isArrayOf = (a) => Array.isArray(a) && a.length === n;
  const ids = obj.ids;
  if (!isArrayOf(ids)) fail("bad ids");
  for (let i = 0; i < n; i += 1) {
    const id = ids[i];
    if (typeof id !== "string" || id.length === 0) fail("bad ids");
  }
  if (!obj.dict || typeof obj.dict !== "object" || !obj.col || typeof obj.col !== "object") fail("missing columns");
  for (const f of BLOCK_FIELDS) {
    const dict = obj.dict[f];
    const col = obj.col[f];
    if (!Array.isArray(dict)) fail(`bad dictionary ${f}`);
    for (let k = 0; k < dict.length; k += 1) if (typeof dict[k] !== "string") fail(`bad dictionary ${f}`);
    if (!isArrayOf(col)) fail(`bad column ${f}`);
    const size = dict.length;
    for (let i = 0; i < n; i += 1) {
      const k = col[i];
      // An integer in [0, size]: `k >>> 0 === k` is true only for integers in the uint32 range.
      if (typeof k !== "number" || k >>> 0 !== k || k > size) fail(`bad value in column ${f}`);
    }
  }
  const pageload = obj.pageload;
  if (!isArrayOf(pageload)) fail("bad pageload column");
  for (let i = 0; i < n; i += 1) {
    const p = pageload[i];
    if (p !== null && (typeof p !== "number" || !Number.isFinite(p))) fail("bad pageload");
  }
  const mobile = obj.mobile;
  if (!isArrayOf(mobile)) fail("bad mobile column");
  for (let i = 0; i < n; i += 1) if (mobile[i] !== 0 && mobile[i] !== 1) fail("bad mobile column");
  const time = new Float64Array(n);
  const a = new Uint32Array(n);
  const b = new Uint32Array(n);
  const c = new Uint32Array(n);
  if (obj.t === null) {
    for (let i = 0; i < n; i += 1) {
      if (!parseId(ids[i])) fail(`event id ${ids[i]} carries no time`);
      time[i] = idT;
      a[i] = idA;
      b[i] = idB;
      c[i] = idC;
    }
  } else {
    if (!isArrayOf(obj.t)) fail("bad time column");
    for (let i = 0; i < n; i += 1) {
      const t = obj.t[i];
      if (!Number.isInteger(t)) fail("bad time");
      time[i] = start + t;
      if (parseId(ids[i]) && idT === time[i]) {
        a[i] = idA;
        b[i] = idB;
        c[i] = idC;
      } else a[i] = ODD_ID;
    }
  }
  const end = start + DAY;
  for (let i = 0; i < n; i += 1) {
    if (time[i] < start || time[i] >= end) fail(`event ${ids[i]} is not on ${obj.day}`);
    if (i === 0) continue;
    let order = time[i - 1] - time[i];
    if (order === 0) {
      // Equal times: canonical ids order by their random bits exactly as their text does.
      if (a[i - 1] !== ODD_ID && a[i] !== ODD_ID) order = a[i - 1] - a[i] || b[i - 1] - b[i] || c[i - 1] - c[i];
      else order = ids[i - 1] < ids[i] ? -1 : ids[i - 1] > ids[i] ? 1 : 0;
    }
    if (order >= 0) fail("events are not in order or repeat");
  }
  // Without a time column every time comes from its id, so a repeated id would have been next to itself.
  if (obj.t !== null && new Set(ids).size !== n) fail("events are not in order or repeat");
  return { start, time, a, b, c };
}

/** The block of an encoded block; throws an Error saying what is wrong on anything malformed. */
export function decodeBlock(obj) {
  const { time } = validateEncoded(obj);
  const value = (f, i) => {
    const k = obj.col[f][i];
    return k === 0 ? null : obj.dict[f][k - 1];
  };
  const events = new Array(obj.n);
  for (let i = 0; i < obj.n; i += 1) {
    events[i] = {
      accountId: value("account", i),
      eventId: obj.ids[i],
      secretId: value("secret", i),
      time: time[i],
      url: value("url", i),
      host: value("host", i),
      pathname: value("pathname", i),
      query: new Tags(value("campaign", i), value("source", i)),
      referrer: value("referrer", i),
      pageload: obj.pageload[i],
      isMobile: obj.mobile[i] === 1,
      sessionId: value("session", i),
      geo: value("geo", i),
      timestamp: null,
    };
  }
  return { v: BLOCK_VERSION, day: obj.day, checkpoint: obj.checkpoint, events };
}

// ---------------------------------------------------------------------------------------------------------
// Event ids. A canonical ULID (26 upper-case Crockford characters whose time is the event's) is stored as
// its time (the row's time) plus 80 random bits in three numbers: 12 bytes instead of a ~60-byte string.
// Any other id is interned in the table's `oddIds` list and the row holds `a = ODD_ID, b = its index`, so
// every id comes back exactly as it went in and moves with its row.

const ODD_ID = 0xffffffff; // never a canonical `a` (30 bits)

// parseId's results (module scratch: parsing allocates nothing).
let idT = 0;
let idA = 0;
let idB = 0;
let idC = 0;

/** Takes a canonical ULID apart into idT (ms), idA, idB (30 bits each), idC (20 bits); false otherwise. */
function parseId(id) {
  if (typeof id !== "string" || id.length !== 26) return false;
  let ms = 0;
  for (let i = 0; i < 10; i += 1) {
    const code = id.charCodeAt(i);
    const v = code < 128 ? DECODE[code] : -1;
    if (v < 0) return false;
    ms = ms * 32 + v;
  }
  let x = 0;
  for (let i = 10; i < 16; i += 1) {
    const code = id.charCodeAt(i);
    const v = code < 128 ? DECODE[code] : -1;
    if (v < 0) return false;
    x = (x << 5) | v;
  }
  let y = 0;
  for (let i = 16; i < 22; i += 1) {
    const code = id.charCodeAt(i);
    const v = code < 128 ? DECODE[code] : -1;
    if (v < 0) return false;
    y = (y << 5) | v;
  }
  let z = 0;
  for (let i = 22; i < 26; i += 1) {
    const code = id.charCodeAt(i);
    const v = code < 128 ? DECODE[code] : -1;
    if (v < 0) return false;
    z = (z << 5) | v;
  }
  idT = ms;
  idA = x;
  idB = y;
  idC = z;
  return true;
}

/** The time of a canonical ULID; NaN for anything else. */
function idTime(id) {
  return parseId(id) ? idT : NaN;
}

const ID_CODES = new Array(26).fill(0);

function putChars(value, from, count) {
  for (let i = from + count - 1; i >= from; i -= 1) {
    ID_CODES[i] = CROCKFORD.charCodeAt(value % 32);
    value = Math.floor(value / 32);
  }
}

/** The canonical ULID of a time and three random parts (one flat string, not 26 concatenations). */
function idString(time, a, b, c) {
  putChars(time, 0, 10);
  putChars(a, 10, 6);
  putChars(b, 16, 6);
  putChars(c, 22, 4);
  return String.fromCharCode.apply(null, ID_CODES);
}

const CROCKFORD_CODES = Uint8Array.from(CROCKFORD, (ch) => ch.charCodeAt(0));

/** The canonical ULID of (time, a, b, c) as ASCII codes into bytes[at..at + 26), with integer arithmetic. */
function putId(bytes, at, time, a, b, c) {
  const high = Math.floor(time / 0x2000000); // the first 5 characters: 25 bits each half
  const low = time - high * 0x2000000;
  for (let k = 0; k < 5; k += 1) {
    bytes[at + k] = CROCKFORD_CODES[(high >>> (20 - 5 * k)) & 31];
    bytes[at + 5 + k] = CROCKFORD_CODES[(low >>> (20 - 5 * k)) & 31];
  }
  for (let k = 0; k < 6; k += 1) {
    bytes[at + 10 + k] = CROCKFORD_CODES[(a >>> (25 - 5 * k)) & 31];
    bytes[at + 16 + k] = CROCKFORD_CODES[(b >>> (25 - 5 * k)) & 31];
  }
  for (let k = 0; k < 4; k += 1) bytes[at + 22 + k] = CROCKFORD_CODES[(c >>> (15 - 5 * k)) & 31];
}

/** Order of two rows given as (absolute time, a, b, c): time, then id text (numbers when both canonical). */
function compareKeys(oddIds, t1, a1, b1, c1, t2, a2, b2, c2) {
  if (t1 !== t2) return t1 - t2;
  if (a1 !== ODD_ID && a2 !== ODD_ID) return a1 - a2 || b1 - b2 || c1 - c2;
  const s1 = a1 === ODD_ID ? oddIds[b1] : idString(t1, a1, b1, c1);
  const s2 = a2 === ODD_ID ? oddIds[b2] : idString(t2, a2, b2, c2);
  return s1 < s2 ? -1 : s1 > s2 ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------------------
// Page loads. Whole milliseconds below LOAD_BASE are stored as they are; LOAD_NULL is null, LOAD_NEG_ZERO is
// -0, and anything else (fractions, huge numbers) is interned in the table's `oddLoads` list as
// LOAD_BASE + index, so every value comes back exactly and moves with its row.

const LOAD_NULL = 0xffffffff;
const LOAD_NEG_ZERO = 0xfffffffe;
const LOAD_BASE = 0xf0000000;
const LOAD_ODD_MAX = LOAD_NEG_ZERO - LOAD_BASE;

// ---------------------------------------------------------------------------------------------------------
// Dictionaries

class Dict {
  constructor() {
    this.values = [null]; // id 0 is null
    this.ids = new Map();
    this.last = null; // neighbouring events often repeat a value: skip hashing it again
    this.lastId = 0;
  }

  intern(value) {
    if (value == null) return 0;
    if (value === this.last) return this.lastId;
    let id = this.ids.get(value);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(value);
      this.ids.set(value, id);
    }
    this.last = value;
    this.lastId = id;
    return id;
  }

  get(id) {
    return this.values[id];
  }

  getMany(ids) {
    return ids.map((id) => this.values[id]);
  }

  internMany(values) {
    const ids = new Uint32Array(values.length + 1);
    for (let k = 0; k < values.length; k += 1) ids[k + 1] = this.intern(values[k]);
    return ids;
  }

  get size() {
    return this.values.length;
  }
}

const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i += 1) HEX_VALUE["0123456789abcdef".charCodeAt(i)] = i;
const HEX_CODES = Array.from("0123456789abcdef", (ch) => ch.charCodeAt(0));
const KEY = new Uint32Array(8); // the words of the last parsed compact value

/** Hex digits s[from..to) -> KEY[word]; false on anything but 0-9a-f (no branch per digit). */
function hexWords(s, from, to, word) {
  let v = 0;
  let bad = 0;
  for (let j = from; j < to; j += 1) {
    const code = s.charCodeAt(j);
    const d = HEX_VALUE[code & 127];
    bad |= d | (code >> 7); // negative when a digit is not hex or the code is not ASCII
    v = (v << 4) | (d & 15);
  }
  KEY[word] = v;
  return bad >= 0;
}

/** 64 lower-case hex digits (a secret id) -> KEY[0..7]. */
function parseHex64(s) {
  if (s.length !== 64) return false;
  let ok = true;
  for (let w = 0; w < 8; w += 1) ok = hexWords(s, w * 8, w * 8 + 8, w) && ok;
  return ok;
}

/** A lower-case UUID (8-4-4-4-12, a session id) -> KEY[0..3]. */
function parseUuid(s) {
  if (s.length !== 36) return false;
  if (s.charCodeAt(8) !== 45 || s.charCodeAt(13) !== 45 || s.charCodeAt(18) !== 45 || s.charCodeAt(23) !== 45) {
    return false;
  }
  // Words: 0-7 | 9-12 + 14-17 | 19-22 + 24-27 | 28-35.
  if (!hexWords(s, 0, 8, 0) || !hexWords(s, 28, 36, 3)) return false;
  if (!hexWords(s, 9, 13, 1) || !hexWords(s, 19, 23, 2)) return false;
  const high1 = KEY[1];
  const high2 = KEY[2];
  if (!hexWords(s, 14, 18, 1) || !hexWords(s, 24, 28, 2)) return false;
  KEY[1] = (high1 << 16) | KEY[1];
  KEY[2] = (high2 << 16) | KEY[2];
  return true;
}

// Where hex digit k of a value goes in its text.
const HEX64_POSITIONS = Uint8Array.from({ length: 64 }, (_, k) => k);
const UUID_POSITIONS = Uint8Array.from({ length: 32 }, (_, k) => k + (k >= 8) + (k >= 12) + (k >= 16) + (k >= 20));

// Many ids as text at once: ASCII codes into one byte array, one decode, then slices (no per-id
// String.fromCharCode.apply, which is most of the cost of writing a block).
const ASCII = new TextDecoder();
let textBytes = new Uint8Array(4096);

function textBuffer(size) {
  if (textBytes.length < size) textBytes = new Uint8Array(Math.max(size, textBytes.length * 2));
  return textBytes;
}

function sliceText(bytes, count, width) {
  const text = ASCII.decode(bytes.subarray(0, count * width));
  const out = new Array(count);
  for (let k = 0; k < count; k += 1) out[k] = text.slice(k * width, k * width + width);
  return out;
}

const HEX64_CODES = new Array(64).fill(48);
const UUID_CODES = new Array(36).fill(48);
for (const at of [8, 13, 18, 23]) UUID_CODES[at] = 45; // "-"

function putHex(word, at, digits, codes = HEX64_CODES) {
  for (let k = digits - 1; k >= 0; k -= 1) {
    codes[at + k] = HEX_CODES[word & 15];
    word >>>= 4;
  }
}

/**
 * A dictionary of ids that are almost always 64 hex digits (secret ids) or UUIDs (session ids), held as
 * 32 or 16 bytes in typed arrays with an open-addressing index instead of ~120-byte strings in a Map: at a
 * million events this is most of the table's memory. Anything else (upper case, other shapes) is kept as
 * text in a Map beside them, so every value comes back exactly. Ids are shared: 0 is null.
 */
class CompactDict {
  constructor(kind) {
    this.width = kind === "hex64" ? 8 : 4;
    this.dashes = kind !== "hex64";
    this.count = 1;
    this.words = new Uint32Array(1024 * this.width);
    this.slots = new Int32Array(2048); // 0 = empty, else an id
    // A seed per dictionary: visitors choose these ids, so collisions must not be computable in advance.
    this.seed = (Math.random() * 0x100000000) | 0;
    this.others = null; // text -> id for values of another shape
    this.otherValues = null; // id -> text
    this.last = null;
    this.lastId = 0;
  }

  get size() {
    return this.count;
  }

  intern(value) {
    if (value == null) return 0;
    if (value === this.last) return this.lastId;
    const compact = typeof value === "string" && (this.dashes ? parseUuid(value) : parseHex64(value));
    const id = compact ? this.internKey() : this.internOther(value);
    this.last = value;
    this.lastId = id;
    return id;
  }

  /**
   * Ids of many values at once (a block's dictionary): room for all of them is made first, so the arrays
   * grow and the index is rebuilt at most once per block.
   */
  internMany(values) {
    const count = values.length;
    const ids = new Uint32Array(count + 1);
    this.reserve(this.count + count);
    for (let k = 0; k < count; k += 1) {
      const value = values[k];
      const compact = typeof value === "string" && (this.dashes ? parseUuid(value) : parseHex64(value));
      ids[k + 1] = value == null ? 0 : compact ? this.internKey() : this.internOther(value);
    }
    return ids;
  }

  /** Room for `total` ids without growing the words or rebuilding the index. */
  reserve(total) {
    if (total * this.width > this.words.length) {
      const next = new Uint32Array(Math.ceil(total * 1.25) * this.width);
      next.set(this.words);
      this.words = next;
    }
    let slots = this.slots.length;
    while (total * 10 > slots * 6) slots *= 2;
    if (slots !== this.slots.length) this.rehash(slots);
  }

  hashKey() {
    let h = this.seed;
    for (let w = 0; w < this.width; w += 1) {
      h = Math.imul(h ^ KEY[w], 0x9e3779b1);
      h ^= h >>> 15;
    }
    h = Math.imul(h ^ (h >>> 13), 0x85ebca6b);
    return h ^ (h >>> 16);
  }

  internKey() {
    const width = this.width;
    const words = this.words;
    const slots = this.slots;
    const mask = slots.length - 1;
    let slot = this.hashKey() & mask;
    for (;;) {
      const id = slots[slot];
      if (id === 0) break;
      const at = id * width;
      let same = true;
      for (let w = 0; w < width; w += 1) {
        if (words[at + w] !== KEY[w]) {
          same = false;
          break;
        }
      }
      if (same) return id;
      slot = (slot + 1) & mask;
    }
    const id = this.newId();
    const target = this.words;
    for (let w = 0, at = id * width; w < width; w += 1) target[at + w] = KEY[w];
    slots[slot] = id;
    if (this.count * 10 > slots.length * 6) this.rehash(slots.length * 2);
    return id;
  }

  internOther(value) {
    if (!this.others) {
      this.others = new Map();
      this.otherValues = new Map();
    }
    let id = this.others.get(value);
    if (id === undefined) {
      id = this.newId();
      this.others.set(value, id);
      this.otherValues.set(id, value);
    }
    return id;
  }

  newId() {
    const id = this.count;
    this.count += 1;
    if (this.count * this.width > this.words.length) {
      const next = new Uint32Array(Math.ceil(this.count * 1.5) * this.width);
      next.set(this.words);
      this.words = next;
    }
    return id;
  }

  rehash(size) {
    const slots = new Int32Array(size);
    const mask = size - 1;
    const width = this.width;
    const old = this.slots;
    for (let k = 0; k < old.length; k += 1) {
      const id = old[k];
      if (id === 0) continue;
      for (let w = 0; w < width; w += 1) KEY[w] = this.words[id * width + w];
      let slot = this.hashKey() & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = id;
    }
    this.slots = slots;
  }

  /** The values of many ids (none 0) at once. */
  getMany(ids) {
    const count = ids.length;
    const width = this.dashes ? 36 : 64;
    const bytes = textBuffer(count * width);
    const words = this.words;
    const w = this.width;
    const positions = this.dashes ? UUID_POSITIONS : HEX64_POSITIONS;
    for (let k = 0; k < count; k += 1) {
      const at = ids[k] * w;
      const base = k * width;
      if (this.dashes) {
        bytes[base + 8] = 45;
        bytes[base + 13] = 45;
        bytes[base + 18] = 45;
        bytes[base + 23] = 45;
      }
      for (let q = 0; q < w; q += 1) {
        const word = words[at + q];
        for (let d = 0; d < 8; d += 1) bytes[base + positions[q * 8 + d]] = HEX_CODES[(word >>> (28 - 4 * d)) & 15];
      }
    }
    const out = sliceText(bytes, count, width);
    if (this.otherValues) {
      for (let k = 0; k < count; k += 1) {
        const other = this.otherValues.get(ids[k]);
        if (other !== undefined) out[k] = other;
      }
    }
    return out;
  }

  get(id) {
    if (id === 0) return null;
    if (this.otherValues) {
      const other = this.otherValues.get(id);
      if (other !== undefined) return other;
    }
    const at = id * this.width;
    if (!this.dashes) {
      for (let w = 0; w < 8; w += 1) putHex(this.words[at + w], w * 8, 8);
      return String.fromCharCode.apply(null, HEX64_CODES);
    }
    const word1 = this.words[at + 1];
    const word2 = this.words[at + 2];
    putHex(this.words[at], 0, 8, UUID_CODES);
    putHex(word1 >>> 16, 9, 4, UUID_CODES);
    putHex(word1 & 0xffff, 14, 4, UUID_CODES);
    putHex(word2 >>> 16, 19, 4, UUID_CODES);
    putHex(word2 & 0xffff, 24, 4, UUID_CODES);
    putHex(this.words[at + 3], 28, 8, UUID_CODES);
    return String.fromCharCode.apply(null, UUID_CODES);
  }
}

function truthyId(dict, id) {
  return id !== 0 && dict.values[id] ? id : 0;
}

// ---------------------------------------------------------------------------------------------------------
// Segments: the events of one UTC day, columns of typed arrays in time order (ties by id text). A segment
// may have spare capacity (`cap > n`) while events keep arriving for its day; the others are trimmed.

const COLUMNS = ["t", "a", "b", "c", "secret", "session", "page", "tuple", "load"];

function newSegment(dayNumber, cap) {
  const start = dayNumber * DAY;
  const seg = { dayNumber, day: dayOf(start), start, n: 0, cap, checkpoint: null };
  for (const name of COLUMNS) seg[name] = new Uint32Array(cap);
  return seg;
}

function resize(seg, cap) {
  for (const name of COLUMNS) {
    const next = new Uint32Array(cap);
    next.set(seg[name].subarray(0, seg.n));
    seg[name] = next;
  }
  seg.cap = cap;
}

/** First index below n with t[i] >= value (t sorted). */
function lowerBound(t, value, n) {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (t[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The row of a key (absolute time, a, b, c) in a segment, or -1. */
function findRow(seg, time, a, b, c) {
  const offset = time - seg.start;
  if (!(offset >= 0 && offset < DAY)) return -1;
  const t = seg.t;
  for (let i = lowerBound(t, offset, seg.n); i < seg.n && t[i] === offset; i += 1) {
    if (seg.a[i] === a && seg.b[i] === b && (a === ODD_ID || seg.c[i] === c)) return i;
  }
  return -1;
}

const STAGING_KEEP = 1 << 16;

/** Typed rows waiting to be merged into segments (reused between calls). */
class Staging {
  constructor(cap) {
    this.cap = cap;
    this.time = new Float64Array(cap);
    this.a = new Uint32Array(cap);
    this.b = new Uint32Array(cap);
    this.c = new Uint32Array(cap);
    this.secret = new Uint32Array(cap);
    this.session = new Uint32Array(cap);
    this.page = new Uint32Array(cap);
    this.tuple = new Uint32Array(cap);
    this.load = new Uint32Array(cap);
    this.order = new Uint32Array(cap);
    this.accepted = new Uint32Array(cap);
  }
}

// ---------------------------------------------------------------------------------------------------------

/**
 * All events of one account, columnar. Per event 36 bytes of typed arrays (time in day, 80 random id bits,
 * user, session, page, attribute tuple, page load); strings live once in table-wide dictionaries (which only
 * grow: an operator's tab holding one account for a while is the use), secret and session ids as bytes.
 */
export class EventTable {
  constructor() {
    this.accounts = new Dict();
    this.secrets = new CompactDict("hex64");
    this.sessions = new CompactDict("uuid");
    this.urls = new Dict();
    this.hosts = new Dict();
    this.paths = new Dict();
    this.referrers = new Dict();
    this.campaigns = new Dict();
    this.sources = new Dict();
    this.geos = new Dict();
    // A page is (url, host, pathname): host and path follow from the url for every http(s) address, so
    // this dictionary is about as large as the url one.
    this.pageByUrl = new Map();
    this.pageUrl = [0];
    this.pageHost = [0];
    this.pagePath = [0];
    this.pageSlots = new Int32Array(256);
    // A tuple is the event's low-cardinality attributes (account, referrer, campaign, source, geo, mobile):
    // one 4-byte column instead of six.
    this.tupleAccount = [0];
    this.tupleReferrer = [0];
    this.tupleCampaign = [0];
    this.tupleCampaignTag = [0]; // the campaign when truthy (what `firstTagged` looks for), else 0
    this.tupleSource = [0];
    this.tupleSourceTag = [0];
    this.tupleGeo = [0];
    this.tupleGeoTag = [0];
    this.tupleMobile = [0];
    this.tupleSlots = new Int32Array(256);
    this.oddIds = []; // ids that are not canonical ULIDs of their event's time, interned
    this.oddIdIndex = new Map();
    this.oddLoads = []; // page loads that are not whole ms below LOAD_BASE, interned
    this.oddLoadIndex = new Map();
    this.segments = new Map(); // dayNumber -> segment
    this.sorted = []; // segments by day
    this.open = new Set(); // segments with spare capacity
    this.firstSeen = new Float64Array(0); // per user: time of the first event in the table
    this.firstSeenDirty = false;
    this.token = 1;
    this.scratch = {};
    this.staging = null;
  }

  get size() {
    let n = 0;
    for (const seg of this.sorted) n += seg.n;
    return n;
  }

  /** The days that hold events, ascending. */
  days() {
    return this.sorted.map((seg) => seg.day);
  }

  /** Replaces the day of the block with the block's events (an empty block removes the day). */
  addBlock(block) {
    if (!block || typeof block !== "object" || !Array.isArray(block.events)) throw new TypeError("table: not a block");
    const start = dayStart(block.day);
    const events = block.events;
    for (const e of events) {
      if (!e || !Number.isInteger(e.time) || e.time < start || e.time >= start + DAY) {
        throw new RangeError(`table: event ${e && e.eventId} is not on ${block.day}`);
      }
    }
    const st = this.stage(events);
    const seg = newSegment(start / DAY, events.length);
    this.mergeInto(seg, st, 0, events.length);
    if (st.cap > STAGING_KEEP) this.staging = null;
    this.replaceSegment(start / DAY, seg, block.checkpoint ?? null);
  }

  /** Like `addBlock(decodeBlock(obj))`, without making an object per event (the cache's load path). */
  addEncodedBlock(obj) {
    const { start, time, a, b, c } = validateEncoded(obj);
    const n = obj.n;
    const dicts = [this.accounts, this.secrets, this.sessions, this.urls, this.hosts, this.paths, this.referrers];
    dicts.push(this.campaigns, this.sources, this.geos);
    const local = {};
    BLOCK_FIELDS.forEach((f, k) => {
      local[f] = dicts[k].internMany(obj.dict[f]);
    });
    const col = obj.col;
    const ids = obj.ids;
    const seg = newSegment(start / DAY, n);
    // Pages and tuples of per-block index combinations, memoised by a numeric key (exact below 2^53).
    const pageRadix = [obj.dict.host.length + 1, obj.dict.pathname.length + 1];
    const pageMemo = new Map();
    const tupleRadix = ["referrer", "campaign", "source", "geo"].map((f) => obj.dict[f].length + 1);
    const tupleMemo = new Map();
    const urlHost = new Int32Array(obj.dict.url.length + 1).fill(-1);
    const urlPath = new Int32Array(obj.dict.url.length + 1);
    const urlPage = new Uint32Array(obj.dict.url.length + 1);
    const numericPages = (obj.dict.url.length + 1) * pageRadix[0] * pageRadix[1] < 2 ** 52;
    const numericTuples = (obj.dict.account.length + 1) * tupleRadix.reduce((x, y) => x * y, 2) < 2 ** 52;
    const { url: cu, host: ch, pathname: cp, account: ca, referrer: cr, campaign: cc, source: cs, geo: cg } = col;
    const { secret: cSecret, session: cSession } = col;
    const lSecret = local.secret;
    const lSession = local.session;
    const mobile = obj.mobile;
    const pageload = obj.pageload;
    for (let i = 0; i < n; i += 1) {
      const u = cu[i];
      const h = ch[i];
      const p = cp[i];
      // The url decides host and path for every http(s) address: one typed lookup, the memo otherwise.
      let page;
      if (urlHost[u] === h && urlPath[u] === p) page = urlPage[u];
      else {
        const pageKey = numericPages ? (u * pageRadix[0] + h) * pageRadix[1] + p : `${u},${h},${p}`;
        page = pageMemo.get(pageKey);
        if (page === undefined) {
          page = this.pageOf(local.url[u], local.host[h], local.pathname[p]);
          pageMemo.set(pageKey, page);
        }
        if (urlHost[u] === -1) {
          urlHost[u] = h;
          urlPath[u] = p;
          urlPage[u] = page;
        }
      }
      const acc = ca[i];
      const ref = cr[i];
      const cam = cc[i];
      const src = cs[i];
      const geo = cg[i];
      const mob = mobile[i];
      const tupleKey = numericTuples
        ? ((((acc * tupleRadix[0] + ref) * tupleRadix[1] + cam) * tupleRadix[2] + src) * tupleRadix[3] + geo) * 2 +
          mob
        : `${acc},${ref},${cam},${src},${geo},${mob}`;
      let tuple = tupleMemo.get(tupleKey);
      if (tuple === undefined) {
        tuple = this.tupleOf(
          local.account[acc],
          local.referrer[ref],
          local.campaign[cam],
          local.source[src],
          local.geo[geo],
          mob,
        );
        tupleMemo.set(tupleKey, tuple);
      }
      seg.t[i] = time[i] - start;
      if (a[i] === ODD_ID) {
        seg.a[i] = ODD_ID;
        seg.b[i] = this.oddId(ids[i]);
      } else {
        seg.a[i] = a[i];
        seg.b[i] = b[i];
        seg.c[i] = c[i];
      }
      seg.secret[i] = lSecret[cSecret[i]];
      seg.session[i] = lSession[cSession[i]];
      seg.page[i] = page;
      seg.tuple[i] = tuple;
      const load = pageload[i];
      // Whole ms (not -0) are stored as they are; anything else through loadCode.
      const whole = load !== null && load >>> 0 === load && load < LOAD_BASE && (load !== 0 || 1 / load > 0);
      seg.load[i] = whole ? load : this.loadCode(load);
    }
    seg.n = n;
    this.replaceSegment(start / DAY, seg, obj.checkpoint);
  }

  /**
   * Adds parsed events of any days; events whose id is already in the table are skipped. Returns #added.
   * Rows after a day's last row are appended; earlier ones are merged in, moving only the rows after them.
   */
  addParsedEvents(parsed) {
    const list = Array.isArray(parsed) ? parsed : [...(parsed || [])];
    for (const e of list) {
      if (!e || !Number.isInteger(e.time)) throw new TypeError("table: a parsed event needs an integer time");
    }
    const m = list.length;
    if (m === 0) return 0;
    const st = this.stage(list);
    const touched = new Set();
    let added = 0;
    for (let x = 0; x < m; ) {
      const dayNumber = Math.floor(st.time[st.order[x]] / DAY);
      const end = (dayNumber + 1) * DAY;
      let y = x + 1;
      while (y < m && st.time[st.order[y]] < end) y += 1;
      let seg = this.segments.get(dayNumber);
      if (!seg) {
        seg = newSegment(dayNumber, y - x);
        const count = this.mergeInto(seg, st, x, y);
        this.replaceSegment(dayNumber, seg, null, false);
        added += count;
      } else {
        added += this.mergeInto(seg, st, x, y);
      }
      touched.add(seg);
      x = y;
    }
    // A page far larger than the engine's (a whole account at once) leaves no staging arrays behind.
    if (st.cap > STAGING_KEEP) this.staging = null;
    // Days no longer written to give back their spare capacity; the newest day (today) keeps it.
    const newest = this.sorted[this.sorted.length - 1];
    for (const seg of this.open) {
      if (seg === newest || touched.has(seg)) continue;
      if (seg.cap > seg.n) resize(seg, seg.n);
      this.open.delete(seg);
    }
    return added;
  }

  /** Removes events by id (visitor purges, expiry, parking). Returns #removed. */
  removeEventIds(ids) {
    const wanted = new Map(); // segment -> Set of indexes
    const mark = (seg, index) => {
      let set = wanted.get(seg);
      if (!set) wanted.set(seg, (set = new Set()));
      set.add(index);
    };
    const unplaced = new Set(); // odd-id indexes whose day the id does not tell
    for (const id of ids || []) {
      if (typeof id !== "string") continue;
      if (parseId(id)) {
        const seg = this.segments.get(Math.floor(idT / DAY));
        const index = seg ? findRow(seg, idT, idA, idB, idC) : -1;
        if (index >= 0) {
          mark(seg, index);
          continue;
        }
      }
      const odd = this.oddIdIndex.get(id);
      if (odd === undefined) continue;
      // An odd id usually still carries its time in some form (a lower-case ULID): look on that day first.
      const time = decodeIdTime(id);
      const seg = Number.isFinite(time) ? this.segments.get(Math.floor(time / DAY)) : undefined;
      const index = seg ? findRow(seg, time, ODD_ID, odd, 0) : -1;
      if (index >= 0) mark(seg, index);
      else unplaced.add(odd);
    }
    if (unplaced.size) {
      for (const seg of this.sorted) {
        for (let i = 0; i < seg.n; i += 1) if (seg.a[i] === ODD_ID && unplaced.has(seg.b[i])) mark(seg, i);
      }
    }
    let removed = 0;
    for (const [seg, set] of wanted) {
      removed += set.size;
      let k = 0;
      for (let i = 0; i < seg.n; i += 1) {
        if (set.has(i)) continue;
        if (k !== i) for (const name of COLUMNS) seg[name][k] = seg[name][i];
        k += 1;
      }
      seg.n = k;
      if (k === 0) this.replaceSegment(seg.dayNumber, null, null);
      else if (seg.cap > k) {
        resize(seg, k);
        this.open.delete(seg);
      }
    }
    // A removed event may have been a user's first.
    if (removed) this.firstSeenDirty = true;
    return removed;
  }

  /** Drops every day before `day` (retention). Returns #events dropped. */
  dropDaysBefore(day) {
    const limit = dayStart(day) / DAY;
    let dropped = 0;
    for (const seg of [...this.sorted]) {
      if (seg.dayNumber >= limit) break;
      dropped += seg.n;
      this.segments.delete(seg.dayNumber);
      this.open.delete(seg);
    }
    if (dropped || this.sorted.length !== this.segments.size) {
      this.sorted = this.sorted.filter((seg) => seg.dayNumber >= limit);
      this.firstSeenDirty = true;
    }
    return dropped;
  }

  /** The block of a day (events parsed back), or null when the table has no events on that day. */
  blockForDay(day) {
    const seg = this.segments.get(dayStart(day) / DAY);
    if (!seg) return null;
    return { v: BLOCK_VERSION, day, checkpoint: seg.checkpoint, events: this.segmentEvents(seg) };
  }

  /** `encodeBlock(blockForDay(day))` straight from the columns; null without events on that day. */
  encodeDay(day) {
    const seg = this.segments.get(dayStart(day) / DAY);
    if (!seg) return null;
    // Same output as BlockWriter (dictionaries in first-occurrence order), keyed by global ids through
    // stamped typed arrays: no hashing of strings, no Map per column.
    const n = seg.n;
    const global = this.buffer("encodeGlobal", Uint32Array, n);
    const dict = {};
    const col = {};
    const { tuple, page } = seg;
    const column = (field, source) => {
      const size = source.size;
      const stamp = this.buffer("encodeStamp", Uint32Array, size);
      const localOf = this.buffer("encodeLocal", Uint32Array, size);
      const token = this.tokens(1);
      const firsts = [];
      const out = new Array(n);
      for (let i = 0; i < n; i += 1) {
        const id = global[i];
        if (id === 0) {
          out[i] = 0;
          continue;
        }
        if (stamp[id] !== token) {
          stamp[id] = token;
          firsts.push(id);
          localOf[id] = firsts.length;
        }
        out[i] = localOf[id];
      }
      dict[field] = source.getMany(firsts);
      col[field] = out;
    };
    const viaTuple = (field, source, map) => {
      for (let i = 0; i < n; i += 1) global[i] = map[tuple[i]];
      column(field, source);
    };
    const viaPage = (field, source, map) => {
      for (let i = 0; i < n; i += 1) global[i] = map[page[i]];
      column(field, source);
    };
    viaTuple("account", this.accounts, this.tupleAccount);
    global.set(seg.secret.subarray(0, n));
    column("secret", this.secrets);
    global.set(seg.session.subarray(0, n));
    column("session", this.sessions);
    viaPage("url", this.urls, this.pageUrl);
    viaPage("host", this.hosts, this.pageHost);
    viaPage("pathname", this.paths, this.pagePath);
    viaTuple("referrer", this.referrers, this.tupleReferrer);
    viaTuple("campaign", this.campaigns, this.tupleCampaign);
    viaTuple("source", this.sources, this.tupleSource);
    viaTuple("geo", this.geos, this.tupleGeo);
    const pageload = new Array(n);
    const mobile = new Array(n);
    for (let i = 0; i < n; i += 1) {
      pageload[i] = this.loadAt(seg, i);
      mobile[i] = this.tupleMobile[tuple[i]];
    }
    const bytes = textBuffer(n * 26);
    let odd = false;
    for (let i = 0; i < n; i += 1) {
      if (seg.a[i] === ODD_ID) odd = true;
      else putId(bytes, i * 26, seg.start + seg.t[i], seg.a[i], seg.b[i], seg.c[i]);
    }
    const ids = sliceText(bytes, n, 26);
    if (odd) for (let i = 0; i < n; i += 1) if (seg.a[i] === ODD_ID) ids[i] = this.oddIds[seg.b[i]];
    return {
      v: BLOCK_VERSION,
      day: seg.day,
      checkpoint: seg.checkpoint,
      n,
      ids,
      t: odd ? Array.from(seg.t.subarray(0, n)) : null,
      dict,
      col,
      pageload,
      mobile,
    };
  }

  /** The events as parsed objects (of one day, or all), in table order. For tests and exports. */
  toParsedEvents(day) {
    if (day !== undefined) {
      const seg = this.segments.get(dayStart(day) / DAY);
      return seg ? this.segmentEvents(seg) : [];
    }
    return this.sorted.flatMap((seg) => this.segmentEvents(seg));
  }

  /** Sets the checkpoint a day's block is stored with (the engine's sync position when it was built). */
  setCheckpoint(day, checkpoint) {
    const seg = this.segments.get(dayStart(day) / DAY);
    if (seg) seg.checkpoint = checkpoint ?? null;
  }

  // -------------------------------------------------------------------------------------------------------
  // internals

  idAt(seg, i) {
    const a = seg.a[i];
    if (a === ODD_ID) return this.oddIds[seg.b[i]];
    return idString(seg.start + seg.t[i], a, seg.b[i], seg.c[i]);
  }

  loadAt(seg, i) {
    const v = seg.load[i];
    if (v < LOAD_BASE) return v;
    if (v === LOAD_NULL) return null;
    if (v === LOAD_NEG_ZERO) return -0;
    return this.oddLoads[v - LOAD_BASE];
  }

  loadCode(load) {
    if (load === null) return LOAD_NULL;
    if (Number.isInteger(load) && load >= 0 && load < LOAD_BASE && !Object.is(load, -0)) return load;
    if (Object.is(load, -0)) return LOAD_NEG_ZERO;
    let index = this.oddLoadIndex.get(load);
    if (index === undefined) {
      index = this.oddLoads.length;
      if (index >= LOAD_ODD_MAX) throw new RangeError("table: too many distinct odd page loads");
      this.oddLoads.push(load);
      this.oddLoadIndex.set(load, index);
    }
    return LOAD_BASE + index;
  }

  oddId(id) {
    let index = this.oddIdIndex.get(id);
    if (index === undefined) {
      index = this.oddIds.length;
      this.oddIds.push(id);
      this.oddIdIndex.set(id, index);
    }
    return index;
  }

  segmentEvents(seg) {
    const out = new Array(seg.n);
    for (let i = 0; i < seg.n; i += 1) {
      const page = seg.page[i];
      const tuple = seg.tuple[i];
      out[i] = {
        accountId: this.accounts.values[this.tupleAccount[tuple]],
        eventId: this.idAt(seg, i),
        secretId: this.secrets.get(seg.secret[i]),
        time: seg.start + seg.t[i],
        url: this.urls.values[this.pageUrl[page]],
        host: this.hosts.values[this.pageHost[page]],
        pathname: this.paths.values[this.pagePath[page]],
        query: new Tags(this.campaigns.values[this.tupleCampaign[tuple]], this.sources.values[this.tupleSource[tuple]]),
        referrer: this.referrers.values[this.tupleReferrer[tuple]],
        pageload: this.loadAt(seg, i),
        isMobile: this.tupleMobile[tuple] === 1,
        sessionId: this.sessions.get(seg.session[i]),
        geo: this.geos.values[this.tupleGeo[tuple]],
        timestamp: null,
      };
    }
    return out;
  }

  /**
   * Interns parsed events into the staging rows and sorts them (time, then id text) in `order`; parsed
   * events arrive sorted almost always, and then nothing is sorted.
   */
  stage(list) {
    const m = list.length;
    let st = this.staging;
    if (!st || st.cap < m) st = this.staging = new Staging(Math.max(m, 1024));
    let sorted = true;
    for (let r = 0; r < m; r += 1) {
      const e = list[r];
      const eventId = e.eventId;
      if (typeof eventId !== "string" || !eventId) throw new TypeError("table: a parsed event needs an eventId");
      const time = e.time;
      st.time[r] = time;
      if (parseId(eventId) && idT === time) {
        st.a[r] = idA;
        st.b[r] = idB;
        st.c[r] = idC;
      } else {
        st.a[r] = ODD_ID;
        st.b[r] = this.oddId(eventId);
        st.c[r] = 0;
      }
      st.secret[r] = this.secrets.intern(e.secretId);
      st.session[r] = this.sessions.intern(e.sessionId);
      st.page[r] = this.pageOf(this.urls.intern(e.url), this.hosts.intern(e.host), this.paths.intern(e.pathname));
      st.tuple[r] = this.tupleOf(
        this.accounts.intern(e.accountId),
        this.referrers.intern(e.referrer),
        this.campaigns.intern(tagOf(e, "utm_campaign")),
        this.sources.intern(tagOf(e, "utm_source")),
        this.geos.intern(e.geo),
        e.isMobile ? 1 : 0,
      );
      st.load[r] = this.loadCode(typeof e.pageload === "number" ? e.pageload : null);
      st.order[r] = r;
      if (sorted && r > 0 && this.compareStaged(st, r - 1, r) > 0) sorted = false;
    }
    if (!sorted) {
      const order = Array.from(st.order.subarray(0, m));
      order.sort((x, y) => this.compareStaged(st, x, y));
      st.order.set(order);
    }
    return st;
  }

  compareStaged(st, x, y) {
    return compareKeys(this.oddIds, st.time[x], st.a[x], st.b[x], st.c[x], st.time[y], st.a[y], st.b[y], st.c[y]);
  }

  compareStagedToRow(st, r, seg, i) {
    return compareKeys(
      this.oddIds,
      st.time[r],
      st.a[r],
      st.b[r],
      st.c[r],
      seg.start + seg.t[i],
      seg.a[i],
      seg.b[i],
      seg.c[i],
    );
  }

  /**
   * Merges the staged rows order[x..y) (all of the segment's day, sorted) into the segment, skipping ids it
   * already holds. Returns #added. Appending is the usual case; otherwise only rows after the first new one
   * move (a merge from the back, in place).
   */
  mergeInto(seg, st, x, y) {
    const order = st.order;
    const accepted = st.accepted;
    const n = seg.n;
    const lastTime = n ? seg.start + seg.t[n - 1] : -Infinity;
    let m = 0;
    let prev = -1;
    for (let k = x; k < y; k += 1) {
      const r = order[k];
      const time = st.time[r];
      const a = st.a[r];
      const b = st.b[r];
      const c = st.c[r];
      // Sorted, so a repeated id is next to itself (odd ids are interned: equal text, equal b).
      if (prev >= 0 && st.time[prev] === time && st.a[prev] === a && st.b[prev] === b && st.c[prev] === c) continue;
      prev = r;
      if (time <= lastTime && findRow(seg, time, a, b, c) >= 0) continue;
      accepted[m] = r;
      m += 1;
    }
    if (m === 0) return 0;
    if (n + m > seg.cap) {
      resize(seg, n === 0 ? m : Math.max(n + m, seg.cap + (seg.cap >> 1) + 64));
      this.open.add(seg);
    }
    // Where the first new row goes: after every existing row, usually.
    const first = accepted[0];
    let p = n;
    if (n && this.compareStagedToRow(st, first, seg, n - 1) < 0) {
      p = lowerBound(seg.t, st.time[first] - seg.start, n);
      while (p < n && this.compareStagedToRow(st, first, seg, p) > 0) p += 1;
    }
    const { t, a, b, c, secret, session, page, tuple, load } = seg;
    const start = seg.start;
    let i = n - 1;
    let j = m - 1;
    for (let k = n + m - 1; j >= 0; k -= 1) {
      const r = accepted[j];
      if (i >= p && this.compareStagedToRow(st, r, seg, i) < 0) {
        t[k] = t[i];
        a[k] = a[i];
        b[k] = b[i];
        c[k] = c[i];
        secret[k] = secret[i];
        session[k] = session[i];
        page[k] = page[i];
        tuple[k] = tuple[i];
        load[k] = load[i];
        i -= 1;
      } else {
        t[k] = st.time[r] - start;
        a[k] = st.a[r];
        b[k] = st.b[r];
        c[k] = st.c[r];
        secret[k] = st.secret[r];
        session[k] = st.session[r];
        page[k] = st.page[r];
        tuple[k] = st.tuple[r];
        load[k] = st.load[r];
        j -= 1;
      }
    }
    seg.n = n + m;
    // First-seen times only move earlier when events are added: fold in the new rows.
    if (!this.firstSeenDirty && n > 0) {
      const fs = this.growFirstSeen();
      for (let q = 0; q < m; q += 1) {
        const r = accepted[q];
        const s = st.secret[r];
        if (s !== 0 && st.time[r] < fs[s]) fs[s] = st.time[r];
      }
    }
    return m;
  }

  pageOf(url, host, path) {
    const hint = this.pageByUrl.get(url);
    if (hint !== undefined && this.pageHost[hint] === host && this.pagePath[hint] === path) return hint;
    let h = Math.imul(url ^ 0x27d4eb2f, 0x9e3779b1);
    h = Math.imul(h ^ host ^ (h >>> 15), 0x85ebca6b);
    h = Math.imul(h ^ path ^ (h >>> 13), 0xc2b2ae35);
    h ^= h >>> 16;
    let slots = this.pageSlots;
    let mask = slots.length - 1;
    let slot = h & mask;
    for (;;) {
      const id = slots[slot];
      if (id === 0) break;
      if (this.pageUrl[id] === url && this.pageHost[id] === host && this.pagePath[id] === path) return id;
      slot = (slot + 1) & mask;
    }
    const id = this.pageUrl.length;
    this.pageUrl.push(url);
    this.pageHost.push(host);
    this.pagePath.push(path);
    slots[slot] = id;
    if (hint === undefined) this.pageByUrl.set(url, id);
    if (id * 2 > slots.length) {
      this.pageSlots = slots = new Int32Array(slots.length * 2);
      mask = slots.length - 1;
      for (let k = 1; k <= id; k += 1) {
        let s = this.pageHashOf(k) & mask;
        while (slots[s] !== 0) s = (s + 1) & mask;
        slots[s] = k;
      }
    }
    return id;
  }

  pageHashOf(id) {
    let h = Math.imul(this.pageUrl[id] ^ 0x27d4eb2f, 0x9e3779b1);
    h = Math.imul(h ^ this.pageHost[id] ^ (h >>> 15), 0x85ebca6b);
    h = Math.imul(h ^ this.pagePath[id] ^ (h >>> 13), 0xc2b2ae35);
    return h ^ (h >>> 16);
  }

  tupleHash(account, referrer, campaign, source, geo, mobile) {
    let h = Math.imul(account ^ 0x165667b1, 0x9e3779b1);
    h = Math.imul(h ^ referrer ^ (h >>> 15), 0x85ebca6b);
    h = Math.imul(h ^ campaign ^ (h >>> 13), 0xc2b2ae35);
    h = Math.imul(h ^ source ^ (h >>> 16), 0x27d4eb2f);
    h = Math.imul(h ^ geo ^ (h >>> 15), 0x9e3779b1);
    h = Math.imul(h ^ mobile ^ (h >>> 13), 0x85ebca6b);
    return h ^ (h >>> 16);
  }

  tupleOf(account, referrer, campaign, source, geo, mobile) {
    let slots = this.tupleSlots;
    let mask = slots.length - 1;
    let slot = this.tupleHash(account, referrer, campaign, source, geo, mobile) & mask;
    for (;;) {
      const id = slots[slot];
      if (id === 0) break;
      if (
        this.tupleAccount[id] === account &&
        this.tupleReferrer[id] === referrer &&
        this.tupleCampaign[id] === campaign &&
        this.tupleSource[id] === source &&
        this.tupleGeo[id] === geo &&
        this.tupleMobile[id] === mobile
      ) {
        return id;
      }
      slot = (slot + 1) & mask;
    }
    const id = this.tupleAccount.length;
    this.tupleAccount.push(account);
    this.tupleReferrer.push(referrer);
    this.tupleCampaign.push(campaign);
    this.tupleCampaignTag.push(truthyId(this.campaigns, campaign));
    this.tupleSource.push(source);
    this.tupleSourceTag.push(truthyId(this.sources, source));
    this.tupleGeo.push(geo);
    this.tupleGeoTag.push(truthyId(this.geos, geo));
    this.tupleMobile.push(mobile);
    slots[slot] = id;
    if (id * 2 > slots.length) {
      this.tupleSlots = slots = new Int32Array(slots.length * 2);
      mask = slots.length - 1;
      for (let k = 1; k <= id; k += 1) {
        let s =
          this.tupleHash(
            this.tupleAccount[k],
            this.tupleReferrer[k],
            this.tupleCampaign[k],
            this.tupleSource[k],
            this.tupleGeo[k],
            this.tupleMobile[k],
          ) & mask;
        while (slots[s] !== 0) s = (s + 1) & mask;
        slots[s] = k;
      }
    }
    return id;
  }

  /** Puts a day's segment in place of the old one (null or empty removes the day). */
  replaceSegment(dayNumber, seg, checkpoint, replacing = true) {
    const old = this.segments.get(dayNumber);
    if (old) this.open.delete(old);
    if (!seg || seg.n === 0) {
      if (old) {
        this.segments.delete(dayNumber);
        this.sorted = this.sorted.filter((s) => s !== old);
      }
    } else {
      seg.checkpoint = checkpoint;
      // A whole day put in place (a block) is final; a new day of added events may keep growing.
      if (seg.cap > seg.n && replacing) resize(seg, seg.n);
      if (seg.cap > seg.n) this.open.add(seg);
      this.segments.set(dayNumber, seg);
      if (old) this.sorted[this.sorted.indexOf(old)] = seg;
      else {
        const sorted = this.sorted;
        // Days arrive mostly in order: push, and sort only when one came late.
        sorted.push(seg);
        if (sorted.length > 1 && sorted[sorted.length - 2].dayNumber > dayNumber) {
          sorted.sort((x, y) => x.dayNumber - y.dayNumber);
        }
      }
    }
    // A replaced or shrunk day may have held a user's first event, so the whole column is rebuilt before
    // the next query; a new day only moves first-seen times earlier.
    if (old && replacing) this.firstSeenDirty = true;
    else if (seg && !this.firstSeenDirty) this.noteFirstSeen(seg, 0);
  }

  noteFirstSeen(seg, from) {
    const fs = this.growFirstSeen();
    const { secret, t } = seg;
    for (let i = from; i < seg.n; i += 1) {
      const s = secret[i];
      const time = seg.start + t[i];
      if (s !== 0 && time < fs[s]) fs[s] = time;
    }
  }

  growFirstSeen() {
    const size = this.secrets.size;
    if (this.firstSeen.length < size) {
      const next = new Float64Array(Math.max(size, Math.ceil(this.firstSeen.length * 1.25), 1024)).fill(Infinity);
      next.set(this.firstSeen);
      this.firstSeen = next;
    }
    return this.firstSeen;
  }

  ensureFirstSeen() {
    const fs = this.growFirstSeen();
    if (!this.firstSeenDirty) return fs;
    fs.fill(Infinity);
    this.firstSeenDirty = false;
    for (const seg of this.sorted) this.noteFirstSeen(seg, 0);
    return fs;
  }

  /** A typed scratch array of at least `size` entries, reused across queries. */
  buffer(name, Type, size) {
    let array = this.scratch[name];
    if (!array || array.length < size) {
      array = new Type(Math.max(size + (size >> 3), 1024)); // a little headroom: dictionaries grow slowly
      this.scratch[name] = array;
    }
    return array;
  }

  /** `count` fresh stamp values: stamp arrays hold older values only, so no clearing is needed. */
  tokens(count) {
    if (this.token + count > 0xfffffff0) {
      for (const array of Object.values(this.scratch)) array.fill(0);
      this.token = 1;
    }
    const base = this.token;
    this.token += count;
    return base;
  }

  /** The row ranges `[seg, from, to)` of events with lo <= time < hi, in time order. */
  slices(lo, hi) {
    const out = [];
    for (const seg of this.sorted) {
      if (seg.start >= hi || seg.start + DAY <= lo) continue;
      const from = lo <= seg.start ? 0 : lowerBound(seg.t, lo - seg.start, seg.n);
      const to = hi >= seg.start + DAY ? seg.n : lowerBound(seg.t, hi - seg.start, seg.n);
      if (from < to) out.push({ seg, from, to });
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Local snapshots. The whole table as typed arrays: what a reload restores instead of decoding a JSON block
// per day. `meta` is small and JSON-able; `buffers` hold the columns of all segments (concatenated in day
// order), the page and tuple tables, and the dictionaries (strings as one UTF-8 buffer plus UTF-16 lengths,
// secret and session ids as their raw words). Restoring does typed-array copies and rebuilds the
// dictionaries' indexes; there is no string work per event. Like everything here it is plaintext usage data:
// the engine seals it before it reaches IndexedDB.

export const SNAPSHOT_VERSION = 1;
const SNAPSHOT_DICTS = ["accounts", "urls", "hosts", "paths", "referrers", "campaigns", "sources", "geos"];
const SNAPSHOT_COMPACT = ["secrets", "sessions"];
const SNAPSHOT_PAGES = ["pageUrl", "pageHost", "pagePath"];
const SNAPSHOT_TUPLES = [
  "tupleAccount",
  "tupleReferrer",
  "tupleCampaign",
  "tupleCampaignTag",
  "tupleSource",
  "tupleSourceTag",
  "tupleGeo",
  "tupleGeoTag",
  "tupleMobile",
];
const UTF8 = new TextEncoder();
const UTF8_DECODE = new TextDecoder("utf-8", { fatal: true });
const snapshotFail = (message) => {
  throw new Error(`fromSnapshot: ${message}`);
};

// Lone surrogates do not survive UTF-8: such strings (none in practice) travel in the meta's JSON.
const wellFormed = (s) =>
  typeof s.isWellFormed === "function" ? s.isWellFormed() : !/[\uD800-\uDFFF]/.test(s.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ""));

function packStrings(values) {
  // values[0] is null; lengths[k] is the UTF-16 length of values[k] (0 for null and odd strings).
  const lengths = new Uint32Array(values.length);
  const odd = [];
  const parts = [];
  for (let k = 1; k < values.length; k += 1) {
    const v = values[k];
    if (!wellFormed(v)) {
      odd.push([k, v]);
      continue;
    }
    lengths[k] = v.length;
    parts.push(v);
  }
  const bytes = UTF8.encode(parts.join(""));
  return { bytes, lengths, odd };
}

function unpackStrings(bytes, lengths, odd, count) {
  if (lengths.length !== count) snapshotFail("bad dictionary lengths");
  let text;
  try {
    text = UTF8_DECODE.decode(bytes);
  } catch {
    snapshotFail("bad dictionary text");
  }
  const values = new Array(count);
  values[0] = null;
  const oddAt = new Map(odd);
  let at = 0;
  for (let k = 1; k < count; k += 1) {
    const o = oddAt.get(k);
    if (o !== undefined) {
      if (typeof o !== "string") snapshotFail("bad odd string");
      values[k] = o;
      continue;
    }
    const end = at + lengths[k];
    if (end > text.length) snapshotFail("dictionary text too short");
    values[k] = text.slice(at, end);
    at = end;
  }
  if (at !== text.length) snapshotFail("dictionary text too long");
  return values;
}

/** The table's whole state as `{meta, buffers}` (copies: later changes to the table do not reach it). */
EventTable.prototype.exportSnapshot = function exportSnapshot() {
  const buffers = [];
  const put = (typed) => {
    // A fresh, exactly sized ArrayBuffer per part (never a view of a larger one).
    const copy = typed.slice();
    buffers.push(copy.buffer);
    return buffers.length - 1;
  };
  const total = this.size;
  const columns = {};
  for (const name of COLUMNS) {
    const out = new Uint32Array(total);
    let at = 0;
    for (const seg of this.sorted) {
      out.set(seg[name].subarray(0, seg.n), at);
      at += seg.n;
    }
    buffers.push(out.buffer);
    columns[name] = buffers.length - 1;
  }
  const dicts = {};
  for (const name of SNAPSHOT_DICTS) {
    const { bytes, lengths, odd } = packStrings(this[name].values);
    dicts[name] = { count: this[name].values.length, bytes: put(bytes), lengths: put(lengths), odd };
  }
  const compact = {};
  for (const name of SNAPSHOT_COMPACT) {
    const d = this[name];
    compact[name] = {
      count: d.count,
      words: put(d.words.subarray(0, d.count * d.width)),
      others: d.otherValues ? [...d.otherValues] : [],
    };
  }
  const pages = {};
  for (const name of SNAPSHOT_PAGES) pages[name] = put(Uint32Array.from(this[name]));
  const tuples = {};
  for (const name of SNAPSHOT_TUPLES) tuples[name] = put(Uint32Array.from(this[name]));
  const meta = {
    version: SNAPSHOT_VERSION,
    size: total,
    days: this.sorted.map((seg) => ({ day: seg.day, n: seg.n, checkpoint: seg.checkpoint })),
    columns,
    dicts,
    compact,
    pages,
    tuples,
    oddIds: this.oddIds.slice(),
    oddLoads: put(Float64Array.from(this.oddLoads)),
    buffers: buffers.length,
  };
  return { meta, buffers };
};

/**
 * A table from `exportSnapshot()`'s output: views on the snapshot's buffers (the caller hands them over and
 * must not change them) and rebuilt indexes. Throws on anything inconsistent.
 */
EventTable.fromSnapshot = function fromSnapshot(snapshot) {
  const meta = snapshot && snapshot.meta;
  const buffers = snapshot && snapshot.buffers;
  if (!meta || typeof meta !== "object" || !Array.isArray(buffers)) snapshotFail("not a snapshot");
  if (meta.version !== SNAPSHOT_VERSION) snapshotFail(`unknown version ${JSON.stringify(meta.version)}`);
  if (meta.buffers !== buffers.length) snapshotFail("wrong number of buffers");
  const view = (index, Type, length) => {
    const buffer = buffers[index];
    if (!(buffer instanceof ArrayBuffer) || buffer.byteLength % Type.BYTES_PER_ELEMENT) snapshotFail("bad buffer");
    const typed = new Type(buffer);
    if (length !== undefined && typed.length !== length) snapshotFail("buffer of the wrong size");
    return typed;
  };
  const table = new EventTable();
  for (const name of SNAPSHOT_DICTS) {
    const d = meta.dicts && meta.dicts[name];
    if (!d || !Number.isInteger(d.count) || d.count < 1 || !Array.isArray(d.odd)) snapshotFail(`bad dictionary ${name}`);
    const values = unpackStrings(view(d.bytes, Uint8Array), view(d.lengths, Uint32Array), d.odd, d.count);
    const dict = table[name];
    dict.values = values;
    for (let k = 1; k < values.length; k += 1) dict.ids.set(values[k], k);
    if (dict.ids.size !== values.length - 1) snapshotFail(`repeated value in ${name}`);
  }
  for (const name of SNAPSHOT_COMPACT) {
    const c = meta.compact && meta.compact[name];
    const d = table[name];
    if (!c || !Number.isInteger(c.count) || c.count < 1 || !Array.isArray(c.others)) snapshotFail(`bad ${name}`);
    const words = view(c.words, Uint32Array, c.count * d.width);
    const others = new Set();
    if (c.others.length) {
      d.others = new Map();
      d.otherValues = new Map();
      for (const [id, text] of c.others) {
        if (!Number.isInteger(id) || id < 1 || id >= c.count || typeof text !== "string") snapshotFail(`bad ${name}`);
        d.others.set(text, id);
        d.otherValues.set(id, text);
        others.add(id);
      }
    }
    d.words = new Uint32Array(Math.max(Math.ceil(c.count * 1.25), 1024) * d.width);
    d.words.set(words);
    d.count = c.count;
    let size = 2048;
    while (c.count * 10 > size * 6) size *= 2;
    const slots = new Int32Array(size);
    const mask = size - 1;
    const width = d.width;
    for (let id = 1; id < c.count; id += 1) {
      if (others.has(id)) continue;
      for (let w = 0; w < width; w += 1) KEY[w] = d.words[id * width + w];
      let slot = d.hashKey() & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = id;
    }
    d.slots = slots;
  }
  const limit = (name, Type, index) => Array.from(view(index, Type));
  for (const name of SNAPSHOT_PAGES) table[name] = limit(name, Uint32Array, meta.pages && meta.pages[name]);
  for (const name of SNAPSHOT_TUPLES) table[name] = limit(name, Uint32Array, meta.tuples && meta.tuples[name]);
  const pageCount = table.pageUrl.length;
  const tupleCount = table.tupleAccount.length;
  if (pageCount < 1 || SNAPSHOT_PAGES.some((n) => table[n].length !== pageCount)) snapshotFail("bad pages");
  if (tupleCount < 1 || SNAPSHOT_TUPLES.some((n) => table[n].length !== tupleCount)) snapshotFail("bad tuples");
  const within = (array, from, size) => {
    for (let k = from; k < array.length; k += 1) if (array[k] >= size) snapshotFail("dictionary id out of range");
  };
  within(table.pageUrl, 0, table.urls.size);
  within(table.pageHost, 0, table.hosts.size);
  within(table.pagePath, 0, table.paths.size);
  within(table.tupleAccount, 0, table.accounts.size);
  within(table.tupleReferrer, 0, table.referrers.size);
  within(table.tupleCampaign, 0, table.campaigns.size);
  within(table.tupleCampaignTag, 0, table.campaigns.size);
  within(table.tupleSource, 0, table.sources.size);
  within(table.tupleSourceTag, 0, table.sources.size);
  within(table.tupleGeo, 0, table.geos.size);
  within(table.tupleGeoTag, 0, table.geos.size);
  within(table.tupleMobile, 0, 2);
  let slots = 256;
  while ((pageCount - 1) * 2 > slots) slots *= 2;
  table.pageSlots = new Int32Array(slots);
  for (let id = 1; id < pageCount; id += 1) {
    let s = table.pageHashOf(id) & (slots - 1);
    while (table.pageSlots[s] !== 0) s = (s + 1) & (slots - 1);
    table.pageSlots[s] = id;
    if (!table.pageByUrl.has(table.pageUrl[id])) table.pageByUrl.set(table.pageUrl[id], id);
  }
  slots = 256;
  while ((tupleCount - 1) * 2 > slots) slots *= 2;
  table.tupleSlots = new Int32Array(slots);
  for (let id = 1; id < tupleCount; id += 1) {
    const h = table.tupleHash(
      table.tupleAccount[id],
      table.tupleReferrer[id],
      table.tupleCampaign[id],
      table.tupleSource[id],
      table.tupleGeo[id],
      table.tupleMobile[id],
    );
    let s = h & (slots - 1);
    while (table.tupleSlots[s] !== 0) s = (s + 1) & (slots - 1);
    table.tupleSlots[s] = id;
  }
  if (!Array.isArray(meta.oddIds) || meta.oddIds.some((id) => typeof id !== "string")) snapshotFail("bad odd ids");
  table.oddIds = meta.oddIds.slice();
  table.oddIds.forEach((id, k) => table.oddIdIndex.set(id, k));
  table.oddLoads = Array.from(view(meta.oddLoads, Float64Array));
  table.oddLoads.forEach((load, k) => table.oddLoadIndex.set(load, k));
  if (!Array.isArray(meta.days) || !Number.isInteger(meta.size)) snapshotFail("bad days");
  const columns = {};
  for (const name of COLUMNS) columns[name] = view(meta.columns && meta.columns[name], Uint32Array, meta.size);
  let at = 0;
  let previous = -Infinity;
  for (const { day, n, checkpoint } of meta.days) {
    let start;
    try {
      start = dayStart(day);
    } catch {
      snapshotFail("bad day");
    }
    if (!Number.isInteger(n) || n < 1 || at + n > meta.size || start <= previous) snapshotFail("bad days");
    if (checkpoint !== null && typeof checkpoint !== "string") snapshotFail("bad checkpoint");
    previous = start;
    const seg = { dayNumber: start / DAY, day, start, n, cap: n, checkpoint };
    for (const name of COLUMNS) seg[name] = columns[name].subarray(at, at + n);
    // Ids into the dictionaries must exist: queries index typed arrays with them.
    for (let i = 0; i < n; i += 1) {
      if (seg.t[i] >= DAY || (i > 0 && seg.t[i] < seg.t[i - 1])) snapshotFail("rows out of order");
      if (seg.secret[i] >= table.secrets.count || seg.session[i] >= table.sessions.count) snapshotFail("bad id");
      if (seg.page[i] === 0 || seg.page[i] >= pageCount || seg.tuple[i] === 0 || seg.tuple[i] >= tupleCount) {
        snapshotFail("bad page or tuple");
      }
      if (seg.a[i] === ODD_ID && seg.b[i] >= table.oddIds.length) snapshotFail("bad odd id");
      const load = seg.load[i];
      if (load >= LOAD_BASE && load < LOAD_NEG_ZERO && load - LOAD_BASE >= table.oddLoads.length) snapshotFail("bad load");
    }
    at += n;
    table.segments.set(seg.dayNumber, seg);
    table.sorted.push(seg);
  }
  if (at !== meta.size) snapshotFail("rows left over");
  table.firstSeenDirty = true;
  return table;
};

function decodeIdTime(id) {
  // Like stats.js `ulidTime`: either case, the first ten characters.
  return id.length >= 10 ? idTime(id.slice(0, 10).toUpperCase() + "0000000000000000") : NaN;
}

// ---------------------------------------------------------------------------------------------------------
// Statistics

/**
 * A time zone's offset function with a per-UTC-day cache. A day whose first and last millisecond have the
 * same offset is taken to have it throughout; on a day with a change, the instant of the change is found by
 * bisection (offsets are steps at whole seconds). Both assume what every zone does: at most one change per
 * UTC day. The answers then equal stats.js's own, without an Intl call per event.
 */
function cachedZone(timeZone) {
  const raw = offsetFunction(timeZone);
  const days = new Map(); // dayNumber -> {before, after, at} (at = first ms of `after`; Infinity if none)
  const dayInfo = (dayNumber) => {
    let info = days.get(dayNumber);
    if (info === undefined) {
      const first = dayNumber * DAY;
      const last = first + DAY - 1;
      const before = raw(first);
      const after = raw(last);
      let at = Infinity;
      if (before !== after) {
        let lo = first; // offset(lo) === before
        let hi = last; // offset(hi) === after
        while (hi - lo > 1) {
          const mid = Math.floor((lo + hi) / 2);
          if (raw(mid) === before) lo = mid;
          else hi = mid;
        }
        at = hi;
      }
      info = { before, after, at };
      days.set(dayNumber, info);
    }
    return info;
  };
  const offset = (ms) => {
    const info = dayInfo(Math.floor(ms / DAY));
    return ms < info.at ? info.before : info.after;
  };
  // The offset of a whole UTC day, or NaN when it changes during the day.
  const dayOffset = (dayNumber) => {
    const info = dayInfo(dayNumber);
    return info.at === Infinity ? info.before : NaN;
  };
  return { offset, dayOffset };
}

/** Maps event times to bucket indexes exactly like `index.get(bounds.floor(time))` of stats.js. */
function bucketMapper(bounds, zone) {
  const index = new Map(bounds.buckets.map((b, i) => [b.start, i]));
  const lookup = (start) => {
    const i = index.get(start);
    return i === undefined ? -1 : i;
  };
  if (bounds.resolution === "hours") return () => (time) => lookup(bounds.floor(time));
  // Days, weeks and months: the bucket depends only on the local calendar day, so floor once per local day.
  const memo = new Map();
  return (seg) => {
    const fixed = zone.dayOffset(seg.dayNumber);
    let lastDay = NaN;
    let lastIndex = -1;
    return (time) => {
      const offset = fixed === fixed ? fixed : zone.offset(time);
      const localDay = Math.floor((time + offset * 60000) / DAY);
      if (localDay === lastDay) return lastIndex;
      let i = memo.get(localDay);
      if (i === undefined) memo.set(localDay, (i = lookup(bounds.floor(time))));
      lastDay = localDay;
      lastIndex = i;
      return i;
    };
  };
}

/**
 * Per-session aggregates over a stream of events: count, first tuple and page, last page, first tagged
 * campaign/source/geo. Sessions get local indexes in order of first appearance.
 */
class SessionAggregate {
  constructor(table, capacity) {
    const size = table.sessions.size;
    this.table = table;
    this.stamp = table.buffer("sessionStamp", Uint32Array, size);
    this.local = table.buffer("sessionLocal", Int32Array, size);
    this.token = table.tokens(1);
    this.gid = table.buffer("sGid", Uint32Array, capacity);
    this.count = table.buffer("sCount", Int32Array, capacity);
    this.firstTuple = table.buffer("sFirstTuple", Uint32Array, capacity);
    this.firstPage = table.buffer("sFirstPage", Uint32Array, capacity);
    this.lastPage = table.buffer("sLastPage", Uint32Array, capacity);
    this.campaign = table.buffer("sCampaign", Uint32Array, capacity);
    this.source = table.buffer("sSource", Uint32Array, capacity);
    this.geo = table.buffer("sGeo", Uint32Array, capacity);
    this.n = 0;
  }

  add(session, tuple, page) {
    const t = this.table;
    let k;
    if (this.stamp[session] !== this.token) {
      this.stamp[session] = this.token;
      k = this.n++;
      this.local[session] = k;
      this.gid[k] = session;
      this.count[k] = 0;
      this.firstTuple[k] = tuple;
      this.firstPage[k] = page;
      this.campaign[k] = 0;
      this.source[k] = 0;
      this.geo[k] = 0;
    } else {
      k = this.local[session];
    }
    this.count[k] += 1;
    this.lastPage[k] = page;
    if (this.campaign[k] === 0) this.campaign[k] = t.tupleCampaignTag[tuple];
    if (this.source[k] === 0) this.source[k] = t.tupleSourceTag[tuple];
    if (this.geo[k] === 0) this.geo[k] = t.tupleGeoTag[tuple];
  }

  /** `sessionProperty(session, prop)` of stats.js for session k. */
  property(k, prop) {
    const t = this.table;
    switch (prop) {
      case "referrer": {
        const r = t.tupleReferrer[this.firstTuple[k]];
        return r === 0 ? NONE_REFERRER : t.referrers.values[r];
      }
      case "campaign":
        return this.campaign[k] === 0 ? null : t.campaigns.values[this.campaign[k]];
      case "source":
        return this.source[k] === 0 ? null : t.sources.values[this.source[k]];
      case "landing":
        return t.urls.values[t.pageUrl[this.firstPage[k]]];
      case "exit":
        return this.count[k] >= 2 ? t.urls.values[t.pageUrl[this.lastPage[k]]] : null;
      case "geo": {
        const g = this.geo[k] || t.tupleGeo[this.firstTuple[k]];
        return g === 0 ? NONE_GEOLOCATION : t.geos.values[g];
      }
      default:
        return null;
    }
  }

  /** `sessionTable(sessions, prop)` of stats.js. */
  groupTable(prop) {
    const groups = new Map();
    for (let k = 0; k < this.n; k += 1) {
      const key = this.property(k, prop);
      if (key == null) continue;
      const g = groups.get(key);
      if (g) {
        g.sessions += 1;
        g.events += this.count[k];
      } else groups.set(key, { sessions: 1, events: this.count[k] });
    }
    return [...groups.entries()]
      .map(([key, g]) => ({ key, count: [g.sessions, g.events / g.sessions] }))
      .sort(bySessionsThenDepth);
  }

  /** `entryExitTable(sessions, prop)` of stats.js. */
  entryTable(prop) {
    const counts = new Map();
    for (let k = 0; k < this.n; k += 1) {
      const key = this.property(k, prop);
      if (key == null) continue;
      counts.set(key, (counts.get(key) || 0) + 1);
    }
    return [...counts.entries()].map(([key, count]) => ({ key, count })).sort(byCountThenKey);
  }
}

function rowsIn(slices) {
  let n = 0;
  for (const s of slices) n += s.to - s.from;
  return n;
}

/**
 * The operator statistics of `computeStats(events, {...query, perspective: "operator"})` (stats.js) over
 * the table's events: same keys, same values.
 */
export function computeOperatorStats(table, query = {}) {
  const zone = cachedZone(query.timeZone);
  const bounds = timeBuckets({ ...query, timeZone: zone.offset });
  const nowMs = toMillis(query.now);
  const filter = parseFilter(query.filter);
  const firstSeen = table.ensureFirstSeen();
  const slices = table.slices(bounds.lower, bounds.upper);
  // At most one session per row in range, and never more than the table knows.
  const capacity = Math.min(rowsIn(slices), table.sessions.size);
  const { pageUrl, tupleAccount, tupleMobile, oddLoads } = table;

  // Which rows are in scope: all, those of one page (href), or whole sessions matched over the range.
  let mode = 0;
  let hrefUrl = 0;
  let keepStamp = null;
  let keepToken = 0;
  if (filter && filter.prop === "href") {
    mode = 1;
    hrefUrl = table.urls.ids.get(filter.value) ?? -1;
  } else if (filter) {
    mode = 2;
    const all = new SessionAggregate(table, capacity);
    for (const { seg, from, to } of slices) {
      for (let i = from; i < to; i += 1) {
        const session = seg.session[i];
        if (session !== 0) all.add(session, seg.tuple[i], seg.page[i]);
      }
    }
    keepStamp = table.buffer("keepStamp", Uint32Array, table.sessions.size);
    keepToken = table.tokens(1);
    for (let k = 0; k < all.n; k += 1) {
      if (all.property(k, filter.prop) === filter.value) keepStamp[all.gid[k]] = keepToken;
    }
  }
  const inScope = (seg, i) => {
    if (mode === 0) return true;
    if (mode === 1) return pageUrl[seg.page[i]] === hrefUrl;
    const session = seg.session[i];
    return session !== 0 && keepStamp[session] === keepToken;
  };

  const bucketCount = bounds.buckets.length;
  const pageviews = new Int32Array(bucketCount);
  const visitors = new Int32Array(bucketCount);
  const accountsPerBucket = new Int32Array(bucketCount);
  const secretSize = table.secrets.size;
  const accountSize = table.accounts.size;
  const bucketUserStamp = table.buffer("bucketUserStamp", Uint32Array, secretSize);
  const bucketAccountStamp = table.buffer("bucketAccountStamp", Uint32Array, accountSize);
  const bucketBase = table.tokens(bucketCount + 1);
  const userStamp = table.buffer("userStamp", Uint32Array, secretSize);
  const accountStamp = table.buffer("accountStamp", Uint32Array, accountSize);
  const scopeToken = table.tokens(1);
  const sessions = new SessionAggregate(table, capacity);
  const mapper = bucketMapper(bounds, zone);
  const pageRows = new Map();
  let scoped = 0;
  let oldest = Infinity;
  let users = 0;
  let returning = 0;
  let accounts = 0;
  let loadSum = 0;
  let loadCount = 0;
  let mobile = 0;
  let lastBucket = -1;
  let monotonic = true;

  for (const { seg, from, to } of slices) {
    const bucketOf = mapper(seg);
    const { t, secret, session, page, tuple, load } = seg;
    for (let i = from; i < to; i += 1) {
      if (mode !== 0 && !inScope(seg, i)) continue;
      const time = seg.start + t[i];
      if (scoped === 0) oldest = time; // rows come in time order
      scoped += 1;
      const s = secret[i];
      const tu = tuple[i];
      const account = tupleAccount[tu];
      const b = bucketOf(time);
      if (b >= 0) {
        if (b < lastBucket) monotonic = false;
        lastBucket = b;
        if (s !== 0) {
          pageviews[b] += 1;
          if (bucketUserStamp[s] !== bucketBase + b) {
            bucketUserStamp[s] = bucketBase + b;
            visitors[b] += 1;
          }
        }
        if (account !== 0 && bucketAccountStamp[account] !== bucketBase + b) {
          bucketAccountStamp[account] = bucketBase + b;
          accountsPerBucket[b] += 1;
        }
      }
      if (s !== 0 && userStamp[s] !== scopeToken) {
        userStamp[s] = scopeToken;
        users += 1;
        if (firstSeen[s] < oldest) returning += 1;
      }
      if (account !== 0 && accountStamp[account] !== scopeToken) {
        accountStamp[account] = scopeToken;
        accounts += 1;
      }
      const rawLoad = load[i];
      if (rawLoad !== LOAD_NULL) {
        const value = rawLoad < LOAD_BASE ? rawLoad : rawLoad === LOAD_NEG_ZERO ? -0 : oddLoads[rawLoad - LOAD_BASE];
        if (value > 0) {
          loadSum += value;
          loadCount += 1;
        }
      }
      mobile += tupleMobile[tu];
      const p = page[i];
      const pageKey = pageUrl[p] * accountSize + account;
      const row = pageRows.get(pageKey);
      if (row) row.count += 1;
      else {
        const key = table.urls.values[pageUrl[p]];
        pageRows.set(pageKey, { key, accountId: table.accounts.values[account], count: 1 });
      }
      const ss = session[i];
      if (ss !== 0) sessions.add(ss, tu, p);
    }
  }

  const series = bounds.buckets.map((bucket, i) => ({
    date: new Date(bucket.start).toISOString(),
    key: bucket.key,
    pageviews: pageviews[i],
    visitors: visitors[i],
    accounts: accountsPerBucket[i],
  }));
  // Zones that turn their clocks back across local midnight send a few events to an earlier bucket; the
  // stamps above count per run, so such a range is recounted with sets.
  if (!monotonic) recountSeries(table, slices, inScope, mapper, series);

  const result = {
    perspective: "operator",
    range: bounds.range,
    resolution: bounds.resolution,
    filter: filter ? `${filter.prop}:${filter.value}` : null,
    timeZone: typeof query.timeZone === "string" ? query.timeZone : null,
    lower: new Date(bounds.lower).toISOString(),
    upper: new Date(bounds.upper).toISOString(),
    pageviews: series,
    uniqueAccounts: accounts,
    uniqueSessions: sessions.n,
    bounceRate: sessions.n ? countSingles(sessions) / sessions.n : 0,
    avgPageDepth: sessions.n ? sumCounts(sessions) / sessions.n : null,
    avgPageload: loadCount ? loadSum / loadCount : null,
    mobileShare: scoped ? mobile / scoped : null,
    pages: [...pageRows.values()].sort(byCountThenKey),
    referrers: sessions.groupTable("referrer"),
    campaigns: sessions.groupTable("campaign"),
    sources: sessions.groupTable("source"),
    landingPages: sessions.entryTable("landing"),
    exitPages: sessions.entryTable("exit"),
    retentionMatrix: retention(table, nowMs),
    empty: table.size === 0,
  };
  result.uniqueUsers = users;
  result.returningUsers =
    bounds.resolution === "months" && bounds.range === 6 ? null : users ? 1 - (users - returning) / users : 0;
  const live = liveStats(table, nowMs);
  result.liveUsers = live.users;
  result.livePages = live.pages;
  result.geo = sessions.groupTable("geo");
  return result;
}

function countSingles(sessions) {
  let n = 0;
  for (let k = 0; k < sessions.n; k += 1) if (sessions.count[k] === 1) n += 1;
  return n;
}

function sumCounts(sessions) {
  let n = 0;
  for (let k = 0; k < sessions.n; k += 1) n += sessions.count[k];
  return n;
}

function recountSeries(table, slices, inScope, mapper, series) {
  const usersPer = series.map(() => new Set());
  const accountsPer = series.map(() => new Set());
  for (const { seg, from, to } of slices) {
    const bucketOf = mapper(seg);
    for (let i = from; i < to; i += 1) {
      if (!inScope(seg, i)) continue;
      const b = bucketOf(seg.start + seg.t[i]);
      if (b < 0) continue;
      if (seg.secret[i] !== 0) usersPer[b].add(seg.secret[i]);
      const account = table.tupleAccount[seg.tuple[i]];
      if (account !== 0) accountsPer[b].add(account);
    }
  }
  series.forEach((row, b) => {
    row.visitors = usersPer[b].size;
    row.accounts = accountsPer[b].size;
  });
}

/** `retentionMatrix(all, now)` of stats.js: reads only the last four weeks (and anything after now). */
function retention(table, nowMs) {
  const size = table.secrets.size;
  const stamp = table.buffer("retentionStamp", Uint32Array, size);
  const mask = table.buffer("retentionMask", Uint8Array, size);
  const token = table.tokens(1);
  const touched = [];
  for (const { seg, from, to } of table.slices(nowMs - 4 * WEEK, Infinity)) {
    for (let i = from; i < to; i += 1) {
      const s = seg.secret[i];
      if (s === 0) continue;
      const age = Math.max(nowMs - (seg.start + seg.t[i]), 0);
      const back = Math.floor(age / WEEK);
      if (back >= 4) continue;
      if (stamp[s] !== token) {
        stamp[s] = token;
        mask[s] = 0;
        touched.push(s);
      }
      mask[s] |= 1 << (3 - back);
    }
  }
  const sizes = [0, 0, 0, 0];
  const both = [0, 0, 0, 0].map(() => [0, 0, 0, 0]);
  for (const s of touched) {
    const m = mask[s];
    for (let i = 0; i < 4; i += 1) {
      if (!(m & (1 << i))) continue;
      sizes[i] += 1;
      for (let j = i; j < 4; j += 1) if (m & (1 << j)) both[i][j] += 1;
    }
  }
  return sizes.map((n, i) => {
    const row = [];
    for (let j = i; j < 4; j += 1) row.push(n ? both[i][j] / n : 0);
    return row;
  });
}

/** `liveUsers` and `livePages` of stats.js (the last 15 minutes, both ends included). */
function liveStats(table, nowMs) {
  const users = new Set();
  const latest = new Map(); // user (null counts as one, as in stats.js) -> url of the latest event
  for (const { seg, from, to } of table.slices(nowMs - LIVE_WINDOW_MS, Math.floor(nowMs) + 1)) {
    for (let i = from; i < to; i += 1) {
      const s = seg.secret[i];
      if (s !== 0) users.add(s);
      latest.set(s, table.urls.values[table.pageUrl[seg.page[i]]]);
    }
  }
  const counts = new Map();
  for (const url of latest.values()) counts.set(url, (counts.get(url) || 0) + 1);
  return {
    users: users.size,
    pages: [...counts.entries()].map(([key, count]) => ({ key, count })).sort(byCountThenKey),
  };
}
