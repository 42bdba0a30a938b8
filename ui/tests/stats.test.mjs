// Tests of ui/shared/stats.js. Every expected number was worked out by hand from the fixtures below; the
// comments next to each assertion show the arithmetic.
import { test } from "node:test";
import assert from "node:assert/strict";

import {
  NONE_REFERRER,
  applyFilter,
  computeStats,
  offsetFunction,
  pageKey,
  parseEvents,
  parseFilter,
  referrerBucket,
  retentionMatrix,
  timeBuckets,
  ulidTime,
} from "../shared/stats.js";

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

// A ULID for an ISO time; `n` makes the random part distinct (and orders events of the same ms).
function ulid(iso, n = 0) {
  let ms = Date.parse(iso);
  let head = "";
  for (let i = 0; i < 10; i += 1) {
    head = CROCKFORD[ms % 32] + head;
    ms = Math.floor(ms / 32);
  }
  let tail = "";
  for (let i = 0, x = n; i < 16; i += 1, x = Math.floor(x / 32)) tail = CROCKFORD[x % 32] + tail;
  return head + tail;
}

let counter = 0;
function ev(iso, accountId, payload, secretId = "local") {
  counter += 1;
  return {
    accountId,
    eventId: ulid(iso, counter),
    secretId,
    payload: {
      type: "PAGEVIEW",
      rawHref: null,
      referrer: "",
      pageload: null,
      isMobile: false,
      timestamp: iso,
      sessionId: null,
      geo: null,
      ...payload,
    },
  };
}

const NOW = new Date("2024-05-15T12:00:00Z"); // a Wednesday
const A = "account-a";
const B = "account-b";

// The visitor fixture: two websites, three sessions, one event without a session, one old event, two
// invalid events.
//   s1 (A, 2024-05-14): e1 /      from www.google.de, load 200, rawHref with utm_campaign=spring, utm_source=news
//                       e2 /about from a.example (same host: no referrer), load null
//                       e3 /about/ from a.example, load 0 (a broken timer: excluded from the mean)
//   s2 (A, 2024-05-15): e4 /about?x=1#top, no referrer, load 400, mobile, geo DE
//   s3 (B, 2024-05-13): e5 /blog from news.ycombinator.com, load 100, rawHref with utm_source=hn
//                       e6 /     from b.example (same host), load null
//   e7 (B, 2024-05-12, no session): /, load 300
//   e8 (A, 2024-05-01, session s0): /old — before the 7-day range
//   e9 type CUSTOM, e10 a broken event id: both dropped
function visitorEvents() {
  return [
    ev("2024-05-14T10:00:00Z", A, {
      href: "https://a.example/",
      rawHref: "https://a.example/?utm_campaign=spring&utm_source=news",
      referrer: "https://www.google.de/",
      pageload: 200,
      sessionId: "s1",
    }),
    ev("2024-05-14T10:05:00Z", A, { href: "https://a.example/about", referrer: "https://a.example/", sessionId: "s1" }),
    ev("2024-05-14T10:10:00Z", A, {
      href: "https://a.example/about/",
      referrer: "https://a.example/",
      pageload: 0,
      sessionId: "s1",
    }),
    ev("2024-05-15T09:00:00Z", A, {
      href: "https://a.example/about?x=1#top",
      pageload: 400,
      isMobile: true,
      sessionId: "s2",
      geo: "DE",
    }),
    ev("2024-05-13T08:00:00Z", B, {
      href: "https://b.example/blog",
      rawHref: "https://b.example/blog?utm_source=hn",
      referrer: "https://news.ycombinator.com/item",
      pageload: 100,
      sessionId: "s3",
    }),
    ev("2024-05-13T08:01:00Z", B, { href: "https://b.example/", referrer: "https://b.example/blog", sessionId: "s3" }),
    ev("2024-05-12T07:00:00Z", B, { href: "https://b.example/", pageload: 300 }),
    ev("2024-05-01T12:00:00Z", A, { href: "https://a.example/old", sessionId: "s0" }),
    ev("2024-05-14T11:00:00Z", A, { type: "CUSTOM", href: "https://a.example/", sessionId: "s1" }),
    { accountId: A, eventId: "not-a-ulid", secretId: "local", payload: { type: "PAGEVIEW", href: "https://a.example/" } },
  ];
}

