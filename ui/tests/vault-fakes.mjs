// Fakes for the vault's node tests: a cookie jar behind `document.cookie`, a small DOM, an
// IndexedDB subset, a recording fetch and a transparent crypto. Not a test file itself.

// ---------------------------------------------------------------- cookies

/**
 * A `document.cookie` that keeps attributes and can act like a browser that blocks
 * unpartitioned third-party cookies (`blockUnpartitioned`) or all cookies (`blockAll`).
 */
export function cookieJar({ blockUnpartitioned = false, blockAll = false, now = () => Date.now() } = {}) {
  const jar = new Map();
  const writes = [];
  const doc = {
    get cookie() {
      return [...jar.values()].map((c) => `${c.name}=${c.value}`).join('; ');
    },
    set cookie(text) {
      const [pair, ...attrs] = text.split(';').map((s) => s.trim());
      const index = pair.indexOf('=');
      const cookie = { name: pair.slice(0, index), value: pair.slice(index + 1), attributes: {} };
      for (const attr of attrs) {
        const [k, v = true] = attr.split('=');
        cookie.attributes[k.toLowerCase()] = v;
      }
      writes.push(cookie);
      if (blockAll) return;
      if (blockUnpartitioned && !cookie.attributes.partitioned) return;
      let expires = cookie.attributes.expires ? Date.parse(cookie.attributes.expires) : null;
      if (cookie.attributes['max-age'] !== undefined) expires = now() + Number(cookie.attributes['max-age']) * 1000;
      if (expires !== null && expires <= now()) jar.delete(cookie.name);
      else jar.set(cookie.name, cookie);
    },
  };
  return { doc, jar, writes, names: () => [...jar.keys()] };
}

// ---------------------------------------------------------------- DOM

class FakeNode {
  constructor(doc) {
    this.ownerDocument = doc;
    this.childNodes = [];
    this.parentNode = null;
    this.listeners = {};
  }
  get firstChild() {
    return this.childNodes[0] || null;
  }
  appendChild(child) {
    if (child.parentNode) child.parentNode.removeChild(child);
    child.parentNode = this;
    this.childNodes.push(child);
    return child;
  }
  removeChild(child) {
    const index = this.childNodes.indexOf(child);
    if (index < 0) throw new Error('not a child');
    this.childNodes.splice(index, 1);
    child.parentNode = null;
    return child;
  }
  get textContent() {
    return this.childNodes.map((c) => c.textContent).join('');
  }
  addEventListener(type, fn) {
    (this.listeners[type] ||= []).push(fn);
  }
  removeEventListener(type, fn) {
    this.listeners[type] = (this.listeners[type] || []).filter((f) => f !== fn);
  }
  dispatchEvent(event) {
    for (const fn of [...(this.listeners[event.type] || [])]) fn(event);
    return !event.defaultPrevented;
  }
}

class FakeText extends FakeNode {
  constructor(doc, text) {
    super(doc);
    this.text = text;
  }
  get textContent() {
    return this.text;
  }
}

class FakeElement extends FakeNode {
  constructor(doc, tag) {
    super(doc);
    this.tagName = tag.toUpperCase();
    this.attributes = new Map();
    this.height = 0;
  }
  setAttribute(name, value) {
    this.attributes.set(name, String(value));
  }
  getAttribute(name) {
    return this.attributes.has(name) ? this.attributes.get(name) : null;
  }
  get id() {
    return this.getAttribute('id') || '';
  }
  focus() {
    // Like a browser: an element of a document that is not rendered cannot take focus.
    if (this.ownerDocument.hidden) return;
    this.ownerDocument.activeElement = this;
  }
  contains(node) {
    for (let n = node; n; n = n.parentNode) if (n === this) return true;
    return false;
  }
  click() {
    return this.dispatchEvent(fakeEvent('click'));
  }
  getBoundingClientRect() {
    return { height: this.height, width: 400 };
  }
  get scrollHeight() {
    return this.height;
  }
  *walk() {
    for (const child of this.childNodes) {
      if (child instanceof FakeElement) {
        yield child;
        yield* child.walk();
      }
    }
  }
}

export function fakeEvent(type, extra = {}) {
  return {
    type,
    defaultPrevented: false,
    preventDefault() {
      this.defaultPrevented = true;
    },
    ...extra,
  };
}

export function fakeDocument() {
  const listeners = {};
  const doc = {
    activeElement: null,
    createElement: (tag) => new FakeElement(doc, tag),
    createTextNode: (text) => new FakeText(doc, text),
    getElementById(id) {
      for (const node of doc.documentElement.walk()) if (node.id === id) return node;
      return null;
    },
    addEventListener(type, fn) {
      (listeners[type] ||= []).push(fn);
    },
    removeEventListener(type, fn) {
      listeners[type] = (listeners[type] || []).filter((f) => f !== fn);
    },
    dispatch(event) {
      for (const fn of [...(listeners[event.type] || [])]) fn(event);
    },
    listenerCount: (type) => (listeners[type] || []).length,
  };
  doc.documentElement = new FakeElement(doc, 'html');
  doc.body = doc.documentElement.appendChild(new FakeElement(doc, 'body'));
  const host = doc.body.appendChild(new FakeElement(doc, 'div'));
  host.setAttribute('id', 'host');
  return doc;
}

