import { test } from 'node:test';
import assert from 'node:assert/strict';

import { storageWith } from '../vault/storage.js';
import { cookiesWith } from '../vault/cookies.js';
import { cookieJar, fakeIndexedDB } from './vault-fakes.mjs';

const event = (accountId, eventId, href) => ({ accountId, eventId, secretId: 'local', payload: { type: 'PAGEVIEW', href } });

test('secrets live in a database per account with Offen\'s schema (version 30, keys by type)', async () => {
  const idb = fakeIndexedDB();
  const storage = storageWith(idb);
  assert.equal(await storage.backend(), 'indexeddb');
  assert.equal(await storage.getUserSecret('acc-1'), null);
  await storage.putUserSecret('acc-1', { kty: 'oct', k: 'one' });
  await storage.putUserSecret('acc-1', { kty: 'oct', k: 'two' });
  await storage.putUserSecret('acc-2', { kty: 'oct', k: 'three' });
  assert.deepEqual(await storage.getUserSecret('acc-1'), { kty: 'oct', k: 'two' });
  assert.deepEqual(idb.dump('acc-1', 'keys'), [{ type: 'USER_SECRET', value: { kty: 'oct', k: 'two' } }], 'replaced, not piled up');
  assert.deepEqual(idb.dump('acc-2', 'keys'), [{ type: 'USER_SECRET', value: { kty: 'oct', k: 'three' } }]);
  const dbs = await idb.databases();
  assert.ok(dbs.every((d) => d.version === 30));
  await storage.deleteUserSecret('acc-1');
  assert.equal(await storage.getUserSecret('acc-1'), null);
  assert.deepEqual(await storage.getUserSecret('acc-2'), { kty: 'oct', k: 'three' });
});

test('the user database caches decrypted events and the sync checkpoint', async () => {
  const idb = fakeIndexedDB();
  const storage = storageWith(idb);
  await storage.putUserEvents([event('a', 'E1', 'https://x/1'), event('b', 'E2', 'https://x/2')]);
  await storage.putUserEvents([event('a', 'E1', 'https://x/1')]);
  await storage.putCheckpoint('S1');
  assert.equal((await storage.getUserEvents()).length, 2);
  assert.equal(await storage.getCheckpoint(), 'S1');
  await storage.deleteUserEvents(['E1']);
  assert.deepEqual((await storage.getUserEvents()).map((e) => e.eventId), ['E2']);
  await storage.clearUserEvents();
  assert.deepEqual(await storage.getUserEvents(), []);
  assert.equal(await storage.getCheckpoint(), null);
});

test('forgetEverything drops the user database and every secret', async () => {
  const idb = fakeIndexedDB();
  const storage = storageWith(idb);
  await storage.putUserSecret('acc-1', { k: '1' });
  await storage.putUserEvents([event('acc-1', 'E1', 'https://x/')]);
  await storage.forgetEverything();
  assert.ok(!idb.names().includes('user'), 'user database deleted');
  assert.deepEqual(idb.dump('acc-1', 'keys'), []);
  assert.equal(await storage.getUserSecret('acc-1'), null);
  assert.deepEqual(await storage.getUserEvents(), []);
});

test('falls back to memory when IndexedDB cannot be opened (private windows)', async () => {
  const idb = fakeIndexedDB({ failOpen: true });
  const storage = storageWith(idb);
  await storage.putUserSecret('acc-1', { k: 'mem' });
  assert.equal(await storage.backend(), 'memory');
  assert.deepEqual(await storage.getUserSecret('acc-1'), { k: 'mem' });
  await storage.putUserEvents([event('acc-1', 'E1', 'https://x/')]);
  await storage.putCheckpoint('S9');
  assert.equal(await storage.getCheckpoint(), 'S9');
  assert.deepEqual(await storage.secretAccounts(), ['acc-1']);
  await storage.forgetEverything();
  assert.equal(await storage.getUserSecret('acc-1'), null);
  assert.deepEqual(await storage.getUserEvents(), []);
  assert.deepEqual(idb.names(), []);
});

test('no IndexedDB at all is the memory store', async () => {
  const storage = storageWith(undefined);
  assert.equal(storage.kind, 'memory');
  await storage.putUserSecret('a', { k: 'x' });
  assert.deepEqual(await storage.getUserSecret('a'), { k: 'x' });
});

test('creating the storage opens nothing; only the first use does', async () => {
  const idb = fakeIndexedDB();
  storageWith(idb);
  await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(idb.log, []);
});

// ---------------------------------------------------------------- the USER_SECRET cookie fallback

const HALF_YEAR_S = String(186 * 24 * 3600);
const jwk = (k) => ({ kty: 'oct', k, alg: 'A128GCM', ext: true, key_ops: ['encrypt', 'decrypt'] });

