"""Tables, the schema on disk, and the ordered, named migrations that build it.

Offen's tables keep the names, columns and (on SQLite) the exact CREATE
statements an Offen 1.4 database has (reference §4.1), so a database can be
moved between Offen and this appliance. Our additions are separate: indexes
Offen lacks, `account_users.email_lookup`, and tables prefixed `offen_`
(settings, meta, the sequence counter, and the operators' shared cache).

Migrations are Python functions recorded by name in `offen_schema_migrations`.
gormigrate's `migrations` table is only ever read: it tells us we are opening
an Offen database and whether Offen brought it to 1.4 first.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    Column,
    Connection,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    select,
    text,
)
from sqlalchemy.schema import CreateIndex, CreateTable

from appliance.errors import MigrationError

metadata = MetaData()

# The column lists follow Offen's models; on SQLite the tables are created from
# OFFEN_SQLITE_DDL below, these objects only build statements (and the DDL for
# other dialects). Column order matches the records' field order.
accounts = Table(
    "accounts",
    metadata,
    Column("account_id", String(36), primary_key=True),
    Column("name", Text),
    Column("public_key", Text),
    Column("encrypted_private_key", Text),
    Column("user_salt", Text),
    # Stored as Offen does (0/1 on SQLite); read leniently by db.as_bool.
    Column("retired", Integer),
    Column("account_styles", Text),
    # Text on SQLite (Offen's format, see db.format_timestamp); read leniently.
    Column("created", Text),
)
account_users = Table(
    "account_users",
    metadata,
    Column("account_user_id", String(36), primary_key=True),
    Column("hashed_email", Text),
    Column("hashed_password", Text),
    Column("salt", Text),
    Column("admin_level", Integer),
    Column("email_lookup", String(128), nullable=True),  # ours, added by a migration
)
relationships = Table(
    "account_user_relationships",
    metadata,
    Column("relationship_id", String(36), primary_key=True),
    Column("account_user_id", String(36)),
    Column("account_id", String(36)),
    Column("password_encrypted_key_encryption_key", Text),
    Column("email_encrypted_key_encryption_key", Text),
    Column("one_time_encrypted_key_encryption_key", Text),
)
events = Table(
    "events",
    metadata,
    Column("event_id", String(26), primary_key=True),
    Column("sequence", String(26)),
    Column("account_id", String(36)),
    Column("secret_id", String(64), nullable=True),
    Column("payload", Text),
)
secrets = Table(
    "secrets",
    metadata,
    Column("secret_id", String(64), primary_key=True),
    Column("encrypted_secret", Text),
)
tombstones = Table(
    "tombstones",
    metadata,
    Column("event_id", String(26), primary_key=True),
    Column("account_id", String(36)),
    Column("secret_id", String(64), nullable=True),
    Column("sequence", String(26)),
)
settings = Table(
    "offen_settings",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("value", Text),
    Column("updated", Text),
)
meta = Table(
    "offen_meta",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("value", Text),
)
sequence_counter = Table(
    "offen_sequence",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", String(26), nullable=True),
)
# The shared cache of issue 4 (reference §6, docs/protocol.md): what operators'
# browsers store back so that work done in one browser is not redone in the
# next. Both hold only ciphertext made in a browser under keys derived from
# the account's KEK; the server can neither read nor forge them undetected.
wrapped_secrets = Table(
    "offen_wrapped_secrets",
    metadata,
    Column("account_id", String(36), primary_key=True),
    Column("secret_id", String(64), primary_key=True),
    Column("wrapped_secret", Text),
    Column("created", Text),
)
rollups = Table(
    "offen_rollups",
    metadata,
    Column("account_id", String(36), primary_key=True),
    Column("period", String(10), primary_key=True),  # a UTC day, YYYY-MM-DD
    Column("checkpoint", String(26)),  # the sequence the roll-up is complete up to
    Column("payload", Text),
    Column("updated", Text),
)
schema_migrations = Table(
    "offen_schema_migrations",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("applied", Text),
)

OFFEN_TABLES = (events, tombstones, secrets, accounts, account_users, relationships)
SHARED_CACHE_TABLES = (wrapped_secrets, rollups)
# Tables whose rows make a database "not empty" for setup (tombstones do not count).
DATA_TABLES = (accounts, account_users, relationships, events, secrets)
# The counter row that every event insert and tombstone batch advances.
EVENTS_COUNTER = "events"

# Exactly what an Offen 1.4 SQLite database holds (reference §4.1), so that a
# fresh appliance database looks like one Offen would have made.
OFFEN_SQLITE_DDL = {
    "events": "CREATE TABLE `events` (`event_id` text(26) UNIQUE, `sequence` text(26), "
    "`account_id` text(36), `secret_id` text(64), `payload` text, PRIMARY KEY (`event_id`))",
    "tombstones": "CREATE TABLE `tombstones` (`event_id` text, `account_id` text(36), "
    "`secret_id` text(64), `sequence` text(26), PRIMARY KEY (`event_id`))",
    "secrets": "CREATE TABLE `secrets` (`secret_id` text(64) UNIQUE, `encrypted_secret` text, "
    "PRIMARY KEY (`secret_id`))",
    "accounts": "CREATE TABLE `accounts` (`account_id` text(36) UNIQUE, `name` text, `public_key` text, "
    "`encrypted_private_key` text, `user_salt` text, `retired` numeric, `account_styles` text, "
    "`created` datetime, PRIMARY KEY (`account_id`))",
    "account_users": "CREATE TABLE `account_users` (`account_user_id` text(36) UNIQUE, `hashed_email` text, "
    "`hashed_password` text, `salt` text, `admin_level` integer, PRIMARY KEY (`account_user_id`))",
    "account_user_relationships": "CREATE TABLE `account_user_relationships` (`relationship_id` text(36) "
    "UNIQUE, `account_user_id` text(36), `account_id` text(36), `password_encrypted_key_encryption_key` "
    "text, `email_encrypted_key_encryption_key` text, `one_time_encrypted_key_encryption_key` text, "
    "PRIMARY KEY (`relationship_id`))",
}

# gormigrate ids an Offen 1.4 database has applied (reference §4.1).
OFFEN14_MIGRATIONS = (
    "001_introduce_admin_level",
    "002_mysql_set_column_sizes",
    "003_version_salts",
    "004_add_tombstones_event_revs",
    "005_update_secrets_table",
    "006_gorm_upgrade",
    "007_account_customStyles",
)

# Offen queries by these columns but declares no index on them, so every sync
# scanned the table. (events.event_id needs none: its primary key index already
# serves expiry's `event_id < deadline` range, and a second one would slow the
# insert hot path.)
OUR_INDEXES = (
    Index("idx_events_account_sequence", events.c.account_id, events.c.sequence),
    Index("idx_events_secret_sequence", events.c.secret_id, events.c.sequence),
    Index("idx_tombstones_account_sequence", tombstones.c.account_id, tombstones.c.sequence),
    Index("idx_tombstones_secret_sequence", tombstones.c.secret_id, tombstones.c.sequence),
    Index("idx_relationships_account_user", relationships.c.account_user_id),
    Index("idx_relationships_account", relationships.c.account_id),
)
EMAIL_LOOKUP_INDEX = Index("idx_account_users_email_lookup", account_users.c.email_lookup)

# -- inspection ------------------------------------------------------------------------


def table_names(conn: Connection) -> set[str]:
    """The tables in the database (cheap on SQLite; no SQLAlchemy reflection cache)."""
    if conn.dialect.name == "sqlite":
        rows = conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {row[0] for row in rows}
    from sqlalchemy import inspect

    return set(inspect(conn).get_table_names())


def column_names(conn: Connection, table: str) -> set[str]:
    if conn.dialect.name == "sqlite":
        rows = conn.exec_driver_sql(f"PRAGMA table_info(`{table}`)")  # table is one of our constants
        return {row[1] for row in rows}
    from sqlalchemy import inspect

    return {column["name"] for column in inspect(conn).get_columns(table)}


def offen_migration_ids(conn: Connection) -> list[str] | None:
    """gormigrate's applied ids, or None when there is no `migrations` table."""
    if "migrations" not in table_names(conn):
        return None
    return [row[0] for row in conn.exec_driver_sql("SELECT id FROM migrations")]


