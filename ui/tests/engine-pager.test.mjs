// Unit tests of ui/operator/engine/pager.js and plan.js against a fake fetch that implements the paged
// routes of contract 2 over an in-memory account (keyset on sequence, tombstones, secrets=new, 409s).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  HttpError,
  accountClient,
  eventPages,
  fetchAllRollups,
  fetchAllWrappedSecrets,
  fetchRollup,
  postWrappedSecrets,
  putRollup,
} from '../operator/engine/pager.js';
import { addDays, coveredByRollup, dayStart, encodeTime, planScans, ulidFloor, ulidMs, utcDay } from '../operator/engine/plan.js';

const ACCOUNT = '9b63c4d8-78a6-4a6c-a3c0-bd8d8a5e2f10';
const hex64 = (n) => n.toString(16).padStart(64, '0');
const seq = (n) => encodeTime(1790000000000 + n) + '0000000000000000';

/** An in-memory server for one account; records every request. */
function fakeServer({ events = [], tombstones = [], wrapped = {}, rollups = {} } = {}) {
  const requests = [];
  const state = { events, tombstones, wrapped: { ...wrapped }, rollups: { ...rollups } };
  const json = (status, body) => ({
    ok: status >= 200 && status < 300,
    status,
    text: async () => (body === undefined ? '' : JSON.stringify(body)),
  });
  async function fetch(url, init = {}) {
    const u = new URL(url, 'https://offen.test');
    requests.push({ method: init.method || 'GET', path: u.pathname, query: Object.fromEntries(u.searchParams), body: init.body });
    const base = `/api/accounts/${ACCOUNT}`;
    if (!u.pathname.startsWith(base)) return json(404, { error: 'not found', status: 404 });
    const rest = u.pathname.slice(base.length);
    const q = u.searchParams;
    if (rest === '' && init.method === 'GET') {
      const limit = Number(q.get('limit'));
      const after = q.get('after');
      const sorted = state.events.filter((e) => !after || e.sequence > after).sort((a, b) => (a.sequence < b.sequence ? -1 : 1));
      const page = sorted.slice(0, limit);
      const more = sorted.length > limit;
      const upper = more ? page[page.length - 1].sequence : null;
      const deleted = state.tombstones.filter((t) => (!after || t.sequence > after) && (!upper || t.sequence <= upper));
      const secrets = {};
      for (const e of page) {
        const seenBefore = q.get('secrets') === 'new' && state.events.some((o) => o.secretId === e.secretId && after && o.sequence <= after);
        if (!seenBefore) secrets[e.secretId] = `wrapped-${e.secretId.slice(-4)}`;
      }
      const body = { accountId: ACCOUNT, name: 'x', events: { [ACCOUNT]: page }, secrets, deletedEvents: deleted.map((t) => t.eventId), more };
      const all = [...page.map((e) => e.sequence), ...deleted.map((t) => t.sequence)].sort();
      if (all.length) body.sequence = all[all.length - 1];
      return json(200, body);
    }
    if (rest === '/wrapped-secrets' && init.method === 'GET') {
      const limit = Number(q.get('limit'));
      const ids = Object.keys(state.wrapped).filter((id) => !q.get('after') || id > q.get('after')).sort();
      const slice = ids.slice(0, limit);
      return json(200, { wrappedSecrets: Object.fromEntries(slice.map((id) => [id, state.wrapped[id]])), more: ids.length > limit, next: slice.length ? slice[slice.length - 1] : null });
    }
    if (rest === '/wrapped-secrets' && init.method === 'POST') {
      const body = JSON.parse(init.body);
      const n = Object.keys(body.wrappedSecrets).length;
      if (n > 5000) return json(400, { error: 'too many', status: 400 });
      let stored = 0;
      for (const [id, value] of Object.entries(body.wrappedSecrets)) {
        if (!(id in state.wrapped)) {
          state.wrapped[id] = value;
          stored++;
        }
      }
      return json(200, { stored });
    }
    if (rest === '/rollups' && init.method === 'GET') {
      const limit = Number(q.get('limit'));
      const periods = Object.keys(state.rollups).filter((p) => !q.get('after') || p > q.get('after')).sort();
      const slice = periods.slice(0, limit);
      return json(200, { rollups: slice.map((p) => ({ period: p, ...state.rollups[p] })), more: periods.length > limit, next: slice.length ? slice[slice.length - 1] : null });
    }
    const m = /^\/rollups\/(\d{4}-\d{2}-\d{2})$/.exec(rest);
    if (m && init.method === 'PUT') {
      const body = JSON.parse(init.body);
      const old = state.rollups[m[1]];
      if (old && old.checkpoint > body.checkpoint) return json(409, { error: 'stale', status: 409 });
      state.rollups[m[1]] = body;
      return json(204);
    }
    return json(405, { error: 'no', status: 405 });
  }
  return { fetch, requests, state };
}