const total = (result) => result.pageviews.reduce((sum, b) => sum + b.pageviews, 0);
const byKey = (result) => Object.fromEntries(result.pageviews.map((b) => [b.key, b.pageviews]));

test("ulidTime decodes the 48-bit timestamp", () => {
  // Vectors made with python-ulid: ULID.from_str(...).milliseconds.
  assert.equal(ulidTime("01ARZ3NDEKTSV4RRFFQ69G5FAV"), 1469922850259);
  assert.equal(ulidTime("01HTBA4GJ09R4256ZYHYFVDSAB"), Date.parse("2024-03-31T22:30:00Z"));
  assert.equal(ulidTime("01htba4gj09r4256zyhyfvdsab"), Date.parse("2024-03-31T22:30:00Z"));
  assert.equal(ulidTime(ulid("2024-05-15T12:00:00.123Z")), Date.parse("2024-05-15T12:00:00.123Z"));
  assert.ok(Number.isNaN(ulidTime("short")));
  assert.ok(Number.isNaN(ulidTime("01ARZ3NDE!TSV4RRFFQ69G5FAV")));
  assert.ok(Number.isNaN(ulidTime(null)));
});

test("visitor metrics over the fixture", () => {
  const r = computeStats(visitorEvents(), { range: 7, resolution: "days", now: NOW, timeZone: "UTC" });
  // Range: 2024-05-09 .. 2024-05-15 (UTC). In range: e1..e7 = 7 events (e8 too old, e9/e10 invalid).
  assert.equal(r.lower, "2024-05-09T00:00:00.000Z");
  assert.equal(r.upper, "2024-05-16T00:00:00.000Z");
  assert.deepEqual(
    r.pageviews.map((b) => [b.key, b.pageviews, b.visitors, b.accounts]),
    [
      ["2024-05-09", 0, 0, 0],
      ["2024-05-10", 0, 0, 0],
      ["2024-05-11", 0, 0, 0],
      ["2024-05-12", 1, 1, 1], // e7
      ["2024-05-13", 2, 1, 1], // e5, e6 (account B)
      ["2024-05-14", 3, 1, 1], // e1, e2, e3 (account A)
      ["2024-05-15", 1, 1, 1], // e4
    ],
  );
  assert.equal(r.pageviews[0].date, "2024-05-09T00:00:00.000Z");
  assert.equal(r.uniqueAccounts, 2); // A and B
  assert.equal(r.uniqueSessions, 3); // s1, s2, s3 (e7 has none)
  assert.equal(r.bounceRate, 1 / 3); // only s2 has a single event
  assert.equal(r.avgPageDepth, 2); // 6 events with a session / 3 sessions
  assert.equal(r.avgPageload, 250); // (200 + 400 + 100 + 300) / 4; null and 0 are left out
  assert.equal(r.mobileShare, 1 / 7); // e4 of 7 events
  assert.deepEqual(r.pages, [
    { key: "https://a.example/about/", accountId: A, count: 3 }, // e2, e3, e4 (query, hash, slash ignored)
    { key: "https://b.example/", accountId: B, count: 2 }, // e6, e7
    { key: "https://a.example/", accountId: A, count: 1 }, // e1; ties sorted by key
    { key: "https://b.example/blog/", accountId: B, count: 1 }, // e5
  ]);
  // First event per session: s1 Google (depth 3), s3 Hacker News (depth 2), s2 no referrer (depth 1).
  assert.deepEqual(r.referrers, [
    { key: "Google", count: [1, 3] },
    { key: "Hacker News", count: [1, 2] },
    { key: NONE_REFERRER, count: [1, 1] },
  ]);
  assert.deepEqual(r.campaigns, [{ key: "spring", count: [1, 3] }]); // from s1's rawHref; s2, s3 untagged
  assert.deepEqual(r.sources, [
    { key: "news", count: [1, 3] },
    { key: "hn", count: [1, 2] },
  ]);
  assert.deepEqual(r.landingPages, [
    { key: "https://a.example/", count: 1 }, // s1
    { key: "https://a.example/about/", count: 1 }, // s2
    { key: "https://b.example/blog/", count: 1 }, // s3
  ]);
  assert.deepEqual(r.exitPages, [
    { key: "https://a.example/about/", count: 1 }, // s1's e3; s2 has one event, so no exit
    { key: "https://b.example/", count: 1 }, // s3's e6
  ]);
  // Chunks (age in days from now): e1..e7 are 0-3 days old -> chunk 3; e8 is exactly 14 days old -> chunk 1.
  // All events are the one user "local": row 1 = [1, chunk 2 empty -> 0, chunk 3 has local -> 1].
  assert.deepEqual(r.retentionMatrix, [[0, 0, 0, 0], [1, 0, 1], [0, 0], [1]]);
  assert.equal(r.empty, false);
  // Latest event is e4: on a.example, /about/, no referrer; account A has e1-e4 and e8 = 5 events.
  assert.deepEqual(r.onboardingStats, {
    domain: "a.example",
    url: "a.example/about/",
    referrer: null,
    numVisits: 5,
    isMobile: true,
    geo: "DE",
  });
  assert.equal(r.uniqueUsers, undefined); // operator-only fields stay out of the visitor view
  assert.equal(r.perspective, "visitor");
});