export function fakeWindow() {
  const win = new FakeNode(null);
  win.dispatch = (type) => win.dispatchEvent(fakeEvent(type));
  return win;
}

export function byTestId(root, id) {
  for (const node of root.walk()) if (node.getAttribute('data-testid') === id) return node;
  return null;
}

// ---------------------------------------------------------------- IndexedDB

function clone(value) {
  return value === undefined ? undefined : structuredClone(value);
}

function request(tx) {
  const req = { result: undefined, error: null, onsuccess: null, onerror: null };
  if (tx) tx.pending++;
  req.succeed = (result) =>
    setTimeout(() => {
      req.result = result;
      if (req.onsuccess) req.onsuccess();
      if (tx) {
        tx.pending--;
        tx.check();
      }
    }, 0);
  return req;
}

/** The part of IndexedDB the vault uses, with databases kept in memory. */
export function fakeIndexedDB({ failOpen = false } = {}) {
  const databases = new Map();
  const log = [];

  function makeStore(def) {
    return { def, rows: new Map(), next: 1 };
  }

  function makeTransaction(db, names, mode) {
    const tx = { pending: 0, done: false, oncomplete: null, onerror: null, onabort: null, error: null };
    tx.check = () =>
      setTimeout(() => {
        if (tx.pending === 0 && !tx.done) {
          tx.done = true;
          if (tx.oncomplete) tx.oncomplete();
        }
      }, 0);
    tx.objectStore = (name) => {
      if (!names.includes(name)) throw new Error(`store ${name} not in transaction`);
      const store = db.stores.get(name);
      if (!store) throw new Error(`NotFoundError: ${name}`);
      const write = (op) => {
        if (mode !== 'readwrite') throw new Error('ReadOnlyError');
        log.push({ db: db.name, store: name, op });
      };
      const keyOf = (value, key) => {
        if (store.def.keyPath) return value[store.def.keyPath];
        if (key !== undefined) return key;
        return store.next++;
      };
      const api = {
        put(value, key) {
          write('put');
          const k = keyOf(value, key);
          store.rows.set(k, clone(value));
          const r = request(tx);
          r.succeed(k);
          return r;
        },
        add(value, key) {
          return api.put(value, key);
        },
        get(key) {
          const r = request(tx);
          r.succeed(clone(store.rows.get(key)));
          return r;
        },
        getAll() {
          const r = request(tx);
          r.succeed([...store.rows.values()].map(clone));
          return r;
        },
        delete(key) {
          write('delete');
          store.rows.delete(key);
          const r = request(tx);
          r.succeed(undefined);
          return r;
        },
        clear() {
          write('clear');
          store.rows.clear();
          const r = request(tx);
          r.succeed(undefined);
          return r;
        },
        index(indexName) {
          const path = store.def.indexes[indexName];
          const matching = (key) => [...store.rows.entries()].filter(([, v]) => v[path] === key);
          return {
            getAll(key) {
              const r = request(tx);
              r.succeed(matching(key).map(([, v]) => clone(v)));
              return r;
            },
            getAllKeys(key) {
              const r = request(tx);
              r.succeed(matching(key).map(([k]) => k));
              return r;
            },
          };
        },
      };
      return api;
    };
    tx.check();
    return tx;
  }

  function handle(db) {
    return {
      name: db.name,
      onversionchange: null,
      objectStoreNames: { contains: (n) => db.stores.has(n) },
      createObjectStore(name, options = {}) {
        log.push({ db: db.name, store: name, op: 'createObjectStore' });
        const store = makeStore({ keyPath: options.keyPath || null, autoIncrement: !!options.autoIncrement, indexes: {} });
        db.stores.set(name, store);
        return { createIndex: (indexName, keyPath) => (store.def.indexes[indexName] = keyPath) };
      },
      transaction: (names, mode = 'readonly') => makeTransaction(db, [].concat(names), mode),
      close() {},
    };
  }

  return {
    databases: async () => [...databases.keys()].map((name) => ({ name, version: databases.get(name).version })),
    open(name, version) {
      const req = request(null);
      setTimeout(() => {
        if (failOpen) {
          req.error = new Error('InvalidStateError: private mode');
          if (req.onerror) req.onerror();
          return;
        }
        let db = databases.get(name);
        const fresh = !db;
        if (!db) {
          db = { name, version: 0, stores: new Map() };
          databases.set(name, db);
          log.push({ db: name, op: 'createDatabase' });
        }
        const h = handle(db);
        if (version > db.version || fresh) {
          db.version = version;
          req.result = h;
          if (req.onupgradeneeded) req.onupgradeneeded();
        }
        req.result = h;
        if (req.onsuccess) req.onsuccess();
      }, 0);
      return req;
    },
    deleteDatabase(name) {
      const req = request(null);
      log.push({ db: name, op: 'deleteDatabase' });
      databases.delete(name);
      req.succeed(undefined);
      return req;
    },
    // for assertions
    log,
    dump(name, store) {
      const db = databases.get(name);
      return db && db.stores.get(store) ? [...db.stores.get(store).rows.values()] : null;
    },
    names: () => [...databases.keys()],
  };
}

