// Offen's design of the operator dashboard, for the baseline of the dashboard benchmark (bench/dashboard.py).
//
// Owns nothing of the product: it is what Offen 1.4's auditorium does on a cold start (reference §9),
// rewritten small so the same run can measure it beside ours. The whole file is one async function
// expression; bench/dashboard.py passes it to Playwright's `page.evaluate` on a page of the server's
// origin (same origin: the `auth` cookie is sent). Steps, each timed:
//   1. login:     POST /api/login (the key-encryption key comes back in the JSON)
//   2. download:  the old single call GET /api/accounts/:id, one giant JSON body, parsed at once
//   3. key:       the account private key, AES-GCM under the KEK, imported into WebCrypto
//   4. decrypt:   on the main thread, event by event with sequential awaits as Offen's vault does:
//                 the visitor secret (RSA-OAEP-4096, or X25519 for a new account) once per visitor and
//                 cached for this run only, then AES-GCM of the event
//   5. aggregate: a simple aggregation (pageviews and unique visitors per day, top pages)
// A deadline stops step 4 early; the result then says how far it got, for extrapolation by the caller.
async ({ accountId, username, password, deadlineMs }) => {
  const subtle = crypto.subtle;
  const started = performance.now();
  const timings = {};
  const b64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  const utf8 = new TextDecoder();
  const parseCipher = (value) => {
    const match = /^\{(\d+?),(\d*?)\}\s(.+)$/.exec(value);
    if (!match) throw new Error('not a versioned cipher');
    return { algo: Number(match[1]), chunks: match[3].split(' ').map(b64) };
  };
  const aesOpen = async (key, value) => {
    const { chunks } = parseCipher(value);
    return new Uint8Array(await subtle.decrypt({ name: 'AES-GCM', iv: chunks[1] }, key, chunks[0]));
  };

  let t = performance.now();
  const loginResponse = await fetch('/api/login', {
    method: 'POST',
    credentials: 'include',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (!loginResponse.ok) throw new Error(`login answered ${loginResponse.status}`);
  const login = await loginResponse.json();
  timings.login = performance.now() - t;

  t = performance.now();
  const response = await fetch(`/api/accounts/${accountId}`, { credentials: 'include' });
  if (!response.ok) throw new Error(`GET /api/accounts/${accountId} answered ${response.status}`);
  const body = await response.text();
  const account = JSON.parse(body);
  timings.download = performance.now() - t;

  t = performance.now();
  const entry = login.accounts.find((a) => a.accountId === accountId);
  const kek = await subtle.importKey('jwk', entry.keyEncryptionKey, { name: 'AES-GCM' }, false, ['decrypt']);
  const privateJwk = JSON.parse(utf8.decode(await aesOpen(kek, account.encryptedPrivateKey)));
  const isRsa = privateJwk.kty === 'RSA';
  const privateKey = isRsa
    ? await subtle.importKey(
        'jwk',
        { kty: 'RSA', n: privateJwk.n, e: privateJwk.e, d: privateJwk.d, p: privateJwk.p, q: privateJwk.q,
          dp: privateJwk.dp, dq: privateJwk.dq, qi: privateJwk.qi },
        { name: 'RSA-OAEP', hash: 'SHA-256' }, false, ['decrypt'])
    : await subtle.importKey('jwk', { kty: 'OKP', crv: 'X25519', d: privateJwk.d, x: privateJwk.x },
        { name: 'X25519' }, false, ['deriveBits']);
  const recipient = isRsa ? null : b64(privateJwk.x.replace(/-/g, '+').replace(/_/g, '/') + '=');
  timings.key = performance.now() - t;

  const unwrap = async (value) => {
    const { algo, chunks } = parseCipher(value);
    if (algo === 1) return new Uint8Array(await subtle.decrypt({ name: 'RSA-OAEP' }, privateKey, chunks[0]));
    const [sealed, nonce, ephemeral] = chunks;
    const eph = await subtle.importKey('raw', ephemeral, { name: 'X25519' }, false, []);
    const shared = await subtle.deriveBits({ name: 'X25519', public: eph }, privateKey, 256);
    const salt = new Uint8Array(64);
    salt.set(ephemeral, 0);
    salt.set(recipient, 32);
    const hkdf = await subtle.importKey('raw', shared, 'HKDF', false, ['deriveKey']);
    const key = await subtle.deriveKey(
      { name: 'HKDF', hash: 'SHA-256', salt, info: new TextEncoder().encode('offen/visitor-secret/v2') },
      hkdf, { name: 'AES-GCM', length: 256 }, false, ['decrypt']);
    return new Uint8Array(await subtle.decrypt({ name: 'AES-GCM', iv: nonce }, key, sealed));
  };

  // Offen's vault keeps decrypted secrets in a module-level map for the session; here, for this run.
  const events = (account.events && account.events[accountId]) || [];
  const secrets = account.secrets || {};
  const cache = new Map();
  const decrypted = [];
  let secretMs = 0;
  let eventMs = 0;
  let stoppedEarly = false;
  t = performance.now();
  for (const event of events) {
    if (deadlineMs && performance.now() - started > deadlineMs) {
      stoppedEarly = true;
      break;
    }
    if (!event.secretId || !secrets[event.secretId]) continue;
    let key = cache.get(event.secretId);
    if (!key) {
      const s = performance.now();
      const jwk = JSON.parse(utf8.decode(await unwrap(secrets[event.secretId])));
      key = await subtle.importKey('jwk', { kty: 'oct', k: jwk.k }, { name: 'AES-GCM' }, false, ['decrypt']);
      cache.set(event.secretId, key);
      secretMs += performance.now() - s;
    }
    const s = performance.now();
    const payload = JSON.parse(utf8.decode(await aesOpen(key, event.payload)));
    eventMs += performance.now() - s;
    decrypted.push({ eventId: event.eventId, secretId: event.secretId, payload });
  }
  timings.decryption = performance.now() - t;
  timings.secretDecryption = secretMs;
  timings.eventDecryption = eventMs;

  t = performance.now();
  const days = new Map();
  const pages = new Map();
  const visitors = new Set();
  for (const { secretId, payload } of decrypted) {
    const day = payload.timestamp.slice(0, 10);
    let bucket = days.get(day);
    if (!bucket) {
      bucket = { pageviews: 0, visitors: new Set() };
      days.set(day, bucket);
    }
    bucket.pageviews += 1;
    bucket.visitors.add(secretId);
    visitors.add(secretId);
    const page = payload.href.split('?')[0];
    pages.set(page, (pages.get(page) || 0) + 1);
  }
  const topPages = [...pages.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10);
  timings.aggregation = performance.now() - t;
  timings.total = performance.now() - started;

  return {
    keyType: isRsa ? 'rsa' : 'x25519',
    bodyBytes: body.length,
    eventsTotal: events.length,
    secretsTotal: Object.keys(secrets).length,
    eventsDecrypted: decrypted.length,
    secretsDecrypted: cache.size,
    stoppedEarly,
    days: days.size,
    pageviews: decrypted.length,
    uniqueVisitors: visitors.size,
    topPage: topPages.length ? topPages[0][0] : null,
    timings,
  };
}
