"""Connection, transactions and small SQL helpers for the store.

This module owns the one `dataset.Database` of a store: how it connects
(pragmas, pool), how transactions begin (SQLite's `BEGIN IMMEDIATE` for
writes), how a thread joins a transaction that is already open, and how
database failures become `StoreError`s. Everything else in `store/` runs
SQLAlchemy Core statements on `Database.conn` inside `read()` or `write()`.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import unquote

import dataset
from sqlalchemy import Connection, event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import StaticPool

from appliance.errors import StoreError

# SQLite's default limit on bound variables was 999 before 3.32; staying well
# below it keeps chunked `IN (...)` lists portable to every build we may meet.
CHUNK = 500

# How long a connection waits for another process's write lock (the CLI
# running `expire` next to a server, say) before failing with "busy".
BUSY_TIMEOUT_MS = 5000
# How long a writer of this process queues behind the others before giving up.
WRITE_LOCK_TIMEOUT = 30.0


def normalise_url(url: str) -> str:
    """Accept a SQLAlchemy URL or a plain file path (relative paths are made absolute)."""
    if "://" in url:
        return url
    if url in ("", ":memory:"):
        return "sqlite://"
    return "sqlite:///" + os.path.abspath(os.path.expanduser(url))


def sqlite_path(url: str) -> str | None:
    """The file behind a `sqlite:///...` URL, or None for other dialects and in-memory databases."""
    match = re.match(r"^sqlite(?:\+\w+)?:///(.*?)(?:\?.*)?$", url)
    if not match or match.group(1) in ("", ":memory:"):
        return None
    return unquote(match.group(1))


class Database:
    """One `dataset.Database` plus the transaction discipline the store relies on.

    dataset keeps one SQLAlchemy connection per thread; a transaction opened in
    a thread (by `write()`, `read()` or the public `Store.transaction()`) is
    joined by every store call made in that thread until it ends. Every
    statement runs inside such a block: dataset would otherwise leave an
    autobegun transaction open on the thread's connection, which on SQLite
    pins an old snapshot (a poller would never see new rows) or, for writes,
    holds the lock forever.
    """

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.path = sqlite_path(self.url)
        engine_kwargs: dict[str, Any] = {
            # Bound values are ciphertexts, hashes and lookups: never put them in
            # exception messages or logs.
            "hide_parameters": True,
        }
        on_connect: list[str] | None = None
        self.dialect = self.url.split(":", 1)[0].split("+", 1)[0]
        if self.dialect == "postgres":
            self.dialect = "postgresql"
        if self.dialect == "sqlite":
            on_connect = [
                f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
                "PRAGMA synchronous=NORMAL",
                # Offen declares no foreign keys; keep SQLite from ever enforcing any.
                "PRAGMA foreign_keys=OFF",
            ]
            if self.path is None:
                # In-memory: one shared connection, for single-threaded tests only.
                engine_kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
            else:
                # Connections are checked out per transaction; let every server thread have one.
                engine_kwargs.update(pool_size=8, max_overflow=56, pool_timeout=30)
        try:
            self.db = dataset.connect(
                self.url,
                ensure_schema=False,  # dataset must never invent a table or column
                engine_kwargs=engine_kwargs,
                sqlite_wal_mode=True,
                on_connect_statements=on_connect,
            )
        except (SQLAlchemyError, ImportError) as exc:
            raise StoreError(f"cannot open the database ({type(exc).__name__})") from exc
        assert self.db.engine is not None
        self.engine = self.db.engine
        self._local = threading.local()
        # On SQLite only one writer can hold the lock. Queueing writers of this
        # process on a Python lock is fairer and much faster than letting them
        # spin in SQLite's busy handler (which sleeps up to 100 ms per retry).
        self._write_lock = threading.Lock() if self.dialect == "sqlite" else None
        # The DBAPI connection of the SQLite hot path (`fast_write`), opened on first use.
        self._fast: Any = None
        self._checkpointer: _Checkpointer | None = None
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect", self._sqlite_connect)
            event.listen(self.engine, "begin", self._sqlite_begin)

    # -- SQLite transaction control -------------------------------------------------

    @staticmethod
    def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
        # Stop the sqlite3 module from issuing its own deferred BEGIN before DML,
        # so that `_sqlite_begin` decides how every transaction starts.
        dbapi_connection.isolation_level = None

    def _sqlite_begin(self, conn: Connection) -> None:
        # A write transaction takes the write lock at BEGIN: a deferred one that
        # read first would have to upgrade its lock later and can fail with
        # SQLITE_BUSY (deadlock) when another writer got there first.
        if getattr(self._local, "writing", False):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")

    # -- transactions -----------------------------------------------------------------

    @property
    def conn(self) -> Connection:
        """The calling thread's connection (only valid inside `read()` / `write()`)."""
        return self.db.executable

    def in_transaction(self) -> bool:
        return self.db.in_transaction

    @contextmanager
    def write(self) -> Iterator[None]:
        """A write transaction, or join the one this thread already has open.

        SQLAlchemy errors become `StoreError` without their bound values; other
        exceptions pass through unchanged (and roll back the transaction).
        """
        if self.db.in_transaction:
            if not getattr(self._local, "writing", False):
                # Reads never call out of the store, so this is a programming error.
                raise StoreError("cannot write inside a read-only transaction")
            with _wrap_errors():
                yield
            return
        if self._write_lock is not None and not self._write_lock.acquire(timeout=WRITE_LOCK_TIMEOUT):
            raise StoreError("the database is busy; try again")
        self._local.writing = True
        try:
            self._begin()
            try:
                with _wrap_errors():
                    yield
            except BaseException:
                self._rollback()
                raise
            with _wrap_errors():
                try:
                    self.db.commit()
                except BaseException:
                    self._rollback()
                    raise
        finally:
            self._local.writing = False
            if self._write_lock is not None:
                self._write_lock.release()

    @contextmanager
    def read(self) -> Iterator[None]:
        """A read transaction (one consistent snapshot), or join the open one."""
        if self.db.in_transaction:
            with _wrap_errors():
                yield
            return
        self._begin()
        try:
            with _wrap_errors():
                yield
        finally:
            # Nothing to keep; ending the snapshot lets WAL checkpoints progress.
            self._rollback()

    def _begin(self) -> None:
        try:
            with _wrap_errors():
                self.db.begin()
        except BaseException:
            # BEGIN failed (busy, closed, broken connection): don't keep a
            # half-begun connection for this thread.
            self._rollback()
            raise

    def _rollback(self) -> None:
        try:
            if self.db.in_transaction:
                self.db.rollback()
            else:
                # A failed COMMIT has already popped dataset's transaction; give the
                # connection back to the pool, which rolls it back.
                self.db._release_connection()
        except SQLAlchemyError:
            # The connection is broken; forget it. The original error matters more.
            self.db.local.tx = []
            try:
                self.db._release_connection()
            except SQLAlchemyError:
                pass

    @property
    def has_fast_write(self) -> bool:
        return self._write_lock is not None and self.path is not None

    @contextmanager
    def fast_write(self) -> Iterator[Any]:
        """SQLite only: a write transaction on a dedicated DBAPI cursor, for event ingestion.

        Collecting an event is the one request that arrives by the thousand;
        going through SQLAlchemy's statement machinery for it costs several
        times the SQLite work itself. The cursor belongs to a connection from
        dataset's own engine (same pragmas) and is used only under the same
        write lock as every other writer of this process, so it serialises
        with them exactly as `write()` does. Yields a `sqlite3.Cursor`.
        """
        if self._write_lock is None or not self._write_lock.acquire(timeout=WRITE_LOCK_TIMEOUT):
            raise StoreError("the database is busy; try again")
        try:
            try:
                if self._fast is None:
                    self._fast = self.engine.raw_connection()
                    # This connection never checkpoints the WAL itself; the
                    # checkpointer thread does, off the request path.
                    self._fast.cursor().execute("PRAGMA wal_autocheckpoint=0")
                    if self._checkpointer is None:
                        self._checkpointer = _Checkpointer(self.engine)
                cursor = self._fast.cursor()
                cursor.execute("BEGIN IMMEDIATE")
            except (sqlite3.Error, SQLAlchemyError) as exc:
                self._drop_fast()
                raise StoreError(f"database error ({type(exc).__name__}: {exc})") from exc
            try:
                yield cursor
                cursor.execute("COMMIT")
                if self._checkpointer is not None:
                    self._checkpointer.wrote()
            except BaseException as exc:
                try:
                    cursor.execute("ROLLBACK")
                except sqlite3.Error:
                    self._drop_fast()
                if isinstance(exc, sqlite3.Error):
                    raise StoreError(f"database error ({type(exc).__name__}: {exc})") from exc
                raise
        finally:
            self._write_lock.release()

    def _drop_fast(self) -> None:
        if self._fast is not None:
            try:
                self._fast.invalidate()
            except Exception:  # noqa: BLE001 - already broken; forgetting it is the point
                pass
            self._fast = None

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        if self._fast is not None:
            try:
                self._fast.close()
            except (sqlite3.Error, SQLAlchemyError):
                pass
            self._fast = None
        self.db.close()


