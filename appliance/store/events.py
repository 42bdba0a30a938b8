"""Events, tombstones, user secrets and the sequence counter.

Sync correctness lives here (reference §4.3): clients ask for "everything
after the highest `sequence` I have seen", so sequences are handed out from a
one-row counter inside the write transaction that uses them. The transaction
holds the write lock (SQLite `BEGIN IMMEDIATE`; the counter row's lock, taken
with `SELECT ... FOR UPDATE`, on other databases) until COMMIT, so sequences
become visible in increasing order and a poller can never skip one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, String, and_, bindparam, exists, func, literal, select

from appliance import ids
from appliance.errors import StoreError
from appliance.records import Event, Secret, Tombstone
from appliance.store import schema
from appliance.store.db import Database, chunks
from appliance.store.ingest import GroupCommit
from appliance.store.schema import events, secrets, sequence_counter, tombstones
from appliance.store.sharedcache import (
    forget_expired_rollups,
    forget_rollups_of_events,
    forget_wrapped_secrets,
)

# Built once: SQLAlchemy caches their compiled form, keeping the insert hot path
# to three prepared statements.
_READ_COUNTER = (
    select(sequence_counter.c.value).where(sequence_counter.c.name == bindparam("counter")).with_for_update()
)
_WRITE_COUNTER = (
    sequence_counter.update()
    .where(sequence_counter.c.name == bindparam("counter"))
    .values(value=bindparam("new_value"))
)
_INSERT_EVENT = events.insert()
_EVENT_COLUMNS = (
    events.c.event_id,
    events.c.sequence,
    events.c.account_id,
    events.c.secret_id,
    events.c.payload,
)
_TOMBSTONE_COLUMNS = (
    tombstones.c.event_id,
    tombstones.c.account_id,
    tombstones.c.secret_id,
    tombstones.c.sequence,
)


@dataclass(frozen=True)
class EventPage:
    """One keyset page of an account's events, read in one snapshot.

    `events` are in (sequence, event id) order; `more` says whether events
    with a greater sequence exist; `tombstones` are those with
    `after < sequence <= bound` (bound: the last event's sequence when `more`,
    else none); `secrets` are the secrets of the page's events (only the new
    ones when asked for).
    """

    events: list[Event]
    more: bool
    tombstones: list[Tombstone]
    secrets: list[Secret]


def _event(row: object) -> Event:
    event_id, sequence, account_id, secret_id, payload = row  # type: ignore[misc]
    return Event(event_id, sequence or "", account_id or "", secret_id, payload or "")


def _tombstone(row: object) -> Tombstone:
    event_id, account_id, secret_id, sequence = row  # type: ignore[misc]
    return Tombstone(event_id, account_id or "", secret_id, sequence or "")


def _order(items: list, key: str = "sequence") -> list:
    # Offen's migration 004 gave all pre-existing events one shared sequence, so
    # ties exist in old databases; the id breaks them deterministically.
    return sorted(items, key=lambda item: (getattr(item, key), item.event_id))


class EventsMixin:
    """Store methods for events, tombstones and secrets (mixed into `Store`)."""

    _db: Database
    _group_commit: GroupCommit

    # -- the sequence counter --------------------------------------------------------

    def _read_counter(self, conn: Connection, now: datetime) -> str | None:
        row = conn.execute(_READ_COUNTER, {"counter": schema.EVENTS_COUNTER}).first()
        if row is None:
            # Only a database that skipped `migrate` gets here; initialise from the data.
            schema._sequence_counter(conn, now)
            row = conn.execute(_READ_COUNTER, {"counter": schema.EVENTS_COUNTER}).first()
            if row is None:
                raise StoreError("the sequence counter is missing")
        return row[0] or None

    def _write_counter(self, conn: Connection, value: str) -> None:
        conn.execute(_WRITE_COUNTER, {"counter": schema.EVENTS_COUNTER, "new_value": value})

    def _take_sequence(self, conn: Connection, now: datetime) -> str:
        """Advance the counter by one; call inside `self._db.write()` only."""
        value = ids.next_sequence(self._read_counter(conn, now), now)
        self._write_counter(conn, value)
        return value

    def max_sequence(self) -> str | None:
        """The highest sequence ever committed (events and tombstone batches)."""
        with self._db.read():
            row = self._db.conn.execute(
                select(sequence_counter.c.value).where(sequence_counter.c.name == schema.EVENTS_COUNTER)
            ).first()
        return (row[0] or None) if row is not None else None

    # -- events ----------------------------------------------------------------------

    def insert_event(self, account_id: str, secret_id: str | None, payload: str, now: datetime) -> Event:
        """Store one event; its id is a ULID at `now`, its sequence the next from the counter."""
        event_id = ids.new_ulid(now)
        with self._db.write():
            conn = self._db.conn
            sequence = self._take_sequence(conn, now)
            conn.execute(
                _INSERT_EVENT,
                {
                    "event_id": event_id,
                    "sequence": sequence,
                    "account_id": account_id,
                    "secret_id": secret_id,
                    "payload": payload,
                },
            )
        return Event(event_id, sequence, account_id, secret_id, payload)

    def insert_event_for_secret(
        self, account_id: str, secret_id: str, payload: str, now: datetime
    ) -> Event | None:
        """Store one event if the visitor's secret exists, in one write transaction; else None.

        The hot path of collection: on SQLite, events arriving together are
        committed together (`store/ingest.py`).
        """
        if not self._db.has_fast_write:
            with self._db.write():
                if not self.secret_exists(secret_id):
                    return None
                return self.insert_event(account_id, secret_id, payload, now)
        return self._group_commit.insert(account_id, secret_id, payload, now)

    def find_events_for_account(
        self, account_id: str, since: str | None = None, limit: int | None = None
    ) -> list[Event]:
        """Events of an account with `sequence > since`, in sequence order."""
        query = select(*_EVENT_COLUMNS).where(events.c.account_id == account_id)
        if since:
            query = query.where(events.c.sequence > since)
        query = query.order_by(events.c.sequence, events.c.event_id)
        if limit is not None:
            query = query.limit(limit)
        with self._db.read():
            return [_event(row) for row in self._db.conn.execute(query)]

    def find_events_page(
        self,
        account_id: str,
        after: str | None,
        limit: int,
        *,
        new_secrets_only: bool = False,
        with_tombstones: bool = True,
    ) -> EventPage:
        """The `limit` events of an account with the smallest `sequence > after` (keyset, no OFFSET).

        One indexed range query on (account_id, sequence) per page, all reads
        in one snapshot so the page, its tombstones and its secrets agree.
        Offen's migration 004 gave every event of its time one shared
        sequence, so a page never ends inside a group of equal sequences: the
        group is completed (the page may then exceed `limit`), otherwise
        `sequence > last` would skip the rest of the group.
        """
        query = select(*_EVENT_COLUMNS).where(events.c.account_id == account_id)
        if after:
            query = query.where(events.c.sequence > after)
        # Ordered by the index's column only, so SQLite walks the index and stops.
        query = query.order_by(events.c.sequence).limit(limit + 1)
        with self._db.read():
            conn = self._db.conn
            rows = [_event(row) for row in conn.execute(query)]
            more = len(rows) > limit
            if more:
                last = rows[limit - 1].sequence if limit else None
                if last is not None and rows[limit].sequence == last:
                    group = [
                        _event(row)
                        for row in conn.execute(
                            select(*_EVENT_COLUMNS).where(
                                and_(events.c.account_id == account_id, events.c.sequence == last)
                            )
                        )
                    ]
                    rows = [event for event in rows[:limit] if event.sequence != last] + group
                else:
                    rows = rows[:limit]
            page = _order(rows)
            found_tombstones: list[Tombstone] = []
            bound = page[-1].sequence if more and page else None
            if with_tombstones and not (more and not page):
                tquery = select(*_TOMBSTONE_COLUMNS).where(tombstones.c.account_id == account_id)
                if after:
                    tquery = tquery.where(tombstones.c.sequence > after)
                if bound is not None:
                    tquery = tquery.where(tombstones.c.sequence <= bound)
                tquery = tquery.order_by(tombstones.c.sequence, tombstones.c.event_id)
                found_tombstones = [_tombstone(row) for row in conn.execute(tquery)]
            wanted = {event.secret_id for event in page if event.secret_id}
            if new_secrets_only and after and wanted:
                wanted -= self._secrets_seen_before(conn, wanted, after)
            found_secrets = self._secrets_by_id(conn, wanted)
        return EventPage(page, more, found_tombstones, found_secrets)

    @staticmethod
    def _secrets_seen_before(conn: Connection, secret_ids: set[str], after: str) -> set[str]:
        # The client has these from an earlier page: some event under the
        # secret has `sequence <= after`. EXISTS stops at the first entry of
        # the (secret_id, sequence) index in range and never reads the table.
        # No account filter is needed (it would cost a table read per secret):
        # a secret id is SHA-256 of the visitor id with one account's salt, so
        # its events all belong to that account.
        seen: set[str] = set()
        for chunk in chunks(sorted(secret_ids)):
            rows = conn.execute(
                select(secrets.c.secret_id).where(
                    and_(
                        secrets.c.secret_id.in_(chunk),
                        exists().where(
                            and_(
                                events.c.secret_id == secrets.c.secret_id,
                                events.c.sequence <= after,
                            )
                        ),
                    )
                )
            )
            seen.update(row[0] for row in rows)
        return seen

    @staticmethod
    def _secrets_by_id(conn: Connection, secret_ids: Iterable[str]) -> list[Secret]:
        found: list[Secret] = []
        for chunk in chunks(secret_ids):
            rows = conn.execute(
                select(secrets.c.secret_id, secrets.c.encrypted_secret).where(secrets.c.secret_id.in_(chunk))
            )
            found.extend(Secret(row[0], row[1] or "") for row in rows)
        return sorted(found, key=lambda secret: secret.secret_id)

    def has_events_after(self, account_id: str, after: str | None) -> bool:
        """Whether the account has an event with `sequence > after` (any event when None)."""
        query = select(literal(1)).select_from(events).where(events.c.account_id == account_id)
        if after:
            query = query.where(events.c.sequence > after)
        with self._db.read():
            return self._db.conn.execute(query.limit(1)).first() is not None

    def find_events_for_secrets(self, secret_ids: Iterable[str], since: str | None = None) -> list[Event]:
        """Events of these visitors (all accounts) with `sequence > since`, in sequence order."""
        found: list[Event] = []
        with self._db.read():
            for chunk in chunks(secret_ids):
                query = select(*_EVENT_COLUMNS).where(events.c.secret_id.in_(chunk))
                if since:
                    query = query.where(events.c.sequence > since)
                found.extend(_event(row) for row in self._db.conn.execute(query))
        return _order(found)

    def count_events_older_than(self, deadline: str) -> int:
        """How many events have an id (receive time) before the ULID `deadline`."""
        with self._db.read():
            return int(
                self._db.conn.execute(
                    select(func.count()).select_from(events).where(events.c.event_id < deadline)
                ).scalar_one()
            )

    # -- tombstones ------------------------------------------------------------------

    def find_tombstones_for_account(self, account_id: str, since: str | None = None) -> list[Tombstone]:
        query = select(*_TOMBSTONE_COLUMNS).where(tombstones.c.account_id == account_id)
        if since:
            query = query.where(tombstones.c.sequence > since)
        query = query.order_by(tombstones.c.sequence, tombstones.c.event_id)
        with self._db.read():
            return [_tombstone(row) for row in self._db.conn.execute(query)]

    def find_tombstones_for_secrets(
        self, secret_ids: Iterable[str], since: str | None = None
    ) -> list[Tombstone]:
        found: list[Tombstone] = []
        with self._db.read():
            for chunk in chunks(secret_ids):
                query = select(*_TOMBSTONE_COLUMNS).where(tombstones.c.secret_id.in_(chunk))
                if since:
                    query = query.where(tombstones.c.sequence > since)
                found.extend(_tombstone(row) for row in self._db.conn.execute(query))
        return _order(found)

    def _bury(self, conn: Connection, condition: object, sequence: str) -> int:
        """Tombstone and delete the events matching `condition`; returns how many."""
        conn.execute(
            tombstones.insert().from_select(
                ["event_id", "account_id", "secret_id", "sequence"],
                select(
                    events.c.event_id,
                    events.c.account_id,
                    events.c.secret_id,
                    literal(sequence, String(26)),
                ).where(condition),  # type: ignore[arg-type]
            )
        )
        return int(conn.execute(events.delete().where(condition)).rowcount)  # type: ignore[arg-type]

    def delete_events_for_secrets(self, secret_ids: Iterable[str], now: datetime) -> int:
        """Purge these visitors' events: tombstones sharing one new sequence, then delete.

        Returns the number of events deleted; no sequence is used when there were none.
        """
        wanted = list(chunks(secret_ids))
        deleted = 0
        with self._db.write():
            conn = self._db.conn
            sequence = ids.next_sequence(self._read_counter(conn, now), now)
            for chunk in wanted:
                condition = events.c.secret_id.in_(chunk)
                # Roll-ups of the days these events fell on summarise them: they
                # go in the same transaction, so no browser can read them after.
                forget_rollups_of_events(conn, condition)
                deleted += self._bury(conn, condition, sequence)
            if deleted:
                self._write_counter(conn, sequence)
        return deleted

    def expire_events(self, deadline: str, now: datetime) -> int:
        """Expire events whose id is below the ULID `deadline` (reference §4.4), in one transaction.

        Roll-ups of days before the deadline's day go with them, and that day's
        own roll-up when some of its events expire.
        """
        with self._db.write():
            conn = self._db.conn
            sequence = ids.next_sequence(self._read_counter(conn, now), now)
            forget_expired_rollups(conn, deadline)
            deleted = self._bury(conn, events.c.event_id < deadline, sequence)
            if deleted:
                self._write_counter(conn, sequence)
        return deleted

    # -- secrets ---------------------------------------------------------------------

    def get_secret(self, secret_id: str) -> Secret | None:
        with self._db.read():
            row = self._db.conn.execute(
                select(secrets.c.secret_id, secrets.c.encrypted_secret).where(
                    secrets.c.secret_id == secret_id
                )
            ).first()
        return Secret(row[0], row[1] or "") if row is not None else None

    def secret_exists(self, secret_id: str) -> bool:
        with self._db.read():
            row = self._db.conn.execute(
                select(literal(1)).select_from(secrets).where(secrets.c.secret_id == secret_id).limit(1)
            ).first()
        return row is not None

    def insert_secret(self, secret: Secret) -> None:
        with self._db.write():
            self._db.conn.execute(
                secrets.insert(), {"secret_id": secret.secret_id, "encrypted_secret": secret.encrypted_secret}
            )

    def find_secrets(self, secret_ids: Iterable[str]) -> list[Secret]:
        found: list[Secret] = []
        with self._db.read():
            for chunk in chunks(secret_ids):
                rows = self._db.conn.execute(
                    select(secrets.c.secret_id, secrets.c.encrypted_secret).where(
                        secrets.c.secret_id.in_(chunk)
                    )
                )
                found.extend(Secret(row[0], row[1] or "") for row in rows)
        return sorted(found, key=lambda secret: secret.secret_id)

    def park_secret(self, secret_id: str, parked_secret_id: str, now: datetime) -> int:
        """Move a visitor's secret and events out of their reach (reference §2.6).

        In one transaction: the secret row is copied to `parked_secret_id`; each
        event is copied to a sibling ULID (same time, so it still falls into the
        same day for the operator) under the parked id with a new sequence; the
        old event ids get tombstones sharing one sequence; the old events and
        the old secret are deleted. Returns the number of events parked.
        """
        with self._db.write():
            conn = self._db.conn
            row = conn.execute(
                select(secrets.c.encrypted_secret).where(secrets.c.secret_id == secret_id)
            ).first()
            if row is not None:
                conn.execute(secrets.insert(), {"secret_id": parked_secret_id, "encrypted_secret": row[0]})
            old = [
                _event(r)
                for r in conn.execute(
                    select(*_EVENT_COLUMNS).where(events.c.secret_id == secret_id).order_by(events.c.event_id)
                )
            ]
            last = self._read_counter(conn, now)
            copies = []
            for event in old:
                last = ids.next_sequence(last, now)
                copies.append(
                    {
                        "event_id": ids.sibling_ulid(event.event_id),
                        "sequence": last,
                        "account_id": event.account_id,
                        "secret_id": parked_secret_id,
                        "payload": event.payload,
                    }
                )
            # The copies belong to another secret id (another "visitor" for the
            # operator's counts), so the roll-ups of their days are out of date;
            # wraps of the old secret id have no events left to open.
            forget_rollups_of_events(conn, events.c.secret_id == secret_id)
            forget_wrapped_secrets(conn, [secret_id])
            if copies:
                conn.execute(_INSERT_EVENT, copies)
                # The tombstones come after the copies so a client that sees them
                # has also been offered the copies (operators) in the same sync.
                last = ids.next_sequence(last, now)
                self._bury(conn, events.c.secret_id == secret_id, last)
                self._write_counter(conn, last)
            conn.execute(secrets.delete().where(secrets.c.secret_id == secret_id))
        return len(old)
