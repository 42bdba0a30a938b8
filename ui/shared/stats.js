// Usage metrics over already-decrypted events (reference §6.2 definitions, §6.3 filters, §6.5 visitor view).
//
// Pure: no DOM, no I/O, no clock and no implicit time zone. `now` and `timeZone` come in with the query, so
// the same input always gives the same output (tests, Web Workers, the vault and the operator dashboard).
// Every metric is a small exported function over parsed events or sessions; `computeStats` only composes
// them, and the operator dashboard (next release) adds its own fields by composing the same functions.

export const NONE_REFERRER = "__NONE_REFERRER__";
export const NONE_GEOLOCATION = "__NONE_GEOLOCATION__";
export const RESOLUTIONS = Object.freeze(["hours", "days", "weeks", "months"]);
export const FILTER_PROPS = Object.freeze(["href", "geo", "referrer", "campaign", "source", "landing", "exit"]);

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
const LIVE_WINDOW = 15 * 60 * 1000;
/** The "real time" window of liveUsers/livePages, for implementations over other data layouts. */
export const LIVE_WINDOW_MS = LIVE_WINDOW;
const MAX_BUCKETS = 5000; // a bound on the bucket loop, whatever a caller passes as range

// ---------------------------------------------------------------------------------------------------------
// ULIDs

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** Milliseconds since the epoch encoded in the first 10 characters of a ULID; NaN if it is not one. */
export function ulidTime(id) {
  if (typeof id !== "string" || id.length < 10) return NaN;
  let ms = 0;
  for (let i = 0; i < 10; i += 1) {
    const value = CROCKFORD.indexOf(id[i].toUpperCase());
    if (value < 0) return NaN;
    ms = ms * 32 + value;
  }
  return ms;
}

// ---------------------------------------------------------------------------------------------------------
// Time zones and buckets. All calendar math happens on "local" milliseconds (instant + zone offset) read
// with getUTC*, so the machine's own zone never leaks in.

/**
 * Returns `(ms) => minutes east of UTC` for an IANA zone name, a fixed number of minutes, or a function
 * (passed through, so tests can model any offset rule). Missing zone means UTC.
 */
export function offsetFunction(timeZone) {
  if (typeof timeZone === "function") return timeZone;
  if (typeof timeZone === "number") return () => timeZone;
  if (!timeZone || timeZone === "UTC" || timeZone === "Etc/UTC") return () => 0;
  const format = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
    second: "numeric",
  });
  return (ms) => {
    const parts = {};
    for (const { type, value } of format.formatToParts(new Date(ms))) parts[type] = value;
    const wall = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour % 24, +parts.minute, +parts.second);
    return Math.round((wall - Math.floor(ms / 1000) * 1000) / 60000);
  };
}

function civilOf(ms, offset) {
  const local = new Date(ms + offset(ms) * 60000);
  return { y: local.getUTCFullYear(), m: local.getUTCMonth(), d: local.getUTCDate() };
}

/** The instant at which the given local wall-clock time occurs (two passes settle DST changes). */
function instantOf(y, m, d, h, offset) {
  const wall = Date.UTC(y, m, d, h);
  const first = wall - offset(wall) * 60000;
  return wall - offset(first) * 60000;
}

function pad(n, width = 2) {
  return String(n).padStart(width, "0");
}

