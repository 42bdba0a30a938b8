"""appliance.store under concurrent writers: sync by `sequence` never skips an event.

Real threads on a real SQLite file. Writers run both through one Store (queued
on its in-process lock) and through a second Store on the same file (queued
by SQLite's own lock and busy timeout, as a second process would be).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from appliance.records import Event, Secret
from appliance.store import open_store

WRITERS = 8
PER_WRITER = 60
ACCOUNT = "acc-under-test"


def test_poller_sees_every_event_exactly_once(tmp_path):
    path = str(tmp_path / "offen.db")
    first = open_store(path)
    first.migrate()
    second = open_store(path)  # another "process" on the same file
    for n in range(WRITERS):
        first.insert_secret(Secret(secret_id=f"secret-{n}", encrypted_secret="{1,} eA=="))
    start = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
    inserted: dict[int, list[Event]] = {n: [] for n in range(WRITERS)}
    errors: list[BaseException] = []
    go = threading.Barrier(WRITERS + 1)
    writers_done = threading.Event()

    def write(n: int) -> None:
        store = first if n % 2 else second
        try:
            go.wait()
            for i in range(PER_WRITER):
                # Clocks disagree between threads (and sometimes run backwards):
                # sequences must still rise in commit order.
                now = start + timedelta(milliseconds=(i * 7 + n * 13) % 50)
                if n % 3 == 0:
                    # The SQLite hot path of collection, interleaved with the
                    # general path of the other writers and of the other store.
                    event = store.insert_event_for_secret(ACCOUNT, f"secret-{n}", f"{n}:{i}", now)
                    assert event is not None
                    inserted[n].append(event)
                else:
                    inserted[n].append(store.insert_event(ACCOUNT, f"secret-{n}", f"{n}:{i}", now))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    seen: list[Event] = []
    batches: list[list[Event]] = []

    def poll() -> None:
        checkpoint = None
        try:
            go.wait()
            while True:
                finished = writers_done.is_set()
                batch = first.find_events_for_account(ACCOUNT, since=checkpoint)
                if batch:
                    batches.append(batch)
                    seen.extend(batch)
                    checkpoint = max(event.sequence for event in batch)
                if finished and not batch:
                    return
                time.sleep(0.001)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    poller = threading.Thread(target=poll)
    for thread in (*threads, poller):
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    writers_done.set()
    poller.join(timeout=60)
    assert not errors, errors

    all_inserted = [event for events in inserted.values() for event in events]
    assert len(all_inserted) == WRITERS * PER_WRITER
    # No gaps and no repeats: the poller saw each inserted event exactly once.
    assert sorted(e.event_id for e in seen) == sorted(e.event_id for e in all_inserted)
    assert len({e.event_id for e in seen}) == len(seen)
    # Sequences are unique, and what the poller saw arrived in sequence order.
    assert len({e.sequence for e in all_inserted}) == len(all_inserted)
    assert [e.sequence for e in seen] == sorted(e.sequence for e in seen)
    # Several polls interleaved with the writers (otherwise the test proves little).
    assert len(batches) > 1
    # Within each writer, commit order is call order: its sequences rise.
    for events in inserted.values():
        assert [e.sequence for e in events] == sorted(e.sequence for e in events)
    assert first.max_sequence() == max(e.sequence for e in all_inserted)
    first.close()
    second.close()


def test_purges_and_inserts_interleave_without_losing_tombstones(tmp_path):
    path = str(tmp_path / "offen.db")
    store = open_store(path)
    store.migrate()
    now = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
    errors: list[BaseException] = []
    purged: list[int] = []

    def insert(n: int) -> None:
        try:
            for i in range(40):
                store.insert_event(ACCOUNT, f"visitor-{i % 4}", f"{n}:{i}", now)
        except BaseException as exc:
            errors.append(exc)

    def purge() -> None:
        try:
            for _ in range(10):
                purged.append(store.delete_events_for_secrets(["visitor-0"], now))
                time.sleep(0.002)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=insert, args=(n,)) for n in range(4)] + [
        threading.Thread(target=purge)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    purged.append(store.delete_events_for_secrets(["visitor-0"], now))
    stones = store.find_tombstones_for_account(ACCOUNT)
    assert len(stones) == sum(purged) == 40  # 4 writers x 10 events of visitor-0
    assert store.find_events_for_secrets(["visitor-0"]) == []
    events = store.find_events_for_account(ACCOUNT)
    assert len(events) == 120
    every = [e.sequence for e in events] + [t.sequence for t in stones]
    # Each purge batch shares one sequence, distinct from every event's.
    assert len(set(every)) == len(events) + len([n for n in purged if n])
    store.close()
