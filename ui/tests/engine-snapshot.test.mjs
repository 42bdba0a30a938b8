// The engine's local snapshot crypto (shared-cache.js sealSnapshot/openSnapshot): the key is HKDF of the KEK
// with its own info (checked against node:crypto), a sealed table restores exactly, and a snapshot that is
// tampered with, relabelled, truncated, reordered or read under another account or key is refused.
import assert from 'node:assert/strict';
import { createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';

import { parseEvents } from '../shared/stats.js';
import { EventTable, computeOperatorStats } from '../shared/table.js';
import { CryptoError, deriveSnapshotKey, openSnapshot, sealSnapshot, snapshotAad } from '../operator/engine/shared-cache.js';
import { generate } from './table-fixtures.mjs';

const subtle = globalThis.crypto.subtle;
const b64url = (bytes) => Buffer.from(bytes).toString('base64url');
const kekRaw = randomBytes(32);
const kek = { kty: 'oct', k: b64url(kekRaw) };
const otherKek = { kty: 'oct', k: b64url(randomBytes(32)) };
const account = '9b63c4d8-0a3e-4b0c-8f39-0e4cbb0f3c11';
const otherAccount = '1f9a3b44-7c2d-4e8f-9a1b-2c3d4e5f6a7b';
const CP = '01J2ZZZZZZZZZZZZZZZZZZZZZZ';
const NOW = Date.parse('2026-03-30T10:00:00Z');
const DAY = 86_400_000;

function sampleTable() {
  const table = new EventTable();
  table.addParsedEvents(parseEvents(generate({ seed: 21, count: 400, from: NOW - 20 * DAY, to: NOW })));
  return table;
}

async function rejects(promise) {
  await assert.rejects(promise, (error) => error instanceof CryptoError);
}

describe('local snapshot', () => {
  it('derives its key with HKDF-SHA256(KEK, info "offen/local-snapshot/v1|<account>") and seals each part', async () => {
    const key = await deriveSnapshotKey(subtle, kek, account);
    const record = await sealSnapshot(subtle, key, account, CP, sampleTable().exportSnapshot());
    const expectedKey = Buffer.from(hkdfSync('sha256', kekRaw, Buffer.alloc(0), `offen/local-snapshot/v1|${account}`, 32));
    // Part 0 is the meta's JSON: open it with node:crypto directly.
    const part = Buffer.from(record.parts[0]);
    const decipher = createDecipheriv('aes-256-gcm', expectedKey, part.subarray(0, 12));
    decipher.setAAD(Buffer.from(snapshotAad(account, CP, 0, record.parts.length)));
    decipher.setAuthTag(part.subarray(part.length - 16));
    const meta = JSON.parse(Buffer.concat([decipher.update(part.subarray(12, part.length - 16)), decipher.final()]).toString());
    assert.equal(meta.version, 1);
    assert.equal(meta.buffers, record.parts.length - 1);
    assert.equal(snapshotAad(account, CP, 3, 9), `offen/local-snapshot/v1|${account}|${CP}|3/9`);
  });

  it('round-trips a table exactly, through structured clone (what IndexedDB stores)', async () => {
    const key = await deriveSnapshotKey(subtle, kek, account);
    const table = sampleTable();
    const record = structuredClone(await sealSnapshot(subtle, key, account, CP, table.exportSnapshot()));
    const opened = await openSnapshot(subtle, key, account, record);
    assert.equal(opened.checkpoint, CP);
    const restored = EventTable.fromSnapshot(opened.snapshot);
    const q = { range: 30, resolution: 'days', now: new Date(NOW), timeZone: 'Europe/Berlin' };
    assert.deepStrictEqual(computeOperatorStats(restored, q), computeOperatorStats(table, q));
    assert.equal(restored.size, table.size);
  });

  it('refuses tampered, relabelled, truncated, reordered or foreign snapshots', async () => {
    const key = await deriveSnapshotKey(subtle, kek, account);
    const record = await sealSnapshot(subtle, key, account, CP, sampleTable().exportSnapshot());
    const copy = () => structuredClone(record);
    const flipped = copy();
    new Uint8Array(flipped.parts[2])[20] ^= 1;
    await rejects(openSnapshot(subtle, key, account, flipped));
    await rejects(openSnapshot(subtle, key, account, { ...copy(), checkpoint: '01J2ZZZZZZZZZZZZZZZZZZZZZY' }));
    const truncated = copy();
    truncated.parts.pop();
    await rejects(openSnapshot(subtle, key, account, truncated));
    const swapped = copy();
    [swapped.parts[1], swapped.parts[2]] = [swapped.parts[2], swapped.parts[1]];
    await rejects(openSnapshot(subtle, key, account, swapped));
    await rejects(openSnapshot(subtle, key, otherAccount, copy()));
    await rejects(openSnapshot(subtle, await deriveSnapshotKey(subtle, kek, otherAccount), otherAccount, copy()));
    await rejects(openSnapshot(subtle, await deriveSnapshotKey(subtle, otherKek, account), account, copy()));
    await rejects(openSnapshot(subtle, key, account, { ...copy(), v: 2 }));
    await rejects(openSnapshot(subtle, key, account, null));
    // A part of another snapshot (same key, other checkpoint) does not fit either.
    const other = await sealSnapshot(subtle, key, account, '01J3000000000000000000000A', sampleTable().exportSnapshot());
    const mixed = copy();
    mixed.parts[1] = other.parts[1];
    await rejects(openSnapshot(subtle, key, account, mixed));
    assert.ok((await openSnapshot(subtle, key, account, copy())).snapshot.buffers.length > 10);
  });
});
