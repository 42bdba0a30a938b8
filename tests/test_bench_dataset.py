"""Tests for bench/dataset.py and the history generator it uses (bench/generate.py).

A real `offen setup` makes the data folder; a real `offen serve` then opens
the bulk-written database, logs the operator in and hands out the account's
events, which are decrypted as an operator's browser would (tests/protocol_client.py)
and compared with the plaintext the generator makes again from the seed.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from appliance import ids, keys
from bench import dataset
from bench.generate import plan_visits, visitor_events, visitor_user_id
from tests.protocol_client import decrypt_operator_view
from tests.realserver import OffenProcess, free_port, offen_environment

NOW = datetime.now(UTC)


def test_plan_has_exact_totals_and_bounded_sessions():
    for events, visitors in [(5000, 1000), (600, 120), (130, 100), (3000, 100)]:
        plan = plan_visits(events, visitors, seed=4)
        assert len(plan) == visitors
        assert sum(map(sum, plan)) == events
        assert all(1 <= views <= 10 for visit in plan for views in visit)
    plan = plan_visits(5000, 1000, seed=4)
    returning = sum(len(visit) > 1 for visit in plan) / len(plan)
    assert 0.05 < returning < 0.5
    assert plan == plan_visits(5000, 1000, seed=4) != plan_visits(5000, 1000, seed=5)
    with pytest.raises(ValueError):
        plan_visits(10, 20, seed=1)


def test_visitor_history_stays_in_the_window_and_is_deterministic():
    end = datetime(2026, 11, 20, 12, tzinfo=UTC)
    start = end - timedelta(days=30)
    plan = plan_visits(2000, 400, seed=2)
    seen_days, referrers, campaigns = set(), Counter(), 0
    for index, sessions in enumerate(plan):
        history = visitor_events(sessions, seed=2, index=index, start=start, end=end)
        assert len(history) == sum(sessions)
        assert [t for t, _ in history] == sorted(t for t, _ in history)
        assert len({p["isMobile"] for _, p in history}) == 1  # one device per visitor
        assert len({p["sessionId"] for _, p in history}) == len(sessions)
        for moment, payload in history:
            assert start <= moment < end
            assert payload["timestamp"].startswith(moment.strftime("%Y-%m-%dT%H:%M:%S"))
            seen_days.add(moment.date())
            if payload["pageload"] is not None:
                referrers[payload["referrer"].split("/")[2] if payload["referrer"] else ""] += 1
            campaigns += bool(payload["rawHref"] and "utm_campaign" in payload["rawHref"])
    assert len(seen_days) >= 28
    assert referrers[""] > 0 and referrers["www.google.com"] > 0
    assert campaigns > 0
    again = visitor_events(plan[7], seed=2, index=7, start=start, end=end)
    assert again == visitor_events(plan[7], seed=2, index=7, start=start, end=end)
    assert visitor_user_id(2, 7) == visitor_user_id(2, 7) != visitor_user_id(2, 8)


def test_encode_ulid_is_the_appliances_format():
    moment = datetime(2026, 11, 29, 12, 30, tzinfo=UTC)
    value = (int(moment.timestamp() * 1000) << 80) | 12345
    text = dataset.encode_ulid(value)
    assert ids.is_ulid(text) and ids.ulid_time(text) == moment
    assert dataset.encode_ulid(value + 1) > text


def _expected_payloads(built: dataset.Built) -> list[str]:
    spec = built.spec
    start, end = datetime.fromisoformat(built.start), datetime.fromisoformat(built.end)
    plan = plan_visits(spec.events, spec.visitors, seed=spec.seed)
    return sorted(
        json.dumps(payload, sort_keys=True)
        for index, sessions in enumerate(plan)
        for _, payload in visitor_events(sessions, seed=spec.seed, index=index, start=start, end=end)
    )


@pytest.mark.parametrize("key_type", ["x25519", "rsa"])
def test_built_database_is_what_the_server_hands_out(tmp_path: Path, key_type: str):
    spec = dataset.Spec(events=600, visitors=120, days=3, key_type=key_type, seed=3)
    lines: list[str] = []
    built = dataset.build(
        spec, tmp_path / "set", now=NOW, processes=2, progress=lambda *a: lines.append(a[0])
    )
    assert "events stored" in lines and "visitors encrypted" in lines
    db = sqlite3.connect(built.data_dir / "offen.db")
    try:
        rows = db.execute("SELECT event_id, sequence, secret_id FROM events ORDER BY rowid").fetchall()
        salt, public_key = db.execute("SELECT user_salt, public_key FROM accounts").fetchone()
        secret_ids = {row[0] for row in db.execute("SELECT secret_id FROM secrets")}
        counter = db.execute("SELECT value FROM offen_sequence WHERE name = 'events'").fetchone()[0]
    finally:
        db.close()
    assert keys.account_key_type(json.loads(public_key)) == key_type
    assert len(rows) == 600 and len(secret_ids) == 120
    # Inserted in time order with strictly increasing sequences; the counter is at the top.
    sequences = [sequence for _, sequence, _ in rows]
    assert all(a < b for a, b in zip(sequences, sequences[1:], strict=False))
    assert counter == sequences[-1] == built.max_sequence
    start, end = datetime.fromisoformat(built.start), datetime.fromisoformat(built.end)
    for event_id, sequence, _ in rows:
        assert start <= ids.ulid_time(event_id) < end
        assert ids.ulid_time(sequence) == ids.ulid_time(event_id)
    # Secret ids are the visitor-id hashes of the seed's visitors.
    assert secret_ids == {keys.hash_visitor_id(visitor_user_id(3, i), salt) for i in range(120)}
    assert {secret_id for _, _, secret_id in rows} == secret_ids

    # The real server opens it; an operator decrypts every event back to the generator's plaintext.
    env = offen_environment(dataset.copy_data_dir(built, tmp_path / "copy"))
    logs = tmp_path / "logs"
    logs.mkdir()
    server = OffenProcess(env, free_port(), logs).start()
    try:
        client = server.client()
        login = client.post_json(
            "/api/login", {"username": built.email, "password": built.password}, status=200
        ).json
        view = client.get(f"/api/accounts/{built.account_id}", status=200).json
    finally:
        server.stop()
    decrypted = decrypt_operator_view(login, view)
    assert sorted(json.dumps(p, sort_keys=True) for p in decrypted) == _expected_payloads(built)


def test_ensure_reuses_the_cache_until_events_near_expiry(tmp_path: Path):
    spec = dataset.Spec(events=120, visitors=40, days=2, seed=9)
    quiet = lambda *a: None  # noqa: E731
    first = dataset.ensure(spec, cache=tmp_path, now=NOW, progress=quiet)
    assert first.folder == tmp_path / spec.key and (first.folder / "meta.json").exists()
    again = dataset.ensure(spec, cache=tmp_path, now=NOW + timedelta(days=10), progress=quiet)
    assert again.account_id == first.account_id and again.max_sequence == first.max_sequence
    later = NOW + timedelta(days=dataset.RETENTION_DAYS)
    rebuilt = dataset.ensure(spec, cache=tmp_path, now=later, progress=quiet)
    assert rebuilt.account_id != first.account_id
    assert datetime.fromisoformat(rebuilt.end) > later - timedelta(hours=2)
    assert [p.name for p in tmp_path.iterdir()] == [spec.key]  # no work folder left behind
    assert dataset.Spec(100, 10, 1).key != dataset.Spec(100, 10, 1, key_type="rsa").key
