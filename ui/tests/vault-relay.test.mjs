import { test } from 'node:test';
import assert from 'node:assert/strict';

import { apiWith, ApiError } from '../vault/api.js';
import { cookiesWith } from '../vault/cookies.js';
import { duplexerWith, relayWith, stripQuery } from '../vault/relay.js';
import { storageWith } from '../vault/storage.js';
import { userSecretWith } from '../vault/user-secret.js';
import { countryForTimeZone } from '../vault/zones.js';
import { cookieJar, fakeCrypto, fakeIndexedDB, fakeServer, recordingFetch } from './vault-fakes.mjs';

function setup({ routes } = {}) {
  const server = fakeServer();
  const fetch = recordingFetch(routes || server.routes);
  const api = apiWith(fetch);
  const storage = storageWith(fakeIndexedDB());
  const crypto = fakeCrypto();
  const getCrypto = async () => crypto;
  const userSecret = userSecretWith({ api, storage, getCrypto });
  const relay = relayWith({ api, userSecret, getCrypto });
  return { server, fetch, api, storage, userSecret, relay };
}

const calls = (fetch) => fetch.calls.map((c) => `${c.method} ${c.url}`);

test('api: JSON string bodies, credentials included, no Content-Type; errors carry the status', async () => {
  const fetch = recordingFetch(async () => [400, { error: 'nope', status: 400 }]);
  const api = apiWith(fetch);
  await assert.rejects(api.postEvent('a', 'p'), (err) => err instanceof ApiError && err.status === 400 && err.message === 'nope');
  const [call] = fetch.calls;
  assert.equal(call.init.credentials, 'include');
  assert.equal(typeof call.init.body, 'string');
  assert.equal(call.init.headers, undefined);
  assert.deepEqual(call.body, { accountId: 'a', payload: 'p' });
  const broken = apiWith(async () => {
    throw new TypeError('offline');
  });
  await assert.rejects(broken.getEvents(), (err) => err.status === 0);
  const ok = recordingFetch(async () => [200, { events: {} }]);
  await apiWith(ok).getEvents('01 H');
  await apiWith(ok).purge({ user: true });
  assert.deepEqual(calls(ok), ['GET /api/events?since=01%20H', 'POST /api/purge?user=1']);
});

test('first event: exchange (GET public key, POST wrapped secret) then the encrypted event', async () => {
  const { server, fetch, relay, storage } = setup();
  await relay.send('acc-1', { type: 'PAGEVIEW', href: 'https://site/' });
  assert.deepEqual(calls(fetch), ['GET /api/exchange?accountId=acc-1', 'POST /api/exchange', 'POST /api/events']);
  const secret = await storage.getUserSecret('acc-1');
  assert.deepEqual(fetch.calls[1].body, { accountId: 'acc-1', encryptedSecret: `wrapped(pk-acc-1:${JSON.stringify(secret)})` });
  assert.equal(server.state.events.length, 1);
  assert.equal(server.state.events[0].payload, `enc:${secret.k}:{"type":"PAGEVIEW","href":"https://site/"}`);
  await relay.send('acc-1', { type: 'PAGEVIEW', href: 'https://site/2' });
  assert.equal(fetch.calls.length, 4, 'the second event reuses the secret');
});

test('a 400 from POST /api/events drops the secret and redoes the exchange once', async () => {
  const { server, fetch, relay, storage } = setup();
  await relay.send('acc-1', { href: 'https://site/' });
  const first = await storage.getUserSecret('acc-1');
  server.state.userCookie = null; // the user cookie expired
  await relay.send('acc-1', { href: 'https://site/again' });
  assert.deepEqual(calls(fetch).slice(3), [
    'POST /api/events',
    'GET /api/exchange?accountId=acc-1',
    'POST /api/exchange',
    'POST /api/events',
  ]);
  const second = await storage.getUserSecret('acc-1');
  assert.notDeepEqual(second, first);
  assert.equal(server.state.events.length, 2);
});

test('a second 400 is reported, not retried forever', async () => {
  const { fetch, relay } = setup({
    routes: async (method, url) => {
      if (url.startsWith('/api/exchange')) return method === 'GET' ? [200, { publicKey: { kid: 'k' } }] : [204, undefined];
      return [400, { error: 'no secret', status: 400 }];
    },
  });
  await assert.rejects(relay.send('a', { href: 'https://s/' }), (err) => err.status === 400);
  assert.equal(fetch.calls.filter((c) => c.url === '/api/events').length, 2);
  assert.equal(fetch.calls.filter((c) => c.method === 'POST' && c.url === '/api/exchange').length, 2);
});

