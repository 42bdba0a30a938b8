// Unit tests of ui/vault/crypto.js, crypto-fallback.js and versioned-cipher.js (node --test).
// The vectors are the shared ones of docs/protocol.md; both implementations must pass all of them.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import { cryptoFallbackWith, rsaOaepDecrypt, rsaOaepEncrypt } from '../vault/crypto-fallback.js';
import { getCrypto, webCryptoWith } from '../vault/crypto.js';
import {
  CryptoError,
  b64decode,
  b64encode,
  b64urlDecode,
  b64urlEncode,
  parse,
  serialize,
} from '../vault/versioned-cipher.js';

const root = new URL('../../tests/fixtures/', import.meta.url);
const fixture = (path) => JSON.parse(readFileSync(new URL(path, root), 'utf8'));
const vectors = {
  versioned: fixture('vectors/versioned.json'),
  aes: fixture('vectors/aes_gcm.json'),
  rsa: fixture('vectors/rsa_oaep.json'),
  x25519: fixture('vectors/x25519.json'),
};
const keys = {
  rsa1: fixture('keys/rsa-1.json'),
  rsa2: fixture('keys/rsa-2.json'),
  x1: fixture('keys/x25519-1.json'),
  x2: fixture('keys/x25519-2.json'),
};

const hex = (bytes) => Buffer.from(bytes).toString('hex');
const fromHex = (text) => new Uint8Array(Buffer.from(text, 'hex'));
const asJSON = (text) => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};
const getRandomValues = (array) => globalThis.crypto.getRandomValues(array);

const impls = {
  webcrypto: webCryptoWith(globalThis.crypto),
  fallback: cryptoFallbackWith({ getRandomValues }),
};
const accountKeys = { rsa: keys.rsa1, x25519: keys.x1 };

describe('versioned-cipher', () => {
  for (const good of vectors.versioned.good) {
    it(`parses ${JSON.stringify(good.value)}`, () => {
      const parsed = parse(good.value);
      assert.equal(parsed.algo, good.algo);
      assert.equal(parsed.keyVersion, good.key_version);
      assert.deepEqual(parsed.chunks.map(hex), good.chunks_hex);
    });
  }
  for (const bad of vectors.versioned.bad) {
    it(`rejects ${JSON.stringify(bad)}`, () => {
      assert.throws(() => parse(bad), CryptoError);
    });
  }
  it('rejects non-strings', () => {
    for (const value of [null, undefined, 1, {}, ['{1,} YWJj']]) assert.throws(() => parse(value), CryptoError);
  });
  it('serializes with padding and round-trips', () => {
    for (const good of vectors.versioned.good) {
      const chunks = good.chunks_hex.map(fromHex);
      const text = serialize(good.algo, chunks, good.key_version);
      assert.deepEqual(parse(text).chunks.map(hex), good.chunks_hex);
      if (!good.note) assert.equal(text, good.value);
    }
  });
  it('refuses empty chunks, bad algos and key versions when serializing', () => {
    assert.throws(() => serialize(1, []), TypeError);
    assert.throws(() => serialize(1, [new Uint8Array(0)]), TypeError);
    assert.throws(() => serialize(-1, [new Uint8Array(1)]), TypeError);
    assert.throws(() => serialize(1.5, [new Uint8Array(1)]), TypeError);
    assert.throws(() => serialize(1, [new Uint8Array(1)], 'x'), TypeError);
  });
  it('base64 agrees with Node for every length and byte value', () => {
    for (let length = 0; length < 70; length++) {
      const bytes = globalThis.crypto.getRandomValues(new Uint8Array(length));
      const std = Buffer.from(bytes).toString('base64');
      const url = Buffer.from(bytes).toString('base64url');
      assert.equal(b64encode(bytes), std);
      assert.equal(b64urlEncode(bytes), url);
      assert.deepEqual(b64decode(std), bytes);
      assert.deepEqual(b64decode(std.replace(/=+$/, '')), bytes);
      assert.deepEqual(b64urlDecode(url), bytes);
    }
  });
  it('base64 rejects the other alphabet and junk', () => {
    assert.throws(() => b64decode('YW-_'), CryptoError);
    assert.throws(() => b64urlDecode('YW+/'), CryptoError);
    assert.throws(() => b64decode('YW J'), CryptoError);
    assert.throws(() => b64decode('Y==='), CryptoError);
    assert.throws(() => b64decode('Y'), CryptoError);
  });
});