test("empty input gives zeros, nulls and empty tables", () => {
  const r = computeStats([], { range: 7, resolution: "days", now: NOW, timeZone: "UTC" });
  assert.equal(r.empty, true);
  assert.equal(r.pageviews.length, 7);
  assert.equal(total(r), 0);
  assert.equal(r.uniqueAccounts, 0);
  assert.equal(r.uniqueSessions, 0);
  assert.equal(r.bounceRate, 0);
  assert.equal(r.avgPageDepth, null);
  assert.equal(r.avgPageload, null);
  assert.equal(r.mobileShare, null);
  for (const table of ["pages", "referrers", "campaigns", "sources", "landingPages", "exitPages"]) {
    assert.deepEqual(r[table], [], table);
  }
  assert.deepEqual(r.retentionMatrix, [[0, 0, 0, 0], [0, 0, 0], [0, 0], [0]]);
  assert.equal(r.onboardingStats, null);
  // Events that exist but fall outside the range: not empty, but nothing to show.
  const old = computeStats([ev("2024-01-01T00:00:00Z", A, { href: "https://a.example/" })], {
    now: NOW,
    timeZone: "UTC",
  });
  assert.equal(old.empty, false);
  assert.equal(total(old), 0);
});

test("a visitor's events without a secret id still count as the visitor", () => {
  const events = visitorEvents().map(({ secretId, ...rest }) => rest);
  const r = computeStats(events, { range: 7, now: NOW, timeZone: "UTC" });
  assert.equal(total(r), 7);
  assert.equal(r.pageviews[6].visitors, 1);
});

