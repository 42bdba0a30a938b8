// Versioned cipher strings and the byte helpers both crypto implementations share.
//
// Owns the text format of docs/protocol.md §1 (`{<algo>,<keyVersion>} <b64> <b64>...`), base64 and
// base64url, and the small checks that the WebCrypto implementation (crypto.js) and the userland
// fallback (crypto-fallback.js) must apply identically, so that one never accepts what the other
// (or appliance/keys.py) rejects. Pure: no DOM, no I/O, no randomness.

/** Every parse or decryption failure; the message never contains key material or plaintext. */
export class CryptoError extends Error {
  constructor(message = 'The value could not be decrypted.') {
    super(message);
    this.name = 'CryptoError';
  }
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++) DECODE[ALPHABET.charCodeAt(i)] = i;
// base64url letters decode through the same table; the patterns below keep the two alphabets apart.
DECODE['-'.charCodeAt(0)] = 62;
DECODE['_'.charCodeAt(0)] = 63;

// Same strictness as appliance/keys.py: only the alphabet, at most two '=' at the end; missing
// padding is tolerated (Offen's forge code and some JWK producers drop it), anything else is not.
const B64_STD = /^[A-Za-z0-9+/]*={0,2}$/;
const B64_URL = /^[A-Za-z0-9_-]*={0,2}$/;
// keys.py: re.fullmatch(r"\{(\d+),(\d*)\}\s(.+)") — `.` excludes newlines, `\s` is one whitespace char.
const VERSIONED = /^\{(\d+),(\d*)\}\s(.+)$/;

function encode(bytes, alphabet, pad) {
  const data = toBytes(bytes);
  let out = '';
  let i = 0;
  for (; i + 2 < data.length; i += 3) {
    const n = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    out += alphabet[n >> 18] + alphabet[(n >> 12) & 63] + alphabet[(n >> 6) & 63] + alphabet[n & 63];
  }
  const rest = data.length - i;
  if (rest === 1) {
    const n = data[i] << 16;
    out += alphabet[n >> 18] + alphabet[(n >> 12) & 63] + (pad ? '==' : '');
  } else if (rest === 2) {
    const n = (data[i] << 16) | (data[i + 1] << 8);
    out += alphabet[n >> 18] + alphabet[(n >> 12) & 63] + alphabet[(n >> 6) & 63] + (pad ? '=' : '');
  }
  return out;
}