describe('getCrypto', () => {
  it('picks WebCrypto where crypto.subtle exists', async () => {
    assert.equal((await getCrypto({ crypto: globalThis.crypto })).kind, 'webcrypto');
    assert.equal((await getCrypto()).kind, 'webcrypto');
  });
  it('falls back to userland crypto without crypto.subtle (insecure context)', async () => {
    const scope = { crypto: { getRandomValues } };
    const impl = await getCrypto(scope);
    assert.equal(impl.kind, 'fallback');
    assert.equal(await getCrypto(scope), impl, 'one implementation per scope');
  });
  it('refuses to run without getRandomValues', async () => {
    await assert.rejects(getCrypto({}), CryptoError);
    await assert.rejects(getCrypto({ crypto: {} }), CryptoError);
    assert.throws(() => cryptoFallbackWith({}), CryptoError);
  });
});

for (const [name, impl] of Object.entries(impls)) {
  describe(`${name} implementation`, () => {
    it('has the right kind and the whole interface', () => {
      assert.equal(impl.kind, name);
      for (const method of [
        'createUserSecret',
        'wrapUserSecret',
        'unwrapUserSecret',
        'unwrapBytes',
        'encryptJSON',
        'decryptJSON',
        'decryptBytes',
      ]) {
        assert.equal(typeof impl[method], 'function', method);
      }
    });

    it('creates 16-byte user secrets in Offen\'s shape', async () => {
      const a = await impl.createUserSecret();
      const b = await impl.createUserSecret();
      assert.equal(a.kty, 'oct');
      assert.equal(b64urlDecode(a.k).length, 16);
      assert.notEqual(a.k, b.k);
      if (name === 'webcrypto') {
        assert.equal(a.alg, 'A128GCM');
        assert.equal(a.ext, true);
        assert.deepEqual([...a.key_ops].sort(), ['decrypt', 'encrypt']);
      } else {
        assert.deepEqual(Object.keys(a).sort(), ['k', 'kty']);
      }
    });

    for (const good of vectors.aes.good) {
      it(`decrypts the AES-GCM vector "${good.name}"`, async () => {
        const bytes = await impl.decryptBytes(good.jwk, good.cipher);
        assert.equal(new TextDecoder().decode(bytes), good.plaintext);
        const json = asJSON(good.plaintext);
        if (json !== undefined) assert.deepEqual(await impl.decryptJSON(good.jwk, good.cipher), json);
        else await assert.rejects(impl.decryptJSON(good.jwk, good.cipher), CryptoError);
      });
    }
    for (const bad of vectors.aes.bad_for_key_of_first) {
      it(`rejects the AES-GCM case "${bad.why}"`, async () => {
        await assert.rejects(impl.decryptBytes(vectors.aes.good[0].jwk, bad.cipher), CryptoError);
        await assert.rejects(impl.decryptJSON(vectors.aes.good[0].jwk, bad.cipher), CryptoError);
      });
    }
    it('rejects a wrong key and bad key shapes', async () => {
      const [first, second] = vectors.aes.good;
      await assert.rejects(impl.decryptBytes(second.jwk, first.cipher), CryptoError);
      const short = { kty: 'oct', k: b64urlEncode(new Uint8Array(15)) };
      await assert.rejects(impl.decryptBytes(short, first.cipher), CryptoError);
      await assert.rejects(impl.decryptBytes({ kty: 'RSA', k: first.jwk.k }, first.cipher), CryptoError);
      await assert.rejects(impl.encryptJSON({ kty: 'oct', k: 'not base64url!' }, {}), CryptoError);
    });

    it('encrypts JSON with a 12-byte nonce and a fresh nonce each time', async () => {
      const secret = await impl.createUserSecret();
      const event = { type: 'PAGEVIEW', href: 'https://example.com/ä?q=1', referrer: '', timestamp: 1 };
      const a = await impl.encryptJSON(secret, event);
      const b = await impl.encryptJSON(secret, event);
      assert.notEqual(a, b);
      const { algo, chunks } = parse(a);
      assert.equal(algo, 1);
      assert.equal(chunks.length, 2);
      assert.equal(chunks[1].length, 12);
      assert.deepEqual(await impl.decryptJSON(secret, a), event);
    });

    it('refuses a decrypted value that is not JSON', async () => {
      // The empty-plaintext vector opens fine as bytes but is not JSON.
      const empty = vectors.aes.good.find((g) => g.plaintext === '');
      await assert.rejects(impl.decryptJSON(empty.jwk, empty.cipher), CryptoError);
    });

    it('unwraps the RSA-OAEP vector with the committed test key', async () => {
      const key = fixture(`keys/${vectors.rsa.key_file}`).private;
      assert.deepEqual(await impl.unwrapUserSecret(key, vectors.rsa.cipher), JSON.parse(vectors.rsa.plaintext));
    });
    for (const bad of vectors.rsa.bad) {
      it(`rejects the RSA case "${bad.why}"`, async () => {
        const key = fixture(`keys/${vectors.rsa.key_file}`).private;
        await assert.rejects(impl.unwrapUserSecret(key, bad.cipher), CryptoError);
      });
    }
    it('rejects an RSA wrap for another key', async () => {
      await assert.rejects(impl.unwrapUserSecret(keys.rsa2.private, vectors.rsa.cipher), CryptoError);
    });

    for (const good of vectors.x25519.good) {
      it(`unwraps the X25519 vector "${good.name}"`, async () => {
        const bytes = await impl.unwrapBytes(good.recipient_private_jwk, good.cipher);
        assert.equal(new TextDecoder().decode(bytes), good.plaintext);
        // Without x, the public part is computed from d.
        const { x: _x, ...onlyD } = good.recipient_private_jwk;
        assert.deepEqual(await impl.unwrapBytes(onlyD, good.cipher), bytes);
        const json = asJSON(good.plaintext);
        if (json !== undefined) {
          assert.deepEqual(await impl.unwrapUserSecret(good.recipient_private_jwk, good.cipher), json);
        } else {
          await assert.rejects(impl.unwrapUserSecret(good.recipient_private_jwk, good.cipher), CryptoError);
        }
      });
    }
    for (const bad of vectors.x25519.bad_for_first) {
      it(`rejects the X25519 case "${bad.why}"`, async () => {
        const key = vectors.x25519.good[0].recipient_private_jwk;
        await assert.rejects(impl.unwrapUserSecret(key, bad.cipher), CryptoError);
      });
    }
    it('rejects an X25519 private key whose x does not match d, and another account key', async () => {
      const good = vectors.x25519.good[0];
      const mismatched = { ...good.recipient_private_jwk, x: keys.x1.public.x };
      await assert.rejects(impl.unwrapUserSecret(mismatched, good.cipher), CryptoError);
      await assert.rejects(impl.unwrapUserSecret(keys.x2.private, good.cipher), CryptoError);
    });
    it('methods work when taken off the object', async () => {
    const { createUserSecret, wrapUserSecret, unwrapUserSecret } = impl;
    const secret = await createUserSecret();
    const wrapped = await wrapUserSecret(keys.x1.public, secret);
    assert.deepEqual(await unwrapUserSecret(keys.x1.private, wrapped), secret);
  });
  it('refuses unknown account key types', async () => {
      const secret = await impl.createUserSecret();
      for (const jwk of [{ kty: 'EC', crv: 'P-256' }, { kty: 'OKP', crv: 'Ed25519', x: keys.x1.public.x }, null]) {
        await assert.rejects(impl.wrapUserSecret(jwk, secret), CryptoError);
      }
      await assert.rejects(impl.wrapUserSecret({ kty: 'OKP', crv: 'X25519', x: 'AAAA' }, secret), CryptoError);
    });
    it('refuses a low-order X25519 account key', async () => {
      const secret = await impl.createUserSecret();
      const zero = { kty: 'OKP', crv: 'X25519', x: b64urlEncode(new Uint8Array(32)) };
      await assert.rejects(impl.wrapUserSecret(zero, secret), CryptoError);
    });
  });
}

