"""appliance.ids: UUIDs, ULIDs (cross-checked with python-ulid) and sequences."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from ulid import ULID

from appliance import ids

NOW = datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)
CROCKFORD = set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")


def _ms(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


def test_new_uuid_is_v4():
    made = {ids.new_uuid() for _ in range(100)}
    assert len(made) == 100
    for value in made:
        assert uuid.UUID(value).version == 4 and str(uuid.UUID(value)) == value


def test_new_ulid_matches_python_ulid():
    value = ids.new_ulid(NOW)
    assert len(value) == 26 and set(value) <= CROCKFORD
    parsed = ULID.from_str(value)
    assert str(parsed) == value
    assert parsed.milliseconds == _ms(NOW)
    assert ids.ulid_time(value) == datetime(2024, 5, 1, 10, 0, 0, 123000, tzinfo=UTC)


def test_encoding_agrees_with_python_ulid_for_random_values():
    for _ in range(200):
        other = ULID()
        assert ids.ulid_time(str(other)) == datetime(1970, 1, 1, tzinfo=UTC) + timedelta(
            milliseconds=other.milliseconds
        )
        assert ids.is_ulid(str(other))


def test_ulid_floor():
    floor = ids.ulid_floor(NOW)
    assert floor == str(ULID.from_bytes(_ms(NOW).to_bytes(6, "big") + bytes(10)))
    assert floor.endswith("0" * 16)
    assert all(ids.new_ulid(NOW) >= floor for _ in range(100))
    earlier = NOW - timedelta(milliseconds=1)
    assert all(ids.new_ulid(earlier) < floor for _ in range(100))
    assert ids.ulid_time(floor) == NOW.replace(microsecond=123000)


def test_new_ulid_randomness_and_order():
    same_ms = [ids.new_ulid(NOW) for _ in range(1000)]
    assert len(set(same_ms)) == 1000
    assert len({value[:10] for value in same_ms}) == 1
    times = [NOW + timedelta(milliseconds=i * 7919) for i in range(300)]
    made = [ids.new_ulid(t) for t in times]
    assert made == sorted(made)


def test_time_zones_and_naive_datetimes():
    berlin = NOW.astimezone(timezone(timedelta(hours=2)))
    assert ids.ulid_floor(berlin) == ids.ulid_floor(NOW)
    assert ids.ulid_floor(NOW.replace(tzinfo=None)) == ids.ulid_floor(NOW)
    assert ids.ulid_time(ids.new_ulid(NOW)).tzinfo is UTC
    with pytest.raises(ValueError):
        ids.new_ulid(datetime(1969, 12, 31, tzinfo=UTC))


def test_ulid_time_parsing():
    value = ids.new_ulid(NOW)
    assert ids.ulid_time(value.lower()) == ids.ulid_time(value)
    for bad in [
        "",
        value[:-1],
        value + "0",
        "8" + value[1:],
        value[:5] + "U" + value[6:],
        value[:5] + "I" + value[6:],
    ]:
        assert not ids.is_ulid(bad)
        with pytest.raises(ValueError):
            ids.ulid_time(bad)
    assert not ids.is_ulid(None)
    assert ids.is_ulid("7ZZZZZZZZZZZZZZZZZZZZZZZZZ")
    with pytest.raises(ValueError):
        ids.ulid_time("7ZZZZZZZZZZZZZZZZZZZZZZZZZ")
    assert ids.ulid_time("00000000000000000000000000") == datetime(1970, 1, 1, tzinfo=UTC)


def test_sibling_ulid():
    original = ids.new_ulid(NOW)
    siblings = {ids.sibling_ulid(original) for _ in range(100)}
    assert original not in siblings and len(siblings) == 100
    assert all(s[:10] == original[:10] and ids.ulid_time(s) == ids.ulid_time(original) for s in siblings)
    with pytest.raises(ValueError):
        ids.sibling_ulid("not-a-ulid")


def test_next_sequence_takes_a_fresh_ulid_when_time_moves_on():
    first = ids.next_sequence(None, NOW)
    assert ids.ulid_time(first) == ids.ulid_time(ids.ulid_floor(NOW))
    later = ids.next_sequence(first, NOW + timedelta(seconds=1))
    assert later > first and ids.ulid_time(later) == ids.ulid_time(ids.ulid_floor(NOW + timedelta(seconds=1)))
    # A fresh random tail, not first + 1.
    assert later[10:] != first[10:]


@pytest.mark.parametrize(
    "last,expected",
    [
        ("01ARZ3NDEKTSV4RRFFQ69G5FAV", "01ARZ3NDEKTSV4RRFFQ69G5FAW"),
        ("01ARZ3NDEKTSV4RRFFQ69G5FAZ", "01ARZ3NDEKTSV4RRFFQ69G5FB0"),
        ("01ARZ3NDEKTSV4RRFFQ69GZZZZ", "01ARZ3NDEKTSV4RRFFQ69H0000"),
        ("01ARZ3NDEKZZZZZZZZZZZZZZZZ", "01ARZ3NDEM0000000000000000"),
        ("01arz3ndektsv4rrffq69g5faz", "01ARZ3NDEKTSV4RRFFQ69G5FB0"),
    ],
)
def test_next_sequence_carries_in_base32(last, expected):
    # The clock (2024) is behind the 2016 ids only if we pass an earlier moment.
    past = datetime(2000, 1, 1, tzinfo=UTC)
    assert ids.next_sequence(last, past) == expected
    assert int(ULID.from_str(expected)) == int(ULID.from_str(last.upper())) + 1


def test_next_sequence_at_the_very_end():
    with pytest.raises(OverflowError):
        ids.next_sequence("7ZZZZZZZZZZZZZZZZZZZZZZZZZ", NOW)
    with pytest.raises(ValueError):
        ids.next_sequence("garbage", NOW)


def test_ten_thousand_sequences_with_a_frozen_clock():
    last = None
    made = []
    for _ in range(10_000):
        last = ids.next_sequence(last, NOW)
        made.append(last)
    assert made == sorted(made) and len(set(made)) == len(made)
    assert all(ids.ulid_time(value) == NOW.replace(microsecond=123000) for value in made)


def test_ten_thousand_sequences_with_a_backwards_clock():
    last = ids.next_sequence(None, NOW)
    made = [last]
    for i in range(1, 10_000):
        # Jumps back an hour every 1000 steps and forward a little otherwise.
        moment = NOW - timedelta(hours=i // 1000) + timedelta(milliseconds=i % 1000)
        last = ids.next_sequence(last, moment)
        made.append(last)
    assert all(a < b for a, b in zip(made, made[1:], strict=False))
