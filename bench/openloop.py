"""Open-loop load generator: requests leave at a fixed rate whatever the answers.

Owns the open-loop half of the ingestion benchmark. A closed-loop tool (wrk)
waits for an answer before sending the next request on a connection, so a slow
server is sent less work and its slow answers are hidden ("coordinated
omission"). Here every request has its own scheduled send time `t0 + i/rate`;
a scheduler thread releases it at that time to a pool of keep-alive
connections, and its latency is measured from the *scheduled* time, so time
spent waiting for a free connection or a busy server counts.

Only loopback targets are accepted, runs are bounded in rate and duration.

Run: `python -m bench.openloop --url http://127.0.0.1:P/api/events --rate 500 --seconds 15
--body-file F --cookie 'user=...; consent=allow'` (or `--cookie-file` with one cookie
header per line, to post as a distinct visitor each time), `--find-max` to step the
rate up to the highest one with p99 under 100 ms.
"""

from __future__ import annotations

import argparse
import http.client
import json
import queue
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit

__all__ = ["OpenLoopResult", "run_open_loop", "find_max_rate", "load_bodies", "load_cookies", "main"]

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_SECONDS = 600.0
MAX_RATE = 20_000.0
MAX_CONNECTIONS = 512


@dataclass
class OpenLoopResult:
    """What one run at one rate measured; latencies in milliseconds from the scheduled send time."""

    target_rate: float
    seconds: float
    scheduled: int
    completed: int  # answered, whatever the status
    errors: int  # unexpected status, connection failures, and requests not answered in time
    achieved_rate: float  # answered requests per second of wall time
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    max_send_lag_ms: float  # how far the scheduler itself fell behind (the generator's own limit)
    statuses: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        return (
            f"target {self.target_rate:.0f}/s for {self.seconds:.0f}s: achieved {self.achieved_rate:.1f}/s,"
            f" p50 {self.p50_ms:.1f} ms, p90 {self.p90_ms:.1f} ms, p99 {self.p99_ms:.1f} ms,"
            f" max {self.max_ms:.1f} ms, errors {self.errors}, statuses {self.statuses},"
            f" scheduler lag max {self.max_send_lag_ms:.1f} ms"
        )


