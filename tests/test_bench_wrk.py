"""Tests for bench/wrk.py: output parsing, and the Lua script against a real cheroot server."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import bottle
import pytest

from bench.baseline import make_server
from bench.wrk import LUA_SCRIPT, parse_wrk_output, run_wrk, write_lua, wrk_binary

FIXTURES = Path(__file__).parent / "fixtures" / "bench"
needs_wrk = pytest.mark.skipif(wrk_binary() is None, reason="wrk is not installed")


def test_parses_the_done_hook_json_line():
    result = parse_wrk_output((FIXTURES / "wrk_non2xx.txt").read_text())
    assert result.requests == 6252
    assert result.non_2xx == 6252 and result.errors == 6252
    assert result.socket_errors == {"connect": 0, "read": 0, "write": 0, "timeout": 0}
    assert (result.p50_ms, result.p90_ms, result.p99_ms, result.max_ms) == (1.209, 1.921, 3.02, 10.226)
    assert result.requests_per_s == pytest.approx(6252 / 2.00149)


def test_parses_the_latency_text_without_the_json_line():
    text = "\n".join(
        line
        for line in (FIXTURES / "wrk_non2xx.txt").read_text().splitlines()
        if not line.startswith("WRK_JSON")
    )
    from_text = parse_wrk_output(text)
    from_json = parse_wrk_output((FIXTURES / "wrk_non2xx.txt").read_text())
    assert from_text.requests == from_json.requests
    assert from_text.non_2xx == from_json.non_2xx
    assert from_text.requests_per_s == pytest.approx(from_json.requests_per_s, rel=0.01)
    for name in ("p50_ms", "p90_ms", "p99_ms", "max_ms"):
        assert getattr(from_text, name) == pytest.approx(getattr(from_json, name), rel=0.01), name


def test_text_units_and_socket_errors():
    text = """Running 15s test @ http://127.0.0.1:8080/api/events
  2 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   850.12us    1.10ms    1.20s    95.00%
    Req/Sec     1.20k   100.00     1.50k    70.00%
  Latency Distribution
     50%  612.00us
     75%    1.01ms
     90%    2.00ms
     99%  150.30ms
  36000 requests in 15.01s, 5.00MB read
  Socket errors: connect 0, read 3, write 0, timeout 2
Requests/sec:   2398.40
Transfer/sec:    341.00KB
"""
    result = parse_wrk_output(text)
    assert result.p50_ms == pytest.approx(0.612)
    assert result.p99_ms == pytest.approx(150.3)
    assert result.max_ms == pytest.approx(1200.0)
    assert result.seconds == pytest.approx(15.01)
    assert result.socket_errors == {"connect": 0, "read": 3, "write": 0, "timeout": 2}
    assert result.non_2xx == 0 and result.errors == 5


def test_refuses_output_without_latency_distribution():
    with pytest.raises(ValueError, match="--latency"):
        parse_wrk_output("Running 1s test @ http://127.0.0.1:1/\n  1 requests in 1.00s, 1KB read\n")


def test_refuses_non_loopback_targets(tmp_path):
    with pytest.raises(ValueError, match="127.0.0.1"):
        run_wrk("http://example.com/", body_file=tmp_path / "b", connections=1, seconds=1)


def test_write_lua(tmp_path):
    path = write_lua(tmp_path)
    assert path.read_text() == LUA_SCRIPT and "Connection" in LUA_SCRIPT


@pytest.fixture
def recorder():
    """Records the cookie and client port of every request; /missing answers 404."""
    seen: list[tuple[str, str]] = []
    lock = threading.Lock()
    app = bottle.Bottle()

    @app.post("/api/events")
    def events():
        with lock:
            seen.append((bottle.request.get_header("Cookie", ""), bottle.request.environ["REMOTE_PORT"]))
        bottle.request.body.read()
        bottle.response.status = 201
        return '{"ack":true}'

    server = make_server(app, 0, threads=8, request_queue_size=128)
    server.prepare()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.bind_addr[1]}", seen
    server.stop()
    thread.join(5)


@pytest.fixture
def files(tmp_path):
    bodies = tmp_path / "bodies.txt"
    bodies.write_text('{"accountId":"a","payload":"{1,} eA== eQ=="}\n')
    cookies = tmp_path / "cookies.txt"
    cookies.write_text("".join(f"user=visitor{i}; consent=allow\n" for i in range(40_000)))
    return bodies, cookies


@needs_wrk
@pytest.mark.slow
def test_keep_alive_rotates_distinct_visitors(recorder, files):
    base, seen = recorder
    result = run_wrk(base + "/api/events", body_file=files[0], cookie_file=files[1], connections=4, seconds=1)
    assert result.errors == 0 and result.requests > 50
    assert result.connections == 4 and result.new_connection is False
    cookies = Counter(cookie for cookie, _ in seen)
    assert len(seen) >= result.requests
    assert max(cookies.values()) == 1  # every request a different visitor
    assert all(c.startswith("user=visitor") and c.endswith("; consent=allow") for c in cookies)
    assert len({port for _, port in seen}) <= 4  # keep-alive: one connection each


@needs_wrk
@pytest.mark.slow
def test_new_connection_per_request(recorder, files):
    base, seen = recorder
    result = run_wrk(
        base + "/api/events",
        body_file=files[0],
        cookie_file=files[1],
        connections=2,
        seconds=1,
        new_connection=True,
    )
    assert result.errors == 0 and result.requests > 20 and result.new_connection is True
    ports = {port for _, port in seen}
    assert len(ports) >= 0.9 * len(seen)  # a fresh client port (connection) per request


@needs_wrk
@pytest.mark.slow
def test_non_2xx_answers_are_errors(recorder, files):
    base, _ = recorder
    result = run_wrk(base + "/missing", body_file=files[0], connections=1, seconds=1)
    assert result.requests > 0 and result.non_2xx == result.requests == result.errors
