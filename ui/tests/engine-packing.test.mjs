// Unit tests of ui/operator/engine/packing.js: a batch of parsed events survives packing, a real
// structured clone with transfer, and unpacking, field for field.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { packParsed, unpackParsed } from '../operator/engine/packing.js';

const sample = [
  { accountId: 'a', eventId: '01KB0000000000000000000001', secretId: 'f'.repeat(64), time: 1790000000000, url: 'https://x.example/a/', host: 'x.example', pathname: '/a/', query: ['spring', 'news'], referrer: 'Google', pageload: 312.5, isMobile: true, sessionId: 's1', geo: 'DE', timestamp: null },
  { accountId: 'a', eventId: '01KB0000000000000000000002', secretId: 'f'.repeat(64), time: 1790000000001, url: 'https://x.example/b/', host: 'x.example', pathname: '/b/', query: [null, null], referrer: null, pageload: null, isMobile: false, sessionId: null, geo: null, timestamp: null },
  { accountId: 'a', eventId: '01KB0000000000000000000003', secretId: 'e'.repeat(64), time: 1790000000002, url: 'https://x.example/a/', host: 'x.example', pathname: '/a/', query: [null, 'news'], referrer: 'Google', pageload: 0, isMobile: false, sessionId: 's2', geo: 'FR', timestamp: null },
];

describe('packing', () => {
  it('round-trips every field through a transferring structured clone', () => {
    const { batch, transfer } = packParsed(sample);
    const { port1, port2 } = new MessageChannel();
    return new Promise((resolve) => {
      port2.onmessage = ({ data }) => {
        const out = unpackParsed(data, (campaign, source) => [campaign, source]);
        assert.deepEqual(out, sample);
        port1.close();
        port2.close();
        resolve();
      };
      port1.postMessage(batch, transfer);
      assert.equal(batch.time.byteLength, 0, 'the columns were transferred, not copied');
    });
  });

  it('stores each distinct string once per batch', () => {
    const { batch } = packParsed(sample);
    assert.deepEqual(batch.dicts.url, ['https://x.example/a/', 'https://x.example/b/']);
    assert.deepEqual(batch.dicts.referrer, ['Google']);
    assert.deepEqual([...batch.cols.referrer], [1, 0, 1]);
  });

  it('handles an empty batch', () => {
    const { batch } = packParsed([]);
    assert.deepEqual(unpackParsed(batch, () => null), []);
  });
});
