/**
 * The event path inside the vault, after consent: complete the host page's event with
 * the fields only the vault may set, encrypt it with the visitor secret and post it
 * (reference §1.5 `eventDuplexer`, §1.11, §2.6).
 *
 * The host page is not trusted: it chooses what the page view says (href, referrer …),
 * but the time, the session id and the country come from the vault, so a script on the
 * host page can neither read nor forge them. Fields the host invents are dropped, so a
 * host page cannot smuggle other data into the visitor's encrypted record.
 */

import { randomUUIDv4 } from './uuid.js';

const MAX_URL = 2000;
const ACCOUNT_ID = /^[A-Za-z0-9_-]{1,100}$/;

export class InvalidEvent extends Error {
  constructor(message) {
    super(message);
    this.name = 'InvalidEvent';
    this.status = 400;
  }
}

function absoluteUrl(value, field, { optional }) {
  if (value === null || value === undefined || value === '') {
    if (optional) return null;
    throw new InvalidEvent(`event.${field} is required`);
  }
  if (typeof value !== 'string' || value.length > MAX_URL) throw new InvalidEvent(`event.${field} is not a URL`);
  try {
    return new URL(value).href;
  } catch {
    throw new InvalidEvent(`event.${field} is not a URL`);
  }
}

/** Offen stripped the query string from the referrer: it may carry another site's tokens. */
export function stripQuery(referrer) {
  if (!referrer || typeof referrer !== 'string') return '';
  try {
    const url = new URL(referrer);
    url.search = '';
    return url.href.length > MAX_URL ? '' : url.href;
  } catch {
    return '';
  }
}

/**
 * @param {{
 *   cookies: ReturnType<import('./cookies.js').cookiesWith>,
 *   now?: () => Date,
 *   timeZone?: () => string|null,
 *   countryForTimeZone: (tz: string|null) => string|null|Promise<string|null>,
 *   randomUUID?: () => string,   defaults to `randomUUIDv4` (works outside secure contexts too)
 * }} deps
 */
export function duplexerWith({ cookies, now = () => new Date(), timeZone, countryForTimeZone, randomUUID }) {
  // Not `crypto.randomUUID()`: it is missing when the vault is not a secure context.
  const uuid = randomUUID || (() => randomUUIDv4());
  const zone =
    timeZone ||
    (() => {
      try {
        return Intl.DateTimeFormat().resolvedOptions().timeZone || null;
      } catch {
        return null;
      }
    });

  /** Per-account session id, a session cookie, so sessions of two accounts cannot be joined. */
  function sessionId(accountId) {
    // The id names a cookie: a host page must not slip `;` or `=` (cookie attributes) into it.
    if (typeof accountId !== 'string' || !ACCOUNT_ID.test(accountId)) {
      throw new InvalidEvent('payload.accountId is not an account id');
    }
    const name = `session-${accountId}`;
    let id = cookies.get(name);
    if (!id) {
      id = uuid();
      cookies.set(name, id);
    }
    return id;
  }

  /** The event as it is encrypted: the host's page view fields plus the vault's own. */
  return async function duplex(accountId, event) {
    if (!event || typeof event !== 'object') throw new InvalidEvent('event must be an object');
    const type = event.type === undefined ? 'PAGEVIEW' : event.type;
    if (type !== 'PAGEVIEW') throw new InvalidEvent(`event type ${String(type)} is not supported`);
    const href = absoluteUrl(event.href, 'href', { optional: false });
    const rawHref = absoluteUrl(event.rawHref, 'rawHref', { optional: true });
    const pageload = typeof event.pageload === 'number' && Number.isFinite(event.pageload) ? event.pageload : null;
    const id = sessionId(accountId);
    return {
      type,
      href,
      rawHref,
      referrer: stripQuery(event.referrer),
      pageload,
      isMobile: event.isMobile === true,
      timestamp: now().toISOString(),
      sessionId: id,
      geo: (await countryForTimeZone(zone())) || null,
    };
  };
}

/**
 * @param {{
 *   api: ReturnType<import('./api.js').apiWith>,
 *   userSecret: ReturnType<import('./user-secret.js').userSecretWith>,
 *   getCrypto: () => Promise<{encryptJSON: Function}>,
 * }} deps
 */
export function relayWith({ api, userSecret, getCrypto }) {
  async function encrypted(accountId, event) {
    const secret = await userSecret.ensure(accountId);
    const crypto = await getCrypto();
    return crypto.encryptJSON(secret, event);
  }

  /**
   * Encrypt and post one event. A 400 means the server does not know this visitor for the
   * account (the `user` cookie expired or was purged): drop the local secret and redo the
   * exchange, once, as Offen's `relay-event.js` does.
   */
  async function send(accountId, event) {
    const payload = await encrypted(accountId, event);
    try {
      return await api.postEvent(accountId, payload);
    } catch (err) {
      // Only the event's own 400 means that; a failed exchange is reported as it is.
      if (!err || err.status !== 400) throw err;
      await userSecret.forget(accountId);
      return api.postEvent(accountId, await encrypted(accountId, event));
    }
  }

  return { send };
}
