"""The operators' shared cache: re-wrapped visitor secrets and encrypted day roll-ups.

Browsers of operators store back what took them work to compute, so the
next browser does not redo it (issue 4): visitor secrets re-wrapped under a
symmetric key derived from the account KEK, and per-day roll-ups of the
decrypted events. To the server both are opaque strings. This module owns the
two tables (`offen_wrapped_secrets`, `offen_rollups`): keyset pages on their
primary keys, first-write-wins inserts, the stale-writer check of roll-ups,
and the deletes that keep roll-ups from outliving the events they summarise.

The delete helpers taking a `Connection` are called from inside the write
transactions of `store/events.py` (purge, parking, expiry), so a roll-up never
survives, even for a moment, the deletion of an event it was computed from.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Connection, and_, exists, func, literal, select

from appliance import ids
from appliance.store.db import Database, chunks, format_timestamp
from appliance.store.schema import events, rollups, secrets, tombstones, wrapped_secrets


@dataclass(frozen=True)
class Rollup:
    """One stored roll-up: an account's encrypted summary of one UTC day."""

    period: str
    checkpoint: str
    payload: str


@dataclass(frozen=True)
class RollupWrite:
    """What `put_rollup` did: `stored`, or why it refused ("stale", "deleted-since")."""

    stored: bool
    reason: str = ""


def day_of_ulid(value: str) -> str | None:
    """The UTC day (YYYY-MM-DD) of a ULID's time, or None when it is not a ULID."""
    try:
        return ids.ulid_time(value).date().isoformat()
    except ValueError:
        return None


def day_floor(day: date) -> str:
    """The smallest ULID of a UTC day: event ids of that day compare >= it."""
    return ids.ulid_floor(datetime(day.year, day.month, day.day, tzinfo=UTC))


# -- helpers joined to other write transactions ----------------------------------------------


def forget_rollups_of_events(conn: Connection, condition: object) -> int:
    """Delete the roll-ups of the (account, UTC day) pairs of the events matching `condition`.

    Called before those events are deleted, in the same transaction. Reads the
    distinct (account, 10-character time prefix) pairs only, so a visitor with
    many events costs one index scan and a few decodes. An id that is not a
    ULID (never written by us) cannot be placed on a day: for privacy every
    roll-up of that account goes.
    """
    prefix = func.substr(events.c.event_id, 1, 10)
    pairs = conn.execute(
        select(events.c.account_id, prefix).where(condition).distinct()  # type: ignore[arg-type]
    )
    days: dict[str, set[str]] = {}
    whole: set[str] = set()
    for account_id, time_prefix in pairs:
        day = day_of_ulid((time_prefix or "") + "0" * 16)
        if day is None:
            whole.add(account_id)
        else:
            days.setdefault(account_id, set()).add(day)
    deleted = 0
    for account_id in whole:
        deleted += conn.execute(rollups.delete().where(rollups.c.account_id == account_id)).rowcount
        days.pop(account_id, None)
    for account_id, wanted in days.items():
        for chunk in chunks(sorted(wanted)):
            deleted += conn.execute(
                rollups.delete().where(and_(rollups.c.account_id == account_id, rollups.c.period.in_(chunk)))
            ).rowcount
    return int(deleted)


def forget_expired_rollups(conn: Connection, deadline: str) -> int:
    """Expiry's part (reference §4.4): roll-ups of days before the deadline's day go, and the
    deadline's own day too when events of it are about to be expired (call before the delete)."""
    cutoff = ids.ulid_time(deadline).date()
    deleted = conn.execute(rollups.delete().where(rollups.c.period < cutoff.isoformat())).rowcount
    partial = conn.execute(
        select(literal(1))
        .select_from(events)
        .where(and_(events.c.event_id >= day_floor(cutoff), events.c.event_id < deadline))
        .limit(1)
    ).first()
    if partial is not None:
        deleted += conn.execute(rollups.delete().where(rollups.c.period == cutoff.isoformat())).rowcount
    return int(deleted)


def forget_shared_cache(conn: Connection, account_id: str) -> int:
    """Delete an account's wrapped secrets and roll-ups (retire, clear)."""
    deleted = conn.execute(
        wrapped_secrets.delete().where(wrapped_secrets.c.account_id == account_id)
    ).rowcount
    deleted += conn.execute(rollups.delete().where(rollups.c.account_id == account_id)).rowcount
    return int(deleted)


def forget_wrapped_secrets(conn: Connection, secret_ids: Iterable[str]) -> None:
    """Forget the wraps of these secrets, in every account (parking moved them away)."""
    for chunk in chunks(secret_ids):
        conn.execute(wrapped_secrets.delete().where(wrapped_secrets.c.secret_id.in_(chunk)))


