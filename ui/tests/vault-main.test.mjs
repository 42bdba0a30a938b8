import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';

import { webCryptoWith } from '../vault/crypto.js';
import { bannerLinks, localeOf, overlayRuleWith, routerWith, sameSite, vaultWith } from '../vault/main.js';
import { cookiesWith } from '../vault/cookies.js';
import { countryForTimeZone } from '../vault/zones.js';
import { byTestId, cookieJar, fakeCrypto, fakeDocument, fakeIndexedDB, fakeServer, fakeWindow, recordingFetch } from './vault-fakes.mjs';

const OWN = 'https://offen.test';
const HOST = 'https://www.site.test';

function setup({ crypto = fakeCrypto(), publicKey, jarOptions, ancestors = [HOST], stats, idbOptions, reuse } = {}) {
  // `reuse`: the browser and server of an earlier setup() — the next page load of the same visitor.
  const jar = reuse ? reuse.jar : cookieJar(jarOptions);
  const server = reuse ? reuse.server : fakeServer({ consentCookie: () => (jar.jar.get('consent') || {}).value });
  const routes = publicKey
    ? async (method, url, body) =>
        method === 'GET' && url.startsWith('/api/exchange') ? [200, { accountId: 'acc-1', publicKey }] : server.routes(method, url, body)
    : server.routes;
  const fetch = recordingFetch(routes);
  const idb = fakeIndexedDB(idbOptions);
  const document = fakeDocument();
  document.cookie = undefined;
  Object.defineProperty(document, 'cookie', {
    get: () => jar.doc.cookie,
    set: (v) => (jar.doc.cookie = v),
  });
  document.documentElement.setAttribute('lang', 'en');
  document.getElementById('host').height = 140;
  const window = fakeWindow();
  const location = { origin: OWN, href: `${OWN}/vault?accountId=acc-1&locale=de`, protocol: 'https:', ancestorOrigins: ancestors };
  const statsCalls = [];
  let uuid = 0;
  const vault = vaultWith({
    window,
    document,
    location,
    fetch,
    indexedDB: idb,
    getCrypto: async () => crypto,
    computeStats: async () => (events, options) => {
      statsCalls.push({ events, options });
      return stats ? stats(events, options) : { pageviews: events.length };
    },
    translator: async () => (key) => key,
    countryForTimeZone: async (tz) => countryForTimeZone(tz),
    now: () => new Date('2024-03-01T12:00:00.000Z'),
    timeZone: () => 'Europe/Lisbon',
    randomUUID: () => `session-uuid-${++uuid}`,
  });
  const send = (data, origin = HOST) => {
    const replies = [];
    const port = { postMessage: (m) => replies.push(m) };
    const done = vault.onMessage({ data, origin, ports: [port] });
    return { replies, done };
  };
  return { jar, server, fetch, idb, document, window, vault, send, statsCalls, crypto };
}

const pageview = (href = 'https://www.site.test/a', extra = {}) => ({
  type: 'EVENT',
  payload: { accountId: 'acc-1', event: { type: 'PAGEVIEW', href, referrer: 'https://ref.test/x?token=1', pageload: 50, isMobile: false } },
  meta: { skipConsent: false },
  ...extra,
});
const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));
const paths = (fetch) => fetch.calls.map((c) => `${c.method} ${c.url}`);

test('router: unknown types, foreign origins and malformed messages get an ERROR; no port, no reply', async () => {
  const handlers = { OPEN: { public: true, handle: async () => 'open' }, SECRET: { handle: async () => 'secret' } };
  const onMessage = routerWith({ origin: OWN, handlers });
  const ask = async (data, origin) => {
    const out = [];
    await onMessage({ data, origin, ports: [{ postMessage: (m) => out.push(m) }] });
    return out;
  };
  assert.deepEqual(await ask({ type: 'OPEN' }, HOST), ['open']);
  assert.deepEqual(await ask({ type: 'SECRET' }, OWN), ['secret']);
  assert.deepEqual(await ask({ type: 'SECRET' }, HOST), [{ type: 'ERROR', payload: { error: 'not allowed', status: 403 } }]);
  assert.equal((await ask({ type: 'NOPE' }, OWN))[0].payload.error, 'Message of type NOPE was not handled.');
  assert.equal((await ask({ type: 'toString' }, OWN))[0].type, 'ERROR', 'no prototype lookups');
  assert.equal((await ask(null, OWN))[0].type, 'ERROR');
  assert.equal((await ask('EVENT', OWN))[0].type, 'ERROR');
  await onMessage({ data: { type: 'OPEN' }, origin: HOST, ports: [] }); // nothing to reply on: ignored
  const failing = routerWith({ origin: OWN, handlers: { X: { public: true, handle: async () => Promise.reject(Object.assign(new Error('bad'), { status: 400 })) } } });
  const out = [];
  await failing({ data: { type: 'X' }, origin: HOST, ports: [{ postMessage: (m) => out.push(m) }] });
  assert.deepEqual(out, [{ type: 'ERROR', payload: { error: 'bad', status: 400 } }]);
});