describe('cross-implementation round trips', () => {
  for (const [writerName, writer] of Object.entries(impls)) {
    for (const [readerName, reader] of Object.entries(impls)) {
      for (const [type, pair] of Object.entries(accountKeys)) {
        it(`${writerName} wraps for ${type}, ${readerName} unwraps`, async () => {
          const secret = await writer.createUserSecret();
          const wrapped = await writer.wrapUserSecret(pair.public, secret);
          const { algo, chunks } = parse(wrapped);
          if (type === 'rsa') {
            assert.equal(algo, 1);
            assert.deepEqual(chunks.map((c) => c.length), [512]);
          } else {
            assert.equal(algo, 2);
            assert.equal(chunks[1].length, 12);
            assert.equal(chunks[2].length, 32);
            assert.equal(chunks[0].length, JSON.stringify(secret).length + 16);
          }
          const unwrapped = await reader.unwrapUserSecret(pair.private, wrapped);
          assert.deepEqual(unwrapped, secret);
          // The unwrapped secret works as a key in the other implementation.
          const event = { type: 'PAGEVIEW', href: `/${writerName}/${readerName}` };
          assert.deepEqual(await writer.decryptJSON(secret, await reader.encryptJSON(unwrapped, event)), event);
        });
      }
      it(`${writerName} encrypts events, ${readerName} decrypts (16- and 32-byte keys)`, async () => {
        for (const length of [16, 32]) {
          const raw = globalThis.crypto.getRandomValues(new Uint8Array(length));
          const jwk = { kty: 'oct', k: b64urlEncode(raw) };
          const value = { n: raw.length, list: [1, 'two', null], nested: { ok: true } };
          const cipher = await writer.encryptJSON(jwk, value);
          assert.deepEqual(await reader.decryptJSON(jwk, cipher), value);
          assert.deepEqual(
            JSON.parse(new TextDecoder().decode(await reader.decryptBytes(jwk, cipher))),
            value,
          );
        }
      });
    }
  }
  it('the forge-style 16-byte nonce hook writes ciphertexts both implementations read', async () => {
    const forge = cryptoFallbackWith({ getRandomValues, nonceLength: 16 });
    const secret = await forge.createUserSecret();
    const cipher = await forge.encryptJSON(secret, { href: '/forge' });
    assert.equal(parse(cipher).chunks[1].length, 16);
    for (const impl of Object.values(impls)) {
      assert.deepEqual(await impl.decryptJSON(secret, cipher), { href: '/forge' });
    }
    assert.throws(() => cryptoFallbackWith({ getRandomValues, nonceLength: 8 }), TypeError);
  });
});

