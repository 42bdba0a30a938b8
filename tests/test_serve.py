"""The real `offen` command: setup, serve over plain HTTP and HTTPS, expire, graceful stop.

Everything the server prints is read back at the end: it must never contain
the client's address, user agent or referrer, even after failed TLS
handshakes.
"""

from __future__ import annotations

import json
import signal
import socket
import ssl
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from appliance import keys
from appliance.store import open_store
from tests.protocol_client import Visitor, decrypt_operator_view, pageview
from tests.realserver import (
    CLIENT_SOURCE,
    SERVER_HOST,
    OffenProcess,
    free_port,
    offen_environment,
    run_offen,
    self_signed_cert,
)

pytestmark = pytest.mark.slow

EMAIL, PASSWORD = "Owner@Example.test", "a long enough password"
USER_AGENT = "Mozilla/5.0 (PrivacyProbe 31337)"
REFERRER = "https://referrer.example/private-path"


def _setup(tmp_path: Path, **extra: str) -> tuple[dict[str, str], str]:
    env = offen_environment(tmp_path / "data", **extra)
    done = run_offen(["setup", "-name", "Real Site", "-email", EMAIL, "-password", PASSWORD], env)
    assert done.returncode == 0, done.stderr
    account_id = done.stdout.split(" with id ")[1].split()[0]
    return env, account_id


def _privacy_probe_headers() -> dict[str, str]:
    return {"User-Agent": USER_AGENT, "Referer": REFERRER, "X-Forwarded-For": "198.51.100.23"}


def _assert_private(output: str) -> None:
    for leaked in (CLIENT_SOURCE, "198.51.100.23", "PrivacyProbe", "referrer.example", "private-path"):
        assert leaked not in output, f"{leaked!r} appeared in the server output:\n{output}"


def test_serve_plain_end_to_end(tmp_path: Path):
    env, account_id = _setup(tmp_path, OFFEN_APP_RETENTION="7days")
    # Only the service's user reads the database and the secrets.
    assert (tmp_path / "data").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "data" / "offen.db").stat().st_mode & 0o777 == 0o600
    # An event from before the retention window, written while the server is down.
    store = open_store(f"sqlite:///{tmp_path / 'data' / 'offen.db'}")
    old = datetime.now(UTC) - timedelta(days=30)
    store.insert_event(account_id, "f" * 64, keys.encrypt_symmetric(keys.random_bytes(16), b"{}"), old)
    store.close()

    server = OffenProcess(env, free_port(), tmp_path).start()
    try:
        visitor_http = server.client()
        visitor = Visitor()
        visitor.exchange(visitor_http, account_id)
        visitor_http.set_cookie("consent", "allow")
        sent = [pageview(f"https://www.example.test/real-{i}", "https://www.ecosia.org/") for i in range(3)]
        for event in sent:
            response = visitor.send(visitor_http, account_id, event)
            assert response.json == {"ack": True}
        visitor_http.request("GET", "/api/events", headers=_privacy_probe_headers())

        operator = server.client()
        login = operator.post_json(
            "/api/login", {"username": EMAIL.lower(), "password": PASSWORD}, status=200
        ).json
        view = operator.get(f"/api/accounts/{account_id}", status=200).json
        assert decrypt_operator_view(login, view) == sent
        checkpoint = view["sequence"]

        # The expiry job ran once the server was listening and removed the old event.
        deadline = time.monotonic() + 10
        while "expired 1 event" not in server.output() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "expired 1 event" in server.output()
        assert len(view["events"][account_id]) == 3

        time.sleep(1.1)  # the purge throttle is per visitor, 1 s
        visitor_http.post("/api/purge", status=204)
        time.sleep(1.1)
        delta = operator.get(f"/api/accounts/{account_id}", {"since": checkpoint}, status=200).json
        assert len(delta["deletedEvents"]) == 3 and "events" not in delta

        expired = run_offen(["expire"], env)
        assert expired.returncode == 0 and "Expired 0 event(s)" in expired.stdout
    finally:
        code = server.stop(signal.SIGTERM)
    assert code == 0
    output = server.output()
    assert f"http://{SERVER_HOST}:{server.port}/" in output
    _assert_private(output)
    # The access log is Offen's anonymised CLF.
    assert '"POST /api/events HTTP/1.1" 200 -' in output


