// Unit tests of ui/operator/engine/decrypt-worker.js run in-process on Node's WebCrypto (the factory is
// the worker's body without the Worker around it). Secrets and events are made by the vault's own crypto,
// so these also check that the worker's fast unwrap path reads exactly what the vault writes.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import { decryptWorker, keyStore } from '../operator/engine/decrypt-worker.js';
import { deriveCacheKeys, openWrappedSecret, sealWrappedSecret } from '../operator/engine/shared-cache.js';
import { webCryptoWith } from '../vault/crypto.js';

const root = new URL('../../tests/fixtures/keys/', import.meta.url);
const keyFile = (name) => JSON.parse(readFileSync(new URL(name, root), 'utf8'));
const vault = webCryptoWith(globalThis.crypto);
const subtle = globalThis.crypto.subtle;
const ACCOUNT = '9b63c4d8-78a6-4a6c-a3c0-bd8d8a5e2f10';
const kek = { kty: 'oct', k: Buffer.from(new Uint8Array(32).fill(3)).toString('base64url') };
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const ulid = (ms, tail) => {
  let t = '';
  for (let i = 0, v = ms; i < 10; i++, v = Math.floor(v / 32)) t = CROCKFORD[v % 32] + t;
  return t + String(tail).padStart(16, '0');
};
const secretIdOf = (n) => createHash('sha256').update(`visitor-${n}`).digest('hex');

async function makeVisitors(publicJwk, count, eventsEach) {
  const secrets = {};
  const jwks = {};
  const events = [];
  for (let v = 0; v < count; v++) {
    const secretId = secretIdOf(v);
    const jwk = await vault.createUserSecret();
    jwks[secretId] = jwk;
    secrets[secretId] = await vault.wrapUserSecret(publicJwk, jwk);
    for (let e = 0; e < eventsEach; e++) {
      const payload = {
        type: 'PAGEVIEW',
        href: `https://site.example/p${e}/`,
        rawHref: e === 0 ? `https://site.example/p0/?utm_campaign=spring&utm_source=news` : null,
        referrer: e === 0 ? 'https://www.google.com/' : `https://site.example/p${e - 1}/`,
        pageload: 100 + v,
        isMobile: v % 2 === 0,
        timestamp: '2026-11-20T10:00:00.000Z',
        sessionId: `s-${v}`,
        geo: 'DE',
      };
      events.push({ eventId: ulid(Date.UTC(2026, 10, 20, 10, v, e), v * 10 + e), secretId, payload: await vault.encryptJSON(jwk, payload) });
    }
  }
  return { secrets, jwks, events };
}

