"""Domain: the retention window and the expiry of older events.

Expiry deletes events whose id (a ULID, so their receive time) is older than
the window, writing tombstones so that every browser's cache drops them on its
next sync (reference §4.4). In the same transaction the operators' roll-ups
of expired days go too (`store/sharedcache.py`): a summary must not keep
what the window has let go.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from appliance import ids
from appliance.store import Store

RETENTION_PERIODS: dict[str, timedelta] = {
    "6months": timedelta(days=186),
    "12weeks": timedelta(days=84),
    "6weeks": timedelta(days=42),
    "30days": timedelta(days=30),
    "7days": timedelta(days=7),
}


def deadline(now: datetime, retention: timedelta) -> str:
    """The smallest event id that is still inside the window."""
    return ids.ulid_floor(now - retention)


def count_expired(store: Store, now: datetime, retention: timedelta) -> int:
    """How many events the next expiry run would delete (logged before lowering the window bites)."""
    return store.count_events_older_than(deadline(now, retention))


def expire(store: Store, now: datetime, retention: timedelta) -> int:
    """Delete every event older than the window, with tombstones, and the roll-ups of those
    days; returns how many events went."""
    return store.expire_events(deadline(now, retention), now)
