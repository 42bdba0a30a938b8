/**
 * The visitor's own data, for their auditorium (reference §1.5 QUERY/CONSENT_STATUS/
 * EXPRESS_CONSENT/PURGE, §1.11 "User views own data", §6.5): sync their encrypted events
 * from the server, decrypt them with the secrets only this browser holds, compute their
 * metrics, delete them, stop sharing, or export them as JSON.
 *
 * Decrypted events are cached in the `user` database with a `since` checkpoint, so each
 * query only fetches what is new; tombstones (`deletedEvents`) remove cached copies.
 */

import { ApiError } from './api.js';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

// The server's retention setting (`OFFEN_APP_RETENTION`) in days, as appliance/config.py maps it;
// the auditorium greys out ranges longer than this.
const RETENTION_DAYS = { '6months': 186, '12weeks': 84, '6weeks': 42, '30days': 30, '7days': 7 };

/** The millisecond time in the first 10 characters of a ULID (the server's receive time). */
export function ulidTime(ulid) {
  if (typeof ulid !== 'string' || ulid.length < 10) return null;
  let ms = 0;
  for (const char of ulid.slice(0, 10).toUpperCase()) {
    const value = CROCKFORD.indexOf(char);
    if (value < 0) return null;
    ms = ms * 32 + value;
  }
  return new Date(ms);
}

function tolerate400(err) {
  // 400 from /api/events or /api/purge means "no user cookie": nothing on the server yet.
  if (err instanceof ApiError && err.status === 400) return null;
  if (err && err.status === 400) return null;
  throw err;
}

/**
 * @param {{
 *   api: ReturnType<import('./api.js').apiWith>,
 *   storage: ReturnType<import('./storage.js').storageWith>,
 *   getCrypto: () => Promise<{decryptJSON: Function}>,
 *   computeStats: () => Promise<Function>,   resolves to shared/stats.js's computeStats
 *   consent: {get: () => string|null, set: (status: string) => void},
 *   cookies: ReturnType<import('./cookies.js').cookiesWith>,
 *   origin: string,
 *   now?: () => Date,
 *   timeZone?: () => string|undefined,
 * }} deps
 */
export function visitorDataWith(deps) {
  const { api, storage, getCrypto, computeStats, consent, cookies, origin, timeZone } = deps;
  const now = deps.now || (() => new Date());
  const zone = timeZone || (() => Intl.DateTimeFormat().resolvedOptions().timeZone);
  let syncing = null;
  let retentionPeriod = null;

  async function decryptAll(grouped) {
    const crypto = await getCrypto();
    const decrypted = [];
    for (const [accountId, events] of Object.entries(grouped || {})) {
      if (!Array.isArray(events) || !events.length) continue;
      const secret = await storage.getUserSecret(accountId);
      // Without the secret (lost local data, another browser) these events stay unreadable
      // here; the operator still has them until the visitor deletes or they expire.
      if (!secret) continue;
      for (const event of events) {
        try {
          const payload = await crypto.decryptJSON(secret, event.payload);
          decrypted.push({ accountId, eventId: event.eventId, secretId: 'local', payload });
        } catch {
          // A payload made with an older secret of this browser: skip it, keep the rest.
        }
      }
    }
    return decrypted;
  }

  async function syncOnce() {
    const since = await storage.getCheckpoint();
    const response = await api.getEvents(since).catch(tolerate400);
    if (!response) return;
    if (typeof response.retentionPeriod === 'string') retentionPeriod = response.retentionPeriod;
    const fresh = await decryptAll(response.events);
    await storage.putUserEvents(fresh);
    if (Array.isArray(response.deletedEvents) && response.deletedEvents.length) {
      await storage.deleteUserEvents(response.deletedEvents);
    }
    if (response.sequence) await storage.putCheckpoint(response.sequence);
  }

  /** Bring the local copy up to date with the server (one sync at a time). */
  function sync() {
    if (!syncing) {
      syncing = syncOnce().finally(() => {
        syncing = null;
      });
    }
    return syncing;
  }

  async function query(rawQuery) {
    const q = rawQuery && typeof rawQuery === 'object' ? rawQuery : {};
    await sync();
    const events = await storage.getUserEvents();
    const stats = await computeStats();
    const result = await stats(events, {
      range: q.range === undefined ? 7 : q.range,
      resolution: q.resolution || 'days',
      now: q.now ? new Date(q.now) : now(),
      timeZone: q.timeZone || zone(),
      perspective: 'visitor',
      ...(q.from ? { from: q.from } : {}),
      ...(q.to ? { to: q.to } : {}),
      ...(q.filter ? { filter: q.filter } : {}),
    });
    const retention = { retentionPeriod, retentionDays: RETENTION_DAYS[retentionPeriod] || null };
    return { query: q, result: result && typeof result === 'object' ? { ...result, ...retention } : result };
  }

  function consentStatus() {
    return { status: consent.get(), allowsCookies: cookies.allowsCookies() };
  }

  /** Forget the visitor here: session ids, cached events, checkpoint and secrets. */
  async function forgetLocally() {
    for (const name of cookies.names()) if (name.startsWith('session-')) cookies.remove(name);
    await storage.forgetEverything();
  }

  async function expressConsent(status) {
    if (status !== 'allow' && status !== 'deny') {
      throw Object.assign(new Error(`unknown consent status ${String(status)}`), { status: 400 });
    }
    consent.set(status);
    if (status === 'deny') {
      // Opting out deletes everything: the server's events (and its `user` cookie) first,
      // then what this browser holds. 400 means there was nothing on the server.
      await api.purge({ user: true }).catch(tolerate400);
      await forgetLocally();
    }
    return consentStatus();
  }

  /** Delete the visitor's data but stay opted in; the next page view starts afresh. */
  async function purge(rawQuery) {
    await api.purge({ user: false }).catch(tolerate400);
    await storage.clearUserEvents();
    return query(rawQuery);
  }

  /** The visitor's own decrypted events as a portable JSON document (new in this port). */
  async function exportData() {
    await sync();
    const accounts = {};
    const events = await storage.getUserEvents();
    events.sort((a, b) => (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));
    for (const event of events) {
      const received = ulidTime(event.eventId);
      (accounts[event.accountId] ||= []).push({
        eventId: event.eventId,
        receivedAt: received ? received.toISOString() : null,
        ...event.payload,
      });
    }
    return { exportedAt: now().toISOString(), origin, consent: consent.get(), accounts };
  }

  return { sync, query, consentStatus, expressConsent, purge, exportData };
}
