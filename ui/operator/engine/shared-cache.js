// The shared-cache crypto of the operator's dashboard engine (contract 3, docs/dashboard-engine.md).
//
// Owns the two record formats that operators' browsers store on the server to share work: visitor secrets
// re-wrapped under a symmetric account key ("wrapped secrets") and encrypted day blocks ("roll-ups"). Both
// keys come from the account KEK with HKDF, so only operators of the account can read or write them; the
// server only ever holds opaque strings. The AAD binds each record to its account, secret id or period and
// checkpoint, so the server can neither move a record to another account or day nor relabel its
// checkpoint: such a record fails its tag and is ignored (and reported), never trusted.
//
// Pure apart from WebCrypto and (De)CompressionStream, which callers pass in or which exist globally in
// browsers, workers and Node 20; no DOM, no I/O.

import { CryptoError, b64decode, b64encode, symmetricKeyBytes } from '../../vault/versioned-cipher.js';

export { CryptoError };

export const ALGO_SHARED = 3;
export const ROLLUP_KEY_INFO = 'offen/rollups/v1|';
export const WRAPPED_KEY_INFO = 'offen/wrapped-secrets/v1|';
export const ROLLUP_AAD = 'offen/rollup/v1|';
export const WRAPPED_AAD = 'offen/wrapped-secret/v1|';

const SECRET_ID = /^[0-9a-f]{64}$/;
const PERIOD = /^\d{4}-\d{2}-\d{2}$/;
const SEQUENCE = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const SHARED_STRING = /^\{3,\} ([A-Za-z0-9+/]+={0,2}) ([A-Za-z0-9+/]+={0,2})$/;
const encoder = new TextEncoder();

/** Raw bytes of a 32-byte `oct` KEK JWK (the login's keyEncryptionKey). */
export function kekBytes(kekJwk) {
  const raw = symmetricKeyBytes(kekJwk);
  if (raw.length !== 32) throw new CryptoError('The key-encryption key must be 32 bytes long.');
  return raw;
}

/**
 * `{rollups, secrets}`: the two AES-256-GCM keys of an account, HKDF-SHA256(KEK, salt empty,
 * info "offen/rollups/v1|<accountId>" or "offen/wrapped-secrets/v1|<accountId>").
 */
export async function deriveCacheKeys(subtle, kekJwk, accountId) {
  if (typeof accountId !== 'string' || !accountId) throw new TypeError('accountId is required');
  const ikm = await subtle.importKey('raw', kekBytes(kekJwk), 'HKDF', false, ['deriveKey']);
  const derive = (info) =>
    subtle.deriveKey(
      { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: encoder.encode(info + accountId) },
      ikm,
      { name: 'AES-GCM', length: 256 },
      false,
      ['encrypt', 'decrypt'],
    );
  const [rollups, secrets] = await Promise.all([derive(ROLLUP_KEY_INFO), derive(WRAPPED_KEY_INFO)]);
  return { rollups, secrets };
}

