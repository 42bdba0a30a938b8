// Unit tests of ui/operator/engine/shared-cache.js (contract 3): round trips, and every way a record
// from an untrusted server can be wrong (another account, secret id, period or checkpoint, a flipped bit,
// another KEK, junk) must fail with CryptoError.

import assert from 'node:assert/strict';
import { createHash, hkdfSync, createDecipheriv } from 'node:crypto';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';

import {
  CryptoError,
  deriveCacheKeys,
  openRollup,
  openShared,
  openWrappedSecret,
  rollupAad,
  sealRollup,
  sealShared,
  sealWrappedSecret,
  wrappedSecretAad,
} from '../operator/engine/shared-cache.js';

const subtle = globalThis.crypto.subtle;
const b64url = (bytes) => Buffer.from(bytes).toString('base64url');
const kekRaw = new Uint8Array(32).map((_, i) => i + 1);
const kek = { kty: 'oct', k: b64url(kekRaw) };
const otherKek = { kty: 'oct', k: b64url(new Uint8Array(32).fill(7)) };
const account = '9b63c4d8-78a6-4a6c-a3c0-bd8d8a5e2f10';
const otherAccount = '0f1e2d3c-4b5a-4697-8877-665544332211';
const secretId = createHash('sha256').update('visitor-1').digest('hex');
const otherSecretId = createHash('sha256').update('visitor-2').digest('hex');
const visitorJwk = { alg: 'A128GCM', ext: true, k: b64url(new Uint8Array(16).fill(9)), key_ops: ['encrypt', 'decrypt'], kty: 'oct' };
const checkpoint = '01KB3Z4X5Y6Z7A8B9C0D1E2F3G';
const laterCheckpoint = '01KB3Z4X5Y6Z7A8B9C0D1E2F3H';
const block = { v: 1, day: '2026-11-20', checkpoint, columns: { eventId: ['01KB3Z4X5Y6Z7A8B9C0D1E2F30'], href: [0] }, dict: ['https://a.example/'] };

async function rejects(promise) {
  await assert.rejects(promise, (error) => error instanceof CryptoError);
}

function flip(text, chunk = 1) {
  const parts = text.split(' ');
  const bytes = Buffer.from(parts[chunk], 'base64');
  bytes[0] ^= 1;
  parts[chunk] = bytes.toString('base64');
  return parts.join(' ');
}

