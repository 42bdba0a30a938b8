"""Live traffic for the dashboard benchmark's refresh measurement, through the real HTTP API.

While the dashboard is open, new visitors arrive (`GET /api/exchange` for
the account's public key once, then per visitor `POST /api/exchange` with a
freshly wrapped secret and a first `POST /api/events`) at `visitors_per_s`,
and returning visitors post events at `events_per_s`, as the vault would:
payloads from bench/generate.py, AES-GCM under the visitor's key, cookies
`user=<id>; consent=allow`. It is an open loop: requests are scheduled at
fixed times whatever the answers, sent by a few threads, each with its own
keep-alive connection.

Every visitor posts at most one event per second (the server throttles a
visitor to one event per 0.5 s, and answers 429 when too many wait), taking
turns with the visitor idle longest, so a pool of visitors is registered before
the timed traffic begins. Run alone with
`python -m bench.injector --port P --account ID --seconds 20`.
"""

from __future__ import annotations

import argparse
import collections
import http.client
import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from appliance import keys
from bench.generate import _iso, encrypt_payload, make_payloads, new_user_secret

__all__ = ["Injector", "InjectorStats", "main"]

# The server delays a visitor's second event within 0.5 s and answers 429 when too many wait.
MIN_GAP_S = 1.0


@dataclass
class InjectorStats:
    """What the injector did; `ok`/`errors` count answered requests by outcome."""

    visitors: int = 0
    events: int = 0
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    started: float = 0.0
    stopped: float = 0.0
    max_lag_ms: float = 0.0

    def as_json(self) -> dict[str, Any]:
        seconds = max(1e-9, (self.stopped or time.monotonic()) - self.started)
        return {
            "seconds": round(seconds, 1),
            "new_visitors": self.visitors,
            "events": self.events,
            "visitors_per_s": round(self.visitors / seconds, 1),
            "events_per_s": round(self.events / seconds, 1),
            "errors": self.errors,
            "error_samples": self.error_samples[:5],
            "max_send_lag_ms": round(self.max_lag_ms, 1),
        }


@dataclass
class _Visitor:
    user_id: str
    secret: bytes
    last_sent: float = 0.0


