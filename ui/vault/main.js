/**
 * The vault's entry point: a `postMessage` router (reference §1.5) and the wiring of the
 * vault's parts. The vault is the only code that holds visitor secrets and data; the host
 * page reaches it only through the messages below.
 *
 * Origin rule: `EVENT` and `ACQUIRE_CONSENT` come from the host page, so any origin may send
 * them, and their reply says nothing (always `null`). Every other type reads or deletes the
 * visitor's data and is only accepted from the vault's own origin (the auditorium).
 *
 * Nothing before consent: until the visitor allows, the vault makes no request, sets no
 * cookie (the `ok` probes are written and expired at once), and opens no database (nor
 * writes the `USER_SECRET-` cookie that replaces it where IndexedDB is refused). The
 * crypto and statistics modules are not even loaded before they are needed.
 */

import { apiWith } from './api.js';
import { bannerWith } from './banner.js';
import { cookiesWith } from './cookies.js';
import { duplexerWith, relayWith } from './relay.js';
import { storageWith } from './storage.js';
import { userSecretWith } from './user-secret.js';
import { visitorDataWith } from './visitor-data.js';

function failure(message, status) {
  return Object.assign(new Error(message), status ? { status } : {});
}

/**
 * Dispatches one `message` event to a handler and always replies on `event.ports[0]`,
 * also when a call is refused or fails (Offen stayed silent when cookies were blocked;
 * a reply lets the host page's callbacks run).
 *
 * @param {{origin: string, handlers: Record<string, {public?: boolean, handle: Function}>}} deps
 */
export function routerWith({ origin, handlers }) {
  return async function onMessage(event) {
    const port = event && event.ports && event.ports[0];
    if (!port) return;
    const message = event.data;
    const reply = (value) => {
      try {
        port.postMessage(value);
      } catch {
        // The other side went away: nothing to tell.
      }
    };
    const type = message && typeof message.type === 'string' ? message.type : undefined;
    const handler = type && Object.prototype.hasOwnProperty.call(handlers, type) ? handlers[type] : null;
    if (!handler) {
      reply({ type: 'ERROR', payload: { error: `Message of type ${String(type)} was not handled.`, status: 400 } });
      return;
    }
    if (!handler.public && event.origin !== origin) {
      reply({ type: 'ERROR', payload: { error: 'not allowed', status: 403 } });
      return;
    }
    try {
      const result = await handler.handle(message, { port, post: reply });
      reply(result === undefined ? null : result);
    } catch (err) {
      const payload = { error: err && err.message ? err.message : String(err) };
      if (err && typeof err.status === 'number') payload.status = err.status;
      reply({ type: 'ERROR', payload });
    }
  };
}

/**
 * The `consent` cookie and the decision flow (reference §1.8 items 1-3).
 * @param {{cookies: ReturnType<typeof cookiesWith>, ask: (post: Function) => Promise<string>}} deps
 */
export function consentWith({ cookies, ask }) {
  let asking = null;

  function set(status) {
    cookies.set('consent', status, { expires: cookies.hundredYears() });
  }

  /** The stored decision, refreshed for another 100 years when read. */
  function get() {
    const status = cookies.get('consent');
    if (status !== 'allow' && status !== 'deny') return null;
    set(status);
    return status;
  }

  /**
   * 'allow' or 'deny' for this call. Without a decision: `skipConsent` means "deny, but
   * remember nothing"; otherwise the banner asks, once, however many events wait for it.
   */
  async function decide(post, { skipConsent = false } = {}) {
    const status = get();
    if (status) return status;
    if (skipConsent) return 'deny';
    if (!asking) {
      asking = ask(post).then((decision) => {
        set(decision);
        asking = null;
        return decision;
      });
      asking.catch(() => {
        asking = null;
      });
    }
    return asking;
  }

  return { get, set, decide };
}