test('every data-reading type is refused from the host page', async () => {
  const { send, fetch } = setup();
  for (const type of ['QUERY', 'CONSENT_STATUS', 'EXPRESS_CONSENT', 'PURGE', 'EXPORT']) {
    const { replies, done } = send({ type, payload: { status: 'deny' } }, HOST);
    await done;
    assert.deepEqual(replies, [{ type: 'ERROR', payload: { error: 'not allowed', status: 403 } }], type);
  }
  assert.equal(fetch.calls.length, 0);
});

test('nothing before consent; "I don\'t allow" leaves only consent=deny', async () => {
  const { send, fetch, idb, jar, document } = setup();
  const { replies, done } = send(pageview());
  await tick();
  assert.equal(replies.length, 1, 'only STYLES so far');
  assert.equal(replies[0].type, 'STYLES');
  assert.equal(replies[0].payload.attributes.height, '140');
  assert.deepEqual(fetch.calls, [], 'no request before consent');
  assert.deepEqual(idb.log, [], 'no database before consent');
  assert.deepEqual(jar.names(), [], 'no cookie before consent');
  byTestId(document.documentElement, 'banner/deny').click();
  await done;
  assert.deepEqual(replies.at(-1), null);
  assert.deepEqual(replies.at(-2).payload.styles, { display: 'none' });
  assert.deepEqual(jar.names(), ['consent']);
  assert.equal(jar.jar.get('consent').value, 'deny');
  assert.deepEqual(new Set(jar.writes.map((w) => w.name)), new Set(['ok', 'consent']));
  assert.deepEqual(fetch.calls, []);
  assert.deepEqual(idb.log, []);
  // Later page views of a visitor who said no: no banner, no request.
  const again = send(pageview());
  await again.done;
  assert.deepEqual(again.replies, [null]);
  assert.deepEqual(fetch.calls, []);
});

test('skipConsent without a decision: no banner, nothing persisted, reply null', async () => {
  const { send, fetch, jar } = setup();
  const { replies, done } = send(pageview(undefined, { meta: { skipConsent: true } }));
  await done;
  assert.deepEqual(replies, [null]);
  assert.deepEqual(jar.names(), []);
  assert.deepEqual(fetch.calls, []);
});

test('blocked cookies: the vault still replies (null) and does nothing', async () => {
  const { send, fetch, jar } = setup({ jarOptions: { blockAll: true } });
  for (const data of [pageview(), { type: 'ACQUIRE_CONSENT', payload: null }]) {
    const { replies, done } = send(data);
    await done;
    assert.deepEqual(replies, [null]);
  }
  assert.deepEqual(fetch.calls, []);
  assert.deepEqual(jar.names(), []);
});

test('"I allow": exchange, then the encrypted event; the follow-up stays until Continue', async () => {
  const { send, fetch, server, jar, document, idb } = setup();
  const { replies, done } = send(pageview());
  await tick();
  byTestId(document.documentElement, 'banner/allow').click();
  await done;
  assert.equal(replies.at(-1), null, 'the pending event went through at once');
  assert.deepEqual(paths(fetch), ['GET /api/exchange?accountId=acc-1', 'POST /api/exchange', 'POST /api/events']);
  assert.equal(jar.jar.get('consent').value, 'allow');
  assert.equal(jar.jar.get('session-acc-1').value, 'session-uuid-1');
  const secret = idb.dump('acc-1', 'keys')[0].value;
  const [stored] = server.state.events;
  const payload = JSON.parse(stored.payload.slice(`enc:${secret.k}:`.length));
  assert.deepEqual(payload, {
    type: 'PAGEVIEW',
    href: 'https://www.site.test/a',
    rawHref: null,
    referrer: 'https://ref.test/x',
    pageload: 50,
    isMobile: false,
    timestamp: '2024-03-01T12:00:00.000Z',
    sessionId: 'session-uuid-1',
    geo: 'PT',
  });
  assert.ok(byTestId(document.documentElement, 'banner/continue'), 'follow-up screen open');
  byTestId(document.documentElement, 'banner/continue').click();
  assert.deepEqual(replies.at(-1).payload.styles, { display: 'none' }, 'closing is still told over the port');
  // Next page view: no banner, one request.
  const next = send(pageview('https://www.site.test/b'));
  await next.done;
  assert.deepEqual(next.replies, [null]);
  assert.equal(fetch.calls.length, 4);
  assert.equal(server.state.events.length, 2);
});

