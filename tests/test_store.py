"""appliance.store: schema, migrations and backups, and every query, on real SQLite files."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import event as sa_event

from appliance import ids
from appliance.errors import MigrationError, StoreError
from appliance.records import Account, AccountUser, Relationship, Secret
from appliance.store import LAST_BACKUP_META, Store, open_store, schema
from appliance.store.db import CHUNK, format_timestamp, parse_timestamp
from tests.offen14 import OFFEN14_MIGRATION_IDS, OFFEN14_SCHEMA, build_offen14_database

NOW = datetime(2024, 6, 1, 12, 0, 0, 250000, tzinfo=UTC)


def _tables(path: Path) -> dict[str, str]:
    conn = sqlite3.connect(path)
    try:
        return {
            name: sql for name, sql in conn.execute("SELECT name, sql FROM sqlite_master WHERE type='table'")
        }
    finally:
        conn.close()


def _indexes(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    finally:
        conn.close()


@pytest.fixture
def store(tmp_path):
    opened = open_store(str(tmp_path / "offen.db"))
    opened.migrate(now=NOW)
    yield opened
    opened.close()


def _account(account_id=None, name="Site", created=NOW, **overrides) -> Account:
    values = dict(
        account_id=account_id or ids.new_uuid(),
        name=name,
        public_key='{"kty":"RSA","n":"abc","e":"AQAB"}',
        encrypted_private_key="{1,} cipher nonce",
        user_salt="{1,} c2FsdA==",
        retired=False,
        account_styles="",
        created=created,
    )
    values.update(overrides)
    return Account(**values)


def _user(user_id=None, lookup=None, admin_level=1) -> AccountUser:
    return AccountUser(
        account_user_id=user_id or ids.new_uuid(),
        hashed_email="{3,} aGFzaA== c2FsdA==",
        hashed_password="{3,} cHc= c2FsdA==",
        salt="{3,} c2FsdHNhbA==",
        admin_level=admin_level,
        email_lookup=lookup,
    )


def _rel(user_id, account_id, password_wrap="{1,} pw", rel_id=None) -> Relationship:
    return Relationship(
        relationship_id=rel_id or ids.new_uuid(),
        account_user_id=user_id,
        account_id=account_id,
        password_encrypted_key_encryption_key=password_wrap,
        email_encrypted_key_encryption_key="{1,} em",
        one_time_encrypted_key_encryption_key="",
    )


# -- opening and the fresh schema ----------------------------------------------------------


def test_open_creates_nothing_until_migrate(tmp_path):
    path = tmp_path / "offen.db"
    opened = open_store(f"sqlite:///{path}")
    assert opened.dialect == "sqlite"
    assert not path.exists()
    opened.close()


def test_fresh_database_has_offen_tables_exactly(tmp_path):
    path = tmp_path / "offen.db"
    opened = open_store(str(path))
    assert opened.pending_migrations() == [m.name for m in schema.MIGRATIONS]
    assert opened.is_empty() and not opened.is_offen_database()
    assert opened.migrate(now=NOW) is None  # a brand-new database gets no backup
    assert not [p for p in tmp_path.iterdir() if ".backup-" in p.name]
    tables = _tables(path)
    for statement in OFFEN14_SCHEMA:
        name = statement.split("`")[1]
        if name == "migrations":
            # gormigrate's table is Offen's bookkeeping: never created or written by us.
            assert name not in tables
        elif name == "account_users":
            # Offen's columns in Offen's order, then our nullable lookup column.
            assert tables[name].startswith(statement.split(", PRIMARY KEY")[0] + ", email_lookup")
        else:
            assert tables[name] == statement
    assert {"offen_settings", "offen_meta", "offen_sequence", "offen_schema_migrations"} <= set(tables)
    assert {
        "idx_events_account_sequence",
        "idx_events_secret_sequence",
        "idx_tombstones_account_sequence",
        "idx_tombstones_secret_sequence",
        "idx_relationships_account_user",
        "idx_relationships_account",
        "idx_account_users_email_lookup",
    } <= _indexes(path)
    assert opened.pending_migrations() == []
    assert opened.migrate(now=NOW) is None
    assert opened.max_sequence() is None
    opened.close()


def test_connection_pragmas(store, tmp_path):
    raw = sqlite3.connect(tmp_path / "offen.db")
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # persistent in the file
    raw.close()
    with store._db.read():
        conn = store._db.conn
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 0


def test_plain_path_and_url_open_the_same_database(tmp_path):
    first = open_store(str(tmp_path / "offen.db"))
    first.migrate(now=NOW)
    first.set_setting("a", "1", NOW)
    first.close()
    second = open_store(f"sqlite:///{tmp_path / 'offen.db'}")
    assert second.get_settings() == {"a": "1"}
    second.close()


def test_ping_and_close(store):
    store.ping()
    store.close()
    with pytest.raises(StoreError):
        store.ping()


def test_insert_event_is_three_prepared_statements(store):
    """The hot path: lock, read and advance the counter, insert; no reflection or schema queries."""
    store.insert_event("warm", "s", "p", NOW)
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement.split()[0].upper() + " " + statement.split()[1].upper())

    sa_event.listen(store._db.engine, "before_cursor_execute", record)
    try:
        store.insert_event("acc", "s", "p", NOW)
    finally:
        sa_event.remove(store._db.engine, "before_cursor_execute", record)
    assert seen == ["BEGIN IMMEDIATE", "SELECT OFFEN_SEQUENCE.VALUE", "UPDATE OFFEN_SEQUENCE", "INSERT INTO"]


# -- settings and meta ---------------------------------------------------------------------


def test_settings_and_meta(store, tmp_path):
    assert store.get_settings() == {}
    store.set_setting("retention", "6months", NOW)
    store.set_setting("smtp_host", "mail.example", NOW)
    store.set_setting("retention", "30days", NOW + timedelta(hours=1))
    assert store.get_settings() == {"retention": "30days", "smtp_host": "mail.example"}
    raw = sqlite3.connect(tmp_path / "offen.db")
    updated = raw.execute("SELECT updated FROM offen_settings WHERE name='retention'").fetchone()[0]
    raw.close()
    assert parse_timestamp(updated) == NOW + timedelta(hours=1)
    assert store.delete_setting("smtp_host") is True
    assert store.delete_setting("smtp_host") is False
    assert store.get_settings() == {"retention": "30days"}
    assert store.get_meta("x") is None
    store.set_meta("x", "1")
    store.set_meta("x", "2")
    assert store.get_meta("x") == "2"


def test_settings_before_migrate_are_empty(tmp_path):
    opened = open_store(str(tmp_path / "offen.db"))
    assert opened.get_settings() == {} and opened.get_meta("x") is None
    opened.close()


# -- accounts, users, relationships --------------------------------------------------------


def test_accounts(store):
    older = _account(name="Older", created=NOW - timedelta(days=1))
    newer = _account(name="Site")
    twin = _account(name="Site", created=NOW + timedelta(days=1))
    for account in (newer, older, twin):
        store.insert_account(account)
    assert store.get_account(newer.account_id) == newer
    assert store.get_account("missing") is None
    assert [a.account_id for a in store.all_accounts()] == [
        older.account_id,
        newer.account_id,
        twin.account_id,
    ]
    assert store.find_account_by_name("Site") == newer
    assert store.find_account_by_name("Nope") is None
    store.update_account(newer.account_id, retired=True, account_styles="body{}")
    changed = store.get_account(newer.account_id)
    assert changed.retired is True and changed.account_styles == "body{}" and changed.name == "Site"
    with pytest.raises(StoreError):
        store.update_account(newer.account_id, colour="red")
    with pytest.raises(StoreError):
        store.insert_account(newer)  # duplicate primary key


def test_account_users_and_lookups(store):
    alice = _user(lookup="lookup-a")
    bob = _user(lookup=None, admin_level=0)
    carol = _user(lookup="lookup-c")
    for user in (alice, bob, carol):
        store.insert_account_user(user)
    assert store.count_account_users() == 3
    assert store.get_account_user(bob.account_user_id) == bob
    assert store.find_account_users_by_lookup("lookup-a") == [alice]
    assert store.find_account_users_without_lookup() == [bob]
    store.update_account_user(bob.account_user_id, email_lookup="lookup-b", hashed_password="{3,} new")
    assert store.get_account_user(bob.account_user_id).hashed_password == "{3,} new"
    assert store.find_account_users_by_lookup("lookup-b")[0].account_user_id == bob.account_user_id
    assert store.clear_email_lookups() == 3
    assert len(store.find_account_users_without_lookup()) == 3
    with pytest.raises(StoreError):
        store.update_account_user(bob.account_user_id, email="plain@example.com")


def test_relationships(store):
    user, other = ids.new_uuid(), ids.new_uuid()
    acc_a, acc_b = ids.new_uuid(), ids.new_uuid()
    joined = _rel(user, acc_a)
    invited = _rel(user, acc_b, password_wrap="")  # a pending invitation
    colleague = _rel(other, acc_a)
    for rel in (joined, invited, colleague):
        store.insert_relationship(rel)
    assert store.find_relationships_for_user(user) == [joined]
    assert {r.relationship_id for r in store.find_relationships_for_user(user, include_invitations=True)} == {
        joined.relationship_id,
        invited.relationship_id,
    }
    assert {r.relationship_id for r in store.find_relationships_for_account(acc_a)} == {
        joined.relationship_id,
        colleague.relationship_id,
    }
    store.update_relationship(invited.relationship_id, password_encrypted_key_encryption_key="{1,} pw2")
    assert len(store.find_relationships_for_user(user)) == 2
    with pytest.raises(StoreError):
        store.update_relationship(invited.relationship_id, email_encrypted_key_encryption_key=None)
    assert store.delete_relationships_for_account(acc_a) == 2
    assert store.find_relationships_for_account(acc_a) == []


# -- secrets and events --------------------------------------------------------------------


def test_secrets_chunked(store):
    wanted = [f"{i:064x}" for i in range(CHUNK * 2 + 7)]
    with store.transaction():
        for secret_id in wanted:
            store.insert_secret(Secret(secret_id, "{1,} wrapped"))
    assert store.secret_exists(wanted[0]) and not store.secret_exists("f" * 64)
    assert store.get_secret(wanted[3]) == Secret(wanted[3], "{1,} wrapped")
    assert store.get_secret("nope") is None
    found = store.find_secrets(wanted + ["f" * 64] + wanted[:5])
    assert [s.secret_id for s in found] == sorted(wanted)


def test_events_since_and_limit(store):
    made = [
        store.insert_event("acc", "s1" if i % 2 else "s2", f"p{i}", NOW + timedelta(seconds=i))
        for i in range(6)
    ]
    store.insert_event("other", "s1", "x", NOW)
    sequences = [e.sequence for e in made]
    assert sequences == sorted(sequences) and len(set(sequences)) == 6
    assert store.find_events_for_account("acc") == made
    assert store.find_events_for_account("acc", since=made[2].sequence) == made[3:]
    assert store.find_events_for_account("acc", since=made[2].sequence, limit=2) == made[3:5]
    assert store.find_events_for_account("acc", since=made[-1].sequence) == []
    assert store.max_sequence() > made[-1].sequence
    only_s1 = store.find_events_for_secrets(["s1"], since=made[0].sequence)
    assert [e.payload for e in only_s1] == ["p1", "p3", "p5", "x"]
    assert all(e.secret_id == "s1" for e in only_s1)


def test_events_for_many_secrets_are_chunked_and_ordered(store):
    secret_ids = [f"{i:064x}" for i in range(CHUNK + 50)]
    inserted = []
    with store.transaction():
        for i, secret_id in enumerate(secret_ids[::-1][:40]):
            inserted.append(store.insert_event("acc", secret_id, str(i), NOW))
    found = store.find_events_for_secrets(secret_ids)
    assert found == inserted  # sequence order, across chunks


def test_delete_events_for_secrets_writes_tombstones(store):
    kept = store.insert_event("acc", "keep", "k", NOW)
    gone = [store.insert_event("acc", f"s{i % 2}", str(i), NOW) for i in range(4)]
    before = store.max_sequence()
    assert store.delete_events_for_secrets(["s0", "s1", "unknown"], NOW) == 4
    assert store.find_events_for_account("acc") == [kept]
    stones = store.find_tombstones_for_account("acc")
    assert {t.event_id for t in stones} == {e.event_id for e in gone}
    assert len({t.sequence for t in stones}) == 1 and stones[0].sequence > before
    assert stones[0].sequence == store.max_sequence()
    assert store.find_tombstones_for_account("acc", since=stones[0].sequence) == []
    assert {t.event_id for t in store.find_tombstones_for_secrets(["s1"], since=before)} == {
        e.event_id for e in gone if e.secret_id == "s1"
    }
    # Nothing to delete: no tombstones, and the counter does not move.
    assert store.delete_events_for_secrets(["s0"], NOW) == 0
    assert store.max_sequence() == stones[0].sequence


def test_expire_events(store):
    old = [store.insert_event("acc", "s", "old", NOW - timedelta(days=200)) for _ in range(3)]
    young = store.insert_event("acc", "s", "young", NOW)
    deadline = ids.ulid_floor(NOW - timedelta(days=186))
    assert store.count_events_older_than(deadline) == 3
    assert store.expire_events(deadline, NOW) == 3
    assert store.count_events_older_than(deadline) == 0
    assert store.find_events_for_account("acc") == [young]
    stones = store.find_tombstones_for_account("acc")
    assert sorted(t.event_id for t in stones) == sorted(e.event_id for e in old)
    assert len({t.sequence for t in stones}) == 1 and stones[0].sequence > young.sequence
    assert store.expire_events(deadline, NOW) == 0


def test_park_secret(store):
    secret_id, parked_id = "a" * 64, "b" * 64
    store.insert_secret(Secret(secret_id, "{1,} old-wrapped"))
    old = [store.insert_event("acc", secret_id, f"p{i}", NOW - timedelta(minutes=i)) for i in range(3)]
    other = store.insert_event("acc", "c" * 64, "other", NOW)
    before = store.max_sequence()
    later = NOW + timedelta(hours=1)
    with store.transaction():
        assert store.park_secret(secret_id, parked_id, later) == 3
        store.insert_secret(Secret(secret_id, "{1,} new-wrapped"))  # what the domain does next
    assert store.get_secret(parked_id) == Secret(parked_id, "{1,} old-wrapped")
    assert store.get_secret(secret_id) == Secret(secret_id, "{1,} new-wrapped")
    assert store.find_events_for_secrets([secret_id]) == []
    copies = store.find_events_for_secrets([parked_id])
    assert len(copies) == 3
    by_payload = {e.payload: e for e in copies}
    for original in old:
        copy = by_payload[original.payload]
        assert copy.event_id != original.event_id
        assert ids.ulid_time(copy.event_id) == ids.ulid_time(original.event_id)
        assert copy.account_id == "acc" and copy.sequence > before
    assert len({e.sequence for e in copies}) == 3
    stones = store.find_tombstones_for_secrets([secret_id])
    assert {t.event_id for t in stones} == {e.event_id for e in old}
    assert len({t.sequence for t in stones}) == 1
    assert stones[0].sequence > max(e.sequence for e in copies)
    assert stones[0].sequence == store.max_sequence()
    assert other in store.find_events_for_account("acc")


def test_transaction_rolls_back_everything(store):
    account = _account()
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.insert_account(account)
            event = store.insert_event(account.account_id, "s", "p", NOW)
            assert store.get_account(account.account_id) == account  # reads join the transaction
            assert store.find_events_for_account(account.account_id) == [event]
            raise RuntimeError("domain failure")
    assert store.get_account(account.account_id) is None
    assert store.find_events_for_account(account.account_id) == []
    assert store.max_sequence() is None  # the counter rolled back too
    with store.transaction():
        with store.transaction():  # nested blocks join the outer one
            store.insert_account(account)
    assert store.get_account(account.account_id) == account


def test_drop_all_data_keeps_settings_and_counter(store):
    store.set_setting("retention", "7days", NOW)
    store.insert_account(_account())
    store.insert_account_user(_user())
    store.insert_secret(Secret("a" * 64, "x"))
    store.insert_event("acc", "a" * 64, "p", NOW)
    store.delete_events_for_secrets(["a" * 64], NOW)
    store.insert_event("acc", "a" * 64, "p", NOW)
    highest = store.max_sequence()
    assert not store.is_empty()
    store.drop_all_data()
    assert store.is_empty()
    assert store.find_tombstones_for_account("acc") == []
    assert store.get_settings() == {"retention": "7days"}
    assert store.max_sequence() == highest
    assert store.insert_event("acc", None, "p", NOW).sequence > highest


# -- timestamps ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2024-05-01 10:00:00.123456789+00:00", datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)),
        ("2024-05-01T10:00:00.5Z", datetime(2024, 5, 1, 10, 0, 0, 500000, tzinfo=UTC)),
        ("2024-05-01 12:00:00+02:00", datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)),
        ("2024-05-01 05:30:00.1-0430", datetime(2024, 5, 1, 10, 0, 0, 100000, tzinfo=UTC)),
        ("2024-05-01 10:00:00", datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)),
        ("2024-05-01 10:00:00.123456789 +0000 UTC", datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)),
    ],
)
def test_parse_timestamp_variants(text, expected):
    assert parse_timestamp(text) == expected


def test_format_timestamp():
    moment = datetime(2024, 5, 1, 12, 0, 0, 7, tzinfo=timezone(timedelta(hours=2)))
    assert format_timestamp(moment) == "2024-05-01 10:00:00.000007+00:00"
    assert parse_timestamp(format_timestamp(moment)) == moment
    with pytest.raises(ValueError):
        format_timestamp(datetime(2024, 5, 1))
    with pytest.raises(StoreError):
        parse_timestamp("yesterday")


# -- Offen 1.4 databases -------------------------------------------------------------------

ACC = "9b63c4d8-65c0-438c-9d30-cc4b01173393"
USER = "7a7e9a4c-3c3e-4c8e-9a8e-0f4b1ad7f7a1"


def _offen_db(path: Path, **overrides) -> Path:
    base = ids.ulid_floor(datetime(2024, 5, 2, tzinfo=UTC))
    rows = dict(
        accounts=[
            {
                "account_id": ACC,
                "name": "Old site",
                "public_key": '{"kty":"RSA"}',
                "encrypted_private_key": "{1,} x y",
                "user_salt": "{1,} salt",
                "retired": True,
                "account_styles": None,  # NULL: the account predates Offen's migration 007
                "created": "2024-05-01 10:00:00.123456789+00:00",
            }
        ],
        users=[
            {
                "account_user_id": USER,
                "hashed_email": "{3,} he",
                "hashed_password": "{3,} hp",
                "salt": "{3,} s",
            }
        ],
        relationships=[
            {"relationship_id": ids.new_uuid(), "account_user_id": USER, "account_id": ACC},  # invitation
        ],
        secrets=[{"secret_id": "d" * 64, "encrypted_secret": "{1,} rsa"}],
        events=[
            {
                "event_id": base[:-1] + "1",
                "sequence": base[:-1] + "5",
                "account_id": ACC,
                "secret_id": "d" * 64,
                "payload": "{1,} p",
            }
        ],
        tombstones=[
            {
                "event_id": base[:-1] + "2",
                "account_id": ACC,
                "secret_id": "d" * 64,
                "sequence": base[:-1] + "9",
            }
        ],
    )
    rows.update(overrides)
    return build_offen14_database(path, **rows)


def test_offen14_database_is_migrated_with_a_backup(tmp_path):
    path = _offen_db(tmp_path / "offen.db")
    before = _tables(path)
    opened = open_store(str(path))
    assert opened.is_offen_database() and not opened.is_empty()
    assert opened.pending_migrations() == [m.name for m in schema.MIGRATIONS]
    reports: list[tuple[int, int]] = []
    migrate_at = datetime(2024, 6, 1, 8, 30, 5, tzinfo=UTC)
    backup = opened.migrate(progress=lambda done, total: reports.append((done, total)), now=migrate_at)
    assert backup == f"{path}.backup-20240601T083005Z"
    assert opened.last_backup == backup and opened.get_meta(LAST_BACKUP_META) == backup
    assert reports and reports[-1][0] == reports[-1][1] > 0
    # The backup is the Offen database as it was: same tables, same rows, none of ours.
    assert _tables(Path(backup)) == before
    copy = sqlite3.connect(backup)
    assert copy.execute("SELECT count(*) FROM events").fetchone()[0] == 2
    copy.close()
    # gormigrate's table is read, never written.
    raw = sqlite3.connect(path)
    assert sorted(r[0] for r in raw.execute("SELECT id FROM migrations")) == list(OFFEN14_MIGRATION_IDS)
    raw.close()
    # Offen's rows read leniently.
    account = opened.get_account(ACC)
    assert account.retired is True and account.account_styles == ""
    assert account.created == datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)
    assert opened.find_account_users_without_lookup()[0].account_user_id == USER
    assert opened.find_relationships_for_user(USER) == []
    assert len(opened.find_relationships_for_user(USER, include_invitations=True)) == 1
    anonymous = [e for e in opened.find_events_for_account(ACC) if e.secret_id is None]
    assert len(anonymous) == 1
    # The counter continues above the highest sequence Offen handed out (a tombstone here).
    offen_highest = ids.ulid_floor(datetime(2024, 5, 2, tzinfo=UTC))[:-1] + "9"
    assert opened.max_sequence() == offen_highest
    assert opened.insert_event(ACC, "d" * 64, "new", NOW).sequence > offen_highest
    assert opened.migrate() is None  # nothing pending, no second backup
    opened.close()


def test_pre_14_offen_database_is_refused(tmp_path):
    path = _offen_db(tmp_path / "offen.db", migration_ids=OFFEN14_MIGRATION_IDS[:5])
    before = _tables(path)
    opened = open_store(str(path))
    with pytest.raises(MigrationError, match="Offen 1.4"):
        opened.pending_migrations()
    with pytest.raises(MigrationError, match="006_gorm_upgrade"):
        opened.migrate()
    opened.close()
    assert _tables(path) == before
    assert not [p for p in tmp_path.iterdir() if ".backup-" in p.name]


def test_failed_migration_rolls_back_and_names_the_backup(tmp_path, monkeypatch):
    path = _offen_db(tmp_path / "offen.db")
    before = _tables(path)

    def boom(conn, now):
        conn.exec_driver_sql("CREATE TABLE half_done (x text)")
        raise ValueError("broken migration")

    monkeypatch.setattr(schema, "MIGRATIONS", (*schema.MIGRATIONS, schema.Migration("0099_boom", boom)))
    opened = open_store(str(path))
    with pytest.raises(MigrationError) as caught:
        opened.migrate(now=NOW)
    backup = f"{path}.backup-20240601T120000Z"
    assert "0099_boom" in str(caught.value) and backup in str(caught.value)
    assert Path(backup).exists()
    opened.close()
    # Every migration ran in the one transaction, so nothing of them is left.
    assert _tables(path) == before


def test_backup_includes_wal_contents(tmp_path, monkeypatch):
    path = tmp_path / "offen.db"
    opened = open_store(str(path))
    opened.migrate(now=NOW)
    # Keep a reader open so SQLite cannot checkpoint the WAL into the main file.
    holder = sqlite3.connect(path)
    holder.execute("BEGIN")
    holder.execute("SELECT count(*) FROM events").fetchone()
    for i in range(20):
        opened.insert_event("acc", "s", f"p{i}", NOW)
    assert Path(f"{path}-wal").stat().st_size > 0
    monkeypatch.setattr(
        schema,
        "MIGRATIONS",
        (*schema.MIGRATIONS, schema.Migration("0099_noop", lambda conn, now: None)),
    )
    assert opened.pending_migrations() == ["0099_noop"]
    backup = opened.migrate(now=NOW + timedelta(seconds=1))
    holder.rollback()
    holder.close()
    assert backup is not None
    copy = sqlite3.connect(backup)
    assert copy.execute("SELECT count(*) FROM events").fetchone()[0] == 20
    copy.close()
    assert Path(backup).stat().st_mode & 0o777 == 0o600
    # Two migrations in the same second never overwrite a backup.
    monkeypatch.setattr(
        schema,
        "MIGRATIONS",
        (*schema.MIGRATIONS, schema.Migration("0100_noop", lambda conn, now: None)),
    )
    second = opened.migrate(now=NOW + timedelta(seconds=1))
    assert second != backup and Path(second).exists()
    opened.close()


def test_in_memory_store_for_single_threaded_use():
    memory = open_store("sqlite://")
    assert isinstance(memory, Store) and memory.path is None
    assert memory.migrate(now=NOW) is None  # nothing to back up
    assert memory.insert_event("acc", None, "p", NOW) == memory.find_events_for_account("acc")[0]
    memory.close()


def test_insert_event_for_secret_needs_the_secret_and_keeps_sequences_rising(store):
    assert store.insert_event_for_secret("acc", "no-such-secret", "{1,} eA== eA==", NOW) is None
    assert store.find_events_for_account("acc") == []
    store.insert_secret(Secret(secret_id="s" * 64, encrypted_secret="{1,} eA=="))
    first = store.insert_event_for_secret("acc", "s" * 64, "{1,} eA== eA==", NOW)
    # Another writer advances the counter between two hot-path inserts.
    middle = store.insert_event("acc", "s" * 64, "{1,} eA== eA==", NOW)
    last = store.insert_event_for_secret("acc", "s" * 64, "{1,} eA== eA==", NOW)
    assert first is not None and last is not None
    assert first.sequence < middle.sequence < last.sequence == store.max_sequence()
    assert [e.event_id for e in store.find_events_for_account("acc")] == [
        first.event_id,
        middle.event_id,
        last.event_id,
    ]