def check_offen_version(conn: Connection) -> None:
    """Refuse an Offen database that Offen itself has not brought to 1.4."""
    applied = offen_migration_ids(conn)
    if applied is None:
        return
    missing = [name for name in OFFEN14_MIGRATIONS if name not in applied]
    if missing:
        raise MigrationError(
            "This Offen database is older than Offen 1.4 (missing gormigrate migrations: "
            + ", ".join(missing)
            + "). Upgrade it with Offen 1.4 first (run `offen migrate` of Offen 1.4), then open it here."
        )


def applied_migrations(conn: Connection) -> set[str]:
    if schema_migrations.name not in table_names(conn):
        return set()
    return {row[0] for row in conn.execute(select(schema_migrations.c.name))}


def has_rows(conn: Connection) -> bool:
    """Whether any table holds a row: the line between "brand-new" and "worth a backup"."""
    for name in sorted(table_names(conn)):
        if name.startswith("sqlite_"):
            continue
        if conn.exec_driver_sql(f"SELECT 1 FROM `{name}` LIMIT 1").first() is not None:
            return True
    return False


# -- migrations ------------------------------------------------------------------------


def _create_offen_table(conn: Connection, table: Table) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(OFFEN_SQLITE_DDL[table.name])
    elif table is account_users:
        # Offen's own columns only; email_lookup arrives with its migration.
        conn.execute(CreateTable(_without(account_users, "email_lookup")))
    else:
        conn.execute(CreateTable(table))


def _without(table: Table, column: str) -> Table:
    copy = Table(table.name, MetaData())
    for col in table.columns:
        if col.name != column:
            copy.append_column(col._copy())
    return copy


