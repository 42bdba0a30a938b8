"""The ingestion ceiling: the least a bottle app on cheroot can do per event.

Owns the comparison point of the ingestion benchmark. It takes the same body
and cookie as `POST /api/events` on `offen serve`, with the same cheroot
settings (`threads`, `request_queue_size`) and the same SQLite settings (WAL,
`synchronous=NORMAL`), and does the bare minimum: parse the JSON, hash the
visitor id, and one INSERT into a table with one index, answering 201
`{"ack":true}`. No consent check, no account lookup, no throttle, no ORM.

A lock serialises the inserts on one connection: SQLite allows one writer at a
time anyway, and a lock hands the write slot over faster than SQLite's
sleeping busy handler, so this is the faster (fairer) ceiling.

Run: `python -m bench.baseline --port P --db PATH [--threads 16] [--request-queue-size 128]`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import signal
import sqlite3
import sys
import threading
from collections.abc import Callable
from typing import Any

import bottle
from cheroot import wsgi
from ulid import ULID

__all__ = ["open_db", "build_app", "make_server", "main"]

HOST = "127.0.0.1"  # loopback only: this is a benchmark fixture, not a service
# Stands in for the per-account salt `offen serve` hashes visitor ids with.
_SALT = b"bench-baseline-salt"


def open_db(path: str) -> sqlite3.Connection:
    """One connection for all threads, WAL and synchronous=NORMAL, table and one index."""
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=5000")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS events ("
        " event_id TEXT PRIMARY KEY, sequence TEXT NOT NULL, account_id TEXT NOT NULL,"
        " secret_id TEXT NOT NULL, payload TEXT NOT NULL)"
    )
    conn.execute("CREATE INDEX IF NOT EXISTS idx_events_secret_id ON events (secret_id)")
    return conn


def build_app(conn: sqlite3.Connection) -> bottle.Bottle:
    """The ceiling app: `POST /api/events` (one insert) and `GET /healthz`."""
    app = bottle.Bottle()
    lock = threading.Lock()

    def error(status: int, message: str) -> str:
        bottle.response.status = status
        bottle.response.content_type = "application/json"
        return json.dumps({"error": message, "status": status})

    @app.post("/api/events")
    def post_events() -> str:
        user = bottle.request.get_cookie("user")
        if not user:
            return error(400, "user cookie: received no or blank identifier")
        try:
            body: Any = json.loads(bottle.request.body.read())
            account_id, payload = body["accountId"], body["payload"]
            if not isinstance(account_id, str) or not isinstance(payload, str):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return error(400, "bad request body")
        secret_id = hashlib.sha256(user.encode() + _SALT).hexdigest()
        event_id = str(ULID())
        with lock:
            conn.execute(
                "INSERT INTO events (event_id, sequence, account_id, secret_id, payload) VALUES (?, ?, ?, ?, ?)",
                (event_id, event_id, account_id, secret_id, payload),
            )
        bottle.response.status = 201
        bottle.response.content_type = "application/json"
        return '{"ack":true}'

    @app.route("/healthz", method=["GET", "HEAD"])
    def healthz() -> str:
        with lock:
            conn.execute("SELECT 1").fetchone()
        bottle.response.content_type = "application/json"
        return '{"ok":true}'

    return app


def make_server(
    app: Callable[..., Any], port: int, *, threads: int = 16, request_queue_size: int = 128
) -> wsgi.Server:
    """A cheroot server on 127.0.0.1 with the given worker threads and listen backlog."""
    return wsgi.Server((HOST, port), app, numthreads=threads, request_queue_size=request_queue_size)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Ingestion ceiling: bare bottle + cheroot + SQLite (WAL).")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", required=True, help="SQLite file (created if missing)")
    parser.add_argument("--threads", type=int, default=16, help="cheroot worker threads (default 16)")
    parser.add_argument("--request-queue-size", type=int, default=128, help="listen backlog (default 128)")
    args = parser.parse_args(argv)

    conn = open_db(args.db)
    server = make_server(
        build_app(conn), args.port, threads=args.threads, request_queue_size=args.request_queue_size
    )
    # Serve from a thread and wait here for SIGTERM/SIGINT: a KeyboardInterrupt
    # raised inside cheroot's accept loop can be swallowed or land mid-stop,
    # which left the process running (seen once in CI).
    received = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: received.set())
    server.prepare()
    host, port = server.bind_addr[:2]
    print(f"baseline listening on http://{host}:{port}/", flush=True)
    serving = threading.Thread(target=server.serve, name="baseline-serve", daemon=True)
    serving.start()
    try:
        while not received.wait(0.2) and serving.is_alive():
            pass
    finally:
        server.stop()
        serving.join(5)
        conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
