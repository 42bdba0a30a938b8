/**
 * The vault's calls to the Offen API (reference §3.3), the only place that speaks HTTP.
 *
 * As Offen's vault does: same-origin `fetch` with `credentials: 'include'` (the `user`
 * cookie is HttpOnly and scoped to /api), request bodies as JSON strings and no explicit
 * Content-Type, so the requests stay "simple" and need no preflight.
 */

export class ApiError extends Error {
  /**
   * @param {string} message
   * @param {number} status HTTP status (0 for network failures)
   */
  constructor(message, status) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

async function readJSON(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * @param {typeof fetch} fetch
 * @param {{base?: string}} [options] prefix for the API paths (the vault uses its own origin)
 */
export function apiWith(fetch, { base = '' } = {}) {
  async function call(method, path, body) {
    const init = { method, credentials: 'include' };
    if (body !== undefined) init.body = JSON.stringify(body);
    let response;
    try {
      response = await fetch(base + path, init);
    } catch (err) {
      throw new ApiError(`network error: ${err && err.message ? err.message : err}`, 0);
    }
    const data = await readJSON(response);
    if (!response.ok) {
      const message =
        data && typeof data.error === 'string' ? data.error : `request failed with status ${response.status}`;
      throw new ApiError(message, response.status);
    }
    return data;
  }

  return {
    /** `GET /api/exchange?accountId=` → `{accountId, name, publicKey, created}` */
    getPublicKey: (accountId) => call('GET', `/api/exchange?accountId=${encodeURIComponent(accountId)}`),
    /** `POST /api/exchange` → 204; the server sets the `user` cookie. */
    postUserSecret: (accountId, encryptedSecret) => call('POST', '/api/exchange', { accountId, encryptedSecret }),
    /** `POST /api/events` → 201 `{ack: true}` (204 without consent). */
    postEvent: (accountId, payload) => call('POST', '/api/events', { accountId, payload }),
    /** `GET /api/events[?since=]` → `{events: {<accountId>: [...]}, deletedEvents?, sequence?}` */
    getEvents: (since) => call('GET', since ? `/api/events?since=${encodeURIComponent(since)}` : '/api/events'),
    /** `POST /api/purge[?user=1]`; with `user`, the server also expires the `user` cookie. */
    purge: ({ user = false } = {}) => call('POST', user ? '/api/purge?user=1' : '/api/purge', undefined),
  };
}
