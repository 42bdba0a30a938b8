/**
 * The vault's browser storage: visitor secrets and the visitor's own decrypted events
 * (reference §1.9). It is the only module that touches IndexedDB.
 *
 * Layout, kept identical to Offen's Dexie schema version 3 (IndexedDB version 30) so that
 * an instance migrated from Offen on the same origin still finds its visitors' secrets:
 * one database per account id holding `keys` ({type: 'USER_SECRET', value: <JWK>}), and one
 * database named `user` holding `events` ({accountId, eventId, payload, secretId: 'local'})
 * and `checkpoints` ({type: 'LAST_KNOWN_CHECKPOINT', sequence}).
 *
 * When IndexedDB is missing or refuses to open, the store falls back:
 * - the visitor secrets go to cookies `USER_SECRET-<accountId>` (Path=/vault, 186 days,
 *   partitioned over https), the way Offen 1.4 kept them for Safari (reference §1.7). This is
 *   what Chromium leaves a vault framed by another site when third-party cookies are blocked:
 *   no IndexedDB ("The user denied permission to access the database"), no localStorage, but
 *   partitioned (CHIPS) cookies. Without it every page load would redo the key exchange, the
 *   server would park the previous secret, and the visitor would lose their earlier events.
 *   The cost (see docs/embedding.md): the secret then travels in the Cookie header of the
 *   requests for /vault and /vault/*. So this is used only when IndexedDB is refused.
 * - the decrypted events and the checkpoint stay in memory for the lifetime of the vault
 *   document; the auditorium re-syncs them from the server and decrypts them with the
 *   cookie-held secret.
 * Without a cookie jar (or with accounts ids that cannot name a cookie) everything stays in
 * memory: collection keeps working, and nothing outlives the tab.
 */

const DB_VERSION = 30;
const USER_DB = 'user';
const USER_SECRET = 'USER_SECRET';
const CHECKPOINT = 'LAST_KNOWN_CHECKPOINT';

// The cookie fallback for secrets (Offen's name, path and lifetime: 4464 h = 186 days).
export const SECRET_COOKIE_PREFIX = 'USER_SECRET-';
export const SECRET_COOKIE_PATH = '/vault';
export const SECRET_COOKIE_MAX_AGE = 186 * 24 * 3600;
// Account ids are UUIDs; anything else could carry `;` or `=` into a cookie header, so it
// never names a cookie (its secret then lives in memory only).
const COOKIE_SAFE = /^[A-Za-z0-9_-]{1,100}$/;

function promisify(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error || new Error('IndexedDB request failed'));
  });
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error || new Error('IndexedDB transaction failed'));
    tx.onabort = () => reject(tx.error || new Error('IndexedDB transaction aborted'));
  });
}

function upgrade(db) {
  // Same stores and key paths as Dexie's `keys: '++,type'`, `events: 'eventId'`,
  // `checkpoints: 'type'`, `aggregates: 'timestamp'`.
  const names = db.objectStoreNames;
  if (!names.contains('keys')) db.createObjectStore('keys', { autoIncrement: true }).createIndex('type', 'type');
  if (!names.contains('events')) db.createObjectStore('events', { keyPath: 'eventId' });
  if (!names.contains('checkpoints')) db.createObjectStore('checkpoints', { keyPath: 'type' });
  if (!names.contains('aggregates')) db.createObjectStore('aggregates', { keyPath: 'timestamp' });
}

/** In-memory stand-in with the same method set as the IndexedDB store. */
function memoryStore() {
  const secrets = new Map();
  const events = new Map();
  let checkpoint = null;
  return {
    kind: 'memory',
    async getUserSecret(accountId) {
      return secrets.get(accountId) ?? null;
    },
    async putUserSecret(accountId, jwk) {
      secrets.set(accountId, jwk);
    },
    async deleteUserSecret(accountId) {
      secrets.delete(accountId);
    },
    async secretAccounts() {
      return [...secrets.keys()];
    },
    async getUserEvents() {
      return [...events.values()];
    },
    async putUserEvents(list) {
      for (const event of list) events.set(event.eventId, event);
    },
    async deleteUserEvents(eventIds) {
      for (const id of eventIds) events.delete(id);
    },
    async getCheckpoint() {
      return checkpoint;
    },
    async putCheckpoint(sequence) {
      checkpoint = sequence;
    },
    async clearUserEvents() {
      events.clear();
      checkpoint = null;
    },
    async forgetEverything() {
      secrets.clear();
      events.clear();
      checkpoint = null;
    },
  };
}

