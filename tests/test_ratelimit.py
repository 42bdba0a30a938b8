"""Tests for appliance.ratelimit: Offen's delay semantics, bounded waiting, bounded memory."""

from __future__ import annotations

import threading
import time

import pytest

from appliance.errors import Throttled
from appliance.ratelimit import Throttle


class FakeTime:
    """A clock whose sleep advances it; records every sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def test_first_call_passes_without_waiting() -> None:
    t = FakeTime()
    throttle = Throttle(1.0, clock=t.clock, sleep=t.sleep)
    throttle.wait("alice@example.com")
    assert t.sleeps == []


def test_linear_delays_extend_by_threshold() -> None:
    t = FakeTime()
    throttle = Throttle(1.0, clock=t.clock, sleep=t.sleep, max_waiting=100)
    for _ in range(4):
        throttle.wait("user-1")
    # blocked until 1001, then 1002, 1003: each call waits for the previous block
    assert t.sleeps == pytest.approx([1.0, 2.0, 3.0])


def test_exponential_delays_grow_with_queue_length() -> None:
    t = FakeTime()
    throttle = Throttle(1.0, exponential=True, clock=t.clock, sleep=t.sleep, max_waiting=100)
    for _ in range(4):
        throttle.wait("user-1")
    # until: 1001, +2 -> 1003, +3 -> 1006, +4 -> 1010
    assert t.sleeps == pytest.approx([1.0, 3.0, 6.0])


def test_block_ends_and_identifiers_are_independent() -> None:
    t = FakeTime()
    throttle = Throttle(2.0, clock=t.clock, sleep=t.sleep)
    throttle.wait("a")
    throttle.wait("b")  # another identifier is not delayed
    assert t.sleeps == []
    t.now += 0.5
    throttle.wait("a")
    assert t.sleeps == pytest.approx([1.5])
    t.now += 10  # both blocks over
    throttle.wait("a")
    assert t.sleeps == pytest.approx([1.5])


def test_refused_beyond_max_delay_with_retry_after() -> None:
    t = FakeTime()
    throttle = Throttle(10.0, clock=t.clock, sleep=t.sleep, max_waiting=100, max_delay=30.0)
    for _ in range(4):  # until 1010, 1020, 1030, 1040
        throttle.wait("x")
    assert t.sleeps == pytest.approx([10.0, 20.0, 30.0])
    with pytest.raises(Throttled) as info:
        throttle.wait("x")
    assert info.value.retry_after == pytest.approx(40.0)
    # the refusal did not extend the block
    t.now += 5
    with pytest.raises(Throttled) as info:
        throttle.wait("x")
    assert info.value.retry_after == pytest.approx(35.0)
    t.now += 6
    throttle.wait("x")  # 29 s left now: allowed
    assert t.sleeps[-1] == pytest.approx(29.0)


def test_refused_beyond_max_waiting_while_others_wait() -> None:
    t = FakeTime()
    release = threading.Event()
    entered = threading.Semaphore(0)

    def blocking_sleep(seconds: float) -> None:
        entered.release()
        assert release.wait(5)

    throttle = Throttle(1.0, max_waiting=2, clock=t.clock, sleep=blocking_sleep)
    throttle.wait("victim")  # first call passes
    errors: list[BaseException] = []

    def call() -> None:
        try:
            throttle.wait("victim")
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    waiters = [threading.Thread(target=call) for _ in range(2)]
    for w in waiters:
        w.start()
    for _ in waiters:
        assert entered.acquire(timeout=5)
    assert throttle.waiting == 2
    started = time.monotonic()
    with pytest.raises(Throttled) as info:
        throttle.wait("victim")
    assert time.monotonic() - started < 0.5  # refused at once, no thread parked
    assert info.value.retry_after == pytest.approx(3.0)
    # the bound is per throttle, not per identifier
    throttle.wait("someone-else")  # first call still passes
    with pytest.raises(Throttled):
        throttle.wait("someone-else")
    release.set()
    for w in waiters:
        w.join(5)
    assert errors == []
    assert throttle.waiting == 0


def test_hammering_never_parks_more_than_max_waiting_threads() -> None:
    # real clock, real (short) sleeps
    lock = threading.Lock()
    current = 0
    peak = 0

    def counting_sleep(seconds: float) -> None:
        nonlocal current, peak
        with lock:
            current += 1
            peak = max(peak, current)
        try:
            time.sleep(seconds)
        finally:
            with lock:
                current -= 1

    throttle = Throttle(0.05, max_waiting=3, sleep=counting_sleep)
    outcomes = {"passed": 0, "refused": 0}
    start = threading.Barrier(24)

    def hammer() -> None:
        start.wait()
        for _ in range(8):
            try:
                throttle.wait("admin@example.com")
                result = "passed"
            except Throttled as exc:
                assert exc.retry_after > 0
                result = "refused"
            with lock:
                outcomes[result] += 1

    threads = [threading.Thread(target=hammer) for _ in range(24)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(10)
    assert not any(th.is_alive() for th in threads)
    assert 1 <= peak <= 3
    assert outcomes["passed"] + outcomes["refused"] == 24 * 8
    assert outcomes["refused"] > 0
    assert throttle.waiting == 0


def test_identifiers_are_not_held_in_memory() -> None:
    t = FakeTime()
    throttle = Throttle(1.0, clock=t.clock, sleep=t.sleep)
    email = "private.person@example.com"
    throttle.wait(email)
    held = list(throttle._blocks)  # the keys are all it keeps
    assert len(held) == 1
    assert email.encode() not in held[0]
    assert isinstance(held[0], bytes) and len(held[0]) == 32
    # the same identifier maps to the same entry
    throttle.wait(email)
    assert len(throttle) == 1


def test_idle_entries_expire() -> None:
    t = FakeTime()
    throttle = Throttle(1.0, clock=t.clock, sleep=t.sleep, sweep_interval=60.0)
    for i in range(50):
        throttle.wait(f"user-{i}")
    assert len(throttle) == 50
    t.now += 61
    throttle.wait("late")
    assert len(throttle) == 1


def test_memory_is_bounded_under_identifier_rotation() -> None:
    t = FakeTime()
    throttle = Throttle(30.0, clock=t.clock, sleep=t.sleep, max_entries=100)
    for i in range(1000):
        throttle.wait(f"rotating-{i}@example.com")
        assert len(throttle) <= 100
    assert t.sleeps == []


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        Throttle(0)
    with pytest.raises(ValueError):
        Throttle(1, max_waiting=-1)