// Large roll-ups are megabytes: the engine's own base64 (vault) builds strings by concatenation, so use
// the platform's codecs where present (Uint8Array.toBase64 in current Chromium, else btoa over chunks).
function toB64(bytes) {
  if (typeof bytes.toBase64 === 'function') return bytes.toBase64();
  if (typeof btoa !== 'function') return b64encode(bytes);
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

function fromB64(text) {
  if (typeof Uint8Array.fromBase64 === 'function') return Uint8Array.fromBase64(text);
  if (typeof atob !== 'function') return b64decode(text);
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** `{3,} <b64 ct‖tag> <b64 nonce>`: AES-256-GCM with a 12-byte random nonce and the given AAD. */
export async function sealShared(subtle, key, aad, plaintext, random = (n) => crypto.getRandomValues(new Uint8Array(n))) {
  const nonce = random(12);
  const sealed = new Uint8Array(
    await subtle.encrypt({ name: 'AES-GCM', iv: nonce, additionalData: encoder.encode(aad) }, key, plaintext),
  );
  return `{${ALGO_SHARED},} ${toB64(sealed)} ${toB64(nonce)}`;
}

/** The plaintext of a `{3,}` string under `key` and `aad`; CryptoError on any mismatch. */
export async function openShared(subtle, key, aad, text) {
  const match = typeof text === 'string' ? SHARED_STRING.exec(text) : null;
  if (!match) throw new CryptoError('The shared-cache record is malformed.');
  let sealed;
  let nonce;
  try {
    sealed = fromB64(match[1]);
    nonce = fromB64(match[2]);
  } catch {
    throw new CryptoError('The shared-cache record is malformed.');
  }
  if (nonce.length !== 12 || sealed.length < 16) throw new CryptoError('The shared-cache record is malformed.');
  try {
    return new Uint8Array(
      await subtle.decrypt({ name: 'AES-GCM', iv: nonce, additionalData: encoder.encode(aad) }, key, sealed),
    );
  } catch {
    throw new CryptoError('The shared-cache record failed its integrity check.');
  }
}

export function wrappedSecretAad(accountId, secretId) {
  if (!SECRET_ID.test(secretId)) throw new TypeError('a secret id is 64 lowercase hex characters');
  return `${WRAPPED_AAD}${accountId}|${secretId}`;
}

export function rollupAad(accountId, period, checkpoint) {
  if (!PERIOD.test(period)) throw new TypeError('a period is YYYY-MM-DD');
  if (!SEQUENCE.test(checkpoint)) throw new TypeError('a checkpoint is a 26-character ULID sequence');
  return `${ROLLUP_AAD}${accountId}|${period}|${checkpoint}`;
}

/** A visitor secret (AES-128 `oct` JWK) re-wrapped for the account's operators. */
export async function sealWrappedSecret(subtle, keys, accountId, secretId, secretJwk, random) {
  const raw = symmetricKeyBytes(secretJwk);
  const jwk = { kty: 'oct', k: secretJwk.k };
  if (raw.length !== 16 && raw.length !== 24 && raw.length !== 32) throw new CryptoError();
  return sealShared(subtle, keys.secrets, wrappedSecretAad(accountId, secretId), encoder.encode(JSON.stringify(jwk)), random);
}

/** The `oct` JWK inside a wrapped secret; CryptoError if forged, moved to another secret id, or junk. */
export async function openWrappedSecret(subtle, keys, accountId, secretId, text) {
  const bytes = await openShared(subtle, keys.secrets, wrappedSecretAad(accountId, secretId), text);
  let jwk;
  try {
    jwk = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new CryptoError('The wrapped secret is not JSON.');
  }
  symmetricKeyBytes(jwk);
  return { kty: 'oct', k: jwk.k };
}

async function pipeBytes(bytes, transform) {
  const stream = new Blob([bytes]).stream().pipeThrough(transform);
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

export const gzip = (bytes) => pipeBytes(bytes, new CompressionStream('gzip'));
export const gunzip = (bytes) => pipeBytes(bytes, new DecompressionStream('gzip'));

/** A roll-up string: AES-GCM over gzip(JSON of an encoded day block), bound to account, period, checkpoint. */
export async function sealRollup(subtle, keys, accountId, period, checkpoint, encodedBlock, random) {
  const aad = rollupAad(accountId, period, checkpoint);
  const packed = await gzip(encoder.encode(JSON.stringify(encodedBlock)));
  return sealShared(subtle, keys.rollups, aad, packed, random);
}

/** The encoded day block inside a roll-up; CryptoError if forged, relabelled, corrupt or not JSON. */
export async function openRollup(subtle, keys, accountId, period, checkpoint, text) {
  const packed = await openShared(subtle, keys.rollups, rollupAad(accountId, period, checkpoint), text);
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(await gunzip(packed)));
  } catch {
    throw new CryptoError('The roll-up does not hold a compressed JSON block.');
  }
}

// ---------------------------------------------------------------------------------------------------------
// The local snapshot (docs/dashboard-engine.md, "Local snapshot"): the whole EventTable as binary buffers in
// this browser's IndexedDB, sealed under its own key so that the disk holds only ciphertext. It never goes
// to the server. Each part is nonce ‖ AES-GCM(ciphertext ‖ tag) with an AAD binding the account, the
// checkpoint the table was complete up to, the part's index and the number of parts: a part moved, dropped,
// swapped between snapshots or relabelled with another checkpoint fails its tag.

export const SNAPSHOT_KEY_INFO = 'offen/local-snapshot/v1|';
export const SNAPSHOT_AAD = 'offen/local-snapshot/v1|';
export const SNAPSHOT_RECORD_VERSION = 1;

/** The snapshot's AES-256-GCM key: HKDF-SHA256(KEK, salt empty, info "offen/local-snapshot/v1|<accountId>"). */
export async function deriveSnapshotKey(subtle, kekJwk, accountId) {
  if (typeof accountId !== 'string' || !accountId) throw new TypeError('accountId is required');
  const ikm = await subtle.importKey('raw', kekBytes(kekJwk), 'HKDF', false, ['deriveKey']);
  return subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: encoder.encode(SNAPSHOT_KEY_INFO + accountId) },
    ikm,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

export function snapshotAad(accountId, checkpoint, index, count) {
  if (!SEQUENCE.test(checkpoint)) throw new TypeError('a checkpoint is a 26-character ULID sequence');
  return `${SNAPSHOT_AAD}${accountId}|${checkpoint}|${index}/${count}`;
}

/** One sealed part: nonce ‖ AES-GCM(bytes ‖ tag), bound to its index among `count` parts. */
export async function sealSnapshotPart(subtle, key, accountId, checkpoint, index, count, bytes, random = (n) => crypto.getRandomValues(new Uint8Array(n))) {
  const nonce = random(12);
  const sealed = new Uint8Array(
    await subtle.encrypt({ name: 'AES-GCM', iv: nonce, additionalData: encoder.encode(snapshotAad(accountId, checkpoint, index, count)) }, key, bytes),
  );
  const out = new Uint8Array(12 + sealed.length);
  out.set(nonce, 0);
  out.set(sealed, 12);
  return out.buffer;
}

/** The plaintext parts of `table.exportSnapshot()` in order: part 0 is the meta's JSON, part i + 1 buffer i. */
export function snapshotPlainParts({ meta, buffers }) {
  return [encoder.encode(JSON.stringify(meta)), ...buffers.map((b) => new Uint8Array(b))];
}

/**
 * `{v, checkpoint, parts: ArrayBuffer[]}` from `table.exportSnapshot()`, all parts at once. The engine
 * seals and stores one part at a time instead (data-worker.js writeSnapshot); this is the same format.
 */
export async function sealSnapshot(subtle, key, accountId, checkpoint, exported, random) {
  const plain = snapshotPlainParts(exported);
  const parts = await Promise.all(plain.map((bytes, index) => sealSnapshotPart(subtle, key, accountId, checkpoint, index, plain.length, bytes, random)));
  return { v: SNAPSHOT_RECORD_VERSION, checkpoint, parts };
}

/** `{checkpoint, snapshot: {meta, buffers}}` of a sealed record; CryptoError if anything fails its tag. */
export async function openSnapshot(subtle, key, accountId, record) {
  if (!record || record.v !== SNAPSHOT_RECORD_VERSION || !Array.isArray(record.parts) || record.parts.length < 1) {
    throw new CryptoError('The local snapshot is malformed.');
  }
  const { checkpoint, parts } = record;
  if (typeof checkpoint !== 'string' || !SEQUENCE.test(checkpoint)) throw new CryptoError('The local snapshot is malformed.');
  const count = parts.length;
  const plain = await Promise.all(
    parts.map(async (part, index) => {
      if (!(part instanceof ArrayBuffer) || part.byteLength < 28) throw new CryptoError('The local snapshot is malformed.');
      try {
        return await subtle.decrypt(
          { name: 'AES-GCM', iv: new Uint8Array(part, 0, 12), additionalData: encoder.encode(snapshotAad(accountId, checkpoint, index, count)) },
          key,
          new Uint8Array(part, 12),
        );
      } catch {
        throw new CryptoError('The local snapshot failed its integrity check.');
      }
    }),
  );
  let meta;
  try {
    meta = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(plain[0]));
  } catch {
    throw new CryptoError('The local snapshot has no readable header.');
  }
  return { checkpoint, snapshot: { meta, buffers: plain.slice(1) } };
}
