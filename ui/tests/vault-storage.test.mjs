import { test } from 'node:test';
import assert from 'node:assert/strict';

import { storageWith } from '../vault/storage.js';
import { fakeIndexedDB } from './vault-fakes.mjs';

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
