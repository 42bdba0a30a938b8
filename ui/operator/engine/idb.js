// The engine's local cache in IndexedDB, one database per account (`offen.engine.<accountId>`).
//
// Owns what a reload needs: the sealed day blocks (the roll-up string format of contract 3, so the
// browser's disk holds nothing the server could not also hold), the checkpoint up to which all of them are
// complete, and the re-wrapped visitor secrets (so a refresh after a reload never repeats RSA work for a
// returning visitor). Plaintext never reaches IndexedDB. Where IndexedDB is missing or refuses (private
// modes, quota), the engine runs without a local cache.
//
// Version 2 adds the `snapshot` store: the whole table as sealed binary parts (shared-cache.js), which a
// reload restores instead of opening every day. Each part is its own record ('part/<i>', written in its
// own transaction, so only one part's copies exist at a time: at 1M events the whole table at once was
// ~200 MB of copies) and the header `{v, checkpoint, count}` under 'table' is written last and removed
// first, so a write cut off half-way leaves no snapshot. (Earlier builds stored one 'table' record with
// all parts inside; it is still read.) Day records stay: they are the fallback when the snapshot is
// missing or fails its tag.

const VERSION = 2;
const STORES = ['meta', 'days', 'wrapped', 'snapshot'];

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error('IndexedDB transaction aborted'));
  });
}

export function databaseName(accountId) {
  return `offen.engine.${accountId}`;
}

/** The cache of one account, or null when the browser gives us no IndexedDB. */
export async function openCache(accountId, { indexedDB = globalThis.indexedDB } = {}) {
  if (!indexedDB) return null;
  let db;
  try {
    const req = indexedDB.open(databaseName(accountId), VERSION);
    req.onupgradeneeded = () => {
      const upgrade = req.result;
      if (!upgrade.objectStoreNames.contains('days')) upgrade.createObjectStore('days', { keyPath: 'period' });
      if (!upgrade.objectStoreNames.contains('meta')) upgrade.createObjectStore('meta');
      if (!upgrade.objectStoreNames.contains('wrapped')) upgrade.createObjectStore('wrapped');
      if (!upgrade.objectStoreNames.contains('snapshot')) upgrade.createObjectStore('snapshot');
    };
    // A tab still holding version 1 open blocks the upgrade until it closes the database: run without a
    // local cache rather than wait (that tab closes on `versionchange` once it has this code too).
    db = await new Promise((resolve, reject) => {
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
      req.onblocked = () => {
        req.onsuccess = () => req.result.close(); // opened later: not ours any more
        reject(new Error('IndexedDB upgrade blocked by another tab'));
      };
    });
    db.onversionchange = () => db.close();
  } catch {
    return null;
  }

  return {
    /** `{meta, days}`; meta is null when nothing was stored yet. */
    async load() {
      const tx = db.transaction(['meta', 'days'], 'readonly');
      const [meta, days] = await Promise.all([
        request(tx.objectStore('meta').get('state')),
        request(tx.objectStore('days').getAll()),
      ]);
      return { meta: meta || null, days: days || [] };
    },

    /** `{meta, periods}`: the state and the stored periods, without their (large) payloads. */
    async index() {
      const tx = db.transaction(['meta', 'days'], 'readonly');
      const [meta, periods] = await Promise.all([
        request(tx.objectStore('meta').get('state')),
        request(tx.objectStore('days').getAllKeys()),
      ]);
      return { meta: meta || null, periods: periods || [] };
    },

    /** The stored days of `periods` (a reload reads a few at a time to bound memory). */
    async getDays(periods) {
      const tx = db.transaction('days', 'readonly');
      const store = tx.objectStore('days');
      const days = await Promise.all(periods.map((period) => request(store.get(period))));
      return days.filter(Boolean);
    },

    /** Changed days, without the state: a flush writes days chunk by chunk and the state last. */
    async putDays(put) {
      if (!put.length) return;
      const tx = db.transaction('days', 'readwrite');
      const days = tx.objectStore('days');
      for (const day of put) days.put(day);
      await done(tx);
    },

    /** One transaction: the changed days, the periods to drop, and the new state (its checkpoint). */
    async save({ meta, put = [], drop = [] }) {
      const tx = db.transaction(['meta', 'days'], 'readwrite');
      const days = tx.objectStore('days');
      for (const period of drop) days.delete(period);
      for (const day of put) days.put(day);
      tx.objectStore('meta').put(meta, 'state');
      await done(tx);
    },

    async putWrapped(entries) {
      const tx = db.transaction('wrapped', 'readwrite');
      const store = tx.objectStore('wrapped');
      for (const [id, value] of entries) store.put(value, id);
      await done(tx);
    },

    /** Map secretId → re-wrapped string for the ids found. */
    async getWrapped(ids) {
      const tx = db.transaction('wrapped', 'readonly');
      const store = tx.objectStore('wrapped');
      const found = new Map();
      await Promise.all(
        [...ids].map(async (id) => {
          const value = await request(store.get(id));
          if (typeof value === 'string') found.set(id, value);
        }),
      );
      return found;
    },

    async countWrapped() {
      const tx = db.transaction('wrapped', 'readonly');
      return request(tx.objectStore('wrapped').count());
    },

    /** The sealed snapshot record (`{v, checkpoint, parts}`), or null. */
    async getSnapshot() {
      const tx = db.transaction('snapshot', 'readonly');
      const store = tx.objectStore('snapshot');
      const header = await request(store.get('table'));
      if (!header) return null;
      if (Array.isArray(header.parts)) return header; // one record from an earlier build
      const count = Number.isInteger(header.count) && header.count > 0 && header.count < 10000 ? header.count : 0;
      const parts = await Promise.all(Array.from({ length: count }, (_, i) => request(store.get(`part/${i}`))));
      return { v: header.v, checkpoint: header.checkpoint, parts };
    },

    /** Removes the header (the snapshot is gone from now on) and the parts of an earlier one. */
    async startSnapshot() {
      const tx = db.transaction('snapshot', 'readwrite');
      tx.objectStore('snapshot').clear();
      await done(tx);
    },

    async putSnapshotPart(index, part) {
      const tx = db.transaction('snapshot', 'readwrite');
      tx.objectStore('snapshot').put(part, `part/${index}`);
      await done(tx);
    },

    /** The header `{v, checkpoint, count}`: written after every part, it makes the snapshot whole. */
    async finishSnapshot(header) {
      const tx = db.transaction('snapshot', 'readwrite');
      tx.objectStore('snapshot').put(header, 'table');
      await done(tx);
    },

    async deleteSnapshot() {
      const tx = db.transaction('snapshot', 'readwrite');
      tx.objectStore('snapshot').clear();
      await done(tx);
    },

    async clear() {
      const tx = db.transaction(STORES, 'readwrite');
      for (const name of STORES) tx.objectStore(name).clear();
      await done(tx);
    },

    close() {
      db.close();
    },
  };
}
