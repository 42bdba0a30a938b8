import { test } from 'node:test';
import assert from 'node:assert/strict';

import { cookiesWith } from '../vault/cookies.js';
import { consentWith } from '../vault/main.js';
import { cookieJar } from './vault-fakes.mjs';

const https = { protocol: 'https:' };
const http = { protocol: 'http:' };

test('https cookies are SameSite=None; Secure; Partitioned (CHIPS)', () => {
  const { doc, writes } = cookieJar();
  const cookies = cookiesWith({ document: doc, location: https });
  cookies.set('consent', 'allow', { expires: cookies.hundredYears() });
  const attrs = writes[0].attributes;
  assert.equal(attrs.samesite, 'None');
  assert.equal(attrs.secure, true);
  assert.equal(attrs.partitioned, true);
  assert.equal(attrs.path, '/');
  const years = (Date.parse(attrs.expires) - Date.now()) / (365.25 * 24 * 3600 * 1000);
  assert.ok(years > 99.9 && years < 100.1, `expires in ${years} years`);
  assert.equal(cookies.get('consent'), 'allow');
});

test('plain http development cookies are SameSite=Lax without Secure', () => {
  const { doc, writes } = cookieJar();
  const cookies = cookiesWith({ document: doc, location: http });
  cookies.set('session-a', 'x');
  assert.equal(writes[0].attributes.samesite, 'Lax');
  assert.equal(writes[0].attributes.secure, undefined);
  assert.equal(writes[0].attributes.partitioned, undefined);
  assert.equal(writes[0].attributes.expires, undefined, 'a session cookie has no Expires');
});

test('the cookie probe is written and expired, and reports blocked cookies', () => {
  const ok = cookieJar();
  const cookies = cookiesWith({ document: ok.doc, location: https });
  assert.equal(cookies.allowsCookies(), true);
  assert.deepEqual(ok.names(), [], 'the probe leaves nothing behind');
  assert.deepEqual(
    ok.writes.map((w) => `${w.name}=${w.value}`),
    ['ok=__allows_cookies__', 'ok='],
  );
  const blocked = cookieJar({ blockAll: true });
  assert.equal(cookiesWith({ document: blocked.doc, location: https }).allowsCookies(), false);
});

test('onlyPartitioned tells a third-party-cookie-blocking browser from a first-party one', () => {
  const chips = cookieJar({ blockUnpartitioned: true });
  const partitioned = cookiesWith({ document: chips.doc, location: https });
  assert.equal(partitioned.allowsCookies(), true, 'Partitioned cookies still work');
  assert.equal(partitioned.onlyPartitioned(), true);
  const first = cookieJar();
  assert.equal(cookiesWith({ document: first.doc, location: https }).onlyPartitioned(), false);
  assert.deepEqual(first.names(), []);
});

test('values are URI-encoded and names listed', () => {
  const { doc } = cookieJar();
  const cookies = cookiesWith({ document: doc, location: https });
  cookies.set('a', 'x y;z');
  cookies.set('b', '1');
  assert.equal(cookies.get('a'), 'x y;z');
  assert.deepEqual(cookies.names().sort(), ['a', 'b']);
  cookies.remove('a');
  assert.equal(cookies.get('a'), null);
});

test('consent is refreshed when read and ignores unknown values', () => {
  const { doc, writes } = cookieJar();
  const cookies = cookiesWith({ document: doc, location: https });
  const consent = consentWith({ cookies, ask: async () => assert.fail('no banner') });
  assert.equal(consent.get(), null);
  assert.equal(writes.length, 0, 'reading an absent decision writes nothing');
  cookies.set('consent', 'maybe');
  assert.equal(consent.get(), null);
  cookies.set('consent', 'deny');
  const before = writes.length;
  assert.equal(consent.get(), 'deny');
  assert.equal(writes.length, before + 1);
  assert.equal(writes.at(-1).name, 'consent');
  assert.ok(writes.at(-1).attributes.expires, 'refreshed with a fresh expiry');
});

test('decide: skipConsent denies without persisting; one banner for many waiting events', async () => {
  const { doc } = cookieJar();
  const cookies = cookiesWith({ document: doc, location: https });
  let asked = 0;
  let answer;
  const consent = consentWith({
    cookies,
    ask: () => {
      asked += 1;
      return new Promise((resolve) => (answer = resolve));
    },
  });
  assert.equal(await consent.decide(() => {}, { skipConsent: true }), 'deny');
  assert.equal(cookies.get('consent'), null);
  const a = consent.decide(() => {});
  const b = consent.decide(() => {});
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(asked, 1);
  answer('allow');
  assert.deepEqual(await Promise.all([a, b]), ['allow', 'allow']);
  assert.equal(cookies.get('consent'), 'allow');
  assert.equal(await consent.decide(() => {}), 'allow');
  assert.equal(asked, 1);
});