function makeEvents(n) {
  return Array.from({ length: n }, (_, i) => ({ eventId: seq(i * 10), secretId: hex64(i % 7), payload: `p${i}`, sequence: seq(i * 10 + 1) }));
}

describe('event pages', () => {
  it('walk the keyset in order, each event once, with limit and secrets=new on the wire', async () => {
    const server = fakeServer({ events: makeEvents(23) });
    const client = accountClient({ fetch: server.fetch, accountId: ACCOUNT });
    const seen = [];
    let pages = 0;
    for await (const page of eventPages(client, { limit: 5, secretsNew: true })) {
      pages++;
      seen.push(...page.events.map((e) => e.eventId));
    }
    assert.equal(pages, 5);
    assert.deepEqual(seen, makeEvents(23).map((e) => e.eventId));
    const gets = server.requests.filter((r) => r.path.endsWith(ACCOUNT));
    assert.equal(gets[0].query.after, undefined);
    assert.equal(gets[1].query.after, seq(41));
    assert.ok(gets.every((r) => r.query.limit === '5' && r.query.secrets === 'new'));
  });

  it('send a secret only on the page where its visitor first appears with secrets=new', async () => {
    const server = fakeServer({ events: makeEvents(21) });
    const client = accountClient({ fetch: server.fetch, accountId: ACCOUNT });
    const counts = new Map();
    for await (const page of eventPages(client, { limit: 7, secretsNew: true })) {
      for (const id of Object.keys(page.secrets)) counts.set(id, (counts.get(id) || 0) + 1);
    }
    assert.equal(counts.size, 7);
    assert.ok([...counts.values()].every((n) => n === 1));
  });

  it('start after a checkpoint and carry tombstones', async () => {
    const events = makeEvents(12);
    const tombstones = [{ eventId: seq(5), sequence: seq(95) }];
    const server = fakeServer({ events, tombstones });
    const client = accountClient({ fetch: server.fetch, accountId: ACCOUNT });
    const pages = [];
    for await (const page of eventPages(client, { after: seq(61), limit: 100 })) pages.push(page);
    assert.equal(pages.length, 1);
    assert.deepEqual(pages[0].events.map((e) => e.eventId), [seq(70), seq(80), seq(90), seq(100), seq(110)]);
    assert.deepEqual(pages[0].deletedEvents, [seq(5)]);
    assert.equal(pages[0].next, seq(111));
  });

  it('refuse a server that claims more pages without moving forward', async () => {
    const client = accountClient({
      fetch: async () => ({ ok: true, status: 200, text: async () => JSON.stringify({ events: {}, more: true }) }),
      accountId: ACCOUNT,
    });
    await assert.rejects(async () => {
      for await (const page of eventPages(client, { limit: 5 })) void page;
    }, HttpError);
  });

  it('turn error bodies into HttpError with the status', async () => {
    const client = accountClient({
      fetch: async () => ({ ok: false, status: 401, text: async () => JSON.stringify({ error: 'login required', status: 401 }) }),
      accountId: ACCOUNT,
    });
    await assert.rejects(client.get(''), (e) => e instanceof HttpError && e.status === 401 && e.message === 'login required');
  });
});