describe('tamper detection', () => {
  const flipBit = (cipher, chunkIndex, byteIndex) => {
    const { algo, keyVersion, chunks } = parse(cipher);
    chunks[chunkIndex] = Uint8Array.from(chunks[chunkIndex]);
    chunks[chunkIndex][byteIndex] ^= 1;
    return serialize(algo, chunks, keyVersion);
  };
  for (const [name, impl] of Object.entries(impls)) {
    it(`${name}: every flipped byte of an event ciphertext, tag or nonce is detected`, async () => {
      const secret = await impl.createUserSecret();
      const cipher = await impl.encryptJSON(secret, { href: '/x' });
      const [sealed, nonce] = parse(cipher).chunks;
      for (let i = 0; i < sealed.length; i++) {
        await assert.rejects(impl.decryptJSON(secret, flipBit(cipher, 0, i)), CryptoError);
      }
      for (let i = 0; i < nonce.length; i++) {
        await assert.rejects(impl.decryptJSON(secret, flipBit(cipher, 1, i)), CryptoError);
      }
    });
    it(`${name}: tampered wraps are detected for both key types`, async () => {
      const secret = await impl.createUserSecret();
      for (const pair of Object.values(accountKeys)) {
        const wrapped = await impl.wrapUserSecret(pair.public, secret);
        const chunkCount = parse(wrapped).chunks.length;
        for (let c = 0; c < chunkCount; c++) {
          for (const reader of Object.values(impls)) {
            await assert.rejects(reader.unwrapUserSecret(pair.private, flipBit(wrapped, c, 5)), CryptoError);
          }
        }
      }
    });
  }
});

describe('fallback RSA-OAEP internals', () => {
  it('encodes deterministically for a fixed seed and decodes without CRT members', () => {
    const seed = new Uint8Array(32).fill(7);
    const message = new TextEncoder().encode('hello');
    const a = rsaOaepEncrypt(keys.rsa2.public, message, () => Uint8Array.from(seed));
    const b = rsaOaepEncrypt(keys.rsa2.public, message, () => Uint8Array.from(seed));
    assert.deepEqual(a, b);
    const { n, e, d } = keys.rsa2.private;
    assert.deepEqual(rsaOaepDecrypt({ kty: 'RSA', n, e, d }, a), message);
    assert.deepEqual(rsaOaepDecrypt(keys.rsa2.private, a), message);
  });
  it('refuses messages longer than k - 2·hLen - 2 and toy keys', () => {
    const rand = (n) => new Uint8Array(n);
    assert.ok(rsaOaepEncrypt(keys.rsa1.public, new Uint8Array(512 - 66), rand));
    assert.throws(() => rsaOaepEncrypt(keys.rsa1.public, new Uint8Array(512 - 65), rand), CryptoError);
    const toy = { kty: 'RSA', n: b64urlEncode(fromHex('c5')), e: 'AQAB' };
    assert.throws(() => rsaOaepEncrypt(toy, new Uint8Array(1), rand), CryptoError);
  });
  it('rejects ciphertexts of the wrong length or not below n', () => {
    assert.throws(() => rsaOaepDecrypt(keys.rsa1.private, new Uint8Array(511)), CryptoError);
    assert.throws(() => rsaOaepDecrypt(keys.rsa1.private, new Uint8Array(512).fill(0xff)), CryptoError);
  });
});
