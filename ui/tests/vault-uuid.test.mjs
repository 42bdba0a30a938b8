import { test } from 'node:test';
import assert from 'node:assert/strict';

import { randomUUIDv4 } from '../vault/uuid.js';
import { duplexerWith } from '../vault/relay.js';
import { cookiesWith } from '../vault/cookies.js';
import { cookieJar } from './vault-fakes.mjs';

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const filled = (byte) => (bytes) => bytes.fill(byte);

test('version and variant bits are set by hand over the random bytes', () => {
  assert.equal(randomUUIDv4(filled(0x00)), '00000000-0000-4000-8000-000000000000');
  assert.equal(randomUUIDv4(filled(0xff)), 'ffffffff-ffff-4fff-bfff-ffffffffffff');
  const counting = (bytes) => bytes.forEach((_, i) => (bytes[i] = i * 17));
  // Bytes 00 11 22 … f0 (×17): byte 6 = 0x66 -> 0x46, byte 8 = 0x88 -> 0x88.
  assert.equal(randomUUIDv4(counting), '00112233-4455-4677-8899-aabbccddeeff');
});

test('16 bytes are asked of the CSPRNG, once', () => {
  const asked = [];
  randomUUIDv4((bytes) => {
    asked.push(bytes.length);
    return bytes;
  });
  assert.deepEqual(asked, [16]);
});

test('with the real getRandomValues: RFC 9562 version 4 text, and no repeats', () => {
  const seen = new Set();
  for (let i = 0; i < 2000; i++) {
    const id = randomUUIDv4();
    assert.match(id, V4);
    seen.add(id);
  }
  assert.equal(seen.size, 2000);
});

test('the session id is made without crypto.randomUUID (missing outside secure contexts)', async () => {
  const original = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(globalThis.crypto), 'randomUUID');
  Object.defineProperty(globalThis.crypto, 'randomUUID', { value: undefined, configurable: true });
  try {
    assert.equal(globalThis.crypto.randomUUID, undefined);
    const jar = cookieJar();
    const duplex = duplexerWith({
      cookies: cookiesWith({ document: jar.doc, location: { protocol: 'https:' } }),
      countryForTimeZone: () => null,
      timeZone: () => null,
    });
    const event = await duplex('acc-1', { href: 'https://www.site.test/' });
    assert.match(event.sessionId, V4);
    assert.equal(jar.jar.get('session-acc-1').value, event.sessionId);
  } finally {
    delete globalThis.crypto.randomUUID;
    assert.deepEqual(Object.getOwnPropertyDescriptor(Object.getPrototypeOf(globalThis.crypto), 'randomUUID'), original);
  }
});

test('an account id that could smuggle cookie attributes is refused before any cookie is written', async () => {
  const jar = cookieJar();
  const duplex = duplexerWith({
    cookies: cookiesWith({ document: jar.doc, location: { protocol: 'https:' } }),
    countryForTimeZone: () => null,
  });
  await assert.rejects(duplex('x; Path=/; Max-Age=99999', { href: 'https://www.site.test/' }), (err) => err.status === 400);
  assert.deepEqual(jar.writes, []);
});
