// Userland crypto for a vault that is not a secure context (framed by a plain-http host page).
//
// Owns the same interface as crypto.js's WebCrypto implementation, over the vendored noble libraries
// (AES-GCM, X25519, SHA-256, HKDF) plus RSA-OAEP-SHA256 written here with BigInt (RFC 8017 §7.1). It reads and
// writes exactly the strings of docs/protocol.md, so WebCrypto and appliance/keys.py read its output and
// vice versa. Loaded only through getCrypto() when `crypto.subtle` is missing; randomness still comes from
// `crypto.getRandomValues`, which browsers offer in insecure contexts too.
//
// The RSA code is not constant-time. In the browser it only ever encrypts to an account's *public* key,
// which involves no secret exponent; decryption exists for tests and tooling, never for a vault.

import { gcm, hkdf, sha256, x25519 } from '../vendor/noble-2.4.0-2.4.0-2.4.0.min.js';
import {
  ALGO_AES_GCM,
  ALGO_RSA_OAEP,
  ALGO_X25519,
  CryptoError,
  X25519_INFO,
  accountKeyType,
  aesChunks,
  b64urlDecode,
  b64urlEncode,
  bytesEqual,
  concatBytes,
  expectChunks,
  isAllZero,
  parseJSON,
  serialize,
  symmetricKeyBytes,
  utf8Encode,
  x25519Chunks,
  x25519Member,
} from './versioned-cipher.js';

const HASH_LEN = 32;
const EMPTY_LABEL_HASH = sha256(new Uint8Array(0));

/**
 * The fallback implementation.
 * deps.getRandomValues: `crypto.getRandomValues`-compatible (required; no randomness, no crypto).
 * deps.nonceLength: test hook only — 16 makes encryptJSON write Offen forge-style 16-byte nonces so tests can
 * prove those still decrypt everywhere. Production code never passes it; new ciphertexts use 12 bytes.
 */
export function cryptoFallbackWith(deps = {}) {
  const { getRandomValues, nonceLength = 12 } = deps;
  if (typeof getRandomValues !== 'function') {
    throw new CryptoError('This browser offers no secure random numbers; the vault cannot encrypt.');
  }
  if (nonceLength !== 12 && nonceLength !== 16) throw new TypeError('nonceLength must be 12 or 16');
  const random = (n) => {
    const out = new Uint8Array(n);
    getRandomValues(out);
    return out;
  };

  function aesOpen(keyJwk, cipher) {
    const key = symmetricKeyBytes(keyJwk);
    const [sealed, nonce] = aesChunks(cipher);
    return gcmOpen(key, nonce, sealed);
  }

  function x25519Key(shared, eph, recipient) {
    if (isAllZero(shared)) throw new CryptoError('The X25519 public key is not usable.');
    return hkdf(sha256, shared, concatBytes(eph, recipient), X25519_INFO, 32);
  }

  function sharedSecret(secret, publicRaw) {
    try {
      // noble rejects low-order points itself; x25519Key checks for the all-zero result again.
      return x25519.getSharedSecret(secret, publicRaw);
    } catch {
      throw new CryptoError('The X25519 public key is not usable.');
    }
  }

  function wrapX25519(publicJwk, plaintext) {
    const recipient = x25519Member(publicJwk, 'x');
    const ephSecret = random(32);
    const eph = x25519.getPublicKey(ephSecret);
    const key = x25519Key(sharedSecret(ephSecret, recipient), eph, recipient);
    ephSecret.fill(0);
    const nonce = random(12);
    return serialize(ALGO_X25519, [gcm(key, nonce).encrypt(plaintext), nonce, eph]);
  }

  function unwrapX25519(privateJwk, cipher) {
    const [sealed, nonce, eph] = x25519Chunks(cipher);
    const d = x25519Member(privateJwk, 'd');
    const recipient = x25519.getPublicKey(d);
    if ('x' in privateJwk && !bytesEqual(x25519Member(privateJwk, 'x'), recipient)) {
      throw new CryptoError('The X25519 private key does not match its public part.');
    }
    return gcmOpen(x25519Key(sharedSecret(d, eph), eph, recipient), nonce, sealed);
  }

  // Methods refer to `impl`, not `this`, so they keep working when destructured.
  const impl = Object.freeze({
    kind: 'fallback',

    async createUserSecret() {
      // Offen's forge fallback made this shape too; the server and WebCrypto ignore missing alg/key_ops.
      return { kty: 'oct', k: b64urlEncode(random(16)) };
    },

    async wrapUserSecret(publicJwk, secretJwk) {
      const plaintext = utf8Encode(JSON.stringify(secretJwk));
      if (accountKeyType(publicJwk) === 'x25519') return wrapX25519(publicJwk, plaintext);
      return serialize(ALGO_RSA_OAEP, [rsaOaepEncrypt(publicJwk, plaintext, random)]);
    },

    async unwrapUserSecret(privateJwk, cipher) {
      return parseJSON(await impl.unwrapBytes(privateJwk, cipher));
    },

    async unwrapBytes(privateJwk, cipher) {
      if (accountKeyType(privateJwk) === 'x25519') return unwrapX25519(privateJwk, cipher);
      const [sealed] = expectChunks(cipher, ALGO_RSA_OAEP, 1);
      return rsaOaepDecrypt(privateJwk, sealed);
    },

    async encryptJSON(secretJwk, value) {
      const key = symmetricKeyBytes(secretJwk);
      const nonce = random(nonceLength);
      return serialize(ALGO_AES_GCM, [gcm(key, nonce).encrypt(utf8Encode(JSON.stringify(value))), nonce]);
    },

    async decryptJSON(secretJwk, cipher) {
      return parseJSON(aesOpen(secretJwk, cipher));
    },

    async decryptBytes(keyJwk, cipher) {
      return aesOpen(keyJwk, cipher);
    },
  });
  return impl;
}

