"""The store: the only place that talks to the database (and imports `dataset`).

`open_store(url)` returns a `Store` over an Offen-compatible schema (reference
§4). Opening creates nothing; `Store.migrate()` builds or upgrades the schema,
taking a backup of an existing SQLite database first. Every method runs in a
transaction of its own, or joins the one the calling thread opened with
`with store.transaction():`.

The resource methods live in `accounts.py`, `events.py`, `sharedcache.py`
(the operators' wrapped secrets and roll-ups) and `settings.py`;
connection and transaction handling in `db.py`; schema and migrations in
`schema.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import literal, select

from appliance.errors import MigrationError, StoreError
from appliance.store import schema
from appliance.store.accounts import AccountsMixin
from appliance.store.db import Database
from appliance.store.events import EventsMixin
from appliance.store.ingest import GroupCommit
from appliance.store.settings import SettingsMixin, upsert
from appliance.store.sharedcache import SharedCacheMixin

__all__ = ["Store", "open_store"]

# offen_meta key under which migrate() records the backup it took.
LAST_BACKUP_META = "last_migration_backup"


def open_store(url: str) -> Store:
    """Open a database by SQLAlchemy URL (`sqlite:////abs/path/offen.db`) or plain file path.

    Nothing is created until `migrate()`; SQLite creates an empty file only
    when the first statement runs.
    """
    return Store(Database(url))


class Store(AccountsMixin, EventsMixin, SharedCacheMixin, SettingsMixin):
    """An open database. Thread-safe: each thread uses its own connection."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self.dialect: str = database.dialect
        self._group_commit = GroupCommit(database)
        # The backup the last `migrate()` of this process took, for the CLI to print.
        self.last_backup: str | None = None

    @property
    def path(self) -> str | None:
        """The SQLite file, or None (other dialects, in-memory)."""
        return self._db.path

    def close(self) -> None:
        self._db.close()

    def ping(self) -> None:
        """Raise StoreError when the database does not answer."""
        try:
            with self._db.read():
                self._db.conn.execute(select(literal(1))).scalar_one()
        except StoreError:
            raise
        except Exception as exc:  # a closed store, a driver error outside SQLAlchemy
            raise StoreError(f"the database does not answer ({type(exc).__name__})") from exc

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A write transaction; store calls from this thread inside the block join it.

        It commits when the block ends and rolls back when it raises. On SQLite
        it holds the database's write lock from start to end, so keep it short.
        """
        with self._db.write():
            yield

    # -- schema ------------------------------------------------------------------------

    def pending_migrations(self) -> list[str]:
        """Names of migrations not yet applied (MigrationError for a pre-1.4 Offen database)."""
        with self._db.read():
            return schema.pending(self._db.conn)

    def migrate(
        self, progress: Callable[[int, int], None] | None = None, now: datetime | None = None
    ) -> str | None:
        """Apply pending migrations; returns the path of the backup taken first, if any.

        An existing SQLite database that holds data is copied to
        `<file>.backup-<UTC timestamp>` before anything changes (progress is
        reported as `progress(done_pages, total_pages)`). All pending migrations
        run in one transaction: if one fails, nothing is changed and the
        MigrationError names the backup.
        """
        now = now or datetime.now(UTC)
        backup: str | None = None
        try:
            with self._db.write():
                conn = self._db.conn
                if not schema.pending(conn):
                    return None
                if self._db.path is not None and schema.has_rows(conn):
                    # Taken while this transaction holds the write lock, so the
                    # copy is exactly the state the migrations start from.
                    backup = schema.backup_path_for(self._db.path, now)
                    schema.backup_sqlite(self._db.path, backup, progress)
                schema.apply_pending(conn, now)
                if backup is not None:
                    upsert(conn, schema.meta, LAST_BACKUP_META, {"value": backup})
        except MigrationError:
            raise
        except schema._Failed as exc:
            raise MigrationError(
                f"Migration {exc.name} failed ({type(exc.cause).__name__}); the database was left unchanged."
                + (f" A backup taken before it is at {backup}." if backup else "")
            ) from exc.cause
        except (StoreError, OSError) as exc:
            raise MigrationError(
                f"Migrating the database failed ({exc}); the database was left unchanged."
                + (f" A backup taken before it is at {backup}." if backup else "")
            ) from exc
        self.last_backup = backup
        return backup

    def is_offen_database(self) -> bool:
        """True when gormigrate's `migrations` table is present (Offen made this database)."""
        with self._db.read():
            return schema.offen_migration_ids(self._db.conn) is not None

    def is_empty(self) -> bool:
        """No accounts, account users, relationships, events or secrets (tombstones do not count)."""
        with self._db.read():
            conn = self._db.conn
            existing = schema.table_names(conn)
            for table in schema.DATA_TABLES:
                if (
                    table.name in existing
                    and conn.execute(select(literal(1)).select_from(table).limit(1)).first()
                ):
                    return False
        return True

    def drop_all_data(self) -> None:
        """Empty Offen's data tables, tombstones and the shared cache (`setup -force`);
        settings, meta and the sequence counter stay, so sequences never go
        backwards for a synced client."""
        with self._db.write():
            conn = self._db.conn
            existing = schema.table_names(conn)
            for table in (*schema.OFFEN_TABLES, *schema.SHARED_CACHE_TABLES):
                if table.name in existing:
                    conn.execute(table.delete())
