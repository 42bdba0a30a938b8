/**
 * The vault's own cookies (reference §1.7): `consent`, `session-<accountId>`, the
 * `ok=__allows_cookies__` probe and, only where IndexedDB is refused, `USER_SECRET-<accountId>`
 * (written by storage.js through this module). They live on the Offen origin, written through
 * `document.cookie`; the server's `user` cookie is HttpOnly and never touched here.
 *
 * Flags: over https every cookie is `SameSite=None; Secure; Partitioned`. `Partitioned`
 * (CHIPS) is what keeps the vault working when it is embedded by another site and the
 * browser blocks third-party cookies; on a same-site embed it changes nothing, because
 * the partition key is then the site the top-level page shares with us. On plain http
 * (localhost / 127.0.0.1 development) browsers refuse `SameSite=None` without `Secure`,
 * so those get `SameSite=Lax` and no `Secure`.
 */

const HUNDRED_YEARS_MS = 100 * 365.25 * 24 * 3600 * 1000;
const EPOCH = 'Thu, 01 Jan 1970 00:00:00 GMT';

/**
 * @param {{document: {cookie: string}, location: {protocol: string}, now?: () => Date}} deps
 */
export function cookiesWith({ document, location, now = () => new Date() }) {
  const secure = location.protocol === 'https:';

  function flags({ partitioned = true } = {}) {
    if (!secure) return 'SameSite=Lax';
    return partitioned ? 'SameSite=None; Secure; Partitioned' : 'SameSite=None; Secure';
  }

  function all() {
    const out = {};
    const raw = document.cookie || '';
    for (const part of raw.split(';')) {
      const index = part.indexOf('=');
      if (index < 0) continue;
      const name = part.slice(0, index).trim();
      if (!name || name in out) continue;
      let value = part.slice(index + 1).trim();
      try {
        value = decodeURIComponent(value);
      } catch {
        // A cookie somebody else wrote with a stray `%`: keep the raw text.
      }
      out[name] = value;
    }
    return out;
  }

  function get(name) {
    const value = all()[name];
    return value === undefined ? null : value;
  }

  /**
   * @param {string} name
   * @param {string} value
   * @param {{expires?: Date|null, maxAge?: number|null, path?: string, partitioned?: boolean}} [options]
   *   Without `expires` and `maxAge` (seconds) it is a session cookie.
   */
  function set(name, value, { expires = null, maxAge = null, path = '/', partitioned = true } = {}) {
    const parts = [`${name}=${encodeURIComponent(value)}`, `Path=${path}`];
    if (expires) parts.push(`Expires=${expires.toUTCString()}`);
    if (typeof maxAge === 'number' && Number.isFinite(maxAge)) parts.push(`Max-Age=${Math.floor(maxAge)}`);
    parts.push(flags({ partitioned }));
    document.cookie = parts.join('; ');
  }

  function remove(name, { path = '/', partitioned = true } = {}) {
    document.cookie = `${name}=; Path=${path}; Expires=${EPOCH}; ${flags({ partitioned })}`;
  }

  /** Whether this document can keep a cookie at all (Offen's `ok=__allows_cookies__` probe). */
  function allowsCookies() {
    try {
      set('ok', '__allows_cookies__');
      const ok = get('ok') === '__allows_cookies__';
      remove('ok');
      return ok;
    } catch {
      return false;
    }
  }

  /**
   * Whether only partitioned cookies stick here, i.e. the browser treats the vault as a
   * third party of the top-level page. The probe is written and expired at once.
   */
  function onlyPartitioned() {
    if (!secure) return false;
    try {
      set('ok', '__unpartitioned__', { partitioned: false });
      const sticks = get('ok') === '__unpartitioned__';
      remove('ok', { partitioned: false });
      return !sticks && allowsCookies();
    } catch {
      return false;
    }
  }

  /** Names of the cookies currently visible to the vault (for purging session ids). */
  function names() {
    return Object.keys(all());
  }

  /** The expiry of a decision cookie: 100 years from now. */
  const hundredYears = () => new Date(now().getTime() + HUNDRED_YEARS_MS);

  return { get, set, remove, allowsCookies, onlyPartitioned, names, secure, hundredYears };
}