/**
 * The memory store with its secrets kept in `USER_SECRET-<accountId>` cookies instead: they
 * survive page loads and browser restarts where IndexedDB is refused.
 * @param {ReturnType<import('./cookies.js').cookiesWith>} cookies
 */
function cookieSecretStore(cookies) {
  const memory = memoryStore();
  const cookieName = (accountId) =>
    typeof accountId === 'string' && COOKIE_SAFE.test(accountId) ? SECRET_COOKIE_PREFIX + accountId : null;

  function read(accountId) {
    const name = cookieName(accountId);
    const raw = name && cookies.get(name);
    if (!raw) return null;
    try {
      const jwk = JSON.parse(raw);
      return jwk && typeof jwk === 'object' ? jwk : null;
    } catch {
      // Not ours (or cut short): as good as no secret; the exchange makes a new one.
      return null;
    }
  }

  function cookieAccounts() {
    return cookies
      .names()
      .filter((name) => name.startsWith(SECRET_COOKIE_PREFIX))
      .map((name) => name.slice(SECRET_COOKIE_PREFIX.length));
  }

  return {
    ...memory,
    kind: 'cookie',
    async getUserSecret(accountId) {
      return read(accountId) ?? memory.getUserSecret(accountId);
    },
    async putUserSecret(accountId, jwk) {
      const name = cookieName(accountId);
      if (!name) return memory.putUserSecret(accountId, jwk);
      cookies.set(name, JSON.stringify(jwk), { path: SECRET_COOKIE_PATH, maxAge: SECRET_COOKIE_MAX_AGE });
    },
    async deleteUserSecret(accountId) {
      const name = cookieName(accountId);
      if (name) cookies.remove(name, { path: SECRET_COOKIE_PATH });
      await memory.deleteUserSecret(accountId);
    },
    async secretAccounts() {
      return [...new Set([...cookieAccounts(), ...(await memory.secretAccounts())])];
    },
    async forgetEverything() {
      // Opt-out and "forget me here": no secret may outlive them in a cookie.
      for (const accountId of cookieAccounts()) cookies.remove(SECRET_COOKIE_PREFIX + accountId, { path: SECRET_COOKIE_PATH });
      await memory.forgetEverything();
    },
  };
}

