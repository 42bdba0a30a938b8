"""Build an SQLite database the way Offen 1.4 leaves one on disk (reference §4.1).

Written with raw `sqlite3`, never through `appliance.store`, so tests can check
that the store opens, migrates and reads a database it did not write. The
builder stores row dicts as given; callers compute the values (hashed emails,
wrapped keys, ...) with `appliance.keys` or use opaque strings.

    from tests.offen14 import build_offen14_database

    build_offen14_database(
        tmp_path / "offen.db",
        accounts=[{"account_id": ..., "name": "Site", "public_key": ..., "encrypted_private_key": ...,
                   "user_salt": ..., "retired": False, "created": datetime(...)}],
        users=[{"account_user_id": ..., "hashed_email": ..., "hashed_password": ..., "salt": ...,
                "admin_level": 1}],
        relationships=[{"relationship_id": ..., "account_user_id": ..., "account_id": ...,
                        "password_encrypted_key_encryption_key": ...}],
        secrets=[{"secret_id": ..., "encrypted_secret": ...}],
        events=[{"event_id": ..., "sequence": ..., "account_id": ..., "secret_id": ..., "payload": ...}],
    )

Offen's conventions are applied to what callers leave out: `created` becomes
text with nine fractional digits (`2024-05-01 10:00:00.123456789+00:00`),
`retired` 0/1, absent key wraps and styles empty strings (not NULL), and a
missing event `secret_id` NULL. Unless `anonymous_event=False`, one legacy
anonymous event (secret_id NULL) is added for the first account.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from os import PathLike
from pathlib import Path
from typing import Any

OFFEN14_SCHEMA = (
    "CREATE TABLE `migrations` (`id` text, PRIMARY KEY (`id`))",
    "CREATE TABLE `events` (`event_id` text(26) UNIQUE, `sequence` text(26), `account_id` text(36), "
    "`secret_id` text(64), `payload` text, PRIMARY KEY (`event_id`))",
    "CREATE TABLE `tombstones` (`event_id` text, `account_id` text(36), `secret_id` text(64), "
    "`sequence` text(26), PRIMARY KEY (`event_id`))",
    "CREATE TABLE `secrets` (`secret_id` text(64) UNIQUE, `encrypted_secret` text, PRIMARY KEY (`secret_id`))",
    "CREATE TABLE `accounts` (`account_id` text(36) UNIQUE, `name` text, `public_key` text, "
    "`encrypted_private_key` text, `user_salt` text, `retired` numeric, `account_styles` text, "
    "`created` datetime, PRIMARY KEY (`account_id`))",
    "CREATE TABLE `account_users` (`account_user_id` text(36) UNIQUE, `hashed_email` text, "
    "`hashed_password` text, `salt` text, `admin_level` integer, PRIMARY KEY (`account_user_id`))",
    "CREATE TABLE `account_user_relationships` (`relationship_id` text(36) UNIQUE, `account_user_id` text(36), "
    "`account_id` text(36), `password_encrypted_key_encryption_key` text, "
    "`email_encrypted_key_encryption_key` text, `one_time_encrypted_key_encryption_key` text, "
    "PRIMARY KEY (`relationship_id`))",
)

OFFEN14_MIGRATION_IDS = (
    "001_introduce_admin_level",
    "002_mysql_set_column_sizes",
    "003_version_salts",
    "004_add_tombstones_event_revs",
    "005_update_secrets_table",
    "006_gorm_upgrade",
    "007_account_customStyles",
)

# The legacy anonymous event the builder adds (an old ULID: 2024-05-01).
ANONYMOUS_EVENT_ID = "01HWS1M0000000000000000000"
ANONYMOUS_EVENT_SEQUENCE = "01HWS1M0000000000000000001"

Row = Mapping[str, Any]


def offen_timestamp(moment: datetime) -> str:
    """Go's text form of a timestamp in an Offen SQLite row: nine fractional digits, `+00:00`."""
    moment = moment.astimezone(UTC)
    # Python has microseconds; Go writes nanoseconds, so pad to nine digits.
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond:06d}000+00:00"


