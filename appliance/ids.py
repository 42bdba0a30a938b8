"""Identifiers: UUIDs for rows and people, ULIDs for events and sequences.

Event ids and sync sequences are ULIDs (reference §4.2): 48-bit millisecond
timestamp plus 80 random bits, written as 26 upper-case Crockford base32
characters, so that string order equals time order. Every ``since`` and expiry
query compares these strings, which is why this module owns the encoding and
the strictly increasing `next_sequence`.

The clock is always passed in (aware UTC; a naive datetime is taken as UTC).
Randomness comes from the OS CSPRNG (Offen used a seeded math/rand; ours is
not guessable, which matters because event ids are shown to clients).
"""

from __future__ import annotations

import os
import re
import secrets
import threading
import uuid
from datetime import UTC, datetime, timedelta

__all__ = ["is_ulid", "new_ulid", "new_uuid", "next_sequence", "sibling_ulid", "ulid_floor", "ulid_time"]

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_DECODE = {c: i for i, c in enumerate(_ALPHABET)}
_LENGTH = 26
_TIME_CHARS = 10
_RANDOM_BITS = 80
_MAX_TIME = (1 << 48) - 1
_MAX_ULID = (1 << 128) - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# 26 base32 chars hold 130 bits; a valid ULID's first char is therefore 0-7.
_ULID_RE = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}")


def new_uuid() -> str:
    """A random (version 4) UUID string, as Offen uses for accounts, users and visitors."""
    return str(uuid.uuid4())


def _ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    ms = (moment - _EPOCH) // timedelta(milliseconds=1)
    if not 0 <= ms <= _MAX_TIME:
        raise ValueError("the moment is outside the ULID time range")
    return ms


# Every 10-bit value as its two characters: a ULID is 13 such pairs, which
# halves the Python work of encoding one (two per collected event).
_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]


def _encode(value: int) -> str:
    pairs = _PAIRS
    return "".join([pairs[(value >> shift) & 1023] for shift in range(120, -10, -10)])


def _decode(value: str) -> int:
    text = value.upper() if isinstance(value, str) else ""
    if not _ULID_RE.fullmatch(text):
        raise ValueError(f"not a ULID: {value!r}")
    number = 0
    for char in text:
        number = (number << 5) | _DECODE[char]
    return number


def is_ulid(value: object) -> bool:
    """True for a 26-character Crockford base32 ULID (either case)."""
    return isinstance(value, str) and _ULID_RE.fullmatch(value.upper()) is not None


class _RandomPool:
    """80-bit random numbers from the OS generator, fetched 4 KiB at a time.

    Every collected event needs one; a system call each was a measurable
    share of collecting an event. The bytes are the same `os.urandom` bytes,
    each handed out once.
    """

    _CHUNK = 4090  # a multiple of 10 bytes

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buffer = b""
        self._offset = 0

    def bits80(self) -> int:
        with self._lock:
            if self._offset >= len(self._buffer):
                self._buffer, self._offset = os.urandom(self._CHUNK), 0
            start = self._offset
            self._offset += 10
            return int.from_bytes(self._buffer[start : start + 10], "big")


_RANDOM = _RandomPool()


def new_ulid(now: datetime) -> str:
    """A ULID at the millisecond of `now` with 80 cryptographically random bits."""
    return _encode((_ms(now) << _RANDOM_BITS) | _RANDOM.bits80())


def ulid_floor(moment: datetime) -> str:
    """The smallest ULID of that millisecond: every event at or after it compares >= it."""
    return _encode(_ms(moment) << _RANDOM_BITS)


def ulid_time(value: str) -> datetime:
    """The (aware UTC) millisecond encoded in a ULID; ValueError when it is not one."""
    try:
        return _EPOCH + timedelta(milliseconds=_decode(value) >> _RANDOM_BITS)
    except OverflowError as exc:
        # ULID time runs to the year 10889, datetime only to 9999.
        raise ValueError(f"the ULID's time is beyond the year 9999: {value!r}") from exc


def sibling_ulid(event_id: str) -> str:
    """A new random ULID with the same timestamp, for parked copies of events (reference §2.6)."""
    stamp = _decode(event_id) >> _RANDOM_BITS
    return _encode((stamp << _RANDOM_BITS) | secrets.randbits(_RANDOM_BITS))


def next_sequence(last: str | None, now: datetime, fresh: str | None = None) -> str:
    """A sequence strictly greater than `last`.

    A fresh ULID at `now` (or `fresh`, a ULID the caller just made at `now`)
    when it sorts after `last`; otherwise `last` + 1. Clients keep the highest
    sequence they saw as their checkpoint, so a stalled or backwards clock
    must never hand out an equal or smaller one.
    """
    fresh = fresh or new_ulid(now)
    if last is None:
        return fresh
    # Same-length upper-case Crockford strings sort like the numbers they
    # encode: the common case needs no decoding (event ingestion's hot path).
    if len(last) == _LENGTH and fresh > last and last == last.upper():
        return fresh
    previous = _decode(last)
    if _decode(fresh) > previous:
        return fresh
    if previous == _MAX_ULID:
        raise OverflowError("no ULID is greater than the maximum")
    return _encode(previous + 1)
