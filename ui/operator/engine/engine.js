// The operator dashboard's data engine, main-thread side (contract 5, docs/dashboard-engine.md).
//
// Owns nothing but a message channel: every event, key and aggregate lives in the data worker
// (data-worker.js) and its decryption pool, so the page's main thread only sends queries and receives
// results and progress. `openAccount` resolves once the first result can be computed; the write-back of
// the shared cache and the local cache continues in the background (`engine.writeBack`).

const LOGIN_KEY = 'offen.operator.login';

/** The KEK of `accountId` from the login kept in sessionStorage (contract 1), or null. */
export function keyFromLogin(accountId, storage = globalThis.sessionStorage) {
  try {
    const login = JSON.parse(storage.getItem(LOGIN_KEY) || 'null');
    const entry = login && (login.accounts || []).find((a) => a.accountId === accountId);
    return entry ? entry.keyEncryptionKey : null;
  } catch {
    return null;
  }
}

/** A request/response channel over a worker; `onEvent` receives progress and reports. */
function channel(worker, onEvent) {
  let nextId = 1;
  const pending = new Map();
  worker.onmessage = ({ data }) => {
    if (data.type === 'reply') {
      const entry = pending.get(data.id);
      if (!entry) return;
      pending.delete(data.id);
      if (data.error !== undefined) {
        const error = new Error(data.error);
        if (data.status) error.status = data.status;
        entry.reject(error);
      } else entry.resolve(data.result);
    } else onEvent(data);
  };
  worker.onerror = (event) => {
    const error = new Error(`The dashboard's data worker failed: ${event.message || 'error'}`);
    for (const entry of pending.values()) entry.reject(error);
    pending.clear();
  };
  return (op, args) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, op, args });
    });
}

/**
 * Opens an account: `{accountId, keyEncryptionKey?, onProgress?, onReport?, workers?, now?}` →
 * Promise<Engine>. Without `keyEncryptionKey` the login in sessionStorage is used. `onProgress` gets
 * `{stage, done, total}` (stage ∈ download|keyAgreement|decryption|aggregation|storage; total is an
 * estimate while downloading, null when unknown); `onReport` gets `{kind, detail}` for forged records and
 * failed writes, which never stop a load. `workers` (decryption pool size, default
 * navigator.hardwareConcurrency), `pageSize` (events per request, default 5000), `stepDays` (days per step
 * of a reload or write-back, default 8), `recycleKeys` (CryptoKeys a decryption worker makes before it is
 * replaced, default 15000), `secretsBatch` (fresh re-wrapped secrets saved at a time during a load, default
 * 5000) and `now` (ms, a fixed clock) are for tests and benchmarks.
 */
export async function openAccount({ accountId, keyEncryptionKey, onProgress, onReport, workers, now, pageSize, stepDays, recycleKeys, secretsBatch, workerFactory } = {}) {
  const kek = keyEncryptionKey || keyFromLogin(accountId);
  if (!kek) throw new Error('No key for this account: log in again.');
  const worker = workerFactory
    ? workerFactory()
    : new Worker(new URL('./data-worker.js', import.meta.url), { type: 'module', name: 'offen-data' });
  const reports = [];
  const call = channel(worker, (message) => {
    if (message.type === 'progress' && onProgress) onProgress({ stage: message.stage, done: message.done, total: message.total });
    if (message.type === 'report') {
      reports.push({ kind: message.kind, detail: message.detail });
      if (onReport) onReport({ kind: message.kind, detail: message.detail });
    }
  });
  let opened;
  try {
    opened = await call('open', { accountId, keyEncryptionKey: kek, workers, now, pageSize, stepDays, recycleKeys, secretsBatch });
  } catch (error) {
    worker.terminate();
    throw error;
  }
  let closed = false;
  // A reload or navigation: end the workers at once. Left to the old document's teardown, their heaps (the
  // whole table at 1M events) lived on while the new page loaded its own, doubling the tab's peak memory.
  // A page kept in the back/forward cache (`persisted`) keeps its engine.
  const onPageHide = (event) => {
    if (!event.persisted) worker.terminate();
  };
  if (typeof globalThis.addEventListener === 'function') globalThis.addEventListener('pagehide', onPageHide);
  const engine = {
    accountId,
    account: opened.account,
    /** Per-stage wall times in ms of the last load, `total`, `source`, `busy` per stage, `counts`. */
    timings: opened.timings,
    reports,
    query(query) {
      return call('query', query || {});
    },
    /** Fetches what is new since the checkpoint and folds it in: {ms, added, removed}. */
    async refresh() {
      const result = await call('refresh');
      engine.writeBack = call('flushed');
      return result;
    },
    /** Counters of the data worker: events, secrets unwrapped or taken from the shared cache, failures. */
    stats() {
      return call('stats');
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      if (typeof globalThis.removeEventListener === 'function') globalThis.removeEventListener('pagehide', onPageHide);
      return call('close')
        .catch(() => {})
        .finally(() => worker.terminate());
    },
  };
  // The write-back of the load (roll-ups, re-wrapped secrets, local cache); its time joins `storage`.
  engine.writeBack = call('flushed').then((flush) => {
    if (flush) {
      engine.timings.writeBack = flush;
      engine.timings.storage = (engine.timings.storage || 0) + flush.ms;
    }
    return flush;
  });
  return engine;
}