describe('shared cache routes', () => {
  it('read every wrapped secret across pages and post in batches of at most 5000', async () => {
    const wrapped = Object.fromEntries(Array.from({ length: 45 }, (_, i) => [hex64(i), `w${i}`]));
    const server = fakeServer({ wrapped });
    const client = accountClient({ fetch: server.fetch, accountId: ACCOUNT });
    const all = await fetchAllWrappedSecrets(client, { limit: 10 });
    assert.equal(all.size, 45);
    assert.equal(all.get(hex64(44)), 'w44');
    const fresh = new Map(Array.from({ length: 12000 }, (_, i) => [hex64(1000 + i), `n${i}`]));
    fresh.set(hex64(3), 'overwrite attempt');
    const outcome = await postWrappedSecrets(client, fresh);
    assert.deepEqual(outcome, { stored: 12000, failed: 0, error: null });
    const posts = server.requests.filter((r) => r.method === 'POST');
    assert.deepEqual(posts.map((r) => Object.keys(JSON.parse(r.body).wrappedSecrets).length), [5000, 5000, 2001]);
    assert.equal(server.state.wrapped[hex64(3)], 'w3', 'first write wins');
  });

  it('report failed posts without throwing', async () => {
    const client = accountClient({ fetch: async () => ({ ok: false, status: 403, text: async () => '{"error":"no","status":403}' }), accountId: ACCOUNT });
    const outcome = await postWrappedSecrets(client, new Map([[hex64(1), 'x']]));
    assert.equal(outcome.stored, 0);
    assert.equal(outcome.failed, 1);
    assert.equal(outcome.error.status, 403);
  });

  it('store roll-ups, answer stale on 409 and re-read the newer one', async () => {
    const server = fakeServer({ rollups: { '2026-11-19': { checkpoint: seq(500), payload: 'theirs' } } });
    const client = accountClient({ fetch: server.fetch, accountId: ACCOUNT });
    assert.deepEqual(await putRollup(client, '2026-11-20', seq(100), 'ours'), { outcome: 'stored' });
    assert.deepEqual(await putRollup(client, '2026-11-19', seq(100), 'ours'), { outcome: 'stale' });
    assert.equal(server.state.rollups['2026-11-19'].payload, 'theirs');
    assert.deepEqual(await fetchRollup(client, '2026-11-19'), { period: '2026-11-19', checkpoint: seq(500), payload: 'theirs' });
    assert.equal(await fetchRollup(client, '2026-11-18'), null);
    const all = await fetchAllRollups(client, { limit: 1 });
    assert.deepEqual(all.map((r) => r.period), ['2026-11-19', '2026-11-20']);
  });

  it('report a rejected roll-up (e.g. outside the retention window) as such', async () => {
    const client = accountClient({ fetch: async () => ({ ok: false, status: 400, text: async () => '{"error":"period","status":400}' }), accountId: ACCOUNT });
    const { outcome, error } = await putRollup(client, '2020-01-01', seq(1), 'x');
    assert.equal(outcome, 'rejected');
    assert.equal(error.status, 400);
  });
});

describe('scan plan', () => {
  const cp = (entries) => new Map(entries);

  it('days and ULID floors agree with the ULID time of events', () => {
    const ms = Date.UTC(2026, 10, 20, 13, 5);
    assert.equal(utcDay(ms), '2026-11-20');
    assert.equal(ulidMs(ulidFloor(dayStart('2026-11-20'))), Date.UTC(2026, 10, 20));
    assert.equal(addDays('2026-12-31', 1), '2027-01-01');
    assert.ok(ulidFloor(dayStart('2026-11-20')) < encodeTime(dayStart('2026-11-20')) + '0000000000000001');
  });

  it('pages from the start without roll-ups', () => {
    assert.deepEqual(planScans(cp([]), '2026-11-01', '2026-11-20'), { head: null, after: null });
  });

  it('pages from the lowest checkpoint when every closed day has a roll-up', () => {
    const map = cp([['2026-11-18', seq(300)], ['2026-11-19', seq(200)], ['2026-11-20', seq(400)]]);
    assert.deepEqual(planScans(map, '2026-11-18', '2026-11-20'), { head: null, after: seq(200) });
  });

  it('pages from the start of the first day without a roll-up when that is earlier', () => {
    const late = encodeTime(Date.UTC(2026, 11, 1)) + '0000000000000000';
    const map = cp([['2026-11-18', late], ['2026-11-20', late]]);
    assert.deepEqual(planScans(map, '2026-11-18', '2026-11-20'), { head: null, after: ulidFloor(dayStart('2026-11-19')) });
  });

  it('reads a missing oldest day with a head scan that stops at the first covered day', () => {
    const late = encodeTime(Date.UTC(2026, 11, 1)) + '0000000000000000';
    const map = cp([['2026-11-19', late], ['2026-11-20', late]]);
    assert.deepEqual(planScans(map, '2026-11-18', '2026-11-20'), { head: { until: ulidFloor(dayStart('2026-11-19')) }, after: late });
  });

  it('skips exactly the events a roll-up already holds', () => {
    const map = cp([['2026-11-19', seq(200)]]);
    assert.equal(coveredByRollup(map, '2026-11-19', seq(200)), true);
    assert.equal(coveredByRollup(map, '2026-11-19', seq(201)), false);
    assert.equal(coveredByRollup(map, '2026-11-20', seq(1)), false);
  });
});

describe('scan plan up to today', () => {
  it('pages today from its start even when every closed day has a roll-up with a later checkpoint', () => {
    const late = encodeTime(Date.UTC(2026, 10, 21, 12)) + '0000000000000000';
    const map = new Map([['2026-11-19', late], ['2026-11-20', late]]);
    // today = 2026-11-21: no roll-up, so its events (sequences below `late`) must be paged.
    assert.deepEqual(planScans(map, '2026-11-19', '2026-11-21'), { head: null, after: ulidFloor(dayStart('2026-11-21')) });
  });
});
