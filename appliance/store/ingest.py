"""The hot path of collection on SQLite: one event in, group-committed.

Every collected pageview is one `POST /api/events`, so this is the one write
that arrives by the thousand. Two things make it cheap:

- It runs fixed SQL on a dedicated DBAPI cursor (`Database.fast_write`)
  instead of SQLAlchemy's statement machinery.
- Requests that arrive while a write is in progress are committed together:
  the thread that gets the write lock takes every event queued so far and
  stores them in one transaction (one secret lookup, one counter update,
  one multi-row insert, one commit); the others find their event done when
  the lock comes to them. Nothing waits for a timer, so a lone request is
  committed at once, and under load each commit carries many events.

Sequences are handed out in the order the events are inserted, inside the
transaction that holds the write lock, so they rise in commit order as
`store/events.py` explains.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from appliance import ids
from appliance.errors import StoreError
from appliance.records import Event
from appliance.store import schema
from appliance.store.db import Database, chunks
from appliance.store.schema import events, secrets, sequence_counter

_READ_COUNTER = f"SELECT value FROM {sequence_counter.name} WHERE name = ?"
_WRITE_COUNTER = f"UPDATE {sequence_counter.name} SET value = ? WHERE name = ?"
_ADVANCE_COUNTER = f"UPDATE {sequence_counter.name} SET value = ? WHERE name = ? AND value = ?"
_INSERT_EVENT = (
    f"INSERT INTO {events.name} (event_id, sequence, account_id, secret_id, payload) VALUES (?, ?, ?, ?, ?)"
)


class _Queued:
    __slots__ = ("account_id", "secret_id", "payload", "now", "event_id", "result", "error", "done")

    def __init__(self, account_id: str, secret_id: str, payload: str, now: datetime) -> None:
        self.account_id, self.secret_id, self.payload, self.now = account_id, secret_id, payload, now
        self.event_id = ids.new_ulid(now)
        self.result: Event | None = None
        self.error: BaseException | None = None
        self.done = False


class GroupCommit:
    """Queues events and stores each batch in one SQLite transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._queue: list[_Queued] = []
        self._queue_lock = threading.Lock()
        # The counter value written last by this process: a hint, checked by a
        # conditional UPDATE (another process, say `offen expire`, makes it miss).
        self._counter_hint: str | None = None

    def insert(self, account_id: str, secret_id: str, payload: str, now: datetime) -> Event | None:
        """Store the event if the visitor's secret exists; None when it does not."""
        item = _Queued(account_id, secret_id, payload, now)
        with self._queue_lock:
            self._queue.append(item)
        try:
            with self._db.fast_write() as cursor:
                if not item.done:
                    with self._queue_lock:
                        batch, self._queue = self._queue, []
                    try:
                        self._store(cursor, batch)
                    except BaseException as exc:
                        for queued in batch:
                            queued.error, queued.done = exc, True
                        raise
                    for queued in batch:
                        queued.done = True
        except BaseException:
            # The write lock could not be had (or BEGIN failed): take the event
            # back, so that no later batch stores what this request reports as failed.
            with self._queue_lock:
                if item in self._queue:
                    self._queue.remove(item)
            if not (item.done and item.error is None):
                raise
        if item.error is not None:
            raise StoreError("storing the event failed") from item.error
        return item.result

    def _store(self, cursor: Any, batch: list[_Queued]) -> None:
        known: set[str] = set()
        for part in chunks(item.secret_id for item in batch):
            marks = ", ".join("?" * len(part))
            known.update(
                row[0]
                for row in cursor.execute(
                    f"SELECT secret_id FROM {secrets.name} WHERE secret_id IN ({marks})", part
                )
            )
        accepted = [item for item in batch if item.secret_id in known]
        if not accepted:
            return
        hint = self._counter_hint
        final = self._assign(hint, accepted) if hint else None
        if (
            final is None
            or cursor.execute(_ADVANCE_COUNTER, (final, schema.EVENTS_COUNTER, hint)).rowcount != 1
        ):
            row = cursor.execute(_READ_COUNTER, (schema.EVENTS_COUNTER,)).fetchone()
            if row is None:
                raise StoreError("the sequence counter is missing; run `offen migrate`")
            final = self._assign(row[0] or None, accepted)
            cursor.execute(_WRITE_COUNTER, (final, schema.EVENTS_COUNTER))
        cursor.executemany(
            _INSERT_EVENT,
            [(i.event_id, i.result.sequence, i.account_id, i.secret_id, i.payload) for i in accepted],  # type: ignore[union-attr]
        )
        # Only a committed counter may serve as the next hint; a failed commit
        # makes the conditional UPDATE miss, which is safe.
        self._counter_hint = final

    @staticmethod
    def _assign(last: str | None, accepted: list[_Queued]) -> str:
        for item in accepted:
            last = ids.next_sequence(last, item.now, fresh=item.event_id)
            item.result = Event(item.event_id, last, item.account_id, item.secret_id, item.payload)
        assert last is not None
        return last