def _account(row: Row) -> tuple:
    created = row.get("created", datetime(2024, 5, 1, 10, 0, tzinfo=UTC))
    return (
        row["account_id"],
        row.get("name", ""),
        row.get("public_key", ""),
        row.get("encrypted_private_key", ""),
        row.get("user_salt", ""),
        1 if row.get("retired", False) else 0,
        row.get("account_styles", ""),
        offen_timestamp(created) if isinstance(created, datetime) else created,
    )


def _user(row: Row) -> tuple:
    return (
        row["account_user_id"],
        row.get("hashed_email", ""),
        row.get("hashed_password", ""),
        row.get("salt", ""),
        int(row.get("admin_level", 0)),
    )


def _relationship(row: Row) -> tuple:
    return (
        row["relationship_id"],
        row["account_user_id"],
        row["account_id"],
        row.get("password_encrypted_key_encryption_key", ""),
        row.get("email_encrypted_key_encryption_key", ""),
        row.get("one_time_encrypted_key_encryption_key", ""),
    )


def build_offen14_database(
    path: str | PathLike[str],
    *,
    accounts: Iterable[Row] = (),
    users: Iterable[Row] = (),
    relationships: Iterable[Row] = (),
    secrets: Iterable[Row] = (),
    events: Iterable[Row] = (),
    tombstones: Iterable[Row] = (),
    migration_ids: Iterable[str] = OFFEN14_MIGRATION_IDS,
    anonymous_event: bool = True,
) -> Path:
    """Write a new Offen 1.4 SQLite database at `path` and return the path.

    Row dicts use Offen's column names (reference §4.1); see the module
    docstring for the defaults. `migration_ids` are gormigrate's rows (pass a
    shorter list to build a pre-1.4 database). The file must not exist yet.
    The database is left in SQLite's default rollback-journal mode, as Offen's
    GORM driver leaves it.
    """
    path = Path(path)
    if path.exists():
        raise FileExistsError(path)
    accounts = list(accounts)
    events = list(events)
    if anonymous_event and accounts:
        events.append(
            {
                "event_id": ANONYMOUS_EVENT_ID,
                "sequence": ANONYMOUS_EVENT_SEQUENCE,
                "account_id": accounts[0]["account_id"],
                "secret_id": None,
                "payload": "{1,} legacy anonymous payload",
            }
        )
    conn = sqlite3.connect(path)
    try:
        with conn:
            for statement in OFFEN14_SCHEMA:
                conn.execute(statement)
            conn.executemany("INSERT INTO migrations (id) VALUES (?)", [(m,) for m in migration_ids])
            conn.executemany(
                "INSERT INTO accounts VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [_account(r) for r in accounts]
            )
            conn.executemany("INSERT INTO account_users VALUES (?, ?, ?, ?, ?)", [_user(r) for r in users])
            conn.executemany(
                "INSERT INTO account_user_relationships VALUES (?, ?, ?, ?, ?, ?)",
                [_relationship(r) for r in relationships],
            )
            conn.executemany(
                "INSERT INTO secrets VALUES (?, ?)",
                [(r["secret_id"], r.get("encrypted_secret", "")) for r in secrets],
            )
            conn.executemany(
                "INSERT INTO events VALUES (?, ?, ?, ?, ?)",
                [
                    (r["event_id"], r["sequence"], r["account_id"], r.get("secret_id"), r.get("payload", ""))
                    for r in events
                ],
            )
            conn.executemany(
                "INSERT INTO tombstones VALUES (?, ?, ?, ?)",
                [(r["event_id"], r["account_id"], r.get("secret_id"), r["sequence"]) for r in tombstones],
            )
    finally:
        conn.close()
    return path
