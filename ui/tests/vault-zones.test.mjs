import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

import { countryForTimeZone, zoneTable } from '../vault/zones.js';

test('time zones map to ISO countries, old ICU aliases included', () => {
  assert.equal(countryForTimeZone('Europe/Berlin'), 'DE');
  assert.equal(countryForTimeZone('America/Sao_Paulo'), 'BR');
  assert.equal(countryForTimeZone('Asia/Ho_Chi_Minh'), 'VN');
  // Browsers report ICU's ids, often the old names.
  assert.equal(countryForTimeZone('Asia/Calcutta'), 'IN');
  assert.equal(countryForTimeZone('Europe/Kiev'), 'UA');
  assert.equal(countryForTimeZone('Asia/Saigon'), 'VN');
  assert.equal(countryForTimeZone('US/Eastern'), 'US');
  // Aliases of zones merged across borders keep their own country.
  assert.equal(countryForTimeZone('Atlantic/Jan_Mayen'), 'SJ');
  assert.equal(countryForTimeZone('Iceland'), 'IS');
  for (const none of ['UTC', 'Etc/GMT+3', '', null, undefined, 'Mars/Olympus']) assert.equal(countryForTimeZone(none), null);
  assert.ok(zoneTable().size > 400);
  for (const country of zoneTable().values()) assert.match(country, /^[A-Z]{2}$/);
});

const ZONEINFO = '/usr/share/zoneinfo';
test('zones.js is what make-zones.py generates', { skip: !existsSync(`${ZONEINFO}/zone.tab`) || !existsSync(`${ZONEINFO}/tzdata.zi`) }, () => {
  const script = new URL('../vault/make-zones.py', import.meta.url).pathname;
  const generated = execFileSync('python3', [script, ZONEINFO], { encoding: 'utf8' });
  const committed = readFileSync(new URL('../vault/zones.js', import.meta.url), 'utf8');
  // A newer tzdata may add zones; every committed mapping must still be generated identically.
  const pairs = (text) => new Set([...text.matchAll(/^ {2}([A-Z]{2}): '([^']*)',$/gm)].flatMap(([, c, z]) => z.split(' ').map((name) => `${name}=${c}`)));
  const fresh = pairs(generated);
  const missing = [...pairs(committed)].filter((p) => !fresh.has(p));
  assert.deepEqual(missing, []);
});