function gcmOpen(key, nonce, sealed) {
  try {
    return gcm(key, nonce).decrypt(sealed);
  } catch {
    throw new CryptoError();
  }
}

// ----------------------------------------------------------------------------------------------
// RSA-OAEP with SHA-256 for the hash and MGF1, empty label (RFC 8017 §7.1), over BigInt.

function bytesToInt(bytes) {
  let hex = '';
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
  return hex ? BigInt('0x' + hex) : 0n;
}

/** I2OSP: big-endian, exactly `length` bytes. */
function intToBytes(value, length) {
  const hex = value.toString(16);
  if (hex.length > length * 2) throw new CryptoError('The integer is too large.');
  const padded = hex.padStart(length * 2, '0');
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = parseInt(padded.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function modPow(base, exponent, modulus) {
  let result = 1n;
  let b = base % modulus;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
  }
  return result;
}

function jwkInt(jwk, member) {
  if (typeof jwk[member] !== 'string' || jwk[member] === '') {
    throw new CryptoError(`The key lacks the member "${member}".`);
  }
  return bytesToInt(b64urlDecode(jwk[member]));
}

function rsaPublic(jwk) {
  const n = jwkInt(jwk, 'n');
  const e = jwkInt(jwk, 'e');
  // Offen's keys are RSA-4096; refuse toy moduli and even/one exponents rather than "encrypt" weakly.
  if (n.toString(2).length < 2048 || e < 3n || (e & 1n) === 0n || e >= n) {
    throw new CryptoError('The RSA public key is invalid.');
  }
  return { n, e, k: Math.ceil(n.toString(16).length / 2) };
}

function mgf1(seed, length) {
  const out = new Uint8Array(length);
  const counter = new Uint8Array(4);
  for (let offset = 0, i = 0; offset < length; offset += HASH_LEN, i++) {
    new DataView(counter.buffer).setUint32(0, i);
    const block = sha256(concatBytes(seed, counter));
    out.set(block.subarray(0, Math.min(HASH_LEN, length - offset)), offset);
  }
  return out;
}

function xorInto(target, mask) {
  for (let i = 0; i < target.length; i++) target[i] ^= mask[i];
}

/** RSAES-OAEP-ENCRYPT (RFC 8017 §7.1.1); `random(n)` gives the seed. */
export function rsaOaepEncrypt(publicJwk, message, random) {
  const { n, e, k } = rsaPublic(publicJwk);
  if (message.length > k - 2 * HASH_LEN - 2) throw new CryptoError('The value is too long for this key.');
  // DB = lHash ‖ PS (zeros) ‖ 0x01 ‖ M, length k - hLen - 1
  const db = new Uint8Array(k - HASH_LEN - 1);
  db.set(EMPTY_LABEL_HASH, 0);
  db[db.length - message.length - 1] = 0x01;
  db.set(message, db.length - message.length);
  const seed = random(HASH_LEN);
  xorInto(db, mgf1(seed, db.length));
  xorInto(seed, mgf1(db, HASH_LEN));
  const em = concatBytes(new Uint8Array([0]), seed, db);
  return intToBytes(modPow(bytesToInt(em), e, n), k);
}

/** RSAES-OAEP-DECRYPT (RFC 8017 §7.1.2). For tests and tooling; not constant-time. */
export function rsaOaepDecrypt(privateJwk, ciphertext) {
  const { n, k } = rsaPublic(privateJwk);
  if (ciphertext.length !== k || k < 2 * HASH_LEN + 2) throw new CryptoError();
  const c = bytesToInt(ciphertext);
  if (c >= n) throw new CryptoError();
  let m;
  if (['p', 'q', 'dp', 'dq', 'qi'].every((member) => typeof privateJwk[member] === 'string')) {
    // CRT (RFC 8017 §5.1.2): about four times faster than one exponentiation by d.
    const [p, q, dp, dq, qi] = ['p', 'q', 'dp', 'dq', 'qi'].map((member) => jwkInt(privateJwk, member));
    const m1 = modPow(c, dp, p);
    const m2 = modPow(c, dq, q);
    const h = (((m1 - m2) % p) + p) % p;
    m = m2 + q * ((qi * h) % p);
  } else {
    m = modPow(c, jwkInt(privateJwk, 'd'), n);
  }
  const em = intToBytes(m, k);
  const maskedSeed = em.slice(1, 1 + HASH_LEN);
  const db = em.slice(1 + HASH_LEN);
  xorInto(maskedSeed, mgf1(db, HASH_LEN));
  xorInto(db, mgf1(maskedSeed, db.length));
  // Collect every check before deciding, so the error does not say which part failed (Manger's attack).
  let bad = em[0] !== 0 || !bytesEqual(db.subarray(0, HASH_LEN), EMPTY_LABEL_HASH);
  let separator = -1;
  for (let i = HASH_LEN; i < db.length; i++) {
    if (separator < 0 && db[i] === 0x01) separator = i;
    else if (separator < 0 && db[i] !== 0x00) bad = true;
  }
  if (bad || separator < 0) throw new CryptoError();
  return db.slice(separator + 1);
}