test('events racing the banner wait for the one decision', async () => {
  const { send, fetch, document, server } = setup();
  const a = send(pageview('https://www.site.test/1'));
  const b = send(pageview('https://www.site.test/2'));
  await tick();
  assert.equal(b.replies.length, 0, 'the second message does not open a second banner');
  byTestId(document.documentElement, 'banner/allow').click();
  await Promise.all([a.done, b.done]);
  assert.deepEqual([a.replies.at(-1), b.replies.at(-1)], [null, null]);
  assert.equal(fetch.calls.filter((c) => c.url === '/api/exchange').length, 1);
  assert.equal(server.state.events.length, 2);
});

test('ACQUIRE_CONSENT asks without sending an event', async () => {
  const { send, fetch, document, jar } = setup();
  const { replies, done } = send({ type: 'ACQUIRE_CONSENT', payload: null });
  await tick();
  byTestId(document.documentElement, 'banner/allow').click();
  await done;
  assert.equal(replies.at(-1), null);
  assert.equal(jar.jar.get('consent').value, 'allow');
  assert.deepEqual(fetch.calls, []);
});

async function optedInWithEvents(ctx, n) {
  ctx.jar.doc.cookie = 'consent=allow; Path=/';
  for (let i = 0; i < n; i++) await ctx.send(pageview(`https://www.site.test/${i}`)).done;
}

test('QUERY syncs, decrypts with local secrets, caches with a checkpoint and computes visitor stats', async () => {
  const ctx = setup();
  await optedInWithEvents(ctx, 3);
  const { replies, done } = ctx.send({ type: 'QUERY', payload: { query: { range: 30, resolution: 'days' } } }, OWN);
  await done;
  assert.equal(replies[0].type, 'QUERY_SUCCESS');
  assert.deepEqual(replies[0].payload, {
    query: { range: 30, resolution: 'days' },
    result: { pageviews: 3, retentionPeriod: '30days', retentionDays: 30 },
  });
  const { events, options } = ctx.statsCalls[0];
  assert.deepEqual(options, { range: 30, resolution: 'days', now: new Date('2024-03-01T12:00:00.000Z'), timeZone: 'Europe/Lisbon', perspective: 'visitor' });
  assert.deepEqual(Object.keys(events[0]).sort(), ['accountId', 'eventId', 'payload', 'secretId']);
  assert.equal(events[0].secretId, 'local');
  assert.equal(events[0].payload.href, 'https://www.site.test/0');
  assert.equal(ctx.idb.dump('user', 'checkpoints')[0].sequence, ctx.server.state.events[2].sequence);
  await optedInWithEvents(ctx, 1);
  await ctx.send({ type: 'QUERY', payload: { query: {} } }, OWN).done;
  assert.match(ctx.fetch.calls.at(-1).url, /^\/api\/events\?since=/, 'only what is new');
  assert.equal(ctx.statsCalls[1].events.length, 4);
  assert.equal(ctx.statsCalls[1].options.range, 7, 'default range');
});

test('QUERY for a visitor without a user cookie is empty, not an error', async () => {
  const ctx = setup();
  const { replies, done } = ctx.send({ type: 'QUERY', payload: { query: {} } }, OWN);
  await done;
  assert.equal(replies[0].type, 'QUERY_SUCCESS');
  assert.deepEqual(ctx.statsCalls[0].events, []);
});