function crossSite({ protocol = 'https:', failOpen = true } = {}) {
  // What Chromium gives a vault framed by another site with third-party cookies blocked:
  // IndexedDB refused, only partitioned cookies kept.
  const jar = cookieJar({ blockUnpartitioned: protocol === 'https:' });
  const cookies = cookiesWith({ document: jar.doc, location: { protocol } });
  const load = () => storageWith(fakeIndexedDB({ failOpen }), { cookies });
  return { jar, cookies, load };
}

test('IndexedDB refused: the secret lives in a partitioned USER_SECRET-<account> cookie and survives a page load', async () => {
  const { jar, load } = crossSite();
  const first = load();
  await first.putUserSecret('acc-1', jwk('one'));
  assert.equal(await first.backend(), 'cookie');
  const [write] = jar.writes.filter((c) => c.name === 'USER_SECRET-acc-1');
  assert.deepEqual(write.attributes, { path: '/vault', 'max-age': HALF_YEAR_S, samesite: 'None', secure: true, partitioned: true });
  assert.deepEqual(JSON.parse(decodeURIComponent(write.value)), jwk('one'));

  // The next page load is a new vault document with an empty memory.
  const second = load();
  assert.deepEqual(await second.getUserSecret('acc-1'), jwk('one'));
  assert.equal(await second.getUserSecret('acc-2'), null);
  await second.putUserSecret('acc-1', jwk('two'));
  assert.deepEqual(await load().getUserSecret('acc-1'), jwk('two'), 'replaced');
});

test('IndexedDB refused: events and the checkpoint stay in memory, never in a cookie', async () => {
  const { jar, load } = crossSite();
  const storage = load();
  await storage.putUserSecret('acc-1', jwk('one'));
  await storage.putUserEvents([event('acc-1', 'E1', 'https://x/1')]);
  await storage.putCheckpoint('S1');
  assert.deepEqual(jar.names(), ['USER_SECRET-acc-1']);
  const next = load();
  assert.deepEqual(await next.getUserEvents(), []);
  assert.equal(await next.getCheckpoint(), null);
});

test('IndexedDB refused: deleting a secret and forgetting everything expire the cookies', async () => {
  const { jar, load } = crossSite();
  const storage = load();
  await storage.putUserSecret('acc-1', jwk('one'));
  await storage.putUserSecret('acc-2', jwk('two'));
  jar.doc.cookie = 'consent=allow; Path=/; SameSite=None; Secure; Partitioned';
  assert.deepEqual((await load().secretAccounts()).sort(), ['acc-1', 'acc-2']);
  await storage.deleteUserSecret('acc-1');
  assert.equal(await load().getUserSecret('acc-1'), null);
  const removal = jar.writes.at(-1);
  assert.equal(removal.attributes.path, '/vault', 'the same path, or the browser keeps the cookie');
  assert.equal(removal.attributes.partitioned, true, 'the same partition');

  // Opt-out happens in a fresh vault document (the auditorium's): it still finds the cookies.
  const other = load();
  await other.putUserEvents([event('acc-2', 'E2', 'https://x/2')]);
  await other.forgetEverything();
  assert.deepEqual(jar.names(), ['consent']);
  assert.equal(await load().getUserSecret('acc-2'), null);
  assert.deepEqual(await other.getUserEvents(), []);
});

test('IndexedDB refused on a plain-http localhost set-up: SameSite=Lax, no Secure, no Partitioned', async () => {
  const { jar, load } = crossSite({ protocol: 'http:' });
  await load().putUserSecret('acc-1', jwk('one'));
  const [write] = jar.writes;
  assert.deepEqual(write.attributes, { path: '/vault', 'max-age': HALF_YEAR_S, samesite: 'Lax' });
  assert.deepEqual(await load().getUserSecret('acc-1'), jwk('one'));
});

test('with working IndexedDB the secret never goes to a cookie', async () => {
  const { jar, load } = crossSite({ failOpen: false });
  const storage = load();
  await storage.putUserSecret('acc-1', jwk('one'));
  await storage.forgetEverything();
  assert.equal(await storage.backend(), 'indexeddb');
  assert.deepEqual(jar.writes, []);
});

test('IndexedDB refused: an account id unfit for a cookie name keeps its secret in memory only', async () => {
  const { jar, load } = crossSite();
  const storage = load();
  await storage.putUserSecret('a;b=c', jwk('x'));
  assert.deepEqual(await storage.getUserSecret('a;b=c'), jwk('x'));
  assert.deepEqual(jar.writes, []);
  assert.equal(await load().getUserSecret('a;b=c'), null);
});

test('a USER_SECRET cookie that is not JSON counts as no secret', async () => {
  const { jar, load } = crossSite();
  jar.doc.cookie = 'USER_SECRET-acc-1=%7Bbroken; Path=/vault; SameSite=None; Secure; Partitioned';
  assert.equal(await load().getUserSecret('acc-1'), null);
});