describe('cache keys', () => {
  it('are HKDF-SHA256 of the KEK with the account in the info, independent of each other', async () => {
    const keys = await deriveCacheKeys(subtle, kek, account);
    // Check the derivation against Node's own HKDF and AES-GCM, outside WebCrypto.
    const expected = Buffer.from(hkdfSync('sha256', kekRaw, new Uint8Array(0), `offen/wrapped-secrets/v1|${account}`, 32));
    const sealed = await sealWrappedSecret(subtle, keys, account, secretId, visitorJwk);
    const [, ct, nonce] = sealed.split(' ');
    const ctBytes = Buffer.from(ct, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', expected, Buffer.from(nonce, 'base64'));
    decipher.setAAD(Buffer.from(wrappedSecretAad(account, secretId)));
    decipher.setAuthTag(ctBytes.subarray(ctBytes.length - 16));
    const plain = Buffer.concat([decipher.update(ctBytes.subarray(0, ctBytes.length - 16)), decipher.final()]);
    assert.deepEqual(JSON.parse(plain), { kty: 'oct', k: visitorJwk.k });
  });

  it('refuse a KEK that is not 32 bytes', async () => {
    await rejects(deriveCacheKeys(subtle, { kty: 'oct', k: b64url(new Uint8Array(16)) }, account));
  });
});

describe('wrapped secrets', () => {
  it('round-trip to the bare oct JWK, in the {3,} format with a 12-byte nonce', async () => {
    const keys = await deriveCacheKeys(subtle, kek, account);
    const sealed = await sealWrappedSecret(subtle, keys, account, secretId, visitorJwk);
    assert.match(sealed, /^\{3,\} [A-Za-z0-9+/]+=* [A-Za-z0-9+/]+=*$/);
    assert.equal(Buffer.from(sealed.split(' ')[2], 'base64').length, 12);
    assert.deepEqual(await openWrappedSecret(subtle, keys, account, secretId, sealed), { kty: 'oct', k: visitorJwk.k });
  });

  it('fail when moved to another secret id or account, tampered, or under another KEK', async () => {
    const keys = await deriveCacheKeys(subtle, kek, account);
    const sealed = await sealWrappedSecret(subtle, keys, account, secretId, visitorJwk);
    await rejects(openWrappedSecret(subtle, keys, account, otherSecretId, sealed));
    const otherAccountKeys = await deriveCacheKeys(subtle, kek, otherAccount);
    await rejects(openWrappedSecret(subtle, otherAccountKeys, otherAccount, secretId, sealed));
    // Same key material but another account in the AAD only (keys derived for `account`).
    await rejects(openWrappedSecret(subtle, keys, otherAccount, secretId, sealed));
    await rejects(openWrappedSecret(subtle, keys, account, secretId, flip(sealed, 1)));
    await rejects(openWrappedSecret(subtle, keys, account, secretId, flip(sealed, 2)));
    await rejects(openWrappedSecret(subtle, await deriveCacheKeys(subtle, otherKek, account), account, secretId, sealed));
    await rejects(openWrappedSecret(subtle, keys, account, secretId, sealed.replace('{3,}', '{1,}')));
    await rejects(openWrappedSecret(subtle, keys, account, secretId, sealed + ' '));
    await rejects(openWrappedSecret(subtle, keys, account, secretId, 'garbage'));
  });

  it('are never interchangeable with roll-ups (separate keys)', async () => {
    const keys = await deriveCacheKeys(subtle, kek, account);
    const text = await sealShared(subtle, keys.rollups, wrappedSecretAad(account, secretId), new TextEncoder().encode('{"kty":"oct","k":"AAAAAAAAAAAAAAAAAAAAAA"}'));
    await rejects(openWrappedSecret(subtle, keys, account, secretId, text));
  });

  it('reject a plaintext that is not a symmetric JWK', async () => {
    const keys = await deriveCacheKeys(subtle, kek, account);
    const text = await sealShared(subtle, keys.secrets, wrappedSecretAad(account, secretId), new TextEncoder().encode('[1,2]'));
    await rejects(openWrappedSecret(subtle, keys, account, secretId, text));
  });
});

describe('roll-ups', () => {
  it('round-trip a block through gzip, the ciphertext being gzip(JSON) under the AAD', async () => {
    const keys = await deriveCacheKeys(subtle, kek, account);
    const sealed = await sealRollup(subtle, keys, account, '2026-11-20', checkpoint, block);
    assert.deepEqual(await openRollup(subtle, keys, account, '2026-11-20', checkpoint, sealed), block);
    const aad = new TextEncoder().encode(rollupAad(account, '2026-11-20', checkpoint));
    assert.equal(new TextDecoder().decode(aad), `offen/rollup/v1|${account}|2026-11-20|${checkpoint}`);
    const packed = await openShared(subtle, keys.rollups, rollupAad(account, '2026-11-20', checkpoint), sealed);
    assert.deepEqual(JSON.parse(gunzipSync(packed)), block);
  });

  it('detect a record moved to another day, relabelled with another checkpoint, or forged', async () => {
    const keys = await deriveCacheKeys(subtle, kek, account);
    const sealed = await sealRollup(subtle, keys, account, '2026-11-20', checkpoint, block);
    await rejects(openRollup(subtle, keys, account, '2026-11-21', checkpoint, sealed));
    await rejects(openRollup(subtle, keys, account, '2026-11-20', laterCheckpoint, sealed));
    await rejects(openRollup(subtle, keys, otherAccount, '2026-11-20', checkpoint, sealed));
    await rejects(openRollup(subtle, keys, account, '2026-11-20', checkpoint, flip(sealed)));
    // A forger without the KEK: a record under a key of their own choosing.
    const forger = await deriveCacheKeys(subtle, otherKek, account);
    await rejects(openRollup(subtle, keys, account, '2026-11-20', checkpoint, await sealRollup(subtle, forger, account, '2026-11-20', checkpoint, block)));
  });

  it('reject a sealed plaintext that is not gzip', async () => {
    const keys = await deriveCacheKeys(subtle, kek, account);
    const aad = rollupAad(account, '2026-11-20', checkpoint);
    const text = await sealShared(subtle, keys.rollups, aad, new TextEncoder().encode(JSON.stringify(block)));
    await rejects(openRollup(subtle, keys, account, '2026-11-20', checkpoint, text));
  });

  it('refuse bad periods and checkpoints before encrypting anything', () => {
    assert.throws(() => rollupAad(account, '2026-1-2', checkpoint), TypeError);
    assert.throws(() => rollupAad(account, '2026-11-20', 'short'), TypeError);
    assert.throws(() => rollupAad(account, '2026-11-20', checkpoint.toLowerCase()), TypeError);
    assert.throws(() => wrappedSecretAad(account, secretId.toUpperCase()), TypeError);
  });

  it('handle a large block (megabytes of JSON)', async () => {
    const keys = await deriveCacheKeys(subtle, kek, account);
    const big = { v: 1, day: '2026-11-20', ids: Array.from({ length: 60000 }, (_, i) => `01KB3Z4X5Y${String(i).padStart(16, '0')}`) };
    const sealed = await sealRollup(subtle, keys, account, '2026-11-20', checkpoint, big);
    assert.ok(sealed.length < JSON.stringify(big).length, 'gzip shrinks repetitive JSON');
    assert.deepEqual(await openRollup(subtle, keys, account, '2026-11-20', checkpoint, sealed), big);
  });
});