/** Calendar units: floor an instant to its bucket start, step whole buckets, label a bucket start. */
function unitFor(resolution, offset) {
  if (resolution === "hours") {
    // Floor in local time, not UTC, so zones with half-hour offsets get buckets on their own full hours.
    const floor = (ms) => {
      const local = ms + offset(ms) * 60000;
      return ms - (((local % HOUR) + HOUR) % HOUR);
    };
    return {
      floor,
      step: (start, n) => floor(start + n * HOUR + HOUR / 2),
      key: (start) => {
        const local = new Date(start + offset(start) * 60000);
        return `${local.getUTCFullYear()}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}T${pad(local.getUTCHours())}:00`;
      },
    };
  }
  const snap = (c) => {
    if (resolution === "weeks") {
      const weekday = new Date(Date.UTC(c.y, c.m, c.d)).getUTCDay();
      return { y: c.y, m: c.m, d: c.d - ((weekday + 6) % 7) }; // weeks start on Monday
    }
    if (resolution === "months") return { y: c.y, m: c.m, d: 1 };
    return c;
  };
  const at = (c) => instantOf(c.y, c.m, c.d, 0, offset);
  const floor = (ms) => at(snap(civilOf(ms, offset)));
  return {
    floor,
    step: (start, n) => {
      const c = snap(civilOf(start, offset));
      if (resolution === "months") return at({ y: c.y, m: c.m + n, d: 1 });
      return at({ y: c.y, m: c.m, d: c.d + n * (resolution === "weeks" ? 7 : 1) });
    },
    key: (start) => {
      const c = civilOf(start, offset);
      const month = `${c.y}-${pad(c.m + 1)}`;
      return resolution === "months" ? month : `${month}-${pad(c.d)}`;
    },
  };
}

/** A Date, epoch ms or date string as epoch ms; NaN otherwise (how every query time is read). */
export function toMillis(value) {
  if (value instanceof Date) return value.getTime();
  if (typeof value === "number") return value;
  if (typeof value === "string") return Date.parse(value);
  return NaN;
}

/**
 * The buckets of a query: `{resolution, range, lower, upper, buckets: [{start, key}]}` with `lower`
 * inclusive and `upper` exclusive (ms). `range` is a number of buckets ending with the one holding `now`,
 * or "yesterday" (the 24 local hours of the previous day); `from`/`to` (dates) override it.
 */
export function timeBuckets({ range = 7, resolution = "days", now, timeZone, from, to } = {}) {
  const nowMs = toMillis(now);
  if (!Number.isFinite(nowMs)) throw new TypeError("stats: query.now must be a date");
  const offset = offsetFunction(timeZone);
  let res = RESOLUTIONS.includes(resolution) ? resolution : "days";
  let lower;
  let upper;
  let echoRange = range;
  if (from != null && to != null) {
    const unit = unitFor(res, offset);
    const a = toMillis(from);
    const b = toMillis(to);
    lower = unit.floor(Math.min(a, b));
    upper = unit.step(unit.floor(Math.max(a, b)), 1);
  } else if (range === "yesterday") {
    const days = unitFor("days", offset);
    upper = days.floor(nowMs);
    lower = days.step(upper, -1);
    res = "hours";
  } else {
    const count = Math.min(Math.max(parseInt(range, 10) || 7, 1), MAX_BUCKETS);
    echoRange = count;
    const unit = unitFor(res, offset);
    const current = unit.floor(nowMs);
    lower = unit.step(current, -(count - 1));
    upper = unit.step(current, 1);
  }
  const unit = unitFor(res, offset);
  const buckets = [];
  for (let start = lower; start < upper && buckets.length < MAX_BUCKETS; start = unit.step(start, 1)) {
    buckets.push({ start, key: unit.key(start) });
  }
  return { resolution: res, range: echoRange, lower, upper, buckets, floor: unit.floor };
}

// ---------------------------------------------------------------------------------------------------------
// Parsing

// Referrer buckets of reference §6.2: well-known hosts are grouped under one name, so "www.google.de" and
// "google.com" count as the same source; anything else is shown by its host name.
const REFERRER_BUCKETS = [
  ["Google", /(^|\.)google\.[a-z]{2,3}(\.[a-z]{2})?$/],
  ["Telegram", /(^|\.)(t\.me|telegram\.org|telegram\.me)$/],
  ["Facebook", /(^|\.)(facebook\.com|fb\.com|fb\.me)$/],
  ["Slack", /(^|\.)slack\.com$/],
  ["DuckDuckGo", /(^|\.)duckduckgo\.com$/],
  ["Ecosia", /(^|\.)ecosia\.org$/],
  ["Qwant", /(^|\.)qwant\.com$/],
  ["Baidu", /(^|\.)baidu\.com$/],
  ["LinkedIn", /(^|\.)(linkedin\.com|lnkd\.in)$/],
  ["Twitter", /(^|\.)(t\.co|twitter\.com|x\.com)$/],
  ["Hacker News", /(^|\.)news\.ycombinator\.com$/],
  ["Reddit", /(^|\.)(reddit\.com|redd\.it)$/],
  ["Wikipedia", /(^|\.)wikipedia\.org$/],
  ["Zoom", /(^|\.)zoom\.(us|com)$/],
];

