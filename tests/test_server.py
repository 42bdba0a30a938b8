"""Tests for appliance.server: real cheroot servers on 127.0.0.1, plain and TLS."""

from __future__ import annotations

import gc
import http.client
import io
import os
import signal
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from appliance.server import Server, run_until_signalled
from tests.certs import self_signed_cert

pytestmark = pytest.mark.slow


def make_cert(folder: Path) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 and localhost."""
    certfile, keyfile = self_signed_cert(folder)
    return str(certfile), str(keyfile)


class TinyApp:
    """A WSGI app: /slow sleeps, /boom raises; records concurrency."""

    def __init__(self, delay: float = 0.5) -> None:
        self.delay = delay
        self.entered = threading.Event()
        self.lock = threading.Lock()
        self.current = 0
        self.peak = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        path = environ["PATH_INFO"]
        if path == "/boom":
            raise RuntimeError("the app failed on purpose")
        if path == "/slow":
            with self.lock:
                self.current += 1
                self.peak = max(self.peak, self.current)
            self.entered.set()
            time.sleep(self.delay)
            with self.lock:
                self.current -= 1
        body = f"hello {environ['wsgi.url_scheme']} {path}".encode()
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    return make_cert(tmp_path_factory.mktemp("server-certs"))


@pytest.fixture
def errors() -> io.StringIO:
    return io.StringIO()


@pytest.fixture
def started() -> Iterator[list[Server]]:
    servers: list[Server] = []
    yield servers
    for server in servers:
        server.stop()


def serve(started: list[Server], app: Any, errors: io.StringIO, **kw: Any) -> Server:
    server = Server(app, "127.0.0.1", 0, error_stream=errors, shutdown_timeout=3, **kw)
    server.start()
    started.append(server)
    return server


def get(server: Server, path: str, context: ssl.SSLContext | None = None) -> tuple[int, bytes]:
    if context is None:
        conn: http.client.HTTPConnection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    else:
        conn = http.client.HTTPSConnection("127.0.0.1", server.port, timeout=5, context=context)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_plain_http(started: list[Server], errors: io.StringIO) -> None:
    server = serve(started, TinyApp(), errors)
    assert server.port > 0
    assert server.url == f"http://127.0.0.1:{server.port}"
    assert get(server, "/hi") == (200, b"hello http /hi")


def test_https_from_certificate_files(
    started: list[Server], errors: io.StringIO, certs: tuple[str, str]
) -> None:
    server = serve(started, TinyApp(), errors, certfile=certs[0], keyfile=certs[1])
    assert server.url == f"https://127.0.0.1:{server.port}"
    context = ssl.create_default_context(cafile=certs[0])
    assert get(server, "/secure", context) == (200, b"hello https /secure")


def test_request_in_flight_finishes_during_stop(started: list[Server], errors: io.StringIO) -> None:
    app = TinyApp(delay=0.5)
    server = serve(started, app, errors)
    result: dict[str, Any] = {}

    def slow_request() -> None:
        result["response"] = get(server, "/slow")

    client = threading.Thread(target=slow_request)
    client.start()
    assert app.entered.wait(3)
    began = time.monotonic()
    server.stop()
    assert time.monotonic() - began >= 0.3  # stop waited for the request
    client.join(5)
    assert result["response"] == (200, b"hello http /slow")
    assert server.wait(1)
    with pytest.raises(OSError):  # no longer accepting
        get(server, "/after")


def test_address_in_use_is_readable(started: list[Server], errors: io.StringIO) -> None:
    first = serve(started, TinyApp(), errors)
    second = Server(TinyApp(), "127.0.0.1", first.port, error_stream=errors)
    with pytest.raises(OSError) as info:
        second.start()
    assert "already in use" in str(info.value)
    assert str(first.port) in str(info.value)


def _wait_for(predicate: Any, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_failed_tls_handshakes_leave_no_client_address(
    started: list[Server], errors: io.StringIO, certs: tuple[str, str]
) -> None:
    server = serve(started, TinyApp(), errors, certfile=certs[0], keyfile=certs[1])
    client_ports: list[int] = []

    # 1. plain HTTP spoken to the TLS port (with headers that must not be logged),
    # 2. raw garbage, 3. a handshake abandoned halfway
    plain_http = (
        b"GET /reset-password/tok HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"User-Agent: SecretAgent/1.0\r\nReferer: https://private.example/\r\n\r\n"
    )
    for payload in (plain_http, b"\x16\x03\x01\x00\x05garbage-garbage\r\n\r\n", b"\x16\x03\x01"):
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
            client_ports.append(raw.getsockname()[1])
            raw.sendall(payload)
            raw.shutdown(socket.SHUT_WR)
            try:
                raw.recv(1024)
            except OSError:  # cheroot may reset the connection instead of answering
                pass

    assert _wait_for(lambda: errors.getvalue().count("cheroot:") >= 3)
    server.stop()
    log = errors.getvalue()
    assert "<address>" in log  # cheroot did name the client; we scrubbed it
    assert "127.0.0.1" not in log
    for port in client_ports:
        assert str(port) not in log
    assert "SecretAgent" not in log and "private.example" not in log


def test_app_errors_are_logged_without_address(started: list[Server], errors: io.StringIO) -> None:
    server = serve(started, TinyApp(), errors)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.connect()
    port = conn.sock.getsockname()[1]
    conn.request("GET", "/boom")
    assert conn.getresponse().status == 500
    conn.close()
    assert _wait_for(lambda: "the app failed on purpose" in errors.getvalue())
    log = errors.getvalue()
    assert "Traceback" in log
    assert "127.0.0.1" not in log and str(port) not in log


def test_threads_setting_is_honoured(started: list[Server], errors: io.StringIO) -> None:
    app = TinyApp(delay=0.3)
    server = serve(started, app, errors, threads=2)
    results: list[tuple[int, bytes]] = []
    clients = [threading.Thread(target=lambda: results.append(get(server, "/slow"))) for _ in range(5)]
    for c in clients:
        c.start()
    for c in clients:
        c.join(10)
    assert len(results) == 5 and all(status == 200 for status, _ in results)
    assert app.peak == 2


def test_url_for_wildcard_and_ipv6_hosts() -> None:
    app = TinyApp()
    assert Server(app, "0.0.0.0", 8080).url == "http://127.0.0.1:8080"
    assert Server(app, "127.0.0.1", 3000).url == "http://127.0.0.1:3000"
    assert Server(app, "::", 443, certfile="c", keyfile="k").url == "https://[::1]:443"
    assert Server(app, "localhost", 80).url == "http://localhost:80"
    with pytest.raises(ValueError):
        Server(app, "127.0.0.1", 1, certfile="only-cert.pem")


def test_run_until_signalled_stops_gracefully_on_sigterm(errors: io.StringIO) -> None:
    app = TinyApp(delay=0.4)
    server = Server(app, "127.0.0.1", 0, error_stream=errors, shutdown_timeout=3)
    server.start()
    before = signal.getsignal(signal.SIGTERM)
    stopped: list[bool] = []
    result: dict[str, Any] = {}

    def client_then_signal() -> None:
        # only signal once our handler is installed, or SIGTERM would end pytest
        assert _wait_for(lambda: signal.getsignal(signal.SIGTERM) is not before)
        requester = threading.Thread(target=lambda: result.setdefault("r", get(server, "/slow")))
        requester.start()
        assert app.entered.wait(3)
        os.kill(os.getpid(), signal.SIGTERM)
        requester.join(5)

    helper = threading.Thread(target=client_then_signal)
    helper.start()
    gc.unfreeze()
    try:
        run_until_signalled(server, on_stop=lambda: stopped.append(True))
        # The start-up heap was frozen out of the collector's full walks.
        frozen = gc.get_freeze_count()
    finally:
        gc.unfreeze()
    helper.join(5)
    assert frozen > 1000
    assert stopped == [True]
    assert result["r"] == (200, b"hello http /slow")
    assert not server.running
    assert signal.getsignal(signal.SIGTERM) is before


def test_closed_connections_are_freed_without_the_garbage_collector(errors: io.StringIO) -> None:
    from cheroot.server import HTTPConnection

    server = Server(TinyApp(), "127.0.0.1", 0, error_stream=errors)
    server.start()
    gc.collect()
    gc.disable()
    try:
        for _ in range(60):
            assert get(server, "/")[0] == 200

        def lingering() -> int:
            return sum(1 for o in gc.get_objects() if isinstance(o, HTTPConnection))

        # Each worker thread holds on to the last connection it served (a
        # local variable) until its next one; every other one is gone.
        assert _wait_for(lambda: lingering() <= server.threads)
    finally:
        gc.enable()
        server.stop()