/**
 * The handlers of the vault. All parts are passed in, so tests run them with fakes.
 * @param {{
 *   cookies: ReturnType<typeof cookiesWith>,
 *   consent: ReturnType<typeof consentWith>,
 *   duplex: (accountId: string, event: object) => Promise<object>,
 *   relay: ReturnType<typeof relayWith>,
 *   visitorData: ReturnType<typeof visitorDataWith>,
 * }} deps
 */
export function handlersWith({ cookies, consent, duplex, relay, visitorData }) {
  const queryOf = (message) => {
    const payload = message.payload || {};
    return payload.query && typeof payload.query === 'object' ? payload.query : payload;
  };
  return {
    EVENT: {
      public: true,
      async handle(message, { post }) {
        if (!cookies.allowsCookies()) return null;
        const payload = message.payload || {};
        const accountId = payload.accountId;
        if (typeof accountId !== 'string' || !accountId) throw failure('payload.accountId is required', 400);
        const status = await consent.decide(post, { skipConsent: Boolean(message.meta && message.meta.skipConsent) });
        if (status !== 'allow') return null;
        await relay.send(accountId, await duplex(accountId, payload.event));
        return null;
      },
    },
    ACQUIRE_CONSENT: {
      public: true,
      async handle(message, { post }) {
        if (!cookies.allowsCookies()) return null;
        await consent.decide(post, { skipConsent: false });
        return null;
      },
    },
    QUERY: {
      async handle(message) {
        return { type: 'QUERY_SUCCESS', payload: await visitorData.query(queryOf(message)) };
      },
    },
    CONSENT_STATUS: {
      async handle() {
        return { type: 'CONSENT_STATUS_SUCCESS', payload: visitorData.consentStatus() };
      },
    },
    EXPRESS_CONSENT: {
      async handle(message) {
        const status = (message.payload || {}).status;
        return { type: 'EXPRESS_CONSENT_SUCCESS', payload: await visitorData.expressConsent(status) };
      },
    },
    PURGE: {
      async handle(message) {
        return { type: 'PURGE_SUCCESS', payload: await visitorData.purge(queryOf(message)) };
      },
    },
    EXPORT: {
      async handle() {
        return { type: 'EXPORT_SUCCESS', payload: { export: await visitorData.exportData() } };
      },
    },
  };
}

/**
 * Whether the banner's links should open the auditorium in an overlay on the host page
 * instead of a new tab. A new tab is a top-level visit of the Offen origin, which only sees
 * the vault's cookies and IndexedDB when the host page is same-site with the vault. So:
 * a plain link only when that is known for sure (Chromium's `location.ancestorOrigins`
 * names a same-site top-level page, and an unpartitioned cookie sticks); the overlay in
 * every other case, because the overlay is right in all of them.
 */
export function overlayRuleWith({ location, cookies }) {
  return function useOverlay() {
    const ancestors = location.ancestorOrigins;
    if (!ancestors || typeof ancestors.length !== 'number') return true;
    if (ancestors.length === 0) return false; // not framed: this already is the top level
    if (!sameSite(ancestors[ancestors.length - 1], location.origin)) return true;
    return cookies.onlyPartitioned();
  };
}

/**
 * Schemeful same-site check without the public suffix list: the hosts must be equal or share
 * the parent domain of the vault's host (offen.example.org ~ www.example.org). It errs only
 * towards "same site" for a vault directly under a public suffix, which no one should run.
 */
export function sameSite(topOrigin, ownOrigin) {
  let top;
  let own;
  try {
    top = new URL(topOrigin);
    own = new URL(ownOrigin);
  } catch {
    return false;
  }
  if (top.protocol !== own.protocol) return false;
  if (top.hostname === own.hostname) return true;
  const labels = own.hostname.split('.');
  if (labels.length < 3 || /^[\d.]+$/.test(own.hostname) || own.hostname.includes(':')) return false;
  const parent = labels.slice(1).join('.');
  return top.hostname === parent || top.hostname.endsWith('.' + parent);
}