/** The display bucket of a referrer host: a well-known name, else the host itself (lower case). */
export function referrerBucket(host) {
  const name = String(host || "")
    .toLowerCase()
    .replace(/\.$/, "");
  for (const [bucket, pattern] of REFERRER_BUCKETS) {
    if (pattern.test(name)) return bucket;
  }
  return name;
}

// Parsed addresses by their text. A site has few pages and referrers against many events, and `new URL`
// costs 4-7 µs per address in a Chromium worker, three per event: at 1M events seconds of a first load.
// The URL objects are shared between events, so nothing here or in the callers may change one once made.
const URL_CACHE_SIZE = 4096;
const urlCache = new Map();

function parseUrl(value) {
  if (typeof value !== "string" || !value) return null;
  let url = urlCache.get(value);
  if (url !== undefined) return url;
  try {
    url = new URL(value);
    // Offen appends a trailing slash so "/about" and "/about/" count as one page.
    if (!url.pathname.endsWith("/")) url.pathname += "/";
  } catch {
    url = null;
  }
  // Emptied when full rather than kept in LRU order: cheaper, and the common addresses come back at once.
  if (urlCache.size >= URL_CACHE_SIZE) urlCache.clear();
  urlCache.set(value, url);
  return url;
}

/** origin + path with a trailing slash, no query, no hash: the key of a page everywhere in the results. */
export function pageKey(value) {
  const url = value instanceof URL ? value : parseUrl(value);
  return url ? url.origin + url.pathname : null;
}

/**
 * Validates and flattens one decrypted event; null when it is not a usable pageview (dropped, like Offen's
 * schema validation). The time comes from the event id: it is the server's, not the browser's, clock.
 */
export function parseEvent(event, defaultSecretId = null) {
  if (!event || typeof event !== "object") return null;
  const payload = event.payload;
  if (!payload || typeof payload !== "object" || payload.type !== "PAGEVIEW") return null;
  const time = ulidTime(event.eventId);
  const href = parseUrl(payload.href);
  if (!Number.isFinite(time) || !href) return null;
  const rawHref = parseUrl(payload.rawHref);
  const referrer = parseUrl(payload.referrer);
  return {
    accountId: event.accountId ?? null,
    eventId: event.eventId,
    secretId: event.secretId ?? defaultSecretId,
    time,
    url: href.origin + href.pathname,
    host: href.host,
    pathname: href.pathname,
    // Campaign and source tags live in the query of the address the visitor really saw.
    query: (rawHref || href).searchParams,
    // A referrer on the same host is navigation inside the site, not a source.
    referrer: referrer && referrer.host !== href.host ? referrerBucket(referrer.hostname) : null,
    pageload: typeof payload.pageload === "number" ? payload.pageload : null,
    isMobile: payload.isMobile === true,
    sessionId: typeof payload.sessionId === "string" && payload.sessionId ? payload.sessionId : null,
    geo: typeof payload.geo === "string" && payload.geo ? payload.geo : null,
    timestamp: payload.timestamp ?? null,
  };
}

/**
 * Parses, drops invalid events and sorts by event id (time order, ties by id). `defaultSecretId` stands in
 * for a missing secret id: the visitor's own events are all one user ("local" in Offen's user database).
 */
export function parseEvents(events, defaultSecretId = null) {
  const parsed = [];
  for (const event of events || []) {
    const p = parseEvent(event, defaultSecretId);
    if (p) parsed.push(p);
  }
  parsed.sort((a, b) => a.time - b.time || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));
  return parsed;
}

