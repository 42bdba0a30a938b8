// One of the engine's decryption workers (module worker, a pool of navigator.hardwareConcurrency).
//
// Owns the expensive, parallel part of loading an account: unwrapping visitor secrets (with a re-wrapped
// shared secret when one exists, which is one cheap AES-GCM; otherwise with the account's private key,
// X25519 key agreement or RSA-OAEP), decrypting events, parsing them with stats.js, and opening and
// sealing roll-ups. The data worker routes every visitor to one worker by secret id, so each worker keeps
// the CryptoKeys of its visitors for the whole session and never receives a secret twice. Plaintext
// leaves this worker only as parsed events for the data worker; keys never leave it.

import { parseEvent } from '../../shared/stats.js';
import {
  CryptoError,
  X25519_INFO,
  accountKeyType,
  aesChunks,
  b64urlDecode,
  concatBytes,
  expectChunks,
  isAllZero,
  parseJSON,
  symmetricKeyBytes,
  x25519Chunks,
  x25519Member,
} from '../../vault/versioned-cipher.js';
import { packParsed } from './packing.js';
import { deriveCacheKeys, openRollup, openWrappedSecret, sealRollup, sealWrappedSecret } from './shared-cache.js';

const subtle = globalThis.crypto.subtle;
const now = () => performance.timeOrigin + performance.now();

// PKCS#8 prefix of a raw X25519 private key (RFC 8410), as in vault/crypto.js.
const PKCS8_X25519 = new Uint8Array([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20,
]);
const MISSING = Symbol('missing');
const RSA_PRIVATE_MEMBERS = ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'];
// CryptoKeys kept per worker. A Chromium CryptoKey costs about 1.3 KB (measured: 200k AES keys, 275 MiB),
// and one that is dropped is not collected soon either (200k dropped keys: +246 MiB): V8 does not see their
// memory, so it seldom runs the full collection that would free them. The worker therefore keeps each
// visitor's 16 raw bytes and CryptoKeys only for the KEY_CACHE most recent visitors; an evicted key is a
// re-import (about 7 µs) and a dropped key, which the pool's recycling frees. A visitor's events come in
// sessions minutes apart and returns hours to days later, so 16384 per worker (weeks of visitors at 1M
// events) misses little, where keeping all of them (100k per worker at 1M) was ~130 MiB per worker.
export const KEY_CACHE = 16384;
const IN_FLIGHT = 1000;

/**
 * The worker's state and operations; exported as a factory so a test can run it on Node's WebCrypto
 * without a Worker around it.
 */