def _percentile(ordered: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of an ascending sequence (0.0 when empty)."""
    if not ordered:
        return 0.0
    rank = max(1, -(-len(ordered) * pct // 100))  # ceil without floats going astray
    return ordered[min(len(ordered), int(rank)) - 1]


def _check_url(url: str) -> tuple[str, int, str]:
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname not in LOOPBACK_HOSTS:
        raise ValueError(f"only http://127.0.0.1 targets are allowed, not {url!r}")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.hostname, parts.port or 80, path


class _Worker(threading.Thread):
    """One keep-alive connection taking scheduled requests off the shared queue."""

    def __init__(
        self, host: str, port: int, jobs: queue.Queue, record: Callable, request: Callable, timeout: float
    ):
        super().__init__(daemon=True)
        self.host, self.port, self.timeout = host, port, timeout
        self.jobs, self.record, self.request = jobs, record, request
        self.conn: http.client.HTTPConnection | None = None

    def _send(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> int:
        for attempt in (1, 2):
            reused = self.conn is not None
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                response.read()
                if response.will_close:
                    self.conn.close()
                    self.conn = None
                return response.status
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = None
                # A keep-alive connection the server closed while idle: retry once on
                # a new one, as browsers do; a fresh connection failing is an error.
                if not reused or attempt == 2:
                    raise
            except Exception:
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                raise
        raise AssertionError("unreachable")

    def run(self) -> None:
        while (job := self.jobs.get()) is not None:
            index, scheduled = job
            method, path, body, headers = self.request(index)
            try:
                status: int | str = self._send(method, path, body, headers)
            except Exception as exc:  # every failure is a measured error, not a crash
                status = type(exc).__name__
            self.record(scheduled, time.perf_counter(), status)
        if self.conn is not None:
            self.conn.close()


def run_open_loop(
    url: str,
    *,
    rate: float,
    seconds: float,
    bodies: Sequence[bytes],
    cookies: Sequence[str] = (),
    connections: int = 64,
    timeout: float = 10.0,
    expect_status: int | None = None,
) -> OpenLoopResult:
    """POST `bodies` (and `cookies`, request i uses entry i mod len) at `rate` per second for `seconds`.

    A request counts as an error if its status is not 2xx (or not `expect_status`
    when given, e.g. 201 so a silently ignored 204 does not pass), if the
    connection fails, or if it is still unanswered `timeout` seconds after the
    schedule ends.
    """
    host, port, path = _check_url(url)
    if not 0 < rate <= MAX_RATE:
        raise ValueError(f"rate must be in (0, {MAX_RATE:.0f}]")
    if not 0 < seconds <= MAX_SECONDS:
        raise ValueError(f"seconds must be in (0, {MAX_SECONDS:.0f}]")
    if not bodies:
        raise ValueError("at least one body is needed")
    connections = max(1, min(connections, MAX_CONNECTIONS))

    def request(index: int) -> tuple[str, str, bytes, dict[str, str]]:
        body = bodies[index % len(bodies)]
        headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
        if cookies:
            headers["Cookie"] = cookies[index % len(cookies)]
        return "POST", path, body, headers

    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    lock = threading.Lock()

    def record(scheduled: float, done: float, status: int | str) -> None:
        with lock:
            latencies.append(done - scheduled)
            statuses[str(status)] += 1

    jobs: queue.Queue = queue.Queue()
    workers = [_Worker(host, port, jobs, record, request, timeout) for _ in range(connections)]
    for worker in workers:
        worker.start()

    total = max(1, int(rate * seconds))
    interval = 1.0 / rate
    max_lag = 0.0
    start = time.perf_counter() + 0.05  # let the workers reach their queue.get()
    for index in range(total):
        scheduled = start + index * interval
        now = time.perf_counter()
        if scheduled > now:
            time.sleep(scheduled - now)
        else:
            max_lag = max(max_lag, now - scheduled)
        jobs.put((index, scheduled))
    for _ in workers:
        jobs.put(None)
    deadline = time.perf_counter() + timeout + 1.0
    for worker in workers:
        worker.join(max(0.0, deadline - time.perf_counter()))
    end = time.perf_counter()

    with lock:
        ordered = sorted(latencies)
        status_counts = dict(statuses)
    unanswered = total - len(ordered)
    answered = sum(n for s, n in status_counts.items() if s.isdigit())

    def ok(status: str) -> bool:
        return status.isdigit() and (
            int(status) == expect_status if expect_status else status.startswith("2")
        )

    errors = unanswered + sum(n for s, n in status_counts.items() if not ok(s))
    if unanswered:
        status_counts["unanswered"] = unanswered
    return OpenLoopResult(
        target_rate=rate,
        seconds=seconds,
        scheduled=total,
        completed=answered,
        errors=errors,
        achieved_rate=answered / max(end - start, 1e-9),
        p50_ms=_percentile(ordered, 50) * 1000,
        p90_ms=_percentile(ordered, 90) * 1000,
        p99_ms=_percentile(ordered, 99) * 1000,
        max_ms=(ordered[-1] * 1000) if ordered else 0.0,
        max_send_lag_ms=max_lag * 1000,
        statuses=status_counts,
    )


def find_max_rate(
    url: str,
    *,
    bodies: Sequence[bytes],
    cookies: Sequence[str] = (),
    start_rate: float = 100.0,
    factor: float = 1.25,
    max_rate: float = 5000.0,
    seconds: float = 5.0,
    p99_limit_ms: float = 100.0,
    connections: int = 64,
    expect_status: int | None = None,
    on_step: Callable[[OpenLoopResult], None] | None = None,
) -> tuple[float, list[OpenLoopResult]]:
    """Step the rate up by `factor` until p99 reaches `p99_limit_ms` (or errors, or the server falls behind).

    Returns the highest rate that passed (0.0 if even `start_rate` failed) and every step's result.
    A step passes with p99 under the limit, no errors, and at least 95 % of the target rate answered.
    """
    if factor <= 1.0:
        raise ValueError("factor must be above 1")
    best = 0.0
    steps: list[OpenLoopResult] = []
    rate = start_rate
    while rate <= max_rate:
        result = run_open_loop(
            url,
            rate=rate,
            seconds=seconds,
            bodies=bodies,
            cookies=cookies,
            connections=connections,
            expect_status=expect_status,
        )
        steps.append(result)
        if on_step is not None:
            on_step(result)
        passed = result.p99_ms < p99_limit_ms and result.errors == 0 and result.achieved_rate >= 0.95 * rate
        if not passed:
            break
        best = rate
        rate = round(rate * factor)
    return best, steps


def load_bodies(path: str) -> list[bytes]:
    """One JSON body per file, or one per line (as `bench.generate.make_bodies` would write them)."""
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        json.loads(data)
        return [data.strip()]
    except ValueError:
        bodies = [line.strip() for line in data.splitlines() if line.strip()]
        if not bodies:
            raise ValueError(f"{path} holds no body") from None
        return bodies


def load_cookies(path: str) -> list[str]:
    """One Cookie header value per line (`user=...; consent=allow`)."""
    with open(path, encoding="utf-8") as handle:
        return [line.strip() for line in handle if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Open-loop POST load generator (loopback only).")
    parser.add_argument("--url", required=True)
    parser.add_argument("--rate", type=float, default=500.0, help="requests per second (default 500)")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--body-file", required=True, help="a JSON body, or one body per line")
    parser.add_argument("--cookie", help="Cookie header for every request")
    parser.add_argument("--cookie-file", help="one Cookie header per line, used in turn")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--expect-status", type=int, help="the only status that counts as success")
    parser.add_argument("--find-max", action="store_true", help="step the rate up from --rate")
    parser.add_argument("--p99-limit-ms", type=float, default=100.0)
    parser.add_argument("--json", action="store_true", help="print results as JSON lines")
    args = parser.parse_args(argv)

    bodies = load_bodies(args.body_file)
    cookies = load_cookies(args.cookie_file) if args.cookie_file else ([args.cookie] if args.cookie else [])

    def show(result: OpenLoopResult) -> None:
        print(json.dumps(asdict(result)) if args.json else result.summary(), flush=True)

    if args.find_max:
        best, _ = find_max_rate(
            args.url,
            bodies=bodies,
            cookies=cookies,
            start_rate=args.rate,
            seconds=args.seconds,
            p99_limit_ms=args.p99_limit_ms,
            connections=args.connections,
            expect_status=args.expect_status,
            on_step=show,
        )
        print(f"highest rate with p99 < {args.p99_limit_ms:.0f} ms: {best:.0f}/s")
        return 0
    result = run_open_loop(
        args.url,
        rate=args.rate,
        seconds=args.seconds,
        bodies=bodies,
        cookies=cookies,
        connections=args.connections,
        expect_status=args.expect_status,
    )
    show(result)
    return 0 if result.errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