// ---------------------------------------------------------------------------------------------------------
// Sessions and filters

/** Groups events (already in time order) by session id; events without one belong to no session. */
export function groupSessions(events) {
  const sessions = new Map();
  for (const e of events) {
    if (!e.sessionId) continue;
    let list = sessions.get(e.sessionId);
    if (!list) sessions.set(e.sessionId, (list = []));
    list.push(e);
  }
  return [...sessions.values()];
}

function firstTagged(session, name) {
  for (const e of session) {
    const value = e.query.get(name);
    if (value) return value;
  }
  return null;
}

/** The session-level properties that tables group by and filters match (reference §6.2, §6.3). */
export function sessionProperty(session, prop) {
  switch (prop) {
    case "referrer":
      return session[0].referrer ?? NONE_REFERRER;
    case "campaign":
      return firstTagged(session, "utm_campaign");
    case "source":
      return firstTagged(session, "utm_source");
    case "landing":
      return session[0].url;
    case "exit":
      return session.length >= 2 ? session[session.length - 1].url : null;
    case "geo":
      return (session.find((e) => e.geo) || session[0]).geo ?? NONE_GEOLOCATION;
    default:
      return null;
  }
}

/** `"prop:value"` (value may contain colons) or `{prop, value}` -> `{prop, value}`; null when unusable. */
export function parseFilter(filter) {
  if (!filter) return null;
  let prop;
  let value;
  if (typeof filter === "string") {
    const at = filter.indexOf(":");
    if (at < 1) return null;
    prop = filter.slice(0, at);
    value = filter.slice(at + 1);
  } else if (typeof filter === "object") {
    ({ prop, value } = filter);
  }
  if (!FILTER_PROPS.includes(prop) || typeof value !== "string" || !value) return null;
  if (prop === "href") value = pageKey(value) || value;
  return { prop, value };
}

/**
 * Applies a filter: `href` keeps single events; every other property keeps whole sessions whose property
 * matches, judged over all of `events` (the whole range), which is also how the chart is scoped.
 */
export function applyFilter(events, filter) {
  const f = parseFilter(filter);
  if (!f) return events;
  if (f.prop === "href") return events.filter((e) => e.url === f.value);
  const keep = new Set();
  for (const session of groupSessions(events)) {
    if (sessionProperty(session, f.prop) === f.value) keep.add(session[0].sessionId);
  }
  return events.filter((e) => e.sessionId && keep.has(e.sessionId));
}

// ---------------------------------------------------------------------------------------------------------
// Metrics

function distinct(events, field) {
  const seen = new Set();
  for (const e of events) if (e[field] != null) seen.add(e[field]);
  return seen.size;
}

/** Per bucket: `{date (ISO of the bucket start), key (local label), pageviews, visitors, accounts}`. */
export function pageviewSeries(events, bounds) {
  const index = new Map(bounds.buckets.map((b, i) => [b.start, i]));
  const groups = bounds.buckets.map(() => []);
  for (const e of events) {
    const i = index.get(bounds.floor(e.time));
    if (i !== undefined) groups[i].push(e);
  }
  return bounds.buckets.map((b, i) => ({
    date: new Date(b.start).toISOString(),
    key: b.key,
    pageviews: groups[i].filter((e) => e.secretId != null).length,
    visitors: distinct(groups[i], "secretId"),
    accounts: distinct(groups[i], "accountId"),
  }));
}

export const uniqueUsers = (events) => distinct(events, "secretId");
export const uniqueAccounts = (events) => distinct(events, "accountId");
export const uniqueSessions = (events) => distinct(events, "sessionId");

/** Sessions with exactly one event ÷ sessions; 0 when there are none. */
export function bounceRate(sessions) {
  if (!sessions.length) return 0;
  return sessions.filter((s) => s.length === 1).length / sessions.length;
}

/** Events that belong to a session ÷ sessions; null when there are none. */
export function avgPageDepth(sessions) {
  if (!sessions.length) return null;
  return sessions.reduce((sum, s) => sum + s.length, 0) / sessions.length;
}

