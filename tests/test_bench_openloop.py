"""Tests for bench/openloop.py against real cheroot servers on loopback (runs of about a second)."""

from __future__ import annotations

import json
import threading
import time

import bottle
import pytest

from bench.baseline import build_app, make_server, open_db
from bench.openloop import _percentile, find_max_rate, load_bodies, load_cookies, run_open_loop


def serve(app, threads=4):
    server = make_server(app, 0, threads=threads, request_queue_size=64)
    server.prepare()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    return server, thread


@pytest.fixture
def baseline_url(tmp_path):
    conn = open_db(str(tmp_path / "b.db"))
    server, thread = serve(build_app(conn))
    yield f"http://127.0.0.1:{server.bind_addr[1]}/api/events", conn
    server.stop()
    thread.join(5)
    conn.close()


@pytest.fixture
def slow_url():
    """Answers after 20 ms with 4 threads: a capacity of about 200 requests/s."""
    app = bottle.Bottle()

    @app.post("/slow")
    def slow():
        time.sleep(0.02)
        bottle.response.status = 201
        return "{}"

    server, thread = serve(app, threads=4)
    yield f"http://127.0.0.1:{server.bind_addr[1]}/slow"
    server.stop()
    thread.join(5)


BODY = json.dumps({"accountId": "a", "payload": "{1,} eA== eQ=="}).encode()


def test_sends_at_the_fixed_rate_and_measures_latency(baseline_url):
    url, conn = baseline_url
    cookies = [f"user=v{i}; consent=allow" for i in range(40)]
    result = run_open_loop(url, rate=100, seconds=1.0, bodies=[BODY], cookies=cookies, expect_status=201)
    assert result.scheduled == 100 and result.completed == 100 and result.errors == 0
    assert result.statuses == {"201": 100}
    assert 80 <= result.achieved_rate <= 110
    assert 0 < result.p50_ms <= result.p90_ms <= result.p99_ms <= result.max_ms < 1000
    # every scheduled request reached the server, visitors in turn
    assert conn.execute("SELECT count(*), count(DISTINCT secret_id) FROM events").fetchone() == (100, 40)


def test_unexpected_status_counts_as_error(baseline_url):
    url, _ = baseline_url
    result = run_open_loop(url, rate=50, seconds=0.4, bodies=[BODY], cookies=["consent=allow"])
    assert result.errors == result.scheduled == 20 and result.statuses == {"400": 20}
    result = run_open_loop(url, rate=50, seconds=0.4, bodies=[BODY], cookies=["user=x"], expect_status=204)
    assert result.errors == 20


def test_connection_failures_are_errors():
    # nothing listens on the port of a socket that was just closed
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run_open_loop(f"http://127.0.0.1:{port}/x", rate=20, seconds=0.5, bodies=[BODY], timeout=1)
    assert result.completed == 0 and result.errors == 10
    assert result.statuses == {"ConnectionRefusedError": 10}


def test_slow_answers_are_not_hidden(slow_url):
    # 2 connections for 100 requests/s of 20 ms each: requests wait for a free
    # connection; latency is counted from the scheduled time, so it grows.
    result = run_open_loop(slow_url, rate=150, seconds=1.0, bodies=[BODY], connections=2)
    assert result.errors == 0
    assert result.max_ms > 150  # a closed loop would report about 20 ms


@pytest.mark.slow
def test_find_max_rate_steps_up_until_p99_breaks(slow_url):
    seen = []
    best, steps = find_max_rate(
        slow_url, bodies=[BODY], start_rate=25, factor=4, seconds=1.0, max_rate=1000, on_step=seen.append
    )
    assert [s.target_rate for s in steps] == [r.target_rate for r in seen]
    assert [s.target_rate for s in steps][:2] == [25, 100]
    assert best in (25, 100)
    assert steps[-1].target_rate == 400 or best == 25  # 400/s is twice the capacity: it fails
    assert (
        steps[-1].p99_ms >= 100 or steps[-1].errors or steps[-1].achieved_rate < 0.95 * steps[-1].target_rate
    )


def test_refuses_non_loopback_and_unbounded_runs():
    with pytest.raises(ValueError, match="127.0.0.1"):
        run_open_loop("http://example.com/api/events", rate=1, seconds=1, bodies=[BODY])
    with pytest.raises(ValueError, match="seconds"):
        run_open_loop("http://127.0.0.1:1/", rate=1, seconds=10_000, bodies=[BODY])
    with pytest.raises(ValueError, match="rate"):
        run_open_loop("http://127.0.0.1:1/", rate=0, seconds=1, bodies=[BODY])


def test_percentile_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert (_percentile(values, 50), _percentile(values, 99), _percentile(values, 100)) == (50.0, 99.0, 100.0)
    assert _percentile([], 99) == 0.0
    assert _percentile([3.0], 50) == 3.0


def test_load_bodies_and_cookies(tmp_path):
    single = tmp_path / "one.json"
    single.write_text(json.dumps({"accountId": "a", "payload": "p"}, indent=2))
    assert load_bodies(str(single)) == [single.read_bytes().strip()]
    lines = tmp_path / "many.txt"
    lines.write_text('{"a": 1}\n{"a": 2}\n\n')
    assert load_bodies(str(lines)) == [b'{"a": 1}', b'{"a": 2}']
    cookies = tmp_path / "cookies.txt"
    cookies.write_text("user=a; consent=allow\n\nuser=b; consent=allow\n")
    assert load_cookies(str(cookies)) == ["user=a; consent=allow", "user=b; consent=allow"]