function indexedStore(indexedDB) {
  const open = new Map();
  // Accounts whose database this vault opened: `indexedDB.databases()` is not everywhere.
  const touched = new Set();

  function db(name) {
    if (!open.has(name)) {
      const promise = new Promise((resolve, reject) => {
        const request = indexedDB.open(name, DB_VERSION);
        request.onupgradeneeded = () => upgrade(request.result);
        request.onsuccess = () => {
          const handle = request.result;
          // Another tab deleting the database (an opt-out there) must not be blocked by us.
          handle.onversionchange = () => {
            handle.close();
            open.delete(name);
          };
          resolve(handle);
        };
        request.onerror = () => reject(request.error || new Error('IndexedDB open failed'));
        request.onblocked = () => reject(new Error('IndexedDB open blocked'));
      });
      open.set(name, promise);
      promise.catch(() => open.delete(name));
    }
    return open.get(name);
  }

  async function run(name, storeName, mode, fn) {
    const handle = await db(name);
    const tx = handle.transaction([storeName], mode);
    const finished = done(tx);
    const result = await fn(tx.objectStore(storeName));
    await finished;
    return result;
  }

  async function remove(name) {
    const handle = open.get(name);
    open.delete(name);
    if (handle) {
      try {
        (await handle).close();
      } catch {
        // It never opened: nothing to close.
      }
    }
    await new Promise((resolve, reject) => {
      const request = indexedDB.deleteDatabase(name);
      request.onsuccess = () => resolve();
      request.onerror = () => reject(request.error || new Error('IndexedDB delete failed'));
      // Another tab still holds it open: it gets `versionchange` and closes; do not wait on it.
      request.onblocked = () => resolve();
    });
  }

  return {
    kind: 'indexeddb',
    open: db,
    async getUserSecret(accountId) {
      touched.add(accountId);
      return run(accountId, 'keys', 'readonly', async (store) => {
        const rows = await promisify(store.index('type').getAll(USER_SECRET));
        return rows.length ? rows[rows.length - 1].value : null;
      });
    },
    async putUserSecret(accountId, jwk) {
      touched.add(accountId);
      await run(accountId, 'keys', 'readwrite', async (store) => {
        const old = await promisify(store.index('type').getAllKeys(USER_SECRET));
        for (const key of old) store.delete(key);
        store.add({ type: USER_SECRET, value: jwk });
      });
    },
    async deleteUserSecret(accountId) {
      touched.add(accountId);
      await run(accountId, 'keys', 'readwrite', async (store) => {
        const old = await promisify(store.index('type').getAllKeys(USER_SECRET));
        for (const key of old) store.delete(key);
      });
    },
    async secretAccounts() {
      const names = new Set(touched);
      if (typeof indexedDB.databases === 'function') {
        for (const info of await indexedDB.databases()) if (info.name && info.name !== USER_DB) names.add(info.name);
      }
      for (const event of await this.getUserEvents()) names.add(event.accountId);
      return [...names];
    },
    async getUserEvents() {
      return run(USER_DB, 'events', 'readonly', (store) => promisify(store.getAll()));
    },
    async putUserEvents(list) {
      if (!list.length) return;
      await run(USER_DB, 'events', 'readwrite', async (store) => {
        for (const event of list) store.put(event);
      });
    },
    async deleteUserEvents(eventIds) {
      if (!eventIds.length) return;
      await run(USER_DB, 'events', 'readwrite', async (store) => {
        for (const id of eventIds) store.delete(id);
      });
    },
    async getCheckpoint() {
      const row = await run(USER_DB, 'checkpoints', 'readonly', (store) => promisify(store.get(CHECKPOINT)));
      return row ? row.sequence : null;
    },
    async putCheckpoint(sequence) {
      await run(USER_DB, 'checkpoints', 'readwrite', async (store) => {
        store.put({ type: CHECKPOINT, sequence });
      });
    },
    async clearUserEvents() {
      const handle = await db(USER_DB);
      const tx = handle.transaction(['events', 'checkpoints'], 'readwrite');
      const finished = done(tx);
      tx.objectStore('events').clear();
      tx.objectStore('checkpoints').clear();
      await finished;
    },
    /**
     * Opt-out: the visitor's secrets go, and the `user` database with their events is dropped.
     * Account databases are emptied of USER_SECRET rows rather than deleted, because on an
     * operator's own browser the same names hold the operator view's cache.
     */
    async forgetEverything() {
      for (const name of await this.secretAccounts()) {
        try {
          await this.deleteUserSecret(name);
        } catch {
          // A database of another schema under this name: it holds no secret of ours.
        }
      }
      await remove(USER_DB);
    },
  };
}

/**
 * Storage over the given IndexedDB factory, with the fallback described at the top.
 * @param {IDBFactory|undefined|null} indexedDB
 * @param {{cookies?: ReturnType<import('./cookies.js').cookiesWith>}} [options]
 *   the vault's cookie jar, for secrets where IndexedDB is refused; without it the fallback is memory only
 */
export function storageWith(indexedDB, { cookies = null } = {}) {
  const memory = cookies ? cookieSecretStore(cookies) : memoryStore();
  if (!indexedDB) return memory;
  const real = indexedStore(indexedDB);
  let chosen = null;

  // The first call decides: can a database be opened here at all? (Opening `user` only
  // happens after consent or from the visitor's own auditorium.)
  async function pick() {
    if (!chosen) {
      chosen = real
        .open(USER_DB)
        .then(() => real)
        .catch(() => memory);
    }
    return chosen;
  }

  const api = { kind: 'auto' };
  for (const name of Object.keys(memory)) {
    if (typeof memory[name] !== 'function') continue;
    api[name] = async (...args) => (await pick())[name](...args);
  }
  api.backend = async () => (await pick()).kind;
  return api;
}