/** The locale for the banner and links: `?locale=` of the vault URL, else the page's lang. */
export function localeOf(location, document) {
  const fromUrl = new URL(location.href).searchParams.get('locale');
  if (fromUrl) return fromUrl;
  const lang = document.documentElement && document.documentElement.getAttribute('lang');
  return lang && !lang.startsWith('{') ? lang : null;
}

/** Links of the banner, plain and for the host page's overlay. */
export function bannerLinks(locale) {
  const query = locale ? `?locale=${encodeURIComponent(locale)}` : '';
  const overlayUrl = `/auditorium/?embedded=1${locale ? `&locale=${encodeURIComponent(locale)}` : ''}`;
  return {
    learnMore: { href: `/${query}`, overlayUrl },
    auditorium: { href: `/auditorium/${query}`, overlayUrl },
  };
}

/**
 * The whole vault over injected parts; `start()` passes the browser's, tests pass fakes.
 * @param {{
 *   window: Window, document: Document, location: Location,
 *   fetch: typeof fetch, indexedDB: IDBFactory|undefined,
 *   getCrypto: () => Promise<object>, computeStats: () => Promise<Function>,
 *   translator: () => Promise<Function|null>, countryForTimeZone: (tz: string|null) => Promise<string|null>,
 *   now?: () => Date, timeZone?: () => string|null, randomUUID?: () => string,
 * }} deps
 */
export function vaultWith(deps) {
  const { window, document, location, getCrypto, computeStats, translator, countryForTimeZone } = deps;
  const cookies = cookiesWith({ document, location, now: deps.now });
  const api = apiWith(deps.fetch);
  // The cookie jar is the secrets' fallback where IndexedDB is refused (a cross-site frame).
  const storage = storageWith(deps.indexedDB, { cookies });
  const userSecret = userSecretWith({ api, storage, getCrypto });
  const relay = relayWith({ api, userSecret, getCrypto });
  const useOverlay = overlayRuleWith({ location, cookies });
  const locale = localeOf(location, document);
  const consent = consentWith({
    cookies,
    ask: async (post) => {
      const t = await translator();
      return bannerWith({ document, window, t, post, links: bannerLinks(locale), useOverlay }).ask();
    },
  });
  const duplex = duplexerWith({
    cookies,
    countryForTimeZone,
    now: deps.now,
    timeZone: deps.timeZone,
    randomUUID: deps.randomUUID,
  });
  const visitorData = visitorDataWith({
    api,
    storage,
    getCrypto,
    computeStats,
    consent,
    cookies,
    origin: location.origin,
    now: deps.now,
    timeZone: deps.timeZone,
  });
  const handlers = handlersWith({ cookies, consent, duplex, relay, visitorData });
  const onMessage = routerWith({ origin: location.origin, handlers });
  return { onMessage, handlers, storage, cookies };
}

/** Wire the vault to the browser it runs in and start listening. */
export function start(scope = globalThis) {
  const { document, location } = scope;
  const once = (load) => {
    let promise = null;
    return () => (promise ||= load());
  };
  // Loaded when first needed: none of these is fetched before the visitor consents
  // (crypto, zones) or opens their auditorium (statistics).
  const zones = once(() => import('./zones.js'));
  const vault = vaultWith({
    window: scope.window,
    document,
    location,
    fetch: scope.fetch.bind(scope),
    indexedDB: scope.indexedDB,
    getCrypto: once(() => import('./crypto.js').then((m) => m.getCrypto(scope))),
    computeStats: once(() => import('../shared/stats.js').then((m) => m.computeStats)),
    translator: once(() =>
      import('../shared/i18n.js')
        .then((m) => m.loadTranslator(localeOf(location, document) || 'en'))
        .catch(() => null),
    ),
    countryForTimeZone: async (tz) => (await zones()).countryForTimeZone(tz),
  });
  scope.window.addEventListener('message', vault.onMessage);
  return vault;
}

if (typeof window !== 'undefined' && typeof document !== 'undefined' && !globalThis.__OFFEN_VAULT_NO_START__) {
  start(globalThis);
}
