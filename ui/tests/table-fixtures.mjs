// Fixtures for the table tests: ULIDs, raw events as the operator's engine decrypts them, and a seeded
// generator of realistic traffic (sessions across midnight, tags, referrers, users without secrets...).

export const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** A canonical ULID for a time in ms (or an ISO string); `n` fills the random part (distinct ids). */
export function ulid(time, n = 0) {
  let ms = typeof time === "string" ? Date.parse(time) : time;
  let head = "";
  for (let i = 0; i < 10; i += 1) {
    head = CROCKFORD[ms % 32] + head;
    ms = Math.floor(ms / 32);
  }
  let tail = "";
  for (let i = 0, x = n; i < 16; i += 1, x = Math.floor(x / 32)) tail = CROCKFORD[x % 32] + tail;
  return head + tail;
}

/** A small seeded PRNG (mulberry32): the same seed gives the same fixture on every machine. */
export function random(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  next.int = (n) => Math.floor(next() * n);
  next.pick = (list) => list[Math.floor(next() * list.length)];
  next.chance = (p) => next() < p;
  return next;
}

let counter = 0;

/** One raw pageview event (what the engine hands to `parseEvent`). */
export function rawEvent(time, { accountId = "acc-a", secretId = "user-1", eventId, ...payload } = {}) {
  counter += 1;
  return {
    accountId,
    eventId: eventId ?? ulid(time, counter * 7919),
    secretId,
    payload: {
      type: "PAGEVIEW",
      href: "https://a.example/",
      rawHref: null,
      referrer: "",
      pageload: null,
      isMobile: false,
      timestamp: new Date(time).toISOString(),
      sessionId: null,
      geo: null,
      ...payload,
    },
  };
}

const PAGES = ["/", "/about", "/about/", "/blog/post-1", "/blog/post-2", "/pricing", "/contact?x=1#top", "/docs/a"];
const REFERRERS = [
  "",
  "",
  "",
  "https://www.google.de/search",
  "https://google.com/",
  "https://news.ycombinator.com/item?id=1",
  "https://a.example/about/", // same host: no referrer
  "https://t.co/abc",
  "https://example.org/page",
];
const CAMPAIGNS = [null, null, null, "spring", "autumn", ""];
const SOURCES = [null, null, "newsletter", "hn"];
const GEOS = [null, null, "DE", "US", "FR"];
const LOADS = [null, null, 0, 120, 340, 87.5, 1203];

/**
 * `count` raw events of `users` users in sessions, between `from` and `to` (ms), a few users without a
 * secret id, a few events without a session, two accounts when `twoAccounts`.
 */
export function generate({ seed = 1, count = 3000, users = 120, from, to, twoAccounts = false } = {}) {
  const rnd = random(seed);
  const events = [];
  while (events.length < count) {
    const user = rnd.chance(0.04) ? null : `user-${rnd.int(users)}`;
    const accountId = twoAccounts && rnd.chance(0.2) ? "acc-b" : "acc-a";
    const host = accountId === "acc-a" ? "a.example" : "b.example";
    const session = rnd.chance(0.05) ? null : `s-${seed}-${events.length}`;
    const length = 1 + (rnd.chance(0.4) ? 0 : rnd.int(6));
    let time = from + Math.floor(rnd() * (to - from));
    const mobile = rnd.chance(0.3);
    const geo = rnd.pick(GEOS);
    for (let k = 0; k < length && events.length < count; k += 1) {
      const page = rnd.pick(PAGES);
      const campaign = rnd.chance(0.3) ? rnd.pick(CAMPAIGNS) : null;
      const source = rnd.chance(0.3) ? rnd.pick(SOURCES) : null;
      const query = [campaign !== null ? `utm_campaign=${campaign}` : "", source ? `utm_source=${source}` : ""]
        .filter(Boolean)
        .join("&");
      const event = rawEvent(time, {
        accountId,
        secretId: user,
        href: `https://${host}${page}`,
        rawHref: query ? `https://${host}${page.split("?")[0]}?${query}` : null,
        referrer: k === 0 ? rnd.pick(REFERRERS) : `https://${host}/`,
        pageload: rnd.pick(LOADS),
        isMobile: mobile,
        sessionId: session,
        // Mostly one country per session, sometimes none on the first event, now and then a change.
        geo: k === 0 && rnd.chance(0.3) ? null : rnd.chance(0.15) ? rnd.pick(GEOS) : geo,
      });
      // A few ids in lower case: parseEvent accepts them; the table must keep them exactly.
      if (rnd.chance(0.01)) event.eventId = event.eventId.toLowerCase();
      events.push(event);
      // Some events share a millisecond (ties are ordered by event id).
      time += rnd.chance(0.05) ? 0 : 20_000 + rnd.int(40 * 60_000);
    }
  }
  return events;
}