test('EXPORT gives the decrypted events per account with the receive time of their ULID', async () => {
  const ctx = setup();
  await optedInWithEvents(ctx, 2);
  const { replies, done } = ctx.send({ type: 'EXPORT', payload: null }, OWN);
  await done;
  assert.equal(replies[0].type, 'EXPORT_SUCCESS');
  const doc = replies[0].payload.export;
  assert.equal(doc.exportedAt, '2024-03-01T12:00:00.000Z');
  assert.equal(doc.origin, OWN);
  assert.equal(doc.consent, 'allow');
  assert.deepEqual(Object.keys(doc.accounts), ['acc-1']);
  const [first] = doc.accounts['acc-1'];
  assert.equal(first.eventId, ctx.server.state.events[0].eventId);
  assert.equal(first.receivedAt, '2024-03-01T11:00:00.000Z', 'the time in the ULID');
  assert.equal(first.href, 'https://www.site.test/0');
  assert.equal(first.geo, 'PT');
  assert.doesNotThrow(() => JSON.parse(JSON.stringify(doc)));
});

test('PURGE deletes server and local data, keeps consent and secrets', async () => {
  const ctx = setup();
  await optedInWithEvents(ctx, 2);
  await ctx.send({ type: 'QUERY', payload: { query: {} } }, OWN).done;
  const { replies, done } = ctx.send({ type: 'PURGE', payload: { query: {} } }, OWN);
  await done;
  assert.equal(replies[0].type, 'PURGE_SUCCESS');
  assert.equal(replies[0].payload.result.pageviews, 0);
  assert.deepEqual(ctx.server.state.events, []);
  assert.ok(ctx.fetch.calls.some((c) => c.method === 'POST' && c.url === '/api/purge'));
  assert.equal(ctx.jar.jar.get('consent').value, 'allow');
  assert.ok(ctx.idb.dump('acc-1', 'keys').length, 'still opted in: the secret stays');
  await optedInWithEvents(ctx, 1);
  assert.equal(ctx.server.state.events.length, 1, 'collection goes on');
});

test('EXPRESS_CONSENT deny: server purge with ?user=1, local data, secrets and session ids gone', async () => {
  const ctx = setup();
  await optedInWithEvents(ctx, 2);
  await ctx.send({ type: 'QUERY', payload: { query: {} } }, OWN).done;
  const { replies, done } = ctx.send({ type: 'EXPRESS_CONSENT', payload: { status: 'deny' } }, OWN);
  await done;
  assert.deepEqual(replies, [{ type: 'EXPRESS_CONSENT_SUCCESS', payload: { status: 'deny', allowsCookies: true } }]);
  assert.ok(ctx.fetch.calls.some((c) => c.method === 'POST' && c.url === '/api/purge?user=1'));
  assert.deepEqual(ctx.server.state.events, []);
  assert.equal(ctx.server.state.userCookie, null);
  assert.deepEqual(ctx.jar.names(), ['consent']);
  assert.deepEqual(ctx.idb.dump('acc-1', 'keys'), []);
  assert.ok(!ctx.idb.names().includes('user'));
  const before = ctx.fetch.calls.length;
  await ctx.send(pageview()).done;
  assert.equal(ctx.fetch.calls.length, before, 'no more collection');
});

test('EXPRESS_CONSENT deny without server data tolerates the 400; allow; bad status; CONSENT_STATUS', async () => {
  const ctx = setup();
  let r = ctx.send({ type: 'CONSENT_STATUS', payload: null }, OWN);
  await r.done;
  assert.deepEqual(r.replies, [{ type: 'CONSENT_STATUS_SUCCESS', payload: { status: null, allowsCookies: true } }]);
  r = ctx.send({ type: 'EXPRESS_CONSENT', payload: { status: 'deny' } }, OWN);
  await r.done;
  assert.equal(r.replies[0].type, 'EXPRESS_CONSENT_SUCCESS');
  r = ctx.send({ type: 'EXPRESS_CONSENT', payload: { status: 'allow' } }, OWN);
  await r.done;
  assert.deepEqual(r.replies[0].payload, { status: 'allow', allowsCookies: true });
  assert.equal(ctx.fetch.calls.length, 1, 'opting in makes no request by itself');
  r = ctx.send({ type: 'EXPRESS_CONSENT', payload: { status: 'maybe' } }, OWN);
  await r.done;
  assert.equal(r.replies[0].type, 'ERROR');
});

