// The vault's cryptography: visitor secrets, their wrapping for the account, event encryption.
//
// Owns the choice of implementation (`getCrypto`) and the WebCrypto implementation. Formats are those of
// docs/protocol.md: `{1,}` AES-GCM, `{1,}` RSA-OAEP-SHA256 wraps for Offen's RSA accounts, `{2,}`
// X25519+HKDF+AES-GCM wraps for new accounts. A vault framed by a plain-http host page is not a secure
// context and has no `crypto.subtle`; it then loads crypto-fallback.js (vendored noble libraries),
// which exposes exactly the same interface and reads and writes the same strings.

import {
  ALGO_AES_GCM,
  ALGO_RSA_OAEP,
  ALGO_X25519,
  CryptoError,
  X25519_INFO,
  accountKeyType,
  aesChunks,
  b64urlDecode,
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

export { CryptoError };

const cache = new WeakMap();

/**
 * The implementation for `scope` (a window, a worker, or Node's globalThis).
 * WebCrypto when `scope.crypto.subtle` exists; otherwise the userland fallback, imported only then so that
 * secure contexts never download it. Without `crypto.getRandomValues` there is no safe source of keys and
 * nonces at all, and this refuses rather than degrading to Math.random.
 */
export async function getCrypto(scope = globalThis) {
  if (cache.has(scope)) return cache.get(scope);
  const source = scope && scope.crypto;
  let impl;
  if (source && source.subtle) {
    impl = webCryptoWith(source);
  } else if (source && typeof source.getRandomValues === 'function') {
    const { cryptoFallbackWith } = await import('./crypto-fallback.js');
    impl = cryptoFallbackWith({ getRandomValues: (array) => source.getRandomValues(array) });
  } else {
    throw new CryptoError('This browser offers no secure random numbers; the vault cannot encrypt.');
  }
  cache.set(scope, impl);
  return impl;
}

/**
 * The WebCrypto implementation over a `Crypto` object (`window.crypto`, Node's `globalThis.crypto`).
 * Exported so tests can build it explicitly next to the fallback.
 */
export function webCryptoWith(source) {
  const subtle = source.subtle;
  const random = (n) => source.getRandomValues(new Uint8Array(n));

  const aesKey = (raw, usage) => subtle.importKey('raw', raw, { name: 'AES-GCM' }, false, [usage]);

  // WebCrypto signals every failed tag check and bad key as a DOMException; callers get one error type
  // whichever implementation runs, and no engine-specific detail.
  async function opened(promise) {
    try {
      return new Uint8Array(await promise);
    } catch (error) {
      if (error instanceof CryptoError) throw error;
      throw new CryptoError();
    }
  }

  async function aesOpen(keyJwk, cipher) {
    const raw = symmetricKeyBytes(keyJwk);
    const [sealed, nonce] = aesChunks(cipher);
    const key = await aesKey(raw, 'decrypt');
    return opened(subtle.decrypt({ name: 'AES-GCM', iv: nonce }, key, sealed));
  }

  // HKDF-SHA256(shared, salt = E ‖ R, info) → AES-256-GCM key, docs/protocol.md §3.2.
  async function x25519AesKey(shared, eph, recipient, usage) {
    if (isAllZero(shared)) throw new CryptoError('The X25519 public key is not usable.');
    const ikm = await subtle.importKey('raw', shared, 'HKDF', false, ['deriveKey']);
    return subtle.deriveKey(
      { name: 'HKDF', hash: 'SHA-256', salt: concatBytes(eph, recipient), info: X25519_INFO },
      ikm,
      { name: 'AES-GCM', length: 256 },
      false,
      [usage],
    );
  }

  async function x25519Shared(privateKey, publicRaw) {
    const publicKey = await subtle.importKey('raw', publicRaw, { name: 'X25519' }, false, []);
    // Engines throw on a low-order peer key (all-zero result); x25519AesKey checks again regardless.
    return opened(subtle.deriveBits({ name: 'X25519', public: publicKey }, privateKey, 256));
  }

  // PKCS#8 wrapping of a raw X25519 private key (RFC 8410): lets us import `d` alone, compute the
  // matching public key ourselves, and check it against the JWK's `x` the way keys.py does.
  const PKCS8_X25519 = new Uint8Array([
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20,
  ]);

  async function wrapX25519(publicJwk, plaintext) {
    const recipient = x25519Member(publicJwk, 'x');
    const eph = await subtle.generateKey({ name: 'X25519' }, true, ['deriveBits']);
    const ephRaw = new Uint8Array(await subtle.exportKey('raw', eph.publicKey));
    const shared = await x25519Shared(eph.privateKey, recipient);
    const key = await x25519AesKey(shared, ephRaw, recipient, 'encrypt');
    const nonce = random(12);
    const sealed = new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv: nonce }, key, plaintext));
    return serialize(ALGO_X25519, [sealed, nonce, ephRaw]);
  }

  async function unwrapX25519(privateJwk, cipher) {
    const [sealed, nonce, eph] = x25519Chunks(cipher);
    const d = x25519Member(privateJwk, 'd');
    let privateKey;
    try {
      privateKey = await subtle.importKey('pkcs8', concatBytes(PKCS8_X25519, d), { name: 'X25519' }, true, [
        'deriveBits',
      ]);
    } catch {
      throw new CryptoError('The X25519 private key is invalid.');
    }
    const recipient = b64urlDecode((await subtle.exportKey('jwk', privateKey)).x);
    if ('x' in privateJwk && !bytesEqual(x25519Member(privateJwk, 'x'), recipient)) {
      throw new CryptoError('The X25519 private key does not match its public part.');
    }
    const shared = await x25519Shared(privateKey, eph);
    const key = await x25519AesKey(shared, eph, recipient, 'decrypt');
    return opened(subtle.decrypt({ name: 'AES-GCM', iv: nonce }, key, sealed));
  }

  const RSA_OAEP = { name: 'RSA-OAEP', hash: 'SHA-256' };
  const RSA_PRIVATE_MEMBERS = ['n', 'e', 'd', 'p', 'q', 'dp', 'dq', 'qi'];

  async function importRsa(jwk, members, usage) {
    // Only the key's numbers: a stray `alg` (e.g. "RSA-OAEP" meaning SHA-1) or `key_ops` member from some
    // exporter would otherwise make importKey refuse a key that is fine for SHA-256 OAEP.
    const clean = { kty: 'RSA', ext: true };
    for (const member of members) {
      if (typeof jwk[member] === 'string') clean[member] = jwk[member];
    }
    try {
      return await subtle.importKey('jwk', clean, RSA_OAEP, false, [usage]);
    } catch {
      throw new CryptoError('The RSA key is invalid.');
    }
  }

  // Methods refer to `impl`, not `this`, so they keep working when destructured.
  const impl = Object.freeze({
    kind: 'webcrypto',

    async createUserSecret() {
      const key = await subtle.generateKey({ name: 'AES-GCM', length: 128 }, true, ['encrypt', 'decrypt']);
      return subtle.exportKey('jwk', key);
    },

    async wrapUserSecret(publicJwk, secretJwk) {
      const plaintext = utf8Encode(JSON.stringify(secretJwk));
      if (accountKeyType(publicJwk) === 'x25519') return wrapX25519(publicJwk, plaintext);
      const key = await importRsa(publicJwk, ['n', 'e'], 'encrypt');
      const sealed = await opened(subtle.encrypt({ name: 'RSA-OAEP' }, key, plaintext));
      return serialize(ALGO_RSA_OAEP, [sealed]);
    },

    async unwrapUserSecret(privateJwk, cipher) {
      return parseJSON(await impl.unwrapBytes(privateJwk, cipher));
    },

    // The raw plaintext of a `{1,}` RSA or `{2,}` X25519 wrap (vectors, tooling); unwrapUserSecret parses it.
    async unwrapBytes(privateJwk, cipher) {
      if (accountKeyType(privateJwk) === 'x25519') return unwrapX25519(privateJwk, cipher);
      const [sealed] = expectChunks(cipher, ALGO_RSA_OAEP, 1);
      const key = await importRsa(privateJwk, RSA_PRIVATE_MEMBERS, 'decrypt');
      return opened(subtle.decrypt({ name: 'RSA-OAEP' }, key, sealed));
    },

    async encryptJSON(secretJwk, value) {
      const key = await aesKey(symmetricKeyBytes(secretJwk), 'encrypt');
      const nonce = random(12);
      const plaintext = utf8Encode(JSON.stringify(value));
      const sealed = new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv: nonce }, key, plaintext));
      return serialize(ALGO_AES_GCM, [sealed, nonce]);
    },

    async decryptJSON(secretJwk, cipher) {
      return parseJSON(await aesOpen(secretJwk, cipher));
    },

    async decryptBytes(keyJwk, cipher) {
      return aesOpen(keyJwk, cipher);
    },
  });
  return impl;
}