class SharedCacheMixin:
    """Store methods for the shared cache (mixed into `Store`)."""

    _db: Database

    # -- wrapped secrets -------------------------------------------------------------------

    def find_wrapped_secrets(self, account_id: str, after: str | None, limit: int) -> list[tuple[str, str]]:
        """(secret id, wrapped secret) of an account with secret id > `after`, in id order.

        A keyset page on the primary key (account_id, secret_id): never OFFSET.
        """
        query = select(wrapped_secrets.c.secret_id, wrapped_secrets.c.wrapped_secret).where(
            wrapped_secrets.c.account_id == account_id
        )
        if after:
            query = query.where(wrapped_secrets.c.secret_id > after)
        query = query.order_by(wrapped_secrets.c.secret_id).limit(limit)
        with self._db.read():
            return [(row[0], row[1] or "") for row in self._db.conn.execute(query)]

    def insert_wrapped_secrets(
        self, account_id: str, items: dict[str, str], now: datetime
    ) -> tuple[int, int]:
        """Store wrapped secrets the account does not have yet; returns (stored, skipped).

        First write wins: an existing entry is kept, so a browser cannot
        replace a good wrap by a bad one (a wrong one is detected by its tag
        and would only cost the reader an RSA decryption). Entries whose
        secret is unknown or has no event in this account are skipped: a
        visitor may be parked while a browser works, and wraps of foreign
        secrets would only take space.
        """
        stored = skipped = 0
        stamp = format_timestamp(now)
        with self._db.write():
            conn = self._db.conn
            for chunk in chunks(items):
                known = {
                    row[0]
                    for row in conn.execute(
                        select(secrets.c.secret_id).where(
                            and_(
                                secrets.c.secret_id.in_(chunk),
                                exists().where(
                                    and_(
                                        events.c.secret_id == secrets.c.secret_id,
                                        events.c.account_id == account_id,
                                    )
                                ),
                            )
                        )
                    )
                }
                present = {
                    row[0]
                    for row in conn.execute(
                        select(wrapped_secrets.c.secret_id).where(
                            and_(
                                wrapped_secrets.c.account_id == account_id,
                                wrapped_secrets.c.secret_id.in_(chunk),
                            )
                        )
                    )
                }
                rows = [
                    {
                        "account_id": account_id,
                        "secret_id": secret_id,
                        "wrapped_secret": items[secret_id],
                        "created": stamp,
                    }
                    for secret_id in chunk
                    if secret_id in known and secret_id not in present
                ]
                skipped += sum(1 for secret_id in chunk if secret_id not in known)
                if rows:
                    conn.execute(wrapped_secrets.insert(), rows)
                    stored += len(rows)
        return stored, skipped

    # -- roll-ups -----------------------------------------------------------------------------

    def iter_rollups(self, account_id: str, after: str | None, limit: int) -> Iterator[Rollup]:
        """Roll-ups of an account with period > `after`, in period order, read lazily.

        Lazily, because payloads may be megabytes each: the caller stops
        reading once its answer is big enough. The read snapshot lasts until
        the iterator is exhausted or closed.
        """
        query = select(rollups.c.period, rollups.c.checkpoint, rollups.c.payload).where(
            rollups.c.account_id == account_id
        )
        if after:
            query = query.where(rollups.c.period > after)
        query = query.order_by(rollups.c.period).limit(limit)
        with self._db.read():
            for row in self._db.conn.execute(query):
                yield Rollup(row[0], row[1] or "", row[2] or "")

    def put_rollup(
        self, account_id: str, period: str, checkpoint: str, payload: str, now: datetime
    ) -> RollupWrite:
        """Store a roll-up unless it is stale, in one write transaction.

        Stale means: the stored roll-up of that day has a greater checkpoint
        (another browser got further), or an event of that day was deleted
        after `checkpoint` (purge, parking, expiry: the roll-up may contain
        events that no longer exist, and must never bring them back).
        """
        day = date.fromisoformat(period)
        low, high = day_floor(day), day_floor(day + timedelta(days=1))
        with self._db.write():
            conn = self._db.conn
            row = conn.execute(
                select(rollups.c.checkpoint).where(
                    and_(rollups.c.account_id == account_id, rollups.c.period == period)
                )
            ).first()
            if row is not None and (row[0] or "") > checkpoint:
                return RollupWrite(False, "stale")
            # Tombstones after the checkpoint are few (the checkpoint is recent):
            # the (account_id, sequence) index finds them, the id range filters.
            deleted_since = conn.execute(
                select(literal(1))
                .select_from(tombstones)
                .where(
                    and_(
                        tombstones.c.account_id == account_id,
                        tombstones.c.sequence > checkpoint,
                        tombstones.c.event_id >= low,
                        tombstones.c.event_id < high,
                    )
                )
                .limit(1)
            ).first()
            if deleted_since is not None:
                return RollupWrite(False, "deleted-since")
            values = {"checkpoint": checkpoint, "payload": payload, "updated": format_timestamp(now)}
            if row is None:
                conn.execute(rollups.insert(), {"account_id": account_id, "period": period, **values})
            else:
                conn.execute(
                    rollups.update().where(
                        and_(rollups.c.account_id == account_id, rollups.c.period == period)
                    ),
                    values,
                )
        return RollupWrite(True)

    # -- both ---------------------------------------------------------------------------------

    def clear_shared_cache(self, account_id: str) -> int:
        """Delete an account's wrapped secrets and roll-ups; returns how many rows went."""
        with self._db.write():
            return forget_shared_cache(self._db.conn, account_id)
