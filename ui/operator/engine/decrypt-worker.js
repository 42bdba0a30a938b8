// One of the engine's decryption workers (module worker, a pool of navigator.hardwareConcurrency).
//
// Owns the expensive, parallel part of loading an account: unwrapping visitor secrets (with a re-wrapped
// shared secret when one exists, which is one cheap AES-GCM; otherwise with the account's private key,
// X25519 key agreement or RSA-OAEP), decrypting events, parsing them with stats.js, and opening and
// sealing roll-ups. The data worker routes every visitor to one worker by secret id, so each worker keeps
// the keys of its visitors for the whole session and never receives a secret twice. Plaintext leaves this
// worker only as parsed events for the data worker; keys never leave it (but to a fresh worker replacing
// it, through the data worker).
//
// Every CryptoKey costs Chromium about 1.3 KB that V8 does not see and so frees late (measured: 200k AES
// keys, 275 MiB; 200k dropped ones +246 MiB). The worker therefore keeps each visitor's raw key bytes in
// one buffer and CryptoKeys only for the visitors seen last. WebCrypto stays for all the crypto: in
// Chromium 156 it opens a 270-byte event in 8-12 µs (key import included) against 28-40 µs for the
// vendored userland AES-GCM, which would only pay with many more cores than two (docs/dashboard-engine.md,
// "Parallelism and its limit").

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
const RSA_PRIVATE_MEMBERS = ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'];
// CryptoKeys kept per worker, least recently used evicted: a visitor's events come in sessions minutes
// apart and returns hours to days later, so 16384 per worker (weeks of visitors at 1M events) misses
// little; an evicted key is a re-import (about 7 µs) and a dropped key, which the pool's recycling frees.
export const KEY_CACHE = 16384;
// Event decryptions in flight per worker: enough to keep WebCrypto busy, few enough that their promises
// and buffers die young instead of swelling the worker's old generation.
const IN_FLIGHT = 1000;
const UNUSABLE = -1; // a visitor whose secret failed for good: its events count as bad
const SLOT = 32; // bytes per key slot: AES keys are 16, 24 or 32 bytes

/**
 * The visitor keys of one worker: 16-32 raw bytes each in one growing buffer, found by secret id. One
 * buffer instead of a Uint8Array per visitor: at 1M events a worker holds 100k visitors, and a small typed
 * array with its ArrayBuffer costs over 200 bytes.
 */
export function keyStore() {
  const slots = new Map(); // secretId → slot index | UNUSABLE
  let bytes = new Uint8Array(SLOT * 1024);
  let lengths = new Uint8Array(1024);
  let count = 0;
  return {
    has: (secretId) => slots.has(secretId),
    /** Raw key bytes (a view), null when unusable, undefined when unknown. */
    get(secretId) {
      const slot = slots.get(secretId);
      if (slot === undefined) return undefined;
      if (slot === UNUSABLE) return null;
      return bytes.subarray(slot * SLOT, slot * SLOT + lengths[slot]);
    },
    put(secretId, raw) {
      if (!raw) {
        slots.set(secretId, UNUSABLE);
        return;
      }
      let slot = slots.get(secretId);
      if (slot === undefined || slot === UNUSABLE) {
        if (count === lengths.length) {
          const grownBytes = new Uint8Array(bytes.length * 2);
          grownBytes.set(bytes);
          bytes = grownBytes;
          const grownLengths = new Uint8Array(lengths.length * 2);
          grownLengths.set(lengths);
          lengths = grownLengths;
        }
        slot = count++;
      }
      bytes.set(raw, slot * SLOT);
      lengths[slot] = raw.length;
      slots.set(secretId, slot);
    },
    get size() {
      return slots.size;
    },
    /** {ids, keys: Uint8Array (SLOT per id), lengths: Uint8Array (0: unusable)}: transferable. */
    export() {
      const ids = [...slots.keys()];
      const keys = new Uint8Array(ids.length * SLOT);
      const outLengths = new Uint8Array(ids.length);
      ids.forEach((id, i) => {
        const slot = slots.get(id);
        if (slot === UNUSABLE) return;
        keys.set(bytes.subarray(slot * SLOT, (slot + 1) * SLOT), i * SLOT);
        outLengths[i] = lengths[slot];
      });
      return { ids, keys, lengths: outLengths };
    },
    import({ ids, keys, lengths: inLengths }) {
      ids.forEach((id, i) => this.put(id, inLengths[i] ? keys.subarray(i * SLOT, i * SLOT + inLengths[i]) : null));
      return ids.length;
    },
  };
}

/**
 * The worker's state and operations; exported as a factory so a test can run it on Node's WebCrypto
 * without a Worker around it.
 */