test('other failures are not retried; the secret is kept', async () => {
  let fail = false;
  const server = fakeServer();
  const { fetch, relay, storage } = setup({
    routes: async (method, url, body) => (fail && url === '/api/events' ? [500, { error: 'boom', status: 500 }] : server.routes(method, url, body)),
  });
  await relay.send('a', { href: 'https://s/' });
  fail = true;
  await assert.rejects(relay.send('a', { href: 'https://s/' }), (err) => err.status === 500);
  assert.ok(await storage.getUserSecret('a'));
  assert.equal(fetch.calls.length, 4);
});

test('concurrent first events share one exchange', async () => {
  const { fetch, relay, server } = setup();
  await Promise.all([relay.send('a', { href: 'https://s/1' }), relay.send('a', { href: 'https://s/2' })]);
  assert.equal(fetch.calls.filter((c) => c.method === 'POST' && c.url === '/api/exchange').length, 1);
  assert.equal(server.state.events.length, 2);
});

test('an unknown account fails at the exchange and stores nothing', async () => {
  const { relay, storage, fetch } = setup();
  await assert.rejects(relay.send('acc-retired', { href: 'https://s/' }), (err) => err.status === 400);
  assert.equal(await storage.getUserSecret('acc-retired'), null);
  assert.deepEqual(calls(fetch), ['GET /api/exchange?accountId=acc-retired']);
});

function duplexer(jar, extra = {}) {
  const cookies = cookiesWith({ document: jar.doc, location: { protocol: 'https:' } });
  let n = 0;
  return duplexerWith({
    cookies,
    now: () => new Date('2024-03-01T12:00:00.000Z'),
    timeZone: () => 'Europe/Berlin',
    countryForTimeZone,
    randomUUID: () => `uuid-${++n}`,
    ...extra,
  });
}

test('duplexer: vault-owned fields, referrer query stripped, host extras dropped', async () => {
  const jar = cookieJar();
  const duplex = duplexer(jar);
  const event = await duplex('acc-1', {
    type: 'PAGEVIEW',
    href: 'https://www.site.test/a?b=1',
    rawHref: null,
    referrer: 'https://search.test/q?term=secret#x',
    pageload: 120,
    isMobile: false,
    timestamp: '1999-01-01T00:00:00Z',
    sessionId: 'forged',
    geo: 'XX',
    userAgent: 'sneaky',
  });
  assert.deepEqual(event, {
    type: 'PAGEVIEW',
    href: 'https://www.site.test/a?b=1',
    rawHref: null,
    referrer: 'https://search.test/q#x',
    pageload: 120,
    isMobile: false,
    timestamp: '2024-03-01T12:00:00.000Z',
    sessionId: 'uuid-1',
    geo: 'DE',
  });
  assert.equal(jar.jar.get('session-acc-1').value, 'uuid-1');
  assert.equal(jar.jar.get('session-acc-1').attributes.expires, undefined, 'a session cookie');
  assert.equal((await duplex('acc-1', { href: 'https://s/' })).sessionId, 'uuid-1');
  assert.equal((await duplex('acc-2', { href: 'https://s/' })).sessionId, 'uuid-2', 'one session id per account');
});

test('duplexer: unknown zone gives geo null; bad events are refused', async () => {
  const duplex = duplexer(cookieJar(), { timeZone: () => 'UTC' });
  assert.equal((await duplex('a', { href: 'https://s/', referrer: 'not a url' })).geo, null);
  assert.equal((await duplex('a', { href: 'https://s/', referrer: 'not a url' })).referrer, '');
  await assert.rejects(duplex('a', { type: 'CLICK', href: 'https://s/' }), (err) => err.status === 400);
  await assert.rejects(duplex('a', { href: 'javascript-free but not a url' }), (err) => err.status === 400);
  await assert.rejects(duplex('a', { href: 'https://s/' + 'x'.repeat(2000) }), (err) => err.status === 400);
  await assert.rejects(duplex('a', null), (err) => err.status === 400);
  assert.equal(stripQuery(''), '');
});