class Injector:
    """Open-loop visitor and event traffic against one account of a running `offen serve`."""

    def __init__(
        self,
        host: str,
        port: int,
        account_id: str,
        *,
        visitors_per_s: float = 10.0,
        events_per_s: float = 50.0,
        pool: int = 80,
        threads: int = 16,
        source: str | None = "127.0.0.3",
        seed: int = 99,
        timeout: float = 10.0,
    ) -> None:
        self.host, self.port, self.account_id = host, port, account_id
        self.visitors_per_s, self.events_per_s = visitors_per_s, events_per_s
        self.pool_size, self.threads, self.source, self.timeout = pool, threads, source, timeout
        self.stats = InjectorStats()
        self._payloads = make_payloads(2000, seed=seed)
        self._payload_index = 0
        # Idle visitors, the one that posted longest ago first.
        self._visitors: collections.deque[_Visitor] = collections.deque()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._local = threading.local()
        self._public_key: dict | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._scheduler: threading.Thread | None = None

    # -- HTTP ------------------------------------------------------------------------

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            source = (self.source, 0) if self.source else None
            conn = http.client.HTTPConnection(
                self.host, self.port, timeout=self.timeout, source_address=source
            )
            self._local.conn = conn
        return conn

    def _request(self, method: str, path: str, body: str | None, user_id: str | None) -> tuple[int, bytes]:
        headers = {"Content-Type": "application/json"}
        if user_id:
            headers["Cookie"] = f"user={user_id}; consent=allow"
        for attempt in range(2):
            conn = self._connection()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                return response.status, response.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                self._local.conn = None
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    def _payload(self) -> str:
        with self._lock:
            payload = dict(self._payloads[self._payload_index % len(self._payloads)])
            self._payload_index += 1
        payload["timestamp"] = _iso(datetime.now(UTC))
        return payload  # type: ignore[return-value]

    def _error(self, text: str) -> None:
        with self._lock:
            self.stats.errors += 1
            if len(self.stats.error_samples) < 5:
                self.stats.error_samples.append(text)

    # -- the two kinds of traffic ------------------------------------------------------

    def public_key(self) -> dict:
        if self._public_key is None:
            status, body = self._request("GET", f"/api/exchange?accountId={self.account_id}", None, None)
            if status != 200:
                raise RuntimeError(f"GET /api/exchange answered {status}: {body[:200]!r}")
            self._public_key = json.loads(body)["publicKey"]
        return self._public_key

    def new_visitor(self, *, counted: bool = True) -> _Visitor | None:
        """Exchange a fresh secret and post a first event; None (and an error counted) on failure."""
        visitor = _Visitor(str(uuid.uuid4()), new_user_secret())
        jwk = {
            "alg": "A128GCM",
            "ext": True,
            "k": keys.b64url_encode(visitor.secret),
            "key_ops": ["encrypt", "decrypt"],
            "kty": "oct",
        }
        wrapped = keys.wrap_for_account(self.public_key(), json.dumps(jwk, separators=(",", ":")).encode())
        try:
            body = json.dumps({"accountId": self.account_id, "encryptedSecret": wrapped})
            status, answer = self._request("POST", "/api/exchange", body, visitor.user_id)
            if status != 204:
                self._error(f"exchange {status}: {answer[:120]!r}")
                return None
            if not self._post_event(visitor):
                return None
        except (OSError, http.client.HTTPException) as error:
            self._error(f"exchange: {error}")
            return None
        with self._lock:
            self._visitors.append(visitor)
            if counted:
                self.stats.visitors += 1
        return visitor

    def _post_event(self, visitor: _Visitor) -> bool:
        payload = encrypt_payload(visitor.secret, self._payload())  # type: ignore[arg-type]
        body = json.dumps({"accountId": self.account_id, "payload": payload})
        visitor.last_sent = time.monotonic()
        status, answer = self._request("POST", "/api/events", body, visitor.user_id)
        if status != 201:
            self._error(f"event {status}: {answer[:120]!r}")
            return False
        with self._lock:
            self.stats.events += 1
        return True

    def returning_event(self) -> None:
        with self._lock:
            if not self._visitors:
                self._error("event: no idle visitor (all busy)")
                return
            visitor = self._visitors.popleft()
        # Arrival order at the server can differ from send order: keep a wide gap.
        wait = visitor.last_sent + MIN_GAP_S - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        try:
            self._post_event(visitor)
        except (OSError, http.client.HTTPException) as error:
            self._error(f"event: {error}")
        finally:
            with self._lock:
                self._visitors.append(visitor)

    # -- running ------------------------------------------------------------------------

    def prepare(self) -> None:
        """Register the pool of returning visitors (not counted as new), in parallel."""
        self.public_key()
        with ThreadPoolExecutor(self.threads) as pool:
            list(pool.map(lambda _: self.new_visitor(counted=False), range(self.pool_size)))
        if not self._visitors:
            raise RuntimeError(f"the injector could not register any visitor: {self.stats.error_samples}")
        with self._lock:
            self.stats = InjectorStats()

    def start(self) -> Injector:
        """Begin the timed traffic (after `prepare`) in background threads."""
        if not self._visitors:
            self.prepare()
        self._executor = ThreadPoolExecutor(self.threads, thread_name_prefix="injector")
        self.stats.started = time.monotonic()
        self._scheduler = threading.Thread(target=self._schedule, name="injector-scheduler", daemon=True)
        self._scheduler.start()
        return self

    def _schedule(self) -> None:
        assert self._executor is not None
        started = self.stats.started
        next_visitor = next_event = 0
        while not self._stop.is_set():
            now = time.monotonic() - started
            due_visitor = next_visitor / self.visitors_per_s if self.visitors_per_s > 0 else float("inf")
            due_event = next_event / self.events_per_s if self.events_per_s > 0 else float("inf")
            due = min(due_visitor, due_event)
            if due > now:
                self._stop.wait(min(due - now, 0.05))
                continue
            with self._lock:
                self.stats.max_lag_ms = max(self.stats.max_lag_ms, (now - due) * 1000)
            if due_visitor <= due_event:
                next_visitor += 1
                self._executor.submit(self.new_visitor)
            else:
                next_event += 1
                self._executor.submit(self.returning_event)

    def stop(self) -> InjectorStats:
        self._stop.set()
        if self._scheduler is not None:
            self._scheduler.join(timeout=5)
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
        self.stats.stopped = time.monotonic()
        return self.stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.injector", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.2")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--account", required=True)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--visitors-per-s", type=float, default=10)
    parser.add_argument("--events-per-s", type=float, default=50)
    args = parser.parse_args(argv)
    injector = Injector(
        args.host,
        args.port,
        args.account,
        visitors_per_s=args.visitors_per_s,
        events_per_s=args.events_per_s,
    )
    injector.prepare()
    injector.start()
    time.sleep(args.seconds)
    print(json.dumps(injector.stop().as_json(), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
