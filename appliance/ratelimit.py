"""Non-blocking delay throttles for the API's sensitive routes (reference §3.1, §3.2).

This module owns Offen's *delay* throttle, with one change: a throttle never
parks more than `max_waiting` worker threads at once.

Offen's semantics, kept as they are: the first call for an identifier passes at
once and blocks that identifier until `now + threshold`. A further call while
the identifier is blocked extends the block (by `threshold` when linear, by
`threshold x n` for the n-th call of a chain when exponential) and waits until
the previous block ends, then proceeds. A call that would have to wait longer
than `max_delay` (30 s) is refused.

What we change: Offen sleeps a server thread for every excess request, so
hammering `/api/login` could occupy every cheroot worker and stop event
collection for all sites. Here a call that would make more than `max_waiting`
requests of one throttle (one route group) wait at the same time is refused at
once with `Throttled(retry_after)`, which the web layer turns into
429 + `Retry-After`. A refused call does not extend the block, so its
`retry_after` is honest.

Privacy: identifiers (user ids, email addresses, account user ids) are never
kept as given. They are reduced to an HMAC-SHA256 under a random key made
fresh for each process, so the memory of the server never holds an email
address, and the digests mean nothing after a restart. Throttles are keyed by
identifier, never by IP address, so they stay on behind a reverse proxy.

Memory is bounded: an entry whose block has ended means the same as no entry
and is dropped on a periodic sweep; past `max_entries` the entries whose
blocks end soonest are dropped first.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from appliance.errors import Throttled

__all__ = ["Throttle"]

# One key per process: the digests cannot be linked to an identifier without
# it, and it never leaves memory.
_PROCESS_KEY = secrets.token_bytes(32)


@dataclass
class _Block:
    until: float  # clock value at which the identifier is free again
    length: int  # calls accepted in the current chain (the first one counts as 1)


class Throttle:
    """One route group's delay throttle; thread-safe.

    `clock` is a monotonic clock in seconds and `sleep` waits for a number of
    seconds; both are injected so tests can run on a fake clock.
    """

    def __init__(
        self,
        threshold: float,
        *,
        exponential: bool = False,
        max_waiting: int = 4,
        max_delay: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        max_entries: int = 10_000,
        sweep_interval: float = 60.0,
    ) -> None:
        if threshold <= 0:
            raise ValueError("threshold must be positive")
        if max_waiting < 0:
            raise ValueError("max_waiting must not be negative")
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.threshold = float(threshold)
        self.exponential = exponential
        self.max_waiting = max_waiting
        self.max_delay = float(max_delay)
        self._clock = clock
        self._sleep = sleep
        self._max_entries = max_entries
        self._sweep_interval = sweep_interval
        self._lock = threading.Lock()
        self._blocks: dict[bytes, _Block] = {}
        self._waiting = 0
        self._next_sweep = clock() + sweep_interval

    @property
    def waiting(self) -> int:
        """How many calls are waiting right now (never more than `max_waiting`)."""
        with self._lock:
            return self._waiting

    def __len__(self) -> int:
        """How many identifiers are held (blocked or not yet swept)."""
        with self._lock:
            return len(self._blocks)

    def wait(self, identifier: str) -> None:
        """Return after this identifier's delay (none for a first call).

        Raises `Throttled(retry_after)` at once, without waiting, when the call
        would wait longer than `max_delay` or when `max_waiting` calls of this
        throttle are already waiting. `retry_after` is the number of seconds
        until the identifier's current block ends.
        """
        # Keyed BLAKE2b: a MAC like HMAC-SHA256, in one C call (this runs on
        # every collected event).
        key = hashlib.blake2b(identifier.encode("utf-8"), key=_PROCESS_KEY, digest_size=32).digest()
        with self._lock:
            now = self._clock()
            self._sweep(now)
            block = self._blocks.get(key)
            if block is None or block.until <= now:
                # First call of a chain: passes, and blocks later calls.
                self._blocks[key] = _Block(until=now + self.threshold, length=1)
                self._evict_if_full()
                return
            delay = block.until - now
            if delay > self.max_delay or self._waiting >= self.max_waiting:
                # Refusing costs no thread; the block is not extended so the
                # client's Retry-After stays true.
                raise Throttled(retry_after=delay)
            block.length += 1
            block.until += self.threshold * (block.length if self.exponential else 1)
            self._waiting += 1
        try:
            self._sleep(delay)
        finally:
            with self._lock:
                self._waiting -= 1

    def _sweep(self, now: float) -> None:
        # Caller holds the lock. Ended blocks carry no information, so dropping
        # them changes no outcome; it only bounds memory.
        if now < self._next_sweep:
            return
        self._next_sweep = now + self._sweep_interval
        for key in [k for k, b in self._blocks.items() if b.until <= now]:
            del self._blocks[key]

    def _evict_if_full(self) -> None:
        # Caller holds the lock. Someone rotating identifiers must not grow
        # memory without bound: first drop ended blocks, then those ending
        # soonest (a tenth at a time, so this stays rare under pressure).
        if len(self._blocks) <= self._max_entries:
            return
        now = self._clock()
        for key in [k for k, b in self._blocks.items() if b.until <= now]:
            del self._blocks[key]
        excess = len(self._blocks) - self._max_entries
        if excess <= 0:
            return
        drop = max(excess, self._max_entries // 10)
        for key, _ in sorted(self._blocks.items(), key=lambda kv: kv[1].until)[:drop]:
            del self._blocks[key]