class _Checkpointer:
    """Copies the WAL back into the database file in a thread of its own.

    SQLite normally does this inside whichever commit pushes the WAL past
    1000 pages, so every few hundred collected events one request would pay
    for it. Here the hot path's connection leaves it to this thread, which
    runs a PASSIVE checkpoint (it never blocks writers or readers) after
    every `every` commits, and SQLite releases the GIL while it works.
    """

    def __init__(self, engine: Any, every: int = 200) -> None:
        self._engine = engine
        self._every = every
        self._count = 0
        self._wake = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="offen-wal-checkpoint", daemon=True)
        self._thread.start()

    def wrote(self) -> None:
        self._count += 1
        if self._count >= self._every:
            self._count = 0
            self._wake.set()

    def _run(self) -> None:
        connection = None
        while True:
            # Also once a minute, so a quiet server leaves no large WAL behind.
            self._wake.wait(60)
            self._wake.clear()
            if self._stopping:
                break
            try:
                if connection is None:
                    connection = self._engine.raw_connection()
                connection.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)")
            except (sqlite3.Error, SQLAlchemyError):
                # Busy or broken: the next round tries again on a fresh connection.
                if connection is not None:
                    try:
                        connection.invalidate()
                    except Exception:  # noqa: BLE001
                        pass
                connection = None
        if connection is not None:
            try:
                connection.close()
            except (sqlite3.Error, SQLAlchemyError):
                pass

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        self._thread.join(timeout=5)


