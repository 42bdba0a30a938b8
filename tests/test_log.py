"""Tests for appliance.log: the anonymised access log, redaction and address scrubbing."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import webtest

from appliance.log import access_log, configure_logging, redact_path, scrub_addresses

CLF = re.compile(r'^- - - \[(?P<time>[^\]]+)\] "(?P<request>[^"]*)" (?P<status>\d{3}) -$')


def fixed_clock() -> datetime:
    return datetime(2006, 1, 2, 15, 4, 5, tzinfo=timezone(timedelta(hours=-7)))


def make_app(status: str = "200 OK", body: bytes = b"ok") -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ["PATH_INFO"] == "/boom":
            raise RuntimeError("failed on purpose")
        empty = status.startswith(("204", "304"))
        start_response(status, [] if empty else [("Content-Type", "text/plain")])
        return [] if empty else [body]

    return app


def lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def test_access_log_line_format() -> None:
    out = io.StringIO()
    client = webtest.TestApp(access_log(make_app(), out, fixed_clock))
    client.get(
        "/auditorium/",
        headers={"User-Agent": "Mozilla/5.0 SecretBrowser", "Referer": "https://news.example/story"},
        extra_environ={"REMOTE_ADDR": "203.0.113.9"},
    )
    (line,) = lines(out)
    assert line == '- - - [02/Jan/2006:15:04:05 -0700] "GET /auditorium/ HTTP/1.0" 200 -'
    assert "203.0.113.9" not in out.getvalue()
    assert "SecretBrowser" not in out.getvalue() and "news.example" not in out.getvalue()


@pytest.mark.parametrize(
    ("status", "logged"),
    [("200 OK", "200"), ("204 No Content", "200"), ("301 Moved Permanently", "200"),
     ("304 Not Modified", "200"), ("399 Odd", "200"), ("400 Bad Request", "400"),
     ("401 Unauthorized", "401"), ("404 Not Found", "404"), ("429 Too Many Requests", "429"),
     ("502 Bad Gateway", "502")],
)  # fmt: skip
def test_statuses_2xx_and_3xx_are_logged_as_200(status: str, logged: str) -> None:
    out = io.StringIO()
    client = webtest.TestApp(access_log(make_app(status), out, fixed_clock))
    client.get("/x", status="*")
    match = CLF.match(lines(out)[0])
    assert match and match["status"] == logged


def test_tokens_and_query_strings_are_redacted() -> None:
    out = io.StringIO()
    client = webtest.TestApp(access_log(make_app(), out, fixed_clock))
    client.get("/reset-password/eyJhbGciOi.secret-token/")
    client.get("/join/invitation-token-123")
    client.get("/api/events?since=01HXYZ&user=1")
    client.post("/api/login", "{}")
    text = out.getvalue()
    assert "secret-token" not in text and "invitation-token" not in text and "01HXYZ" not in text
    requests = [CLF.match(line)["request"] for line in lines(out)]  # type: ignore[index]
    assert requests == [
        "GET /reset-password/…redacted…/ HTTP/1.0",
        "GET /join/…redacted… HTTP/1.0",
        "GET /api/events?… HTTP/1.0",
        "POST /api/login HTTP/1.0",
    ]


def test_log_lines_cannot_be_forged() -> None:
    out = io.StringIO()
    app = access_log(make_app(), out, fixed_clock)
    environ = {
        "REQUEST_METHOD": 'GET" 200 -\n- - -',
        "PATH_INFO": b'/a b"\r\n- - - [fake] "GET / HTTP/1.1" 200 -'.decode("latin-1"),
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1\n",
    }
    body = app(environ, lambda status, headers, exc_info=None: None)
    list(body)
    # A finished (list) body is logged at once; anything else when it closes.
    getattr(body, "close", lambda: None)()
    assert len(lines(out)) == 1
    assert CLF.match(lines(out)[0])
    assert "\r" not in out.getvalue()


def test_exception_is_logged_as_500() -> None:
    out = io.StringIO()
    app = access_log(make_app(), out, fixed_clock)
    with pytest.raises(RuntimeError):
        app({"REQUEST_METHOD": "GET", "PATH_INFO": "/boom", "SERVER_PROTOCOL": "HTTP/1.1"}, lambda *a: None)
    assert lines(out) == ['- - - [02/Jan/2006:15:04:05 -0700] "GET /boom HTTP/1.1" 500 -']


def test_line_is_written_once_when_body_closes() -> None:
    out = io.StringIO()
    closed: list[bool] = []

    class Body:
        def __iter__(self) -> Iterator[bytes]:
            yield b"a"

        def close(self) -> None:
            closed.append(True)

    def app(environ: dict[str, Any], start_response: Any) -> Body:
        start_response("200 OK", [])
        return Body()

    wrapped = access_log(app, out, fixed_clock)
    body = wrapped(
        {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "SERVER_PROTOCOL": "HTTP/1.1"}, lambda *a: None
    )
    assert out.getvalue() == ""
    assert list(body) == [b"a"]
    body.close()  # type: ignore[attr-defined]
    body.close()  # type: ignore[attr-defined]
    assert closed == [True, True] and len(lines(out)) == 1


def test_time_uses_english_month_and_utc_offset() -> None:
    out = io.StringIO()
    clock = lambda: datetime(2024, 12, 31, 23, 59, 59, tzinfo=UTC)  # noqa: E731
    client = webtest.TestApp(access_log(make_app(), out, clock))
    client.get("/")
    assert CLF.match(lines(out)[0])["time"] == "31/Dec/2024:23:59:59 +0000"  # type: ignore[index]


@pytest.mark.parametrize(
    ("path", "query", "expected"),
    [
        ("/", "", "/"),
        ("/reset-password/abc", "", "/reset-password/…redacted…"),
        ("/reset-password/abc/", "", "/reset-password/…redacted…/"),
        ("/Reset-Password/abc/def", "", "/Reset-Password/…redacted…"),
        ("/join/", "", "/join/"),
        ("/join", "x=1", "/join?…"),
        ("/de/join/tok", "", "/de/join/…redacted…"),
        ("/über uns", "", "/%C3%BCber%20uns"),
        ("/api/accounts/9b63c4d8", "since=x", "/api/accounts/9b63c4d8?…"),
    ],
)
def test_redact_path(path: str, query: str, expected: str) -> None:
    assert redact_path(path, query) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Client ('127.0.0.1', 54321) lost", "Client <address> lost"),
        ("from ('::1', 5555, 0, 0)", "from <address>"),
        ("Client 203.0.113.9:51234 attempted", "Client <address> attempted"),
        ("peer [2001:db8::7]:443 gone", "peer <address> gone"),
        ("fe80::1%eth0 and ::ffff:10.0.0.1", "<address> and <address>"),
        ("at 15:04:05 on 2006-01-02", "at 15:04:05 on 2006-01-02"),
        ("version 1.2.3 line 1234", "version 1.2.3 line 1234"),
        ("('localhost', 80)", "('localhost', 80)"),
    ],
)
def test_scrub_addresses(text: str, expected: str) -> None:
    assert scrub_addresses(text) == expected


def test_configure_logging_levels_and_scrubbing() -> None:
    out = io.StringIO()
    logger = configure_logging("warn", out)
    assert logger.name == "offen" and logger.level == logging.WARNING
    logging.getLogger("offen.web").info("not shown")
    logging.getLogger("offen.web").warning("client %s failed", "198.51.100.4")
    try:
        raise ValueError("from 198.51.100.4:40000")
    except ValueError:
        logger.exception("boom")
    text = out.getvalue()
    assert "not shown" not in text
    assert "client <address> failed" in text
    assert "198.51.100.4" not in text and "40000" not in text
    assert "Traceback" in text
    # reconfiguring replaces the handler instead of stacking one more
    out2 = io.StringIO()
    configure_logging("DEBUG", out2)
    logging.getLogger("offen").debug("once")
    assert out2.getvalue().count("once") == 1 and "once" not in out.getvalue()
    with pytest.raises(ValueError):
        configure_logging("verbose", out2)


def test_finished_bodies_are_logged_at_once_and_streams_when_closed() -> None:
    out = io.StringIO()
    app = access_log(make_app("201 Created"), out, fixed_clock)
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/api/events", "SERVER_PROTOCOL": "HTTP/1.1"}
    assert app(environ, lambda *a: None) == [b"ok"]
    assert lines(out) == ['- - - [02/Jan/2006:15:04:05 -0700] "POST /api/events HTTP/1.1" 200 -']

    def streaming(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("404 Not Found", [])
        yield b"x"

    out = io.StringIO()
    body = access_log(streaming, out, fixed_clock)(dict(environ, QUERY_STRING="id=1"), lambda *a: None)
    assert list(body) == [b"x"] and lines(out) == []
    body.close()  # type: ignore[attr-defined]
    assert lines(out) == ['- - - [02/Jan/2006:15:04:05 -0700] "POST /api/events?… HTTP/1.1" 404 -']