test('the overlay rule: a plain link only when the top-level page is known to be same-site', () => {
  assert.equal(sameSite('https://www.example.org', 'https://offen.example.org'), true);
  assert.equal(sameSite('https://example.org', 'https://offen.example.org'), true);
  assert.equal(sameSite('https://a.b.example.org', 'https://offen.example.org'), true);
  assert.equal(sameSite('https://www.other.org', 'https://offen.example.org'), false);
  assert.equal(sameSite('http://www.example.org', 'https://offen.example.org'), false, 'schemeful');
  assert.equal(sameSite('https://offen.test', 'https://offen.test'), true);
  assert.equal(sameSite('https://site.test', 'https://offen.test'), false);
  assert.equal(sameSite('http://localhost:8081', 'http://127.0.0.1:8080'), false);
  const jar = cookieJar();
  const cookies = cookiesWith({ document: jar.doc, location: { protocol: 'https:' } });
  const rule = (ancestorOrigins, c = cookies) => overlayRuleWith({ location: { origin: 'https://offen.example.org', ancestorOrigins }, cookies: c })();
  assert.equal(rule(undefined), true, 'unknown (Firefox): overlay');
  assert.equal(rule([]), false, 'top level: plain link');
  assert.equal(rule(['https://www.example.org']), false, 'same site: plain link');
  assert.equal(rule(['https://www.other.org']), true, 'cross-site: overlay');
  const chips = cookiesWith({ document: cookieJar({ blockUnpartitioned: true }).doc, location: { protocol: 'https:' } });
  assert.equal(rule(['https://www.example.org'], chips), true, 'only partitioned cookies stick: overlay');
});

test('locale and links', () => {
  const doc = fakeDocument();
  doc.documentElement.setAttribute('lang', '{{lang}}');
  assert.equal(localeOf({ href: 'https://o/vault?accountId=a' }, doc), null, 'an unreplaced template is no locale');
  doc.documentElement.setAttribute('lang', 'fr');
  assert.equal(localeOf({ href: 'https://o/vault?accountId=a' }, doc), 'fr');
  assert.equal(localeOf({ href: 'https://o/vault?locale=vi' }, doc), 'vi');
  assert.deepEqual(bannerLinks(null), {
    learnMore: { href: '/', overlayUrl: '/auditorium/?embedded=1' },
    auditorium: { href: '/auditorium/', overlayUrl: '/auditorium/?embedded=1' },
  });
  assert.equal(bannerLinks('pt').auditorium.overlayUrl, '/auditorium/?embedded=1&locale=pt');
});

test('with the real WebCrypto code: the account key opens the visitor secret, which opens the event', async () => {
  const fixture = JSON.parse(await readFile(new URL('../../tests/fixtures/keys/x25519-1.json', import.meta.url), 'utf8'));
  const crypto = webCryptoWith(globalThis.crypto);
  const ctx = setup({ crypto, publicKey: fixture.public });
  ctx.jar.doc.cookie = 'consent=allow; Path=/';
  const { replies, done } = ctx.send(pageview('https://www.site.test/real'));
  await done;
  assert.deepEqual(replies, [null]);
  const wrapped = ctx.fetch.calls.find((c) => c.method === 'POST' && c.url === '/api/exchange').body.encryptedSecret;
  assert.match(wrapped, /^\{2,\} /);
  const secret = await crypto.unwrapUserSecret(fixture.private, wrapped);
  const [event] = ctx.server.state.events;
  assert.match(event.payload, /^\{1,\} /);
  const payload = await crypto.decryptJSON(secret, event.payload);
  assert.equal(payload.href, 'https://www.site.test/real');
  assert.equal(payload.referrer, 'https://ref.test/x');
  // and the visitor's own query reads it back
  await ctx.send({ type: 'QUERY', payload: { query: {} } }, OWN).done;
  assert.equal(ctx.statsCalls[0].events[0].payload.href, 'https://www.site.test/real');
});

