"""The hot path of collection on SQLite: one event in, group-committed.

Every collected pageview is one `POST /api/events`, so this is the one write
that arrives by the thousand. Two things make it cheap:

- It runs fixed SQL on a dedicated DBAPI cursor (`Database.fast_write`)
  instead of SQLAlchemy's statement machinery.
- Requests that arrive while a write is in progress are committed together:
  one thread leads, takes every event queued so far and stores them in one
  transaction (one secret lookup, one counter update, one multi-row insert,
  one commit); the others wait until the leader wakes them with their event
  done. Nothing waits for a timer, so a lone request is committed at once,
  and under load each commit carries many events.

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
_SECRET_KNOWN = f"SELECT 1 FROM {secrets.name} WHERE secret_id = ?"
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
    """Queues events and stores each batch in one SQLite transaction.

    One thread at a time leads: it takes the write lock and stores every event
    queued so far. The others wait on a condition, not on the write lock, so a
    batch's followers neither open empty transactions nor hand the write lock
    to each other one by one before the next batch can start; the leader wakes
    them all when its commit is done, and one of the events queued meanwhile
    leads the next batch.
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        self._queue: list[_Queued] = []
        self._changed = threading.Condition(threading.Lock())
        self._leading = False
        # The counter value written last by this process: a hint, checked by a
        # conditional UPDATE (another process, say `offen expire`, makes it miss).
        self._counter_hint: str | None = None

    def insert(self, account_id: str, secret_id: str, payload: str, now: datetime) -> Event | None:
        """Store the event if the visitor's secret exists; None when it does not."""
        item = _Queued(account_id, secret_id, payload, now)
        changed = self._changed
        with changed:
            self._queue.append(item)
            while self._leading and not item.done:
                changed.wait()
            if not item.done:
                self._leading = True
        if item.done:
            if item.error is not None:
                raise StoreError("storing the event failed") from item.error
            return item.result
        batch: list[_Queued] = []
        error: BaseException | None = None
        try:
            with self._db.fast_write() as cursor:
                with changed:
                    batch, self._queue = self._queue, []
                self._store(cursor, batch)
        except BaseException as exc:
            error = exc
        finally:
            with changed:
                if not batch:
                    # The write lock could not be had (or BEGIN failed): take the
                    # event back, so that no later batch stores what this request
                    # reports as failed. The others stay queued for the next leader.
                    self._queue.remove(item)
                for queued in batch:
                    queued.error, queued.done = error, True
                self._leading = False
                changed.notify_all()
        if error is not None:
            raise error
        return item.result

    def _store(self, cursor: Any, batch: list[_Queued]) -> None:
        if len(batch) == 1:
            # A lone event (every event at low load): one fixed, cached statement.
            found = cursor.execute(_SECRET_KNOWN, (batch[0].secret_id,)).fetchone() is not None
            accepted = batch if found else []
        else:
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
            fresh = item.event_id
            if last is not None and len(last) == 26 and fresh <= last:
                # Two events in one millisecond (common under load): the next
                # sequence is `last` + 1, worked out on the string.
                last = successor(last) or ids.next_sequence(last, item.now, fresh=fresh)
            else:
                last = ids.next_sequence(last, item.now, fresh=fresh)
            item.result = Event(item.event_id, last, item.account_id, item.secret_id, item.payload)
        assert last is not None
        return last


_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_NEXT_DIGIT = dict(zip(_ALPHABET, _ALPHABET[1:], strict=False))
_DIGITS = frozenset(_ALPHABET)


def successor(value: str) -> str | None:
    """The ULID one greater than `value` (canonical upper-case form), or None to leave it to `ids`.

    The same number `ids.next_sequence` would give by decoding, adding one and
    encoding, without the 128-bit round trip. None for anything that is not a
    canonical ULID, and at the top of the range (where `ids` raises).
    """
    if len(value) != 26 or not _DIGITS.issuperset(value):
        return None
    index = len(value) - 1
    while index >= 0 and value[index] == "Z":
        index -= 1
    if index <= 0:
        # The first character holds only 3 bits (0-7): a carry into it is left to `ids`.
        return None
    digit = _NEXT_DIGIT.get(value[index])
    if digit is None or value[0] > "7":
        return None
    return value[:index] + digit + "0" * (len(value) - 1 - index)