def test_serve_https_and_failed_handshakes_leave_no_client_address(tmp_path: Path):
    cert, key = self_signed_cert(tmp_path)
    env, account_id = _setup(tmp_path, OFFEN_SERVER_SSLCERTIFICATE=str(cert), OFFEN_SERVER_SSLKEY=str(key))
    server = OffenProcess(env, free_port(), tmp_path, tls=True).start()
    try:
        client = server.client()
        assert client.get("/healthz").json == {"ok": True}
        visitor = Visitor()
        visitor.exchange(client, account_id)
        # Over https the visitor cookie is Secure and SameSite=None (the vault runs in an iframe).
        info = client.get("/api/exchange", {"accountId": account_id}).json
        wrapped = keys.wrap_for_account(info["publicKey"], b"{}")
        time.sleep(1.1)
        response = client.request(
            "POST",
            "/api/exchange",
            json.dumps({"accountId": account_id, "encryptedSecret": wrapped}),
            headers=_privacy_probe_headers(),
        )
        cookie = response.headers["Set-Cookie"]
        assert "Secure" in cookie and "SameSite=None" in cookie
        assert "max-age" in response.headers["Strict-Transport-Security"]
        # Failed handshakes: plain HTTP to the TLS port, garbage, a half-open handshake.
        for payload in (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"\x16\x03\x01garbage" * 20, b""):
            with socket.create_connection(
                (SERVER_HOST, server.port), source_address=(CLIENT_SOURCE, 0)
            ) as sock:
                if payload:
                    sock.sendall(payload)
                sock.settimeout(2)
                try:
                    sock.recv(100)
                except OSError:
                    pass
        context = ssl.create_default_context()  # verifies, so the self-signed certificate is refused
        with socket.create_connection((SERVER_HOST, server.port), source_address=(CLIENT_SOURCE, 0)) as sock:
            with pytest.raises(ssl.SSLError):
                context.wrap_socket(sock, server_hostname="offen.test")
        assert client.get("/healthz").status == 200
    finally:
        code = server.stop()
    assert code == 0
    _assert_private(server.output())


def test_graceful_stop_finishes_requests_in_flight(tmp_path: Path):
    env, account_id = _setup(tmp_path)
    server = OffenProcess(env, free_port(), tmp_path).start()
    client = server.client()
    import threading

    result: dict[str, int] = {}

    def slow_login() -> None:
        # A login runs Argon2 twice: long enough to still be in flight at SIGTERM.
        result["status"] = client.post_json("/api/login", {"username": EMAIL, "password": PASSWORD}).status

    thread = threading.Thread(target=slow_login)
    thread.start()
    time.sleep(0.05)
    code = server.stop(signal.SIGINT)
    thread.join(10)
    assert code == 0 and result.get("status") == 200


def test_setup_without_password_or_terminal_fails_at_once(tmp_path: Path):
    env = offen_environment(tmp_path / "data")
    started = time.monotonic()
    done = run_offen(["setup", "-name", "Site", "-email", "a@b.test"], env)
    assert done.returncode == 1 and "no terminal" in done.stderr
    assert time.monotonic() - started < 10
    assert "Traceback" not in done.stderr


def test_bad_configuration_is_reported_all_at_once(tmp_path: Path):
    env = offen_environment(
        tmp_path / "data",
        OFFEN_SERVER_PORT="abc",
        OFFEN_APP_RETENTION="forever",
        OFFEN_DATABASE_DIALECT="postgres",
    )
    done = run_offen(["serve"], env)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    for name in ("OFFEN_SERVER_PORT", "OFFEN_APP_RETENTION", "OFFEN_DATABASE_DIALECT"):
        assert name in done.stderr


def test_secret_version_and_unknown_command(tmp_path: Path):
    env = offen_environment(tmp_path / "data")
    secret = run_offen(["secret", "-count", "2", "-quiet"], env)
    values = secret.stdout.split()
    assert secret.returncode == 0 and len(values) == 2 and len(keys.b64decode(values[0])) == 16
    assert run_offen(["version"], env).stdout.startswith("offen ")
    unknown = run_offen(["frobnicate"], env)
    assert unknown.returncode == 1 and "unknown command" in unknown.stderr


def test_stored_setting_changes_reach_the_running_server(tmp_path: Path):
    env, account_id = _setup(tmp_path)
    server = OffenProcess(env, free_port(), tmp_path).start()
    try:
        client = server.client()
        client.set_cookie("user", "any-visitor")
        assert client.get("/api/events").json["retentionPeriod"] == "6months"
        changed = run_offen(["config", "set", "OFFEN_APP_RETENTION", "30days"], env)
        assert changed.returncode == 0, changed.stderr
        deadline = time.monotonic() + 20
        seen = None
        while time.monotonic() < deadline:
            time.sleep(1.1)  # the visitor throttle is 1 s
            seen = client.get("/api/events").json["retentionPeriod"]
            if seen == "30days":
                break
        assert seen == "30days"
        assert "stored settings changed" in server.output()
    finally:
        assert server.stop() == 0