test('start(): the browser wiring with lazy imports (i18n, zones, real crypto) over a fake scope', async () => {
  const { start } = await import('../vault/main.js');
  const fixture = JSON.parse(await readFile(new URL('../../tests/fixtures/keys/x25519-1.json', import.meta.url), 'utf8'));
  const jar = cookieJar();
  const server = fakeServer({ consentCookie: () => (jar.jar.get('consent') || {}).value });
  const fetch = recordingFetch(async (method, url, body) =>
    method === 'GET' && url.startsWith('/api/exchange') ? [200, { publicKey: fixture.public }] : server.routes(method, url, body),
  );
  const document = fakeDocument();
  Object.defineProperty(document, 'cookie', { get: () => jar.doc.cookie, set: (v) => (jar.doc.cookie = v) });
  const window = fakeWindow();
  const scope = {
    window,
    document,
    location: { origin: OWN, href: `${OWN}/vault?accountId=acc-1`, protocol: 'https:', ancestorOrigins: [HOST] },
    fetch,
    indexedDB: fakeIndexedDB(),
    crypto: globalThis.crypto,
  };
  start(scope);
  assert.equal(window.listeners.message.length, 1);
  const replies = [];
  const done = window.listeners.message[0]({ data: pageview(), origin: HOST, ports: [{ postMessage: (m) => replies.push(m) }] });
  for (let i = 0; i < 50 && !byTestId(document.documentElement, 'banner/allow'); i++) await tick(10);
  const allow = byTestId(document.documentElement, 'banner/allow');
  assert.equal(allow.textContent, 'I allow', 'text from the shared English catalogue');
  assert.deepEqual(fetch.calls, []);
  allow.click();
  await done;
  assert.equal(replies.at(-1), null);
  assert.equal(server.state.events.length, 1);
  assert.match(server.state.events[0].payload, /^\{1,\} /);
});

test('QUERY with the shared statistics module: the visitor\'s own metrics', async () => {
  const { computeStats } = await import('../shared/stats.js');
  const ctx = setup({ stats: computeStats });
  await optedInWithEvents(ctx, 3);
  const { replies, done } = ctx.send({ type: 'QUERY', payload: { query: { range: 7, resolution: 'days' } } }, OWN);
  await done;
  assert.equal(replies[0].type, 'QUERY_SUCCESS', JSON.stringify(replies[0]));
  const { result } = replies[0].payload;
  assert.equal(result.uniqueSessions, 1);
  assert.equal(result.uniqueAccounts, 1);
  assert.equal(result.perspective, 'visitor');
  assert.equal(result.retentionDays, 30);
});

test('ulidTime reads the spec example and refuses junk', async () => {
  const { ulidTime } = await import('../vault/visitor-data.js');
  // The decodeTime example of the ULID specification (checked against python-ulid too).
  assert.equal(ulidTime('01ARYZ6S41TSV4RRFFQ69G5FAV').getTime(), 1469918176385);
  assert.equal(ulidTime('01ARZ3NDEKTSV4RRFFQ69G5FAV').getTime(), 1469922850259);
  assert.equal(ulidTime('short'), null);
  assert.equal(ulidTime('01ARZ3NDEU!SV4RRFFQ69G5FAV'.replace('U', '!')), null);
});

test('cross-site with IndexedDB refused: the secret survives page loads in a partitioned cookie; opt-out removes it', async () => {
  const crossSite = { jarOptions: { blockUnpartitioned: true }, idbOptions: { failOpen: true }, ancestors: ['https://www.other.test'] };
  const first = setup(crossSite);
  first.jar.doc.cookie = 'consent=allow; Path=/; SameSite=None; Secure; Partitioned';
  await first.send(pageview('https://www.site.test/0')).done;
  assert.deepEqual(paths(first.fetch), ['GET /api/exchange?accountId=acc-1', 'POST /api/exchange', 'POST /api/events']);
  const cookie = first.jar.jar.get('USER_SECRET-acc-1');
  assert.equal(cookie.attributes.path, '/vault');
  assert.equal(cookie.attributes.partitioned, true);
  assert.deepEqual(first.idb.names(), [], 'no database was made');

  // The next full page load: a new vault document, same browser and server. No new exchange.
  const second = setup({ ...crossSite, reuse: first });
  await second.send(pageview('https://www.other.test/next')).done;
  assert.deepEqual(paths(second.fetch), ['POST /api/events']);
  assert.equal(second.server.state.secrets.size, 1, 'the server never parked a secret');

  // The overlay auditorium (a third vault document) reads both events with the cookie-held secret.
  const auditorium = setup({ ...crossSite, reuse: first });
  const { replies, done } = auditorium.send({ type: 'QUERY', payload: { query: {} } }, OWN);
  await done;
  assert.equal(replies[0].payload.result.pageviews, 2);
  assert.deepEqual(
    auditorium.statsCalls[0].events.map((e) => e.payload.href),
    ['https://www.site.test/0', 'https://www.other.test/next'],
  );

  await auditorium.send({ type: 'EXPRESS_CONSENT', payload: { status: 'deny' } }, OWN).done;
  assert.deepEqual(auditorium.jar.names(), ['consent'], 'secret cookie and session ids gone');
});