test("filters: href per event, the others per whole session", () => {
  const q = { range: 7, resolution: "days", now: NOW, timeZone: "UTC" };
  // href:/about (normalised to /about/) keeps e2, e3 (s1) and e4 (s2).
  let r = computeStats(visitorEvents(), { ...q, filter: "href:https://a.example/about" });
  assert.equal(r.filter, "href:https://a.example/about/");
  assert.equal(total(r), 3);
  assert.equal(r.uniqueSessions, 2);
  assert.equal(r.bounceRate, 1 / 2); // s2 is a single event; s1 keeps two
  assert.equal(r.avgPageDepth, 1.5); // 3 events / 2 sessions
  // referrer:Google keeps the whole session s1 (three events on 05-14).
  r = computeStats(visitorEvents(), { ...q, filter: "referrer:Google" });
  assert.equal(total(r), 3);
  assert.equal(byKey(r)["2024-05-14"], 3);
  assert.equal(r.bounceRate, 0);
  // No referrer: s2 only; e7 has no session, so session filters never keep it.
  r = computeStats(visitorEvents(), { ...q, filter: `referrer:${NONE_REFERRER}` });
  assert.equal(total(r), 1);
  // Object form; exit page of s3 is b.example/.
  r = computeStats(visitorEvents(), { ...q, filter: { prop: "exit", value: "https://b.example/" } });
  assert.equal(total(r), 2);
  assert.equal(r.uniqueAccounts, 1);
  r = computeStats(visitorEvents(), { ...q, filter: "campaign:spring" });
  assert.equal(total(r), 3);
  r = computeStats(visitorEvents(), { ...q, filter: "landing:https://b.example/blog/" });
  assert.equal(total(r), 2);
  r = computeStats(visitorEvents(), { ...q, filter: "source:nowhere" });
  assert.equal(total(r), 0);
  // Unknown properties are ignored rather than hiding everything.
  r = computeStats(visitorEvents(), { ...q, filter: "color:red" });
  assert.equal(r.filter, null);
  assert.equal(total(r), 7);
  assert.equal(parseFilter("href"), null);
  assert.deepEqual(parseFilter("geo:DE"), { prop: "geo", value: "DE" });
  // applyFilter on parsed events directly: the geo of s2 is DE.
  assert.equal(applyFilter(parseEvents(visitorEvents()), "geo:DE").length, 1);
});

// Three events around midnight UTC on 2024-05-14/15.
function midnightEvents() {
  return [
    ev("2024-05-14T22:30:00Z", A, { href: "https://a.example/" }),
    ev("2024-05-14T23:30:00Z", A, { href: "https://a.example/" }),
    ev("2024-05-15T03:30:00Z", A, { href: "https://a.example/" }),
  ];
}

test("days are cut at local midnight of the given time zone", () => {
  const q = { range: 7, resolution: "days", now: NOW };
  // UTC: 22:30 and 23:30 are on the 14th, 03:30 on the 15th.
  let r = computeStats(midnightEvents(), { ...q, timeZone: "UTC" });
  assert.equal(byKey(r)["2024-05-14"], 2);
  assert.equal(byKey(r)["2024-05-15"], 1);
  // Berlin is UTC+2 in May: 00:30, 01:30 and 05:30 on the 15th; the bucket starts at 22:00 UTC.
  r = computeStats(midnightEvents(), { ...q, timeZone: "Europe/Berlin" });
  assert.equal(byKey(r)["2024-05-15"], 3);
  assert.equal(r.pageviews[6].date, "2024-05-14T22:00:00.000Z");
  // New York is UTC-4: 18:30, 19:30 and 23:30 on the 14th.
  r = computeStats(midnightEvents(), { ...q, timeZone: "America/New_York" });
  assert.equal(byKey(r)["2024-05-14"], 3);
  assert.equal(byKey(r)["2024-05-15"], 0);
  // A fixed offset of +330 minutes (a function or a number) puts all three on the 15th.
  r = computeStats(midnightEvents(), { ...q, timeZone: () => 330 });
  assert.equal(byKey(r)["2024-05-15"], 3);
  // Range 1 = today only: Berlin's today began at 22:00 UTC (all three), UTC's at 00:00 (only 03:30).
  assert.equal(total(computeStats(midnightEvents(), { ...q, range: 1, timeZone: "Europe/Berlin" })), 3);
  assert.equal(total(computeStats(midnightEvents(), { ...q, range: 1, timeZone: "UTC" })), 1);
});