@contextmanager
def _wrap_errors() -> Iterator[None]:
    try:
        yield
    except SQLAlchemyError as exc:
        # `hide_parameters` keeps values out of str(exc); the class name and the
        # driver's message ("database is locked", "no such table") are safe.
        orig = getattr(exc, "orig", None)
        detail = f"{type(orig).__name__}: {orig}" if orig is not None else type(exc).__name__
        raise StoreError(f"database error ({detail})") from exc


def chunks(values: Iterable[str], size: int = CHUNK) -> Iterator[list[str]]:
    """Split values (deduplicated, order kept) into lists short enough for `IN (...)`."""
    unique = list(dict.fromkeys(values))
    for start in range(0, len(unique), size):
        yield unique[start : start + size]


# -- timestamps ---------------------------------------------------------------------

_TIMESTAMP = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"\s*(Z|UTC|[+-]\d{2}(?::?\d{2})?)?(?:\s+[A-Za-z]+)?\s*$"
)


def format_timestamp(moment: datetime) -> str:
    """`YYYY-MM-DD HH:MM:SS.ffffff+00:00`, the way Offen's SQLite rows hold `created`."""
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00:00")


def parse_timestamp(value: Any) -> datetime:
    """Read a stored timestamp leniently (Go's 9 fractional digits, 'T', other zones, 'Z').

    A value without a zone is taken as UTC, which is how Offen writes it.
    """
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if not isinstance(value, str):
        raise StoreError("a stored timestamp is not readable")
    match = _TIMESTAMP.match(value)
    if not match:
        raise StoreError("a stored timestamp is not readable")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    tz: timezone = UTC
    if zone and zone not in ("Z", "UTC"):
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        tz = timezone(sign * offset)
    moment = datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro, tzinfo=tz
    )
    return moment.astimezone(UTC)


def as_bool(value: Any) -> bool:
    """Offen's `retired` is numeric 0/1 on SQLite; accept 'true'/'false' text too."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "t", "true", "yes")
    return bool(value)


def text_or_empty(value: Any) -> str:
    # Columns added by later Offen migrations (account_styles) are NULL on old rows.
    return "" if value is None else str(value)


def require_fields(allowed: Sequence[str], fields: dict[str, Any]) -> None:
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise StoreError(f"unknown fields: {', '.join(unknown)}")
