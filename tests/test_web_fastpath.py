"""The collection fast path answers exactly as the bottle route does.

Two copies of the same seeded database sit behind two apps: the bottle app
alone, and the fast path in front of it. The same requests go to both, with
the same clock, and the answers (status line, headers, body), the stored rows
and the log lines must match.
"""

from __future__ import annotations

import io
import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from appliance import errors, keys
from appliance.web import build_app, build_services
from appliance.web.fastpath import collection_fast_path
from tests.conftest import seeded_harness

USER = "0b6f2b0e-5c5e-4a43-9c57-6f1d0d7c3a11"
STRANGER = "7d7c3a11-0b6f-4a43-9c57-6f1d0d7c3a11"
HOST = "offen.example.test"


class Pair:
    """The same instance twice: bottle only, and bottle behind the fast path."""

    def __init__(self, tmp_path: Path, clock, seeded_template, **overrides: str) -> None:
        self.sides: dict[str, Any] = {}
        self.logs: dict[str, list[str]] = {}
        for name in ("bottle", "fast"):
            (tmp_path / name).mkdir(parents=True)
            harness = seeded_harness(tmp_path / name, clock, seeded_template, **overrides)
            records: list[str] = []
            harness.ctx.logger = _ListLogger(name, records)
            self.logs[name] = records
            self.sides[name] = harness
        self.account_id = self.sides["bottle"].account_id
        self.rebuild()
        # Both visitors hold a secret for the account on both sides (the exchange goes through bottle).
        info = json.loads(self.request("GET", f"/api/exchange?accountId={self.account_id}")["bottle"][2])
        wrapped = keys.wrap_for_account(info["publicKey"], b'{"kty":"oct","k":"AAAAAAAAAAAAAAAAAAAAAA"}')
        exchange = json.dumps({"accountId": self.account_id, "encryptedSecret": wrapped}).encode()
        for user in (USER, STRANGER):
            answers = self.request("POST", "/api/exchange", exchange, cookie=f"user={user}")
            assert answers["bottle"][0].startswith("204") and answers["fast"][0].startswith("204")

    def rebuild(self, max_waiting: int | None = None) -> None:
        self.apps = {}
        for name, harness in self.sides.items():
            if max_waiting is not None:
                harness.ctx.throttle_max_waiting = max_waiting
                harness.services = build_services(harness.ctx)
            bottle_app = build_app(harness.ctx, harness.services)
            self.apps[name] = (
                bottle_app
                if name == "bottle"
                else collection_fast_path(bottle_app, harness.ctx, harness.services)
            )

    def request(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        *,
        cookie: str = "",
        headers: dict[str, str] | None = None,
        scheme: str = "http",
        chunked: bool = False,
    ) -> dict[str, tuple[str, list[tuple[str, str]], bytes]]:
        answers = {}
        for name, app in self.apps.items():
            path_info, _, query = path.partition("?")
            environ = {
                "REQUEST_METHOD": method,
                "PATH_INFO": path_info,
                "QUERY_STRING": query,
                "SCRIPT_NAME": "",
                "SERVER_NAME": HOST,
                "SERVER_PORT": "80",
                "SERVER_PROTOCOL": "HTTP/1.1",
                "HTTP_HOST": HOST,
                "wsgi.input": io.BytesIO(body),
                "wsgi.errors": io.StringIO(),
                "wsgi.url_scheme": scheme,
                "wsgi.version": (1, 0),
                "wsgi.multithread": True,
                "wsgi.multiprocess": False,
                "wsgi.run_once": False,
            }
            if chunked:
                # The server hands the app the raw chunked stream; bottle decodes it.
                environ["HTTP_TRANSFER_ENCODING"] = "chunked"
                environ["wsgi.input"] = io.BytesIO(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
            elif body or method == "POST":
                environ["CONTENT_LENGTH"] = str(len(body))
            if cookie:
                environ["HTTP_COOKIE"] = cookie
            for key, value in (headers or {}).items():
                environ["HTTP_" + key.upper().replace("-", "_")] = value
            seen: dict[str, Any] = {}

            def start_response(
                status: str, header_list: list[tuple[str, str]], exc_info: Any = None, seen: dict = seen
            ) -> Any:
                seen["status"], seen["headers"] = status, header_list
                return lambda data: None

            result = app(environ, start_response)
            data = b"".join(result)
            if hasattr(result, "close"):
                result.close()
            answers[name] = (seen["status"], sorted(seen["headers"]), data)
        return answers

    def same(self, *args: Any, **kwargs: Any) -> tuple[str, dict[str, str], bytes]:
        answers = self.request(*args, **kwargs)
        assert answers["fast"] == answers["bottle"]
        status, headers, body = answers["fast"]
        return status, dict(headers), body

    def stored(self) -> dict[str, list[tuple[str, str, str]]]:
        out = {}
        for name, harness in self.sides.items():
            path = Path(harness.store._db.path)
            with sqlite3.connect(path) as conn:
                out[name] = sorted(conn.execute("SELECT account_id, secret_id, payload FROM events"))
        return out

    def close(self) -> None:
        for harness in self.sides.values():
            harness.store.close()


class _ListLogger(logging.Logger):
    def __init__(self, name: str, records: list[str]) -> None:
        super().__init__(f"test-fastpath-{name}")
        self._records = records

    def _log(self, level: int, msg: object, args: Any, exc_info: Any = None, **kwargs: Any) -> None:  # type: ignore[override]
        self._records.append(f"{logging.getLevelName(level)} {msg % args if args else msg}|{bool(exc_info)}")


@pytest.fixture
def pair(tmp_path, clock, seeded_template):
    made = Pair(tmp_path, clock, seeded_template)
    yield made
    made.close()


def event_body(account_id: str, payload: str = "{1,} eA== eA==") -> bytes:
    return json.dumps({"accountId": account_id, "payload": payload}).encode()


def test_stored_event_answers_alike(pair):
    status, headers, body = pair.same(
        "POST", "/api/events", event_body(pair.account_id), cookie=f"user={USER}; consent=allow"
    )
    assert status == "201 Created" and body == b'{"ack":true}'
    assert headers["Cache-Control"] == "no-store" and headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Set-Cookie"].startswith(f"user={USER}; Path=/api; Expires=")
    stored = pair.stored()
    assert stored["fast"] == stored["bottle"] and len(stored["fast"]) == 1


def test_https_and_reverse_proxy_cookies_alike(pair, tmp_path, clock, seeded_template):
    status, headers, _ = pair.same(
        "POST",
        "/api/events",
        event_body(pair.account_id),
        cookie=f"user={USER}; consent=allow",
        scheme="https",
    )
    assert status.startswith("201") and "Partitioned" in headers["Set-Cookie"]
    assert headers["Strict-Transport-Security"] == "max-age=15768000"
    proxied = Pair(tmp_path / "proxy", clock, seeded_template, OFFEN_SERVER_REVERSEPROXY="true")
    try:
        status, headers, _ = proxied.same(
            "POST",
            "/api/events",
            event_body(proxied.account_id),
            cookie=f"user={USER}; consent=allow",
            headers={"X-Forwarded-Proto": "https"},
        )
        assert status.startswith("201") and "Secure" in headers["Set-Cookie"]
    finally:
        proxied.close()


@pytest.mark.parametrize(
    ("cookie", "body", "code"),
    [
        ("", b"{}", "204"),
        (f"user={USER}; consent=deny", b"{}", "204"),
        (f"user={USER}", b"not even json", "204"),
        ("consent=allow", b"{}", "400"),
        ("consent=allow; user=", b"{}", "400"),
        (f"user={USER}; consent=allow", b"not json", "400"),
        (f"user={USER}; consent=allow", b"[1, 2]", "400"),
        (f"user={USER}; consent=allow", b'{"payload": "x"}', "400"),
        (f"user={USER}; consent=allow", b'{"accountId": "nope", "payload": "{1,} eA== eA=="}', "404"),
        (f"user={USER}; consent=allow", b'{"accountId": "ACCOUNT", "payload": ""}', "400"),
        (f"user={USER}; consent=allow", b'{"accountId": "ACCOUNT", "payload": 5}', "400"),
        (f"user={'f' * 36}; consent=allow", b'{"accountId": "ACCOUNT", "payload": "{1,} eA== eA=="}', "400"),
        (f"user={USER}; consent=allow", b"\xff\xfe", "400"),
    ],
)
def test_refusals_answer_alike(pair, cookie, body, code):
    body = body.replace(b"ACCOUNT", pair.account_id.encode())
    status, headers, answer = pair.same("POST", "/api/events", body, cookie=cookie)
    assert status.startswith(code)
    if code == "204":
        assert answer == b"" and "Set-Cookie" not in headers
    else:
        parsed = json.loads(answer)
        assert parsed["status"] == int(code) and parsed["error"]
        assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert pair.stored() == {"bottle": [], "fast": []}


def test_cross_site_writes_refused_alike(pair):
    body = event_body(pair.account_id)
    cookie = f"user={USER}; consent=allow"
    status, _, answer = pair.same(
        "POST", "/api/events", body, cookie=cookie, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert status.startswith("403") and b"Sec-Fetch-Site" in answer
    status, _, _ = pair.same(
        "POST", "/api/events", body, cookie=cookie, headers={"Origin": "https://evil.test"}
    )
    assert status.startswith("403")
    status, _, _ = pair.same(
        "POST",
        "/api/events",
        body,
        cookie=cookie,
        headers={"Origin": f"http://{HOST}", "Sec-Fetch-Site": "same-origin"},
    )
    assert status.startswith("201")
    assert len(pair.stored()["fast"]) == 1


def test_throttled_visitor_gets_429_with_retry_after_alike(pair, clock):
    pair.rebuild(max_waiting=0)
    cookie = f"user={USER}; consent=allow"
    first = pair.same("POST", "/api/events", event_body(pair.account_id), cookie=cookie)
    assert first[0].startswith("201")
    status, headers, answer = pair.same("POST", "/api/events", event_body(pair.account_id), cookie=cookie)
    assert status == "429 Too Many Requests" and headers["Retry-After"] == "1"
    assert json.loads(answer)["status"] == 429
    # Another visitor is not held up by the first one's throttle.
    other = pair.same(
        "POST", "/api/events", event_body(pair.account_id), cookie=f"user={STRANGER}; consent=allow"
    )
    assert other[0].startswith("201")
    clock.advance(1)
    assert pair.same("POST", "/api/events", event_body(pair.account_id), cookie=cookie)[0].startswith("201")
    assert len(pair.stored()["fast"]) == 3


def test_store_failures_are_500_and_logged_alike(pair, monkeypatch):
    cookie = f"user={USER}; consent=allow"
    for harness in pair.sides.values():

        def broken(*args: Any, **kwargs: Any) -> None:
            raise errors.StoreError("database error (OperationalError: disk I/O error)")

        monkeypatch.setattr(harness.store, "insert_event_for_secret", broken)
    status, _, answer = pair.same("POST", "/api/events", event_body(pair.account_id), cookie=cookie)
    assert status.startswith("500") and json.loads(answer)["status"] == 500
    for harness in pair.sides.values():

        def crashing(*args: Any, **kwargs: Any) -> None:
            raise RuntimeError("boom")

        monkeypatch.setattr(harness.store, "insert_event_for_secret", crashing)
    status, _, answer = pair.same("POST", "/api/events", event_body(pair.account_id), cookie=cookie)
    assert json.loads(answer) == {"error": "an internal error occurred", "status": 500}
    assert pair.logs["fast"] == pair.logs["bottle"] and len(pair.logs["fast"]) == 2
    assert USER not in "".join(pair.logs["fast"])


def test_other_requests_and_chunked_bodies_go_to_bottle(pair):
    cookie = f"user={USER}; consent=allow"
    status, _, _ = pair.same("POST", "/api/events", event_body(pair.account_id), cookie=cookie, chunked=True)
    assert status.startswith("201")
    # Event ids are random: the visitor's own view is compared by its shape.
    views = pair.request("GET", "/api/events", cookie=cookie)
    assert views["fast"][0] == views["bottle"][0] == "200 OK"
    shapes = {name: json.loads(body)["events"][pair.account_id] for name, (_, _, body) in views.items()}
    assert [e["payload"] for e in shapes["fast"]] == [e["payload"] for e in shapes["bottle"]]
    assert pair.same("POST", "/api/events/", event_body(pair.account_id), cookie=cookie)[0].startswith("307")
    pair.same("PUT", "/api/events", event_body(pair.account_id), cookie=cookie)
    assert pair.same("GET", "/healthz")[0].startswith("200")