/** Mean page load time in ms over values > 0 (subsequent views carry null, broken timers 0); null if none. */
export function avgPageload(events) {
  const values = events.map((e) => e.pageload).filter((v) => typeof v === "number" && v > 0);
  if (!values.length) return null;
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Share of events sent from a mobile device (per event, as Offen computes it); null without events. */
export function mobileShare(events) {
  if (!events.length) return null;
  return events.filter((e) => e.isMobile).length / events.length;
}

/** Table order: count desc, then key (exported so other layouts of the data sort the same way). */
export function byCountThenKey(a, b) {
  return b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

/** Session-table order: sessions desc, then page depth desc, then key. */
export function bySessionsThenDepth(a, b) {
  return b.count[0] - a.count[0] || b.count[1] - a.count[1] || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

/** Page views per page and account: `[{key, accountId, count}]`, most viewed first. */
export function topPages(events) {
  const counts = new Map();
  for (const e of events) {
    const id = `${e.accountId}\u0000${e.url}`;
    const row = counts.get(id) || { key: e.url, accountId: e.accountId, count: 0 };
    row.count += 1;
    counts.set(id, row);
  }
  return [...counts.values()].sort(byCountThenKey);
}

/**
 * Sessions grouped by a session property: `[{key, count: [sessions, avg events per session]}]`.
 * Sessions where the property is null are left out (`referrer` and `geo` never are null: they have a
 * "none" key).
 */
export function sessionTable(sessions, prop) {
  const groups = new Map();
  for (const s of sessions) {
    const key = sessionProperty(s, prop);
    if (key == null) continue;
    const g = groups.get(key) || { sessions: 0, events: 0 };
    g.sessions += 1;
    g.events += s.length;
    groups.set(key, g);
  }
  return [...groups.entries()]
    .map(([key, g]) => ({ key, count: [g.sessions, g.events / g.sessions] }))
    .sort(bySessionsThenDepth);
}

/** Landings (first event of every session) or exits (last event of sessions with ≥ 2 events) per URL. */
export function entryExitTable(sessions, prop) {
  const counts = new Map();
  for (const s of sessions) {
    const key = sessionProperty(s, prop);
    if (key == null) continue;
    counts.set(key, (counts.get(key) || 0) + 1);
  }
  return [...counts.entries()].map(([key, count]) => ({ key, count })).sort(byCountThenKey);
}

/**
 * Weekly retention: four 7-day chunks ending at `now`, oldest first (chunk k holds events whose age is in
 * [7·(3−k), 7·(4−k)) days). Row i lists, for every chunk j ≥ i, the share of chunk i's users also seen in
 * chunk j; the first cell is 1, or 0 when chunk i has no users.
 */
export function retentionMatrix(events, nowMs, userField = "secretId") {
  const chunks = [new Set(), new Set(), new Set(), new Set()];
  for (const e of events) {
    const age = Math.max(nowMs - e.time, 0); // a few ms of clock skew into the future count as now
    const back = Math.floor(age / (7 * DAY));
    if (back < 4 && e[userField] != null) chunks[3 - back].add(e[userField]);
  }
  return chunks.map((users, i) => {
    const row = [];
    for (let j = i; j < 4; j += 1) {
      if (!users.size) row.push(0);
      else row.push([...users].filter((u) => chunks[j].has(u)).length / users.size);
    }
    return row;
  });
}

/** What the latest event says about the visitor (user view onboarding); null without events. */
export function onboardingStats(allEvents) {
  if (!allEvents.length) return null;
  const latest = allEvents[allEvents.length - 1];
  return {
    domain: latest.host,
    url: latest.pathname === "/" ? latest.host : latest.host + latest.pathname,
    referrer: latest.referrer,
    numVisits: allEvents.filter((e) => e.accountId === latest.accountId).length,
    isMobile: latest.isMobile,
    geo: latest.geo,
  };
}

// Operator-side metrics (the dashboard of the next release composes them; the visitor view does not).

/**
 * 1 − share of users in `events` never seen before the oldest of `events` (in `allEvents`); 0 without users.
 */
export function returningUsers(events, allEvents) {
  const users = new Set(events.map((e) => e.secretId).filter((u) => u != null));
  if (!users.size) return 0;
  let oldest = Infinity; // a loop, not Math.min(...spread): spreading 200k values overflows the stack
  for (const e of events) if (e.time < oldest) oldest = e.time;
  const before = new Set(allEvents.filter((e) => e.time < oldest).map((e) => e.secretId));
  const fresh = [...users].filter((u) => !before.has(u)).length;
  return 1 - fresh / users.size;
}

function liveEvents(allEvents, nowMs) {
  return allEvents.filter((e) => e.time >= nowMs - LIVE_WINDOW && e.time <= nowMs);
}

/** Distinct users with an event in the last 15 minutes. */
export function liveUsers(allEvents, nowMs) {
  return distinct(liveEvents(allEvents, nowMs), "secretId");
}

/** Per user the latest event of the last 15 minutes, counted per URL. */
export function livePages(allEvents, nowMs) {
  const latest = new Map();
  for (const e of liveEvents(allEvents, nowMs)) latest.set(e.secretId, e); // events are in time order
  const counts = new Map();
  for (const e of latest.values()) counts.set(e.url, (counts.get(e.url) || 0) + 1);
  return [...counts.entries()].map(([key, count]) => ({ key, count })).sort(byCountThenKey);
}

// ---------------------------------------------------------------------------------------------------------

/**
 * The result object of reference §6.2 for `query = {range, resolution, now, timeZone, from, to, filter,
 * perspective}`. The visitor perspective (default) has the fields of §6.5; 'operator' adds uniqueUsers,
 * returningUsers, liveUsers, livePages and geo and drops onboardingStats.
 */
export function computeStats(events, query = {}) {
  const perspective = query.perspective === "operator" ? "operator" : "visitor";
  const bounds = timeBuckets(query);
  const nowMs = toMillis(query.now);
  const all = parseEvents(events, perspective === "visitor" ? "local" : null);
  const inRange = all.filter((e) => e.time >= bounds.lower && e.time < bounds.upper);
  const filter = parseFilter(query.filter);
  const scoped = applyFilter(inRange, filter);
  const sessions = groupSessions(scoped);
  const result = {
    perspective,
    range: bounds.range,
    resolution: bounds.resolution,
    filter: filter ? `${filter.prop}:${filter.value}` : null,
    timeZone: typeof query.timeZone === "string" ? query.timeZone : null,
    lower: new Date(bounds.lower).toISOString(),
    upper: new Date(bounds.upper).toISOString(),
    pageviews: pageviewSeries(scoped, bounds),
    uniqueAccounts: uniqueAccounts(scoped),
    uniqueSessions: uniqueSessions(scoped),
    bounceRate: bounceRate(sessions),
    avgPageDepth: avgPageDepth(sessions),
    avgPageload: avgPageload(scoped),
    mobileShare: mobileShare(scoped),
    pages: topPages(scoped),
    referrers: sessionTable(sessions, "referrer"),
    campaigns: sessionTable(sessions, "campaign"),
    sources: sessionTable(sessions, "source"),
    landingPages: entryExitTable(sessions, "landing"),
    exitPages: entryExitTable(sessions, "exit"),
    retentionMatrix: retentionMatrix(all, nowMs),
    empty: !events || events.length === 0,
  };
  if (perspective === "visitor") {
    result.onboardingStats = onboardingStats(all);
  } else {
    result.uniqueUsers = uniqueUsers(scoped);
    // Offen gives no returning-users figure for the 6-months view: almost nobody is "new" over that span.
    result.returningUsers =
      bounds.resolution === "months" && bounds.range === 6 ? null : returningUsers(scoped, all);
    result.liveUsers = liveUsers(all, nowMs);
    result.livePages = livePages(all, nowMs);
    result.geo = sessionTable(sessions, "geo");
  }
  return result;
}
