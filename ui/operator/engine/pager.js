// The engine's conversation with the server (contract 2): paged events, wrapped secrets and roll-ups.
//
// Owns the keyset loops (never OFFSET paging, never one giant body), the batching of writes and what a
// write conflict means. Pure apart from the `fetch` it is given, so Node tests drive it with a fake; in the
// browser it runs in the data worker, whose fetches carry the operator's `auth` cookie (same origin).

export const EVENT_PAGE = 5000;
export const SECRETS_PAGE = 20000;
export const SECRETS_BATCH = 5000;
export const ROLLUPS_PAGE = 400;

/** A non-2xx answer; `status` and the server's `{error}` text, never a request body. */
export class HttpError extends Error {
  constructor(status, message) {
    super(message || `The server answered ${status}.`);
    this.name = 'HttpError';
    this.status = status;
  }
}

/** A small JSON client over `fetch` for one account's routes. */
export function accountClient({ fetch: doFetch, accountId, origin = '' }) {
  if (typeof doFetch !== 'function') throw new TypeError('fetch is required');
  const base = `${origin}/api/accounts/${encodeURIComponent(accountId)}`;

  async function call(method, path, { query, body } = {}) {
    let url = base + path;
    if (query) {
      const params = new URLSearchParams();
      for (const [name, value] of Object.entries(query)) {
        if (value !== undefined && value !== null) params.set(name, String(value));
      }
      const text = params.toString();
      if (text) url += '?' + text;
    }
    const init = { method, credentials: 'same-origin', headers: {} };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers['Content-Type'] = 'application/json';
    }
    const response = await doFetch(url, init);
    if (response.status === 204) return null;
    const text = await response.text();
    if (!response.ok) {
      let message;
      try {
        message = JSON.parse(text).error;
      } catch {
        message = undefined;
      }
      throw new HttpError(response.status, message);
    }
    return text ? JSON.parse(text) : null;
  }

  return {
    accountId,
    get: (path, query) => call('GET', path, { query }),
    post: (path, body) => call('POST', path, { body }),
    put: (path, body) => call('PUT', path, { body }),
    del: (path) => call('DELETE', path),
  };
}

/** The account's fields alone (`limit=0`): keys, name, styles, retention. */
export function fetchAccount(client) {
  return client.get('', { limit: 0 });
}

/**
 * One page of events with `sequence > after`: `{events, secrets, deletedEvents, sequence, more, next}`.
 * `next` is where the following page starts (the page's highest sequence); `events` is the flat list.
 */
export async function fetchEventPage(client, { after, limit = EVENT_PAGE, secretsNew = false } = {}) {
  const body = await client.get('', { limit, after: after || undefined, secrets: secretsNew ? 'new' : undefined });
  const events = (body.events && body.events[client.accountId]) || [];
  const more = body.more === true;
  const next = body.sequence || after || null;
  if (more && (!body.sequence || (after && body.sequence <= after))) {
    // A server that claims more but does not move forward would loop forever.
    throw new HttpError(502, 'The server sent a page that does not advance.');
  }
  return {
    events,
    secrets: body.secrets || {},
    deletedEvents: body.deletedEvents || [],
    sequence: body.sequence || null,
    more,
    next,
  };
}

/**
 * Pages through all events after `after`, in order. The next page is requested as soon as the current
 * one arrives, so the network overlaps the consumer's decryption; at most two pages exist at a time.
 */
export async function* eventPages(client, { after = null, limit = EVENT_PAGE, secretsNew = false } = {}) {
  // Keyset paging is sequential by nature: the next `after` is in the previous answer.
  let pending = fetchEventPage(client, { after, limit, secretsNew });
  for (;;) {
    const page = await pending;
    pending = page.more ? fetchEventPage(client, { after: page.next, limit, secretsNew }) : null;
    // Keep a rejected prefetch from surfacing as an unhandled rejection while the consumer works.
    if (pending) pending.catch(() => {});
    page.after = after;
    yield page;
    if (!pending) return;
    after = page.next;
  }
}

/** Every wrapped secret on the server as a Map secretId → string (keyset on secret id). */
export async function fetchAllWrappedSecrets(client, { limit = SECRETS_PAGE, onPage } = {}) {
  const all = new Map();
  let after;
  for (let guard = 0; guard < 100000; guard++) {
    const body = await client.get('/wrapped-secrets', { after, limit });
    for (const [id, value] of Object.entries(body.wrappedSecrets || {})) all.set(id, value);
    if (onPage) onPage(all.size);
    if (!body.more || !body.next || (after && body.next <= after)) break;
    after = body.next;
  }
  return all;
}

/** Every roll-up on the server: [{period, checkpoint, payload}] in period order. */
export async function fetchAllRollups(client, { limit = ROLLUPS_PAGE } = {}) {
  const all = [];
  let after;
  for (let guard = 0; guard < 10000; guard++) {
    const body = await client.get('/rollups', { after, limit });
    all.push(...(body.rollups || []));
    if (!body.more || !body.next || (after && body.next <= after)) break;
    after = body.next;
  }
  return all;
}

/**
 * Posts wrapped secrets in batches of at most SECRETS_BATCH. Never throws: returns
 * `{stored, failed, error}` so a failed write is reported in progress and the load goes on.
 */
export async function postWrappedSecrets(client, entries, { batch = SECRETS_BATCH } = {}) {
  const list = entries instanceof Map ? [...entries] : Object.entries(entries);
  let stored = 0;
  let failed = 0;
  let error = null;
  for (let i = 0; i < list.length; i += batch) {
    const chunk = list.slice(i, i + batch);
    try {
      const body = await client.post('/wrapped-secrets', { wrappedSecrets: Object.fromEntries(chunk) });
      stored += (body && body.stored) || 0;
    } catch (err) {
      failed += chunk.length;
      error = err;
    }
  }
  return { stored, failed, error };
}

/**
 * Stores one roll-up. Returns "stored", or "stale" when the server holds a newer one (409: another
 * browser got there with a later checkpoint; theirs is re-read on the next load), or "rejected" with the
 * error for anything else (a retention window that moved, a server that refuses): never fatal.
 */
export async function putRollup(client, period, checkpoint, payload) {
  try {
    await client.put(`/rollups/${period}`, { checkpoint, payload });
    return { outcome: 'stored' };
  } catch (error) {
    if (error instanceof HttpError && error.status === 409) return { outcome: 'stale' };
    return { outcome: 'rejected', error };
  }
}

/** The roll-up of one period as the server holds it now, or null (the re-read after a 409). */
export async function fetchRollup(client, period) {
  const previous = previousDay(period);
  const body = await client.get('/rollups', { after: previous, limit: 1 });
  const found = (body.rollups || [])[0];
  return found && found.period === period ? found : null;
}

export function previousDay(period) {
  const ms = Date.parse(period + 'T00:00:00Z') - 86400000;
  return new Date(ms).toISOString().slice(0, 10);
}
