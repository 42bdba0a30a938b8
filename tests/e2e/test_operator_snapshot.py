"""The engine's local snapshot (H10) in real Chromium against a real `offen serve`.

A first load writes, after its write-back, the whole table as sealed binary parts into the account's
IndexedDB; a reload restores the table from it (no day blocks opened) and pages only what came after its
checkpoint; a snapshot that fails its tag is reported, deleted and not used (the day store serves the
reload), and the next write-back stores a fresh one. Every answer is checked against Python's decryption.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_operator_engine import check_against_python, open_engine, server, tab  # noqa: F401

pytestmark = pytest.mark.e2e

# What the tests read from and do to the snapshot in the page's IndexedDB (idb.js: one record per part,
# `part/<i>`, and the header `{v, checkpoint, count}` under `table`, written last).
SNAPSHOT_STORE = """
async ([accountId, action]) => {
  const db = await new Promise((resolve, reject) => {
    const req = indexedDB.open('offen.engine.' + accountId);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  try {
    const tx = db.transaction('snapshot', action === 'read' ? 'readonly' : 'readwrite');
    const store = tx.objectStore('snapshot');
    const get = (key) => new Promise((resolve, reject) => {
      const req = store.get(key);
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    const header = await get('table');
    if (!header) return null;
    const parts = [];
    for (let i = 0; i < header.count; i++) parts.push(await get('part/' + i));
    let out = null;
    if (action === 'read') {
      if (parts.some((p) => !(p instanceof ArrayBuffer))) return {missingParts: true};
      const text = parts.map((p) => new TextDecoder('latin1').decode(p)).join('');
      out = {v: header.v, checkpoint: header.checkpoint, parts: parts.length, inline: 'parts' in header,
             bytes: parts.reduce((n, p) => n + p.byteLength, 0),
             plaintext: /https?:|"version"|a\\.example|PAGEVIEW/.test(text), version: db.version};
    } else if (action === 'spoil') {
      new Uint8Array(parts[1])[40] ^= 1;
      store.put(parts[1], 'part/1');
    } else if (action === 'cut') {
      // A write cut off before its header: the parts are there, the header is not.
      store.delete('table');
    } else if (action === 'inline') {
      // The layout of earlier builds: one record holding every part.
      store.clear();
      store.put({v: header.v, checkpoint: header.checkpoint, parts}, 'table');
    }
    await new Promise((resolve) => { tx.oncomplete = resolve; });
    return out;
  } finally {
    db.close();
  }
}
"""


def test_first_load_writes_a_sealed_snapshot(server: Any, tab: Any) -> None:  # noqa: F811
    events = server.decrypted_events()
    page = tab
    page.goto(f"{server.origin}/login/")
    outcome = open_engine(page, server, events, login=True)
    check_against_python(outcome, events)
    assert outcome["timings"]["local"] is None
    record = page.evaluate(SNAPSHOT_STORE, [server.account_id, "read"])
    assert record is not None, "no snapshot after the first write-back"
    assert record["version"] == 2 and record["v"] == 1 and record["parts"] > 10
    assert not record["inline"], "the header holds no parts: each part is its own record"
    assert record["checkpoint"] == outcome["stats"]["checkpoint"]
    assert not record["plaintext"]


def test_reload_restores_the_snapshot(server: Any, tab: Any) -> None:  # noqa: F811
    events = server.decrypted_events()
    page = tab
    page.reload()
    outcome = open_engine(page, server, events, login=False)
    assert outcome["timings"]["source"] == "cache"
    assert outcome["timings"]["local"] == "snapshot"
    assert outcome["timings"]["counts"]["secretsUnwrapped"] == 0
    assert outcome["timings"]["counts"]["badSnapshots"] == 0
    check_against_python(outcome, events)


def test_a_spoiled_snapshot_is_reported_and_not_used(server: Any, tab: Any) -> None:  # noqa: F811
    events = server.decrypted_events()
    page = tab
    page.evaluate(SNAPSHOT_STORE, [server.account_id, "spoil"])
    page.reload()
    outcome = open_engine(page, server, events, login=False)
    assert outcome["timings"]["local"] == "days"
    assert outcome["timings"]["counts"]["badSnapshots"] == 1
    assert any(r["kind"] == "local-snapshot" for r in outcome["reports"])
    check_against_python(outcome, events)
    # The day store served the reload, whose write-back stored a fresh snapshot in place of the deleted one.
    page.reload()
    again = open_engine(page, server, events, login=False)
    check_against_python(again, events)
    assert again["timings"]["local"] == "snapshot"
    assert again["timings"]["counts"]["badSnapshots"] == 0


def test_a_snapshot_without_its_header_is_not_used(server: Any, tab: Any) -> None:  # noqa: F811
    events = server.decrypted_events()
    page = tab
    page.evaluate(SNAPSHOT_STORE, [server.account_id, "cut"])
    page.reload()
    outcome = open_engine(page, server, events, login=False)
    assert outcome["timings"]["local"] == "days"
    assert outcome["timings"]["counts"]["badSnapshots"] == 0, "no header: no snapshot, nothing spoiled"
    check_against_python(outcome, events)


def test_a_snapshot_in_the_earlier_one_record_layout_still_restores(server: Any, tab: Any) -> None:  # noqa: F811
    events = server.decrypted_events()
    page = tab
    page.reload()
    assert open_engine(page, server, events, login=False)["timings"]["local"] == "snapshot"
    page.evaluate(SNAPSHOT_STORE, [server.account_id, "inline"])
    page.reload()
    outcome = open_engine(page, server, events, login=False)
    assert outcome["timings"]["local"] == "snapshot"
    assert outcome["timings"]["counts"]["badSnapshots"] == 0
    check_against_python(outcome, events)