for (const [type, file] of [['x25519', 'x25519-1.json'], ['rsa', 'rsa-1.json']]) {
  describe(`decrypt worker, ${type} account`, () => {
    it('unwraps with the account key, decrypts and parses, and re-wraps for the shared cache', async () => {
      const pair = keyFile(file);
      const worker = decryptWorker({ subtle });
      assert.deepEqual(await worker.init({ accountId: ACCOUNT, privateJwk: pair.private, keyEncryptionKey: kek }), { type });
      const { secrets, jwks, events } = await makeVisitors(pair.public, 3, 2);
      const out = await worker.decrypt({ events, secrets });
      assert.equal(out.report.unwrapped, 3);
      assert.equal(out.report.badEvents, 0);
      assert.equal(out.parsed.length, 6);
      const first = out.parsed.find((p) => p.eventId === events[0].eventId);
      assert.equal(first.url, 'https://site.example/p0/');
      assert.equal(first.referrer, 'Google');
      assert.deepEqual(first.query, ['spring', 'news'], 'the tags the table keeps, cloneable');
      assert.equal(out.parsed.find((p) => p.eventId === events[1].eventId).query[0], null);
      assert.equal(first.accountId, ACCOUNT);
      // The re-wraps open to the visitors' keys under the account's shared-cache key.
      const cacheKeys = await deriveCacheKeys(subtle, kek, ACCOUNT);
      for (const [secretId, text] of Object.entries(out.rewrapped)) {
        assert.equal((await openWrappedSecret(subtle, cacheKeys, ACCOUNT, secretId, text)).k, jwks[secretId].k);
      }
      assert.equal(Object.keys(out.rewrapped).length, 3);
      assert.ok(out.intervals.keyAgreement[1] >= out.intervals.keyAgreement[0]);
    });

    it('prefers a shared re-wrap, ignores a forged one, and reports visitors without any secret', async () => {
      const pair = keyFile(file);
      const worker = decryptWorker({ subtle });
      await worker.init({ accountId: ACCOUNT, privateJwk: pair.private, keyEncryptionKey: kek });
      const { secrets, jwks, events } = await makeVisitors(pair.public, 3, 1);
      const cacheKeys = await deriveCacheKeys(subtle, kek, ACCOUNT);
      const [a, b, c] = Object.keys(secrets);
      const shared = {
        [a]: await sealWrappedSecret(subtle, cacheKeys, ACCOUNT, a, jwks[a]),
        // A record the server moved from visitor a to visitor b: its AAD names a, so it fails.
        [b]: await sealWrappedSecret(subtle, cacheKeys, ACCOUNT, a, jwks[a]),
      };
      const out = await worker.decrypt({ events, shared, secrets: { [b]: secrets[b] } });
      assert.equal(out.report.fromShared, 1);
      assert.equal(out.report.forged, 1);
      assert.equal(out.report.unwrapped, 1, 'b falls back to the account-wrapped secret');
      assert.deepEqual(out.report.missing, [c]);
      assert.equal(out.parsed.length, 2);
      assert.deepEqual(Object.keys(out.rewrapped), [b]);
      // Later batches reuse the keys the worker holds, and c can still arrive.
      const again = await worker.decrypt({ events, secrets: { [c]: secrets[c] } });
      assert.equal(again.parsed.length, 3);
      assert.equal(again.report.unwrapped, 1);
      assert.equal(worker.knownSecrets(), 3);
    });

    it('keeps CryptoKeys only for the visitors seen last, and still decrypts the others', async () => {
      const pair = keyFile(file);
      const worker = decryptWorker({ subtle, keyCache: 2 });
      await worker.init({ accountId: ACCOUNT, privateJwk: pair.private, keyEncryptionKey: kek });
      const { secrets, events } = await makeVisitors(pair.public, 5, 2);
      const out = await worker.decrypt({ events, secrets });
      assert.equal(out.parsed.length, 10);
      assert.equal(worker.cachedKeys(), 2, 'a bounded number of CryptoKeys');
      assert.equal(worker.knownSecrets(), 5, 'every visitor secret is still known');
      // A later page of the same visitors: no unwrap again, every event decrypts through a re-import.
      const again = await worker.decrypt({ events });
      assert.equal(again.report.unwrapped, 0);
      assert.equal(again.report.missing.length, 0);
      assert.deepEqual(
        again.parsed.map((p) => p.eventId).sort(),
        events.map((e) => e.eventId).sort(),
      );
    });

    it('unwraps a visitor once when two batches name it at the same time', async () => {
      const pair = keyFile(file);
      const worker = decryptWorker({ subtle });
      await worker.init({ accountId: ACCOUNT, privateJwk: pair.private, keyEncryptionKey: kek });
      const { secrets, events } = await makeVisitors(pair.public, 2, 2);
      const [first, second] = await Promise.all([
        worker.decrypt({ events: events.slice(0, 2), secrets }),
        worker.decrypt({ events: events.slice(2), secrets }),
      ]);
      assert.equal(first.report.unwrapped + second.report.unwrapped, 2);
      assert.equal(first.parsed.length + second.parsed.length, 4);
      assert.deepEqual([...first.report.missing, ...second.report.missing], []);
    });

    it('hands its visitor keys to a fresh worker, which then needs no unwrap', async () => {
      const pair = keyFile(file);
      const first = decryptWorker({ subtle });
      await first.init({ accountId: ACCOUNT, privateJwk: pair.private, keyEncryptionKey: kek });
      const { secrets, events } = await makeVisitors(pair.public, 3, 2);
      const out = await first.decrypt({ events, secrets });
      // Key agreement makes three CryptoKeys per visitor (X25519 only); each visitor's AES key one more.
      assert.equal(out.report.keysMade, (type === 'x25519' ? 3 * 3 : 0) + 3);
      const exported = structuredClone(first.exportKeys());
      assert.equal(exported.ids.length, 3);
      const fresh = decryptWorker({ subtle });
      await fresh.init({ accountId: ACCOUNT, privateJwk: pair.private, keyEncryptionKey: kek });
      assert.deepEqual(fresh.importKeys(exported), { imported: 3 });
      const again = await fresh.decrypt({ events });
      assert.equal(again.report.unwrapped, 0);
      assert.deepEqual(again.report.missing, []);
      assert.deepEqual(
        again.parsed.map((p) => [p.eventId, p.url]),
        out.parsed.map((p) => [p.eventId, p.url]),
      );
    });

    it('counts tampered events and secrets without stopping', async () => {
      const pair = keyFile(file);
      const worker = decryptWorker({ subtle });
      await worker.init({ accountId: ACCOUNT, privateJwk: pair.private, keyEncryptionKey: kek });
      const { secrets, events } = await makeVisitors(pair.public, 2, 2);
      const [a, b] = Object.keys(secrets);
      const broken = secrets[b].replace(/ (.)/, (_, ch) => ' ' + (ch === 'A' ? 'B' : 'A'));
      events[0].payload = events[0].payload.replace(/ (.)/, (_, ch) => ' ' + (ch === 'A' ? 'B' : 'A'));
      const out = await worker.decrypt({ events, secrets: { [a]: secrets[a], [b]: broken } });
      assert.equal(out.report.badSecrets, 1);
      assert.equal(out.report.badEvents, 3, 'one tampered event of a, both events of b');
      assert.equal(out.parsed.length, 1);
    });
  });
}

describe('key store', () => {
  it('grows past its first buffer, keeps each key length, and survives export and import', () => {
    const store = keyStore();
    const raw = (n, length) => new Uint8Array(length).map((_, i) => (n * 7 + i) & 0xff);
    for (let n = 0; n < 3000; n++) store.put(secretIdOf(n), raw(n, [16, 24, 32][n % 3]));
    store.put(secretIdOf(3000), null);
    assert.equal(store.size, 3001);
    assert.deepEqual(store.get(secretIdOf(2999)), raw(2999, 32));
    assert.equal(store.get(secretIdOf(3000)), null, 'unusable');
    assert.equal(store.get(secretIdOf(3001)), undefined, 'unknown');
    const copy = keyStore();
    assert.equal(copy.import(structuredClone(store.export())), 3001);
    for (const n of [0, 1, 2, 1023, 1024, 2048, 2999]) assert.deepEqual(copy.get(secretIdOf(n)), raw(n, [16, 24, 32][n % 3]));
    assert.equal(copy.get(secretIdOf(3000)), null);
    // A later, usable secret for a visitor that failed before replaces the failure.
    copy.put(secretIdOf(3000), raw(1, 16));
    assert.deepEqual(copy.get(secretIdOf(3000)), raw(1, 16));
  });
});