export function decryptWorker({ subtle: s = subtle, keyCache: keyCacheSize = KEY_CACHE } = {}) {
  let account = null; // {accountId, type, privateKey, recipient, cacheKeys}
  const keys = keyStore();
  const keyCache = new Map(); // secretId → Promise<CryptoKey>, least recently used first
  let imports = 0; // CryptoKeys made for events
  function cryptoKeyFor(secretId, raw) {
    let key = keyCache.get(secretId);
    if (key) {
      keyCache.delete(secretId); // re-inserted below: most recently used last
    } else {
      // importKey copies the bytes at once (WebCrypto spec), so a view into the key store is enough.
      key = s.importKey('raw', raw, { name: 'AES-GCM' }, false, ['decrypt']);
      imports++;
      if (keyCache.size >= keyCacheSize) keyCache.delete(keyCache.keys().next().value);
    }
    keyCache.set(secretId, key);
    return key;
  }
  // Visitors being unwrapped right now: secretId → Promise (a later batch of the same visitor waits).
  const unwrapping = new Map();

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

  /** The raw bytes of a visitor secret wrapped with the account key (X25519 `{2,}` or RSA-OAEP `{1,}`). */
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
    return parseJSON(plain);
  }

  /** A visitor's raw key from the shared cache or the account key; re-wraps a fresh unwrap. */
  async function learnSecret(secretId, sharedText, accountText, report, rewrapped) {
    if (sharedText) {
      try {
        const jwk = await openWrappedSecret(s, account.cacheKeys, account.accountId, secretId, sharedText);
        report.fromShared++;
        keys.put(secretId, symmetricKeyBytes(jwk));
        return;
      } catch {
        // A record that fails its tag is ignored; the account-wrapped secret is the truth.
        report.forged++;
      }
    }
    // Nothing usable yet: stay unknown, so a later batch with the account-wrapped secret retries.
    if (!accountText) return;
    try {
      const jwk = await unwrapWithAccountKey(accountText);
      const raw = symmetricKeyBytes(jwk);
      report.unwrapped++;
      // X25519 makes three short-lived CryptoKeys per visitor (peer, HKDF input, derived AES key).
      if (account.type === 'x25519') report.keysMade += 3;
      rewrapped[secretId] = await sealWrappedSecret(s, account.cacheKeys, account.accountId, secretId, jwk);
      keys.put(secretId, raw);
    } catch {
      report.badSecrets++;
      keys.put(secretId, null);
    }
  }

  /**
   * Decrypts a batch: `secrets` (account-wrapped) and `shared` (re-wrapped) for visitors new to this
   * worker, then `events` [{eventId, secretId, payload}]. Returns parsed events (query reduced to
   * [utm_campaign, utm_source]: a URLSearchParams cannot cross postMessage), fresh re-wraps for the
   * shared cache, and counts.
   */
  async function decrypt({ events = [], secrets = {}, shared = {} }) {
    if (!account) throw new Error('init first');
    const t0 = now();
    const rewrapped = {};
    const report = { unwrapped: 0, fromShared: 0, forged: 0, badSecrets: 0, badEvents: 0, missing: [], keysMade: 0 };
    const ids = new Set([...Object.keys(secrets), ...Object.keys(shared)]);
    for (const secretId of ids) {
      if (keys.has(secretId) || unwrapping.has(secretId)) continue;
      const promise = learnSecret(secretId, shared[secretId], secrets[secretId], report, rewrapped).finally(() => unwrapping.delete(secretId));
      unwrapping.set(secretId, promise);
    }
    // This batch's visitors being unwrapped, here or by an earlier batch still running: wait for them.
    for (const event of events) ids.add(event.secretId);
    const fresh = new Set();
    for (const secretId of ids) if (unwrapping.has(secretId)) fresh.add(unwrapping.get(secretId));
    await Promise.all(fresh);
    const t1 = now();
    const slots = new Array(events.length).fill(null);
    const missing = new Set();
    const importsBefore = imports;
    const decryptOne = async (event, index) => {
      const raw = keys.get(event.secretId);
      if (raw === undefined) {
        missing.add(event.secretId);
        return;
      }
      if (raw === null) {
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
    for (let i = 0; i < events.length; i += IN_FLIGHT) {
      await Promise.all(events.slice(i, i + IN_FLIGHT).map((event, j) => decryptOne(event, i + j)));
    }
    const parsed = slots.filter((p) => p !== null);
    report.keysMade += imports - importsBefore;
    const t2 = now();
    report.missing = [...missing];
    return {
      parsed,
      rewrapped,
      report,
      intervals: { keyAgreement: fresh.size ? [t0, t1] : null, decryption: [t1, t2] },
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
   * The visitor keys this worker holds, for a fresh worker that replaces this one (see the pool's
   * `recycle` in data-worker.js): {ids, keys, lengths}, transferable. The pool recycles only with no
   * batch in flight, so no visitor is half unwrapped.
   */
  function exportKeys() {
    return keys.export();
  }

  function importKeys(exported) {
    return { imported: keys.import(exported) };
  }

  return {
    init,
    decrypt,
    openRollups,
    sealRollups,
    exportKeys,
    importKeys,
    knownSecrets: () => keys.size,
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
      } else if (op === 'exportKeys') globalThis.postMessage({ id, result }, [result.keys.buffer, result.lengths.buffer]);
      else globalThis.postMessage({ id, result });
    } catch (error) {
      // Never the plaintext or a key: only the error's message (CryptoError messages are generic).
      globalThis.postMessage({ id, error: String((error && error.message) || error) });
    }
  };
}
