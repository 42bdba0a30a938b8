"""The collection hot path's own pieces (store/ingest.py): sequences by string arithmetic."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from appliance import ids
from appliance.store.ingest import successor

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def test_successor_is_ids_plus_one_on_random_and_carrying_values():
    rng = random.Random(7)
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    samples = [ids.new_ulid(NOW) for _ in range(500)]
    # Values ending in runs of the largest digit exercise the carry.
    for _ in range(300):
        head = ids.new_ulid(NOW)
        run = rng.randint(1, 24)
        samples.append(head[: 26 - run] + "Z" * run)
    samples += ["0" * 26, "7" + "0" * 25, "0" * 25 + "Z", "01" + "Z" * 24]
    for value in samples:
        # With the smallest ULID as the fresh candidate, `ids` must answer value + 1.
        expected = ids.next_sequence(value, NOW, fresh="0" * 26) if value != "0" * 26 else "0" * 25 + "1"
        got = successor(value)
        if got is None:
            # Only a carry into the first character is left to `ids`.
            assert value[1:] == "Z" * 25
            continue
        assert got == expected and len(got) == 26 and got > value
        assert all(c in alphabet for c in got)


@pytest.mark.parametrize(
    "value",
    [
        "7" + "Z" * 25,
        "0" + "Z" * 25,
        "01arz3ndektsv4rrffq69g5fav",
        "short",
        "01ARZ3NDEKTSV4RRFFQ69G5FAU",
        "8" + "0" * 25,
    ],
)
def test_successor_leaves_odd_values_to_ids(value):
    # Top of the range, lower case, too short, a letter outside Crockford's alphabet, a first digit over 7.
    assert successor(value) is None


def _store_with_secrets(tmp_path, count: int):
    from appliance.records import Secret
    from appliance.store import open_store

    store = open_store(str(tmp_path / "offen.db"))
    store.migrate()
    for n in range(count):
        store.insert_secret(Secret(secret_id=f"secret-{n}", encrypted_secret="{1,} eA=="))
    return store


def test_concurrent_events_are_group_committed_in_order(tmp_path):
    import threading

    store = _store_with_secrets(tmp_path, 16)
    commit = store._group_commit
    sizes: list[int] = []
    real_store = commit._store

    def counting(cursor, batch):
        sizes.append(len(batch))
        return real_store(cursor, batch)

    commit._store = counting
    results: dict[int, list] = {n: [] for n in range(16)}
    failures: list[BaseException] = []
    go = threading.Barrier(16)

    def write(n: int) -> None:
        try:
            go.wait()
            for i in range(40):
                results[n].append(store.insert_event_for_secret("acc", f"secret-{n}", f"{n}:{i}", NOW))
            # An unknown secret stores nothing and says so.
            results[n].append(store.insert_event_for_secret("acc", "no-such-secret", "x", NOW))
        except BaseException as exc:  # surfaced below
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures
    made = [e for events in results.values() for e in events[:-1]]
    assert all(events[-1] is None for events in results.values())
    assert len(made) == 16 * 40 and all(e is not None for e in made)
    stored = store.find_events_for_account("acc")
    assert sorted(e.event_id for e in stored) == sorted(e.event_id for e in made)
    assert len({e.sequence for e in stored}) == len(stored)
    for events in results.values():
        sequences = [e.sequence for e in events[:-1]]
        assert sequences == sorted(sequences)
    # Every queued event was stored by exactly one batch, and some batches held several.
    assert sum(sizes) == 16 * 41 and max(sizes) > 1
    assert commit._queue == [] and not commit._leading
    store.close()


def test_a_failed_batch_fails_its_requests_and_the_next_one_stores(tmp_path):

    store = _store_with_secrets(tmp_path, 2)
    commit = store._group_commit
    real_store = commit._store
    calls = []

    def failing_once(cursor, batch):
        calls.append(len(batch))
        if len(calls) == 1:
            real_store(cursor, batch)
            raise RuntimeError("disk on fire")
        return real_store(cursor, batch)

    commit._store = failing_once
    with pytest.raises(RuntimeError):
        store.insert_event_for_secret("acc", "secret-0", "lost", NOW)
    # The failed transaction was rolled back: nothing of it is stored.
    assert store.find_events_for_account("acc") == []
    event = store.insert_event_for_secret("acc", "secret-1", "kept", NOW)
    assert event is not None and [e.payload for e in store.find_events_for_account("acc")] == ["kept"]
    assert commit._queue == [] and not commit._leading
    store.close()


def test_an_unavailable_write_lock_takes_the_event_back(tmp_path, monkeypatch):
    from contextlib import contextmanager

    from appliance.errors import StoreError

    store = _store_with_secrets(tmp_path, 1)
    commit = store._group_commit

    @contextmanager
    def busy():
        raise StoreError("the database is busy; try again")
        yield  # pragma: no cover

    monkeypatch.setattr(store._db, "fast_write", busy)
    with pytest.raises(StoreError, match="busy"):
        store.insert_event_for_secret("acc", "secret-0", "never", NOW)
    assert commit._queue == [] and not commit._leading
    monkeypatch.undo()
    assert store.insert_event_for_secret("acc", "secret-0", "later", NOW) is not None
    assert [e.payload for e in store.find_events_for_account("acc")] == ["later"]
    store.close()
