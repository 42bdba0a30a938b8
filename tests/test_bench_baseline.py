"""Tests for bench/baseline.py: the ceiling app on a real cheroot server and a real SQLite file."""

from __future__ import annotations

import http.client
import json
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bench.baseline import build_app, make_server, open_db
from bench.footprint import wait_for_healthz

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def baseline(tmp_path):
    db = tmp_path / "baseline.db"
    conn = open_db(str(db))
    server = make_server(build_app(conn), 0, threads=4, request_queue_size=16)
    server.prepare()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    yield server.bind_addr[1], db, conn
    server.stop()
    thread.join(5)
    conn.close()


def post(port: int, body: str, cookie: str | None) -> tuple[int, bytes, str | None]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    headers = {"Content-Type": "application/json"}
    if cookie:
        headers["Cookie"] = cookie
    conn.request("POST", "/api/events", body=body, headers=headers)
    response = conn.getresponse()
    result = response.status, response.read(), response.getheader("Content-Type")
    conn.close()
    return result


def test_one_insert_per_event(baseline):
    port, db, _ = baseline
    for n in range(3):
        status, body, ctype = post(
            port, json.dumps({"accountId": "a", "payload": f"{{1,}} x{n} y"}), "user=u1"
        )
        assert (status, json.loads(body), ctype) == (201, {"ack": True}, "application/json")
    rows = sqlite3.connect(db).execute(
        "SELECT event_id, sequence, account_id, secret_id, payload FROM events"
    )
    rows = rows.fetchall()
    assert [r[4] for r in sorted(rows)] == ["{1,} x0 y", "{1,} x1 y", "{1,} x2 y"]
    assert len({r[0] for r in rows}) == 3 and all(r[0] == r[1] and len(r[0]) == 26 for r in rows)
    assert len({r[3] for r in rows}) == 1 and len(rows[0][3]) == 64  # hashed visitor id, not the cookie


def test_wal_synchronous_normal_and_one_index(baseline):
    _, db, server_conn = baseline
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    indexes = conn.execute("SELECT name FROM sqlite_master WHERE type='index' AND sql IS NOT NULL").fetchall()
    assert indexes == [("idx_events_secret_id",)]
    assert server_conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL


def test_refuses_without_user_cookie_or_with_bad_body(baseline):
    port, db, _ = baseline
    assert post(port, json.dumps({"accountId": "a", "payload": "p"}), None)[0] == 400
    assert post(port, "not json", "user=u1")[0] == 400
    assert post(port, json.dumps({"accountId": 1, "payload": "p"}), "user=u1")[0] == 400
    assert sqlite3.connect(db).execute("SELECT count(*) FROM events").fetchone()[0] == 0


@pytest.mark.slow
def test_runs_as_a_module_and_stops_on_sigterm(tmp_path):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.baseline",
            "--port",
            str(port),
            "--db",
            str(tmp_path / "b.db"),
            "--threads",
            "2",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert "listening on http://127.0.0.1:" in process.stdout.readline()
        wait_for_healthz(f"http://127.0.0.1:{port}/healthz", timeout=10, process=process)
        assert post(port, json.dumps({"accountId": "a", "payload": "p"}), "user=u; consent=allow")[0] == 201
        process.terminate()
        assert process.wait(10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