test("hour, week, month and yesterday buckets", () => {
  // Hours: now 12:10 UTC, range 3 -> 10:00, 11:00, 12:00; 09:59:59.999 is out, 10:00:00.000 is in.
  const hours = computeStats(
    [
      ev("2024-05-15T09:59:59.999Z", A, { href: "https://a.example/" }),
      ev("2024-05-15T10:00:00.000Z", A, { href: "https://a.example/" }),
      ev("2024-05-15T12:09:00.000Z", A, { href: "https://a.example/" }),
    ],
    { range: 3, resolution: "hours", now: new Date("2024-05-15T12:10:00Z"), timeZone: "UTC" },
  );
  assert.deepEqual(
    hours.pageviews.map((b) => [b.key, b.pageviews]),
    [
      ["2024-05-15T10:00", 1],
      ["2024-05-15T11:00", 0],
      ["2024-05-15T12:00", 1],
    ],
  );
  // Kolkata (UTC+5:30) hours start at hh:30 UTC.
  const kolkata = timeBuckets({ range: 2, resolution: "hours", now: "2024-05-15T12:10:00Z", timeZone: "Asia/Kolkata" });
  assert.deepEqual(
    kolkata.buckets.map((b) => new Date(b.start).toISOString()),
    ["2024-05-15T10:30:00.000Z", "2024-05-15T11:30:00.000Z"],
  );
  // Weeks start on Monday: Sunday 2024-05-12 23:59 UTC is in the week of 05-06, but in Berlin it is
  // already Monday 01:59 of the week of 05-13.
  const sunday = [ev("2024-05-12T23:59:00Z", A, { href: "https://a.example/" })];
  const weeksUtc = computeStats(sunday, { range: 2, resolution: "weeks", now: NOW, timeZone: "UTC" });
  assert.deepEqual(
    weeksUtc.pageviews.map((b) => [b.key, b.pageviews]),
    [
      ["2024-05-06", 1],
      ["2024-05-13", 0],
    ],
  );
  const weeksBerlin = computeStats(sunday, { range: 2, resolution: "weeks", now: NOW, timeZone: "Europe/Berlin" });
  assert.deepEqual(
    weeksBerlin.pageviews.map((b) => b.pageviews),
    [0, 1],
  );
  // Months: 6 buckets Dec .. May.
  const months = timeBuckets({ range: 6, resolution: "months", now: NOW, timeZone: "UTC" });
  assert.deepEqual(
    months.buckets.map((b) => b.key),
    ["2023-12", "2024-01", "2024-02", "2024-03", "2024-04", "2024-05"],
  );
  // Yesterday: 24 hourly buckets of the previous local day; 23 on the day clocks went forward in Berlin.
  const y = computeStats(midnightEvents(), { range: "yesterday", now: NOW, timeZone: "UTC" });
  assert.equal(y.resolution, "hours");
  assert.equal(y.pageviews.length, 24);
  assert.equal(total(y), 2); // 22:30 and 23:30 on the 14th
  const dst = timeBuckets({ range: "yesterday", now: "2024-04-01T12:00:00Z", timeZone: "Europe/Berlin" });
  assert.equal(dst.buckets.length, 23);
  assert.equal(dst.buckets[2].key, "2024-03-31T03:00"); // 02:00 does not exist that night
});

test("offsetFunction reads IANA zones, numbers and functions", () => {
  assert.equal(offsetFunction("Europe/Berlin")(Date.parse("2024-01-15T12:00:00Z")), 60);
  assert.equal(offsetFunction("Europe/Berlin")(Date.parse("2024-07-15T12:00:00Z")), 120);
  assert.equal(offsetFunction("Asia/Kolkata")(0), 330);
  assert.equal(offsetFunction(undefined)(0), 0);
  assert.equal(offsetFunction(-300)(0), -300);
  assert.throws(() => timeBuckets({ range: 7 }), /now/);
});

