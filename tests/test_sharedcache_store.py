"""The store side of issue 4 on real SQLite files: migration 0006, keyset pages of events,
the shared-cache tables, and roll-ups deleted with the events they summarise."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event as sa_event

from appliance import ids
from appliance.records import Secret
from appliance.store import open_store, schema
from appliance.store.sharedcache import day_of_ulid

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
ACCOUNT = "9b63c4d4-2b39-4a8c-a0fa-6f0e6b0c2d11"
OTHER = "0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5"


def sid(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def _tables(path) -> dict[str, str]:
    raw = sqlite3.connect(path)
    try:
        return {
            name: sql for name, sql in raw.execute("SELECT name, sql FROM sqlite_master WHERE type='table'")
        }
    finally:
        raw.close()


def add_visitor(store, name: str, account: str = ACCOUNT) -> str:
    secret_id = sid(name)
    store.insert_secret(Secret(secret_id, "{1,} c2VjcmV0"))
    return secret_id


# -- migration 0006 ---------------------------------------------------------------------------


def test_fresh_database_gets_the_shared_cache_tables(tmp_path):
    path = tmp_path / "offen.db"
    opened = open_store(str(path))
    assert "0006_shared_cache" in opened.pending_migrations()
    opened.migrate(now=NOW)
    tables = _tables(path)
    assert "PRIMARY KEY (account_id, secret_id)" in tables["offen_wrapped_secrets"]
    assert "PRIMARY KEY (account_id, period)" in tables["offen_rollups"]
    raw = sqlite3.connect(path)
    columns = [r[1] for r in raw.execute("PRAGMA table_info(offen_rollups)")]
    assert columns == ["account_id", "period", "checkpoint", "payload", "updated"]
    columns = [r[1] for r in raw.execute("PRAGMA table_info(offen_wrapped_secrets)")]
    assert columns == ["account_id", "secret_id", "wrapped_secret", "created"]
    applied = [r[0] for r in raw.execute("SELECT name FROM offen_schema_migrations ORDER BY name")]
    raw.close()
    assert applied[-1] == "0006_shared_cache"
    opened.close()


def test_a_database_of_the_previous_release_is_upgraded_with_a_backup(tmp_path, monkeypatch):
    path = tmp_path / "offen.db"
    previous = tuple(m for m in schema.MIGRATIONS if m.name != "0006_shared_cache")
    with monkeypatch.context() as patch:
        patch.setattr(schema, "MIGRATIONS", previous)
        old = open_store(str(path))
        old.migrate(now=NOW)
        old.insert_secret(Secret(sid("a"), "{1,} eA=="))
        old.close()
    assert "offen_rollups" not in _tables(path)
    store = open_store(str(path))
    assert store.pending_migrations() == ["0006_shared_cache"]
    backup = store.migrate(now=NOW)
    assert backup is not None and ".backup-" in backup
    assert {"offen_rollups", "offen_wrapped_secrets"} <= set(_tables(path))
    assert "offen_rollups" not in _tables(backup)
    assert store.pending_migrations() == []
    store.close()


# -- keyset pages -------------------------------------------------------------------------------


def test_page_query_walks_the_account_sequence_index(store):
    """One indexed range query per page, never OFFSET (checked on the statement actually run)."""
    secret = add_visitor(store, "v")
    for i in range(5):
        store.insert_event(ACCOUNT, secret, f"p{i}", NOW + timedelta(seconds=i))
    statements: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    sa_event.listen(store._db.engine, "before_cursor_execute", capture)
    try:
        first = store.find_events_page(ACCOUNT, "0", 2)
    finally:
        sa_event.remove(store._db.engine, "before_cursor_execute", capture)
    assert len(first.events) == 2 and first.more
    (page_sql, params), *_ = [(s, p) for s, p in statements if "FROM events" in s and "LIMIT" in s]
    # SQLAlchemy's SQLite compiler writes `OFFSET ?` after every LIMIT; it must bind 0.
    offset_at = page_sql.upper().rfind("OFFSET")
    assert offset_at == -1 or (page_sql.rstrip().endswith("OFFSET ?") and list(params)[-1] == 0)
    raw = sqlite3.connect(store.path)
    plan = " ".join(row[3] for row in raw.execute("EXPLAIN QUERY PLAN " + page_sql, params))
    raw.close()
    assert "idx_events_account_sequence" in plan, plan
    assert "TEMP B-TREE" not in plan, plan


def test_pages_complete_a_group_of_equal_sequences(store):
    # Offen's migration 004 gave all events of its time one sequence.
    secret = add_visitor(store, "v")
    shared = ids.new_ulid(NOW - timedelta(days=3))
    raw = sqlite3.connect(store.path)
    raw.executemany(
        "INSERT INTO events VALUES (?, ?, ?, ?, ?)",
        [
            (ids.new_ulid(NOW - timedelta(days=3, minutes=i)), shared, ACCOUNT, secret, f"old{i}")
            for i in range(7)
        ],
    )
    raw.commit()
    raw.close()
    for i in range(3):
        store.insert_event(ACCOUNT, secret, f"new{i}", NOW + timedelta(seconds=i))
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = store.find_events_page(ACCOUNT, after, 3)
        pages += 1
        seen += [e.payload for e in page.events]
        if page.events:
            after = page.events[-1].sequence
        if not page.more:
            break
    assert sorted(seen) == sorted([f"old{i}" for i in range(7)] + ["new0", "new1", "new2"])
    assert len(seen) == len(set(seen))
    assert pages == 2  # the whole group of 7, then the last 3


def test_limit_zero_answers_only_whether_more_exists(store):
    page = store.find_events_page(ACCOUNT, None, 0)
    assert page.events == [] and not page.more
    store.insert_event(ACCOUNT, add_visitor(store, "v"), "p", NOW)
    page = store.find_events_page(ACCOUNT, None, 0)
    assert page.events == [] and page.more and page.tombstones == []


def test_new_secrets_only_leaves_out_secrets_seen_before_after(store):
    a, b = add_visitor(store, "a"), add_visitor(store, "b")
    e1 = store.insert_event(ACCOUNT, a, "1", NOW)
    store.insert_event(ACCOUNT, a, "2", NOW + timedelta(seconds=1))
    store.insert_event(ACCOUNT, b, "3", NOW + timedelta(seconds=2))
    page = store.find_events_page(ACCOUNT, e1.sequence, 10, new_secrets_only=True)
    assert [s.secret_id for s in page.secrets] == [b]
    page = store.find_events_page(ACCOUNT, e1.sequence, 10)
    assert sorted(s.secret_id for s in page.secrets) == sorted([a, b])


def test_a_page_of_5000_from_100k_rows_is_fast(tmp_path, capsys):
    """Measured once and reported, never asserted: timing asserts fail on a busy machine."""
    store = open_store(str(tmp_path / "big.db"))
    store.migrate(now=NOW)
    raw = sqlite3.connect(store.path)
    start = NOW - timedelta(days=30)
    secrets = [sid(f"v{i}") for i in range(20_000)]
    raw.executemany("INSERT INTO secrets VALUES (?, ?)", [(s, "{1,} " + "A" * 680) for s in secrets])
    rows = []
    last = None
    for i in range(100_000):
        moment = start + timedelta(seconds=i * 25)
        last = ids.next_sequence(last, moment)
        rows.append(
            (ids.new_ulid(moment), last, ACCOUNT, secrets[i % 20_000], "{1,} " + "B" * 360 + " " + "C" * 16)
        )
    raw.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?)", rows)
    raw.execute("UPDATE offen_sequence SET value = ? WHERE name = 'events'", (last,))
    raw.commit()
    raw.close()
    after = rows[50_000][1]
    store.find_events_page(ACCOUNT, after, 5000, new_secrets_only=True)  # warm the page cache
    began = time.perf_counter()
    page = store.find_events_page(ACCOUNT, after, 5000, new_secrets_only=True)
    elapsed_ms = (time.perf_counter() - began) * 1000
    assert len(page.events) == 5000 and page.more
    assert page.events[0].sequence > after
    with capsys.disabled():
        print(f"\n[measure] store page of 5000 events (secrets=new) from 100k rows: {elapsed_ms:.1f} ms")
    store.close()


# -- wrapped secrets ----------------------------------------------------------------------------


def test_wrapped_secrets_first_write_wins_and_unknown_are_skipped(store):
    a, b = add_visitor(store, "a"), add_visitor(store, "b")
    store.insert_event(ACCOUNT, a, "1", NOW)
    store.insert_event(OTHER, b, "2", NOW)
    assert store.insert_wrapped_secrets(ACCOUNT, {a: "first", b: "foreign", sid("nobody"): "x"}, NOW) == (
        1,
        2,
    )
    assert store.insert_wrapped_secrets(ACCOUNT, {a: "second"}, NOW) == (0, 0)
    assert store.find_wrapped_secrets(ACCOUNT, None, 10) == [(a, "first")]
    assert store.find_wrapped_secrets(ACCOUNT, a, 10) == []


# -- roll-ups and the deletes that keep them honest ------------------------------------------------


def _events_on_days(store, secret: str, days: list[int]) -> list:
    return [store.insert_event(ACCOUNT, secret, f"d{d}", NOW - timedelta(days=d)) for d in days]


def _day(days_ago: int) -> str:
    return (NOW - timedelta(days=days_ago)).date().isoformat()


def _periods(store, account: str = ACCOUNT) -> list[str]:
    return [r.period for r in store.iter_rollups(account, None, 1000)]


def test_purge_deletes_the_rollups_of_the_days_of_the_visitors_events(store):
    gone, stays = add_visitor(store, "gone"), add_visitor(store, "stays")
    _events_on_days(store, gone, [1, 3])
    _events_on_days(store, stays, [1, 2])
    checkpoint = store.max_sequence()
    for d in (1, 2, 3):
        assert store.put_rollup(ACCOUNT, _day(d), checkpoint, "r", NOW).stored
    assert store.put_rollup(OTHER, _day(1), checkpoint, "r", NOW).stored
    assert store.delete_events_for_secrets([gone], NOW) == 2
    assert _periods(store) == [_day(2)]
    assert _periods(store, OTHER) == [_day(1)]  # another account's day is untouched


def test_parking_deletes_rollups_and_the_old_wrap(store):
    secret = add_visitor(store, "v")
    other = add_visitor(store, "w")
    (event,) = _events_on_days(store, secret, [2])
    _events_on_days(store, other, [4])
    checkpoint = store.max_sequence()
    store.put_rollup(ACCOUNT, _day(2), checkpoint, "r", NOW)
    store.put_rollup(ACCOUNT, _day(4), checkpoint, "r", NOW)
    store.insert_wrapped_secrets(ACCOUNT, {secret: "w1", other: "w2"}, NOW)
    assert store.park_secret(secret, sid("parked"), NOW) == 1
    assert _periods(store) == [_day(4)]
    assert store.find_wrapped_secrets(ACCOUNT, None, 10) == [(other, "w2")]
    assert day_of_ulid(event.event_id) == _day(2)


def test_expiry_deletes_old_rollups_and_the_partial_day(store):
    secret = add_visitor(store, "v")
    cutoff_moment = NOW - timedelta(days=30)
    store.insert_event(ACCOUNT, secret, "early", cutoff_moment - timedelta(hours=1))
    store.insert_event(ACCOUNT, secret, "late", cutoff_moment + timedelta(hours=1))
    store.insert_event(ACCOUNT, secret, "recent", NOW - timedelta(days=5))
    checkpoint = store.max_sequence()
    cutoff_day = cutoff_moment.date()
    for day in (cutoff_day - timedelta(days=10), cutoff_day, NOW.date() - timedelta(days=5)):
        assert store.put_rollup(ACCOUNT, day.isoformat(), checkpoint, "r", NOW).stored
    assert store.expire_events(ids.ulid_floor(cutoff_moment), NOW) == 1
    assert _periods(store) == [(NOW.date() - timedelta(days=5)).isoformat()]
    # A roll-up of the cutoff day computed before the expiry is stale now: it holds "early".
    assert store.put_rollup(ACCOUNT, cutoff_day.isoformat(), checkpoint, "r", NOW).reason == "deleted-since"
    assert store.put_rollup(ACCOUNT, cutoff_day.isoformat(), store.max_sequence(), "r2", NOW).stored


def test_expiry_keeps_the_cutoff_days_rollup_when_none_of_its_events_expire(store):
    secret = add_visitor(store, "v")
    cutoff_moment = NOW - timedelta(days=30)
    store.insert_event(ACCOUNT, secret, "late", cutoff_moment + timedelta(minutes=1))
    store.put_rollup(ACCOUNT, cutoff_moment.date().isoformat(), store.max_sequence(), "r", NOW)
    assert store.expire_events(ids.ulid_floor(cutoff_moment), NOW) == 0
    assert _periods(store) == [cutoff_moment.date().isoformat()]


def test_stale_rollups_are_refused(store):
    secret = add_visitor(store, "v")
    first = _events_on_days(store, secret, [1])[0]
    second = store.insert_event(ACCOUNT, secret, "x", NOW - timedelta(days=1, minutes=1))
    assert store.put_rollup(ACCOUNT, _day(1), second.sequence, "new", NOW).stored
    assert store.put_rollup(ACCOUNT, _day(1), first.sequence, "old", NOW).reason == "stale"
    assert store.put_rollup(ACCOUNT, _day(1), second.sequence, "same", NOW).stored  # equal: replaced
    assert [r.payload for r in store.iter_rollups(ACCOUNT, None, 10)] == ["same"]


def test_retire_helpers_and_setup_force_clear_the_cache(store):
    secret = add_visitor(store, "v")
    _events_on_days(store, secret, [1])
    store.insert_wrapped_secrets(ACCOUNT, {secret: "w"}, NOW)
    store.put_rollup(ACCOUNT, _day(1), store.max_sequence(), "r", NOW)
    store.drop_all_data()
    assert store.find_wrapped_secrets(ACCOUNT, None, 10) == [] and _periods(store) == []


@pytest.mark.parametrize("days_ago", [0, 1, 40])
def test_day_of_ulid(days_ago):
    moment = NOW - timedelta(days=days_ago, seconds=1)
    assert day_of_ulid(ids.new_ulid(moment)) == moment.date().isoformat()
    assert day_of_ulid("not a ulid") is None