function decode(text, pattern) {
  if (typeof text !== 'string' || !pattern.test(text)) throw new CryptoError('The value is not valid base64.');
  let end = text.length;
  while (end > 0 && text[end - 1] === '=') end--;
  // A single leftover character cannot encode a byte (Python's decoder rejects it too).
  if (end % 4 === 1) throw new CryptoError('The value is not valid base64.');
  const out = new Uint8Array(Math.floor((end * 3) / 4));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < end; i++) {
    acc = (acc << 6) | DECODE[text.charCodeAt(i)];
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

/** Standard base64 with padding (the chunks of versioned strings). */
export function b64encode(bytes) {
  return encode(bytes, ALPHABET, true);
}

/** Standard base64; missing padding is tolerated, other characters are rejected. */
export function b64decode(text) {
  return decode(text, B64_STD);
}

/** base64url without padding (JWK members, RFC 7515 §2). */
export function b64urlEncode(bytes) {
  return encode(bytes, ALPHABET.slice(0, 62) + '-_', false);
}

/** base64url, with or without padding. */
export function b64urlDecode(text) {
  return decode(text, B64_URL);
}

/** Build `{algo,keyVersion} <b64> ...`; refuses empty chunks (they would parse as a double space). */
export function serialize(algo, chunks, keyVersion = '') {
  if (!Number.isSafeInteger(algo) || algo < 0) throw new TypeError('algo must be a non-negative integer');
  if (typeof keyVersion !== 'string' || !/^\d*$/.test(keyVersion)) {
    throw new TypeError('keyVersion must be digits or empty');
  }
  if (!Array.isArray(chunks) || chunks.length === 0 || chunks.some((c) => toBytes(c).length === 0)) {
    throw new TypeError('at least one chunk, none of them empty');
  }
  return `{${algo},${keyVersion}} ` + chunks.map(b64encode).join(' ');
}

/** Split a versioned string into {algo, keyVersion, chunks}; throws CryptoError like keys.parse_versioned. */
export function parse(text) {
  const match = typeof text === 'string' ? VERSIONED.exec(text) : null;
  if (!match) throw new CryptoError('The value is not a versioned cipher string.');
  const parts = match[3].split(' ');
  if (parts.some((part) => part === '')) throw new CryptoError('The versioned cipher string has an empty chunk.');
  return { algo: Number(match[1]), keyVersion: match[2], chunks: parts.map(b64decode) };
}

// ----------------------------------------------------------------------------------------------
// Helpers shared by crypto.js and crypto-fallback.js (not part of the documented format API).

export const ALGO_AES_GCM = 1;
export const ALGO_RSA_OAEP = 1;
export const ALGO_X25519 = 2;
export const GCM_TAG = 16;
export const X25519_INFO = new TextEncoder().encode('offen/visitor-secret/v2');

/** Parse and insist on one algo and an exact chunk count. */
export function expectChunks(text, algo, count) {
  const parsed = parse(text);
  if (parsed.algo !== algo) throw new CryptoError(`Unsupported algorithm version ${parsed.algo}.`);
  if (parsed.chunks.length !== count) {
    throw new CryptoError('The versioned cipher string has the wrong number of chunks.');
  }
  return parsed.chunks;
}

/** `{1,} <ct+tag> <nonce>` → [sealed, nonce]; 12-byte nonces, and 16 for Offen's forge ciphertexts. */
export function aesChunks(cipher) {
  const [sealed, nonce] = expectChunks(cipher, ALGO_AES_GCM, 2);
  if ((nonce.length !== 12 && nonce.length !== 16) || sealed.length < GCM_TAG) {
    throw new CryptoError('The ciphertext is malformed.');
  }
  return [sealed, nonce];
}

/** `{2,} <ct+tag> <nonce> <E>` → [sealed, nonce, E]; the format admits 12-byte nonces only. */
export function x25519Chunks(cipher) {
  const [sealed, nonce, eph] = expectChunks(cipher, ALGO_X25519, 3);
  if (nonce.length !== 12 || eph.length !== 32 || sealed.length < GCM_TAG) {
    throw new CryptoError('The ciphertext is malformed.');
  }
  return [sealed, nonce, eph];
}

/** Raw bytes of an `oct` JWK; AES keys are 16, 24 or 32 bytes. Extra JWK members are ignored. */
export function symmetricKeyBytes(jwk) {
  if (!jwk || jwk.kty !== 'oct' || typeof jwk.k !== 'string') {
    throw new CryptoError('The value is not a symmetric JWK.');
  }
  const key = b64urlDecode(jwk.k);
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) {
    throw new CryptoError('An AES key must be 16, 24 or 32 bytes long.');
  }
  return key;
}

/** "rsa" or "x25519" by kty/crv (docs/protocol.md §3); anything else is refused. */
export function accountKeyType(jwk) {
  if (jwk && jwk.kty === 'RSA') return 'rsa';
  if (jwk && jwk.kty === 'OKP' && jwk.crv === 'X25519') return 'x25519';
  throw new CryptoError('The value is not a supported account key.');
}

/** 32 raw bytes of an X25519 JWK member ("x" or "d"). */
export function x25519Member(jwk, member) {
  const raw = typeof jwk[member] === 'string' ? b64urlDecode(jwk[member]) : new Uint8Array(0);
  if (raw.length !== 32) throw new CryptoError(`The X25519 key member "${member}" must be 32 bytes.`);
  return raw;
}

export function toBytes(value) {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw new TypeError('expected bytes');
}

export function concatBytes(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Compare two byte strings without an early exit (key fingerprints, OAEP label hashes). */
export function bytesEqual(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

export function isAllZero(bytes) {
  let acc = 0;
  for (const byte of bytes) acc |= byte;
  return acc === 0;
}

export const utf8Encode = (text) => new TextEncoder().encode(text);
// fatal: a ciphertext that opens to invalid UTF-8 is an error, not a string with U+FFFD in it.
export const utf8Decode = (bytes) => new TextDecoder('utf-8', { fatal: true }).decode(bytes);

/** JSON out of decrypted bytes; both implementations fail the same way on junk. */
export function parseJSON(bytes) {
  try {
    return JSON.parse(utf8Decode(bytes));
  } catch {
    throw new CryptoError('The decrypted value is not JSON.');
  }
}