test("referrer buckets", () => {
  assert.equal(referrerBucket("www.google.com"), "Google");
  assert.equal(referrerBucket("google.co.uk"), "Google");
  assert.equal(referrerBucket("www.google.de"), "Google");
  assert.equal(referrerBucket("notgoogle.com"), "notgoogle.com");
  assert.equal(referrerBucket("googleusercontent.com"), "googleusercontent.com");
  assert.equal(referrerBucket("t.co"), "Twitter");
  assert.equal(referrerBucket("l.facebook.com"), "Facebook");
  assert.equal(referrerBucket("t.me"), "Telegram");
  assert.equal(referrerBucket("app.slack.com"), "Slack");
  assert.equal(referrerBucket("duckduckgo.com"), "DuckDuckGo");
  assert.equal(referrerBucket("www.ecosia.org"), "Ecosia");
  assert.equal(referrerBucket("www.qwant.com"), "Qwant");
  assert.equal(referrerBucket("www.baidu.com"), "Baidu");
  assert.equal(referrerBucket("www.linkedin.com"), "LinkedIn");
  assert.equal(referrerBucket("news.ycombinator.com"), "Hacker News");
  assert.equal(referrerBucket("old.reddit.com"), "Reddit");
  assert.equal(referrerBucket("en.m.wikipedia.org"), "Wikipedia");
  assert.equal(referrerBucket("us02web.zoom.us"), "Zoom");
  assert.equal(referrerBucket("Example.ORG."), "example.org");
  // Same-host referrers are internal navigation, different hosts of one site are sources.
  const parsed = parseEvents([
    ev("2024-05-14T10:00:00Z", A, { href: "https://a.example/x", referrer: "https://a.example/y" }),
    ev("2024-05-14T10:01:00Z", A, { href: "https://a.example/x", referrer: "https://blog.a.example/y" }),
  ]);
  assert.deepEqual(
    parsed.map((e) => e.referrer),
    [null, "blog.a.example"],
  );
  assert.equal(pageKey("https://a.example/x?q=1#h"), "https://a.example/x/");
});

test("operator perspective adds users, returning users, live data and geo", () => {
  const events = [
    ev("2024-04-30T12:00:00Z", A, { href: "https://a.example/", sessionId: "sd" }, "u3"), // 15 days: chunk 1
    ev("2024-05-01T12:00:00Z", A, { href: "https://a.example/", sessionId: "sa" }, "u1"), // 14 days: chunk 1
    ev("2024-05-14T10:00:00Z", A, { href: "https://a.example/", sessionId: "sb", geo: "DE" }, "u1"),
    ev("2024-05-15T11:50:00Z", A, { href: "https://a.example/x", sessionId: "sc" }, "u2"),
    ev("2024-05-15T11:55:00Z", A, { href: "https://a.example/y", sessionId: "sc", geo: "FR" }, "u2"),
  ];
  const r = computeStats(events, { range: 7, now: NOW, timeZone: "UTC", perspective: "operator" });
  assert.equal(r.uniqueUsers, 2); // u1, u2 in range
  // Oldest in range is 05-14 10:00; only u1 was seen before it: 1 - (1 new of 2 users) = 0.5.
  assert.equal(r.returningUsers, 0.5);
  assert.equal(r.liveUsers, 1); // u2 at 11:50 and 11:55, within 15 minutes of 12:00
  assert.deepEqual(r.livePages, [{ key: "https://a.example/y/", count: 1 }]); // u2's latest event
  // sb: first geo DE (1 event); sc: first event without geo, so its first event with one: FR (2 events).
  assert.deepEqual(r.geo, [
    { key: "FR", count: [1, 2] },
    { key: "DE", count: [1, 1] },
  ]);
  // Chunk 1 = {u3, u1}, chunk 3 = {u1, u2}: half of chunk 1's users came back in chunk 3.
  assert.deepEqual(r.retentionMatrix, [[0, 0, 0, 0], [1, 0, 0.5], [0, 0], [1]]);
  assert.equal(r.onboardingStats, undefined);
  const six = computeStats(events, { range: 6, resolution: "months", now: NOW, perspective: "operator" });
  assert.equal(six.returningUsers, null);
  // Without a secret id an operator event belongs to no user.
  assert.deepEqual(retentionMatrix(parseEvents([{ ...events[2], secretId: undefined }]), Date.parse(NOW)), [
    [0, 0, 0, 0],
    [0, 0, 0],
    [0, 0],
    [0],
  ]);
});