// ---------------------------------------------------------------- fetch

/**
 * A fetch that records calls and answers through `routes(method, path, body)`, which returns
 * `[status, json]` (json undefined for no body).
 */
export function recordingFetch(routes) {
  const calls = [];
  async function fetch(url, init = {}) {
    const method = init.method || 'GET';
    const body = init.body === undefined ? undefined : JSON.parse(init.body);
    calls.push({ method, url, body, init });
    const [status, json] = await routes(method, url, body);
    const text = json === undefined ? '' : JSON.stringify(json);
    return {
      status,
      ok: status >= 200 && status < 300,
      text: async () => text,
    };
  }
  fetch.calls = calls;
  return fetch;
}

// ---------------------------------------------------------------- crypto

/** A transparent stand-in for crypto.js: ciphertexts name the secret they were made with. */
export function fakeCrypto() {
  let n = 0;
  return {
    async createUserSecret() {
      n += 1;
      return { kty: 'oct', k: `secret-${n}` };
    },
    async wrapUserSecret(publicKey, secret) {
      return `wrapped(${publicKey.kid}:${JSON.stringify(secret)})`;
    },
    async encryptJSON(secret, value) {
      return `enc:${secret.k}:${JSON.stringify(value)}`;
    },
    async decryptJSON(secret, cipher) {
      const prefix = `enc:${secret.k}:`;
      if (!cipher.startsWith(prefix)) throw new Error('cannot decrypt');
      return JSON.parse(cipher.slice(prefix.length));
    },
  };
}

/** A tiny server for the fake fetch: exchange, events, purge, like appliance/web/api_visitor.py. */
export function ulidPrefix(ms) {
  let out = '';
  for (let i = 0; i < 10; i++) {
    out = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'[ms % 32] + out;
    ms = Math.floor(ms / 32);
  }
  return out;
}

export function fakeServer({ consentCookie = () => 'allow', receivedAt = () => Date.parse('2024-03-01T11:00:00.000Z') } = {}) {
  const state = { secrets: new Map(), events: [], userCookie: null, seq: 0, tombstones: [], users: 0 };
  const ulid = () => {
    state.seq += 1;
    // 10 time characters (the receive time) + a counter: sortable like the server's.
    return ulidPrefix(receivedAt()) + String(state.seq).padStart(16, '0');
  };
  const routes = async (method, url, body) => {
    const path = url.split('?')[0];
    const query = new URLSearchParams(url.split('?')[1] || '');
    if (method === 'GET' && path === '/api/exchange') {
      return query.get('accountId') === 'acc-retired' ? [400, { error: 'unknown', status: 400 }] : [200, { accountId: query.get('accountId'), publicKey: { kid: 'pk-' + query.get('accountId') } }];
    }
    if (method === 'POST' && path === '/api/exchange') {
      state.userCookie ||= `user-${++state.users}`;
      state.secrets.set(`${state.userCookie}/${body.accountId}`, body.encryptedSecret);
      return [204, undefined];
    }
    if (method === 'POST' && path === '/api/events') {
      if (consentCookie() !== 'allow') return [204, undefined];
      if (!state.userCookie || !state.secrets.has(`${state.userCookie}/${body.accountId}`)) return [400, { error: 'no secret', status: 400 }];
      const id = ulid();
      state.events.push({ accountId: body.accountId, eventId: id, sequence: id, payload: body.payload });
      return [201, { ack: true }];
    }
    if (method === 'GET' && path === '/api/events') {
      if (!state.userCookie) return [400, { error: 'user cookie: received no or blank identifier', status: 400 }];
      const since = query.get('since') || '';
      const events = {};
      let sequence = null;
      for (const e of state.events) {
        if (e.sequence <= since) continue;
        (events[e.accountId] ||= []).push({ accountId: e.accountId, eventId: e.eventId, payload: e.payload });
        sequence = e.sequence > (sequence || '') ? e.sequence : sequence;
      }
      const deletedEvents = since ? state.tombstones.filter((t) => t.sequence > since).map((t) => t.eventId) : undefined;
      for (const t of state.tombstones) if (t.sequence > since) sequence = t.sequence > (sequence || '') ? t.sequence : sequence;
      return [200, { events, ...(deletedEvents ? { deletedEvents } : {}), ...(sequence ? { sequence } : {}), retentionPeriod: '30days' }];
    }
    if (method === 'POST' && path === '/api/purge') {
      if (!state.userCookie) return [400, { error: 'user cookie: received no or blank identifier', status: 400 }];
      const seq = ulid();
      for (const e of state.events) state.tombstones.push({ eventId: e.eventId, sequence: seq });
      state.events = [];
      if (query.get('user')) state.userCookie = null;
      return [204, undefined];
    }
    return [404, { error: 'not found', status: 404 }];
  };
  return { state, routes };
}