export function decryptWorker({ subtle: s = subtle, keyCache: keyCacheSize = KEY_CACHE } = {}) {
  let account = null; // {accountId, type, privateKey, recipient, cacheKeys}
  // secretId → Promise<Uint8Array (raw AES key) | null (unusable) | MISSING>. The raw bytes stay inside
  // this worker, as the CryptoKeys did; only parsed events leave it.
  const secretKeys = new Map();
  const keyCache = new Map(); // secretId → Promise<CryptoKey>, least recently used first
  let imports = 0; // CryptoKeys made for events
  function cryptoKeyFor(secretId, raw) {
    let key = keyCache.get(secretId);
    if (key) {
      keyCache.delete(secretId); // re-inserted below: most recently used last
    } else {
      key = s.importKey('raw', raw, { name: 'AES-GCM' }, false, ['decrypt']);
      imports++;
      if (keyCache.size >= keyCacheSize) keyCache.delete(keyCache.keys().next().value);
    }
    keyCache.set(secretId, key);
    return key;
  }

  async function init({ accountId, privateJwk, keyEncryptionKey }) {
    const type = accountKeyType(privateJwk);
    let privateKey;
    let recipient = null;
    if (type === 'x25519') {
      // Imported once per worker: vault/crypto.js re-imports per call, which costs more than the agreement.
      privateKey = await s.importKey('pkcs8', concatBytes(PKCS8_X25519, x25519Member(privateJwk, 'd')), { name: 'X25519' }, true, ['deriveBits']);
      recipient = b64urlDecode((await s.exportKey('jwk', privateKey)).x);
    } else {
      const clean = { kty: 'RSA', ext: true };
      for (const m of RSA_PRIVATE_MEMBERS) if (typeof privateJwk[m] === 'string') clean[m] = privateJwk[m];
      privateKey = await s.importKey('jwk', clean, { name: 'RSA-OAEP', hash: 'SHA-256' }, false, ['decrypt']);
    }
    account = { accountId, type, privateKey, recipient, cacheKeys: await deriveCacheKeys(s, keyEncryptionKey, accountId) };
    return { type };
  }

  async function unwrapWithAccountKey(cipher) {
    let plain;
    if (account.type === 'x25519') {
      const [sealed, nonce, eph] = x25519Chunks(cipher);
      const peer = await s.importKey('raw', eph, { name: 'X25519' }, false, []);
      const shared = new Uint8Array(await s.deriveBits({ name: 'X25519', public: peer }, account.privateKey, 256));
      if (isAllZero(shared)) throw new CryptoError('The X25519 public key is not usable.');
      const ikm = await s.importKey('raw', shared, 'HKDF', false, ['deriveKey']);
      const key = await s.deriveKey(
        { name: 'HKDF', hash: 'SHA-256', salt: concatBytes(eph, account.recipient), info: X25519_INFO },
        ikm,
        { name: 'AES-GCM', length: 256 },
        false,
        ['decrypt'],
      );
      plain = new Uint8Array(await s.decrypt({ name: 'AES-GCM', iv: nonce }, key, sealed));
    } else {
      const [sealed] = expectChunks(cipher, 1, 1);
      plain = new Uint8Array(await s.decrypt({ name: 'RSA-OAEP' }, account.privateKey, sealed));
    }
    const jwk = parseJSON(plain);
    symmetricKeyBytes(jwk);
    return jwk;
  }

  const importSecret = (jwk) => symmetricKeyBytes(jwk);

  /**
   * Decrypts a batch: `secrets` (account-wrapped) and `shared` (re-wrapped) for visitors new to this
   * worker, then `events` [{eventId, secretId, payload}]. Returns parsed events (query reduced to
   * [utm_campaign, utm_source]: a URLSearchParams cannot cross postMessage), fresh re-wraps for the shared cache, and counts.
   */
  async function decrypt({ events = [], secrets = {}, shared = {} }) {
    if (!account) throw new Error('init first');
    const t0 = now();
    const rewrapped = {};
    const report = { unwrapped: 0, fromShared: 0, forged: 0, badSecrets: 0, badEvents: 0, missing: [], keysMade: 0 };
    const importsBefore = imports;
    const fresh = [];
    const ids = new Set([...Object.keys(secrets), ...Object.keys(shared)]);
    for (const secretId of ids) {
      if (secretKeys.has(secretId)) continue;
      const promise = (async () => {
        if (shared[secretId]) {
          try {
            const jwk = await openWrappedSecret(s, account.cacheKeys, account.accountId, secretId, shared[secretId]);
            report.fromShared++;
            return await importSecret(jwk);
          } catch {
            // A record that fails its tag is ignored; the account-wrapped secret is the truth.
            report.forged++;
          }
        }
        if (!secrets[secretId]) {
          // Nothing usable yet: forget the entry so a later batch with the account-wrapped secret retries.
          secretKeys.delete(secretId);
          return MISSING;
        }
        try {
          const jwk = await unwrapWithAccountKey(secrets[secretId]);
          report.unwrapped++;
          // X25519 makes three short-lived CryptoKeys per visitor (peer, HKDF input, derived AES key).
          if (account.type === 'x25519') report.keysMade += 3;
          rewrapped[secretId] = await sealWrappedSecret(s, account.cacheKeys, account.accountId, secretId, jwk);
          return await importSecret(jwk);
        } catch {
          report.badSecrets++;
          return null;
        }
      })();
      secretKeys.set(secretId, promise);
      fresh.push(promise);
    }
    await Promise.all(fresh);
    const t1 = now();
    const slots = new Array(events.length).fill(null);
    const decryptOne = async (event, index) => {
      const keyPromise = secretKeys.get(event.secretId);
      if (!keyPromise) {
        report.missing.push(event.secretId);
        return;
      }
      const raw = await keyPromise;
      if (raw === MISSING) {
        report.missing.push(event.secretId);
        return;
      }
      if (!raw) {
        report.badEvents++;
        return;
      }
      let payload;
      try {
        const key = await cryptoKeyFor(event.secretId, raw);
        const [sealed, nonce] = aesChunks(event.payload);
        payload = parseJSON(new Uint8Array(await s.decrypt({ name: 'AES-GCM', iv: nonce }, key, sealed)));
      } catch {
        report.badEvents++;
        return;
      }
      // Parsed at once, so the plaintext payload is garbage before the next event's arrives.
      const p = parseEvent({ accountId: account.accountId, eventId: event.eventId, secretId: event.secretId, payload });
      if (!p) return;
      // Only what the table keeps crosses postMessage (a URLSearchParams cannot): the two tags metrics read.
      p.query = [p.query.get('utm_campaign'), p.query.get('utm_source')];
      p.timestamp = null;
      slots[index] = p;
    };
    // At most IN_FLIGHT decryptions at a time: enough to keep Chromium's one WebCrypto thread busy, few
    // enough that their promises and buffers die young instead of swelling the worker's old generation
    // (5000 at once, twice per worker, were a large part of the tab's peak memory).
    for (let i = 0; i < events.length; i += IN_FLIGHT) {
      await Promise.all(events.slice(i, i + IN_FLIGHT).map((event, j) => decryptOne(event, i + j)));
    }
    const parsed = slots.filter((p) => p !== null);
    report.keysMade += imports - importsBefore;
    const t2 = now();
    report.missing = [...new Set(report.missing)];
    return {
      parsed,
      rewrapped,
      report,
      intervals: { keyAgreement: fresh.length ? [t0, t1] : null, decryption: [t1, t2] },
    };
  }

  /** Opens roll-ups [{period, checkpoint, payload}] → {blocks: [{period, checkpoint, encoded}], failed}. */
  async function openRollups({ items }) {
    const t0 = now();
    const blocks = [];
    const failed = [];
    await Promise.all(
      items.map(async ({ period, checkpoint, payload }) => {
        try {
          const encoded = await openRollup(s, account.cacheKeys, account.accountId, period, checkpoint, payload);
          blocks.push({ period, checkpoint, encoded });
        } catch {
          failed.push(period);
        }
      }),
    );
    return { blocks, failed, intervals: { decryption: [t0, now()] } };
  }

  /** Seals encoded blocks [{period, checkpoint, encoded}] → [{period, checkpoint, payload}]. */
  async function sealRollups({ items }) {
    const t0 = now();
    const sealed = await Promise.all(
      items.map(async ({ period, checkpoint, encoded }) => ({
        period,
        checkpoint,
        payload: await sealRollup(s, account.cacheKeys, account.accountId, period, checkpoint, encoded),
      })),
    );
    return { sealed, intervals: { storage: [t0, now()] } };
  }

  /**
   * The visitor keys this worker holds, as [secretId, raw bytes | null] pairs, for a fresh worker that
   * replaces this one (see the pool's `recycle` in data-worker.js). Only settled entries: a visitor still
   * being unwrapped is not in flight when the pool recycles (it waits for every batch first).
   */
  async function exportKeys() {
    const entries = [];
    for (const [secretId, promise] of secretKeys) {
      const raw = await promise;
      if (raw !== MISSING) entries.push([secretId, raw]);
    }
    return { entries };
  }

  function importKeys({ entries = [] }) {
    for (const [secretId, raw] of entries) secretKeys.set(secretId, Promise.resolve(raw || null));
    return { imported: entries.length };
  }

  return {
    init,
    decrypt,
    openRollups,
    sealRollups,
    exportKeys,
    importKeys,
    knownSecrets: () => secretKeys.size,
    cachedKeys: () => keyCache.size,
  };
}

// In a worker: answer {id, op, args} with {id, result} or {id, error}.
if (typeof WorkerGlobalScope !== 'undefined' && globalThis instanceof WorkerGlobalScope) {
  const ops = decryptWorker();
  globalThis.onmessage = async ({ data }) => {
    const { id, op, args } = data;
    try {
      if (typeof ops[op] !== 'function') throw new Error(`unknown operation ${op}`);
      const result = await ops[op](args);
      if (op === 'decrypt') {
        // Columns, transferred: cloning an object per event would cost more than decrypting it.
        const { batch, transfer } = packParsed(result.parsed);
        result.parsed = batch;
        globalThis.postMessage({ id, result }, transfer);
      } else globalThis.postMessage({ id, result });
    } catch (error) {
      // Never the plaintext or a key: only the error's message (CryptoError messages are generic).
      globalThis.postMessage({ id, error: String((error && error.message) || error) });
    }
  };
}