def _offen_tables(conn: Connection, now: datetime) -> None:
    # An Offen database already has them (checked against gormigrate first);
    # create whatever is missing so a fresh database gets exactly Offen's set.
    existing = table_names(conn)
    for table in OFFEN_TABLES:
        if table.name not in existing:
            _create_offen_table(conn, table)


def _offen_indexes(conn: Connection, now: datetime) -> None:
    for index in OUR_INDEXES:
        conn.execute(CreateIndex(index, if_not_exists=True))


def _email_lookup(conn: Connection, now: datetime) -> None:
    if "email_lookup" not in column_names(conn, account_users.name):
        conn.execute(text("ALTER TABLE account_users ADD COLUMN email_lookup VARCHAR(128)"))
    conn.execute(CreateIndex(EMAIL_LOOKUP_INDEX, if_not_exists=True))


def _appliance_tables(conn: Connection, now: datetime) -> None:
    existing = table_names(conn)
    for table in (settings, meta, sequence_counter):
        if table.name not in existing:
            conn.execute(CreateTable(table))


def _shared_cache(conn: Connection, now: datetime) -> None:
    # Their primary keys (account_id first) serve every query on them: the
    # keyset pages and the per-account deletes.
    existing = table_names(conn)
    for table in SHARED_CACHE_TABLES:
        if table.name not in existing:
            conn.execute(CreateTable(table))


def _sequence_counter(conn: Connection, now: datetime) -> None:
    # An Offen database already handed out sequences; clients hold checkpoints
    # from them, so ours must continue above the highest one.
    highest = None
    for table in (events, tombstones):
        value = conn.execute(select(func.max(table.c.sequence))).scalar()
        if value and (highest is None or value > highest):
            highest = value
    row = conn.execute(
        select(sequence_counter.c.value).where(sequence_counter.c.name == EVENTS_COUNTER)
    ).first()
    if row is None:
        conn.execute(sequence_counter.insert(), {"name": EVENTS_COUNTER, "value": highest})
    elif highest is not None and (row[0] is None or row[0] < highest):
        conn.execute(
            sequence_counter.update().where(sequence_counter.c.name == EVENTS_COUNTER),
            {"value": highest},
        )


@dataclass(frozen=True)
class Migration:
    name: str
    apply: Callable[[Connection, datetime], None]


MIGRATIONS: tuple[Migration, ...] = (
    Migration("0001_offen_tables", _offen_tables),
    Migration("0002_offen_indexes", _offen_indexes),
    Migration("0003_account_users_email_lookup", _email_lookup),
    Migration("0004_appliance_tables", _appliance_tables),
    Migration("0005_sequence_counter", _sequence_counter),
    Migration("0006_shared_cache", _shared_cache),
)


def pending(conn: Connection) -> list[str]:
    check_offen_version(conn)
    done = applied_migrations(conn)
    return [migration.name for migration in MIGRATIONS if migration.name not in done]


def apply_pending(conn: Connection, now: datetime) -> list[str]:
    """Run every pending migration on `conn` (inside the caller's transaction)."""
    names = pending(conn)
    if not names:
        return []
    if schema_migrations.name not in table_names(conn):
        conn.execute(CreateTable(schema_migrations))
    stamp = now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00:00")
    for migration in MIGRATIONS:
        if migration.name not in names:
            continue
        try:
            migration.apply(conn, now)
        except MigrationError:
            raise
        except Exception as exc:
            raise _Failed(migration.name, exc) from exc
        conn.execute(schema_migrations.insert(), {"name": migration.name, "applied": stamp})
    return names


class _Failed(Exception):
    def __init__(self, name: str, cause: Exception) -> None:
        super().__init__(name)
        self.name = name
        self.cause = cause


# -- backup ----------------------------------------------------------------------------


def backup_path_for(db_path: str, now: datetime) -> str:
    """`<db file>.backup-<UTC timestamp>` next to the database, never overwriting one."""
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    candidate = f"{db_path}.backup-{stamp}"
    counter = 1
    while os.path.exists(candidate):
        counter += 1
        candidate = f"{db_path}.backup-{stamp}-{counter}"
    return candidate


def backup_sqlite(
    db_path: str,
    target: str,
    progress: Callable[[int, int], None] | None = None,
    pages: int = 1024,
) -> None:
    """Copy a live SQLite database with the online backup API.

    The copy reads through a connection, so committed pages still in the WAL
    file are included; writing the copy in steps of `pages` reports progress.
    """
    source = sqlite3.connect(db_path)
    try:
        destination = sqlite3.connect(target)
        try:

            def report(_status: int, remaining: int, total: int) -> None:
                if progress is not None:
                    progress(total - remaining, total)

            source.backup(destination, pages=pages, progress=report)
        finally:
            destination.close()
    finally:
        source.close()
    # The copy may hold personal data (ciphertexts, hashed emails): owner-only.
    os.chmod(target, 0o600)
