// Parsed events across postMessage, columnar (decryption worker → data worker).
//
// Owns one wire shape: structured cloning an object per event costs more than decrypting it, so a batch
// travels as typed-array columns (transferred, not copied) plus per-batch string dictionaries, in which a
// page address or a country appears once however many events share it. `unpackParsed` rebuilds objects in
// the shape of stats.js `parseEvent`, with `query` as table.js's two tags (utm_campaign, utm_source), the
// only part of the query any metric reads. Pure.

const STRING_FIELDS = ['accountId', 'secretId', 'url', 'host', 'pathname', 'referrer', 'sessionId', 'geo', 'campaign', 'source'];

/** `parsed` events (query already reduced to [campaign, source]) → {batch, transfer}. */
export function packParsed(parsed) {
  const n = parsed.length;
  const dicts = {};
  const cols = {};
  const maps = {};
  for (const field of STRING_FIELDS) {
    dicts[field] = [];
    cols[field] = new Int32Array(n);
    maps[field] = new Map();
  }
  const ids = new Array(n);
  const time = new Float64Array(n);
  const pageload = new Float64Array(n);
  const mobile = new Uint8Array(n);
  const intern = (field, value, i) => {
    // 0 is null; k is dicts[field][k - 1].
    if (value === null || value === undefined) return;
    let k = maps[field].get(value);
    if (k === undefined) {
      dicts[field].push(value);
      k = dicts[field].length;
      maps[field].set(value, k);
    }
    cols[field][i] = k;
  };
  for (let i = 0; i < n; i++) {
    const p = parsed[i];
    ids[i] = p.eventId;
    time[i] = p.time;
    pageload[i] = typeof p.pageload === 'number' ? p.pageload : NaN;
    mobile[i] = p.isMobile ? 1 : 0;
    intern('accountId', p.accountId, i);
    intern('secretId', p.secretId, i);
    intern('url', p.url, i);
    intern('host', p.host, i);
    intern('pathname', p.pathname, i);
    intern('referrer', p.referrer, i);
    intern('sessionId', p.sessionId, i);
    intern('geo', p.geo, i);
    intern('campaign', p.query ? p.query[0] : null, i);
    intern('source', p.query ? p.query[1] : null, i);
  }
  const batch = { n, ids, time, pageload, mobile, dicts, cols };
  const transfer = [time.buffer, pageload.buffer, mobile.buffer, ...STRING_FIELDS.map((f) => cols[f].buffer)];
  return { batch, transfer };
}

/** The parsed events of a packed batch; `makeQuery(campaign, source)` builds each event's `query`. */
export function unpackParsed(batch, makeQuery) {
  const { n, ids, time, pageload, mobile, dicts, cols } = batch;
  const value = (field, i) => {
    const k = cols[field][i];
    return k === 0 ? null : dicts[field][k - 1];
  };
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    const load = pageload[i];
    out[i] = {
      accountId: value('accountId', i),
      eventId: ids[i],
      secretId: value('secretId', i),
      time: time[i],
      url: value('url', i),
      host: value('host', i),
      pathname: value('pathname', i),
      query: makeQuery(value('campaign', i), value('source', i)),
      referrer: value('referrer', i),
      pageload: Number.isNaN(load) ? null : load,
      isMobile: mobile[i] === 1,
      sessionId: value('sessionId', i),
      geo: value('geo', i),
      timestamp: null,
    };
  }
  return out;
}
