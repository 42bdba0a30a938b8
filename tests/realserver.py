"""Helpers for tests that run the real `offen` command and talk to it over HTTP.

`OffenProcess` starts `python -m appliance serve` on a loopback address with
its own data folder and captures everything it prints. `HttpClient` speaks
HTTP with a cookie jar and offers the small part of WebTest's interface that
tests/protocol_client.py uses, so the same protocol client drives both the
in-process app and the real server. Connections come from a chosen loopback
source address so tests can prove that address is never logged.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from tests import certs

REPO = Path(__file__).resolve().parent.parent
SERVER_HOST = "127.0.0.2"
CLIENT_SOURCE = "127.0.0.3"


def free_port(host: str = SERVER_HOST) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A certificate for offen.test and the server's loopback address."""
    return certs.self_signed_cert(directory, ("offen.test",), (SERVER_HOST,))


def offen_environment(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OFFEN_")}
    env.update(
        {
            "OFFEN_APP_DATADIR": str(data_dir),
            "OFFEN_SERVER_HOST": SERVER_HOST,
            "DBUS_SESSION_BUS_ADDRESS": "disabled:",
            "PYTHONPATH": str(REPO),
            "HOME": str(data_dir.parent),
        }
    )
    env.update(extra)
    return env


def run_offen(args: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "appliance", *args],
        env=env,
        cwd=env["HOME"],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


class OffenProcess:
    """`offen serve` in a subprocess; stdout and stderr go to files the test reads afterwards."""

    def __init__(self, env: dict[str, str], port: int, log_dir: Path, *, tls: bool = False) -> None:
        self.env, self.port, self.tls = env, port, tls
        self.stdout_path, self.stderr_path = log_dir / "stdout.log", log_dir / "stderr.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self.ready_after: float | None = None

    def start(self, timeout: float = 30) -> OffenProcess:
        self.started_at = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "appliance", "serve", "-port", str(self.port)],
            env=self.env,
            cwd=self.env["HOME"],
            stdout=self.stdout_path.open("wb"),
            stderr=self.stderr_path.open("wb"),
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"offen serve exited early:\n{self.output()}")
            try:
                if self.client().get("/healthz").status == 200:
                    self.ready_after = time.monotonic() - self.started_at
                    return self
            except OSError:
                time.sleep(0.05)
        raise TimeoutError(f"offen serve did not answer /healthz:\n{self.output()}")

    def client(self) -> HttpClient:
        return HttpClient(SERVER_HOST, self.port, tls=self.tls)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)

    def output(self) -> str:
        return self.stdout_path.read_text(errors="replace") + self.stderr_path.read_text(errors="replace")


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def status_int(self) -> int:
        return self.status

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class HttpClient:
    """A tiny HTTP client with a cookie jar (WebTest-like get/post for protocol_client)."""

    def __init__(self, host: str, port: int, *, tls: bool = False, source: str = CLIENT_SOURCE) -> None:
        self.host, self.port, self.tls, self.source = host, port, tls, source
        self.cookies: dict[str, str] = {}

    def set_cookie(self, name: str, value: str) -> None:
        self.cookies[name] = value

    def request(
        self, method: str, path: str, body: str | bytes | None = None, headers: dict[str, str] | None = None
    ) -> Response:
        if self.tls:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                self.host, self.port, timeout=20, source_address=(self.source, 0), context=context
            )
        else:
            connection = http.client.HTTPConnection(
                self.host, self.port, timeout=20, source_address=(self.source, 0)
            )
        all_headers = {"Host": f"offen.test:{self.port}"}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        all_headers.update(headers or {})
        try:
            connection.request(method, path, body=body, headers=all_headers)
            raw = connection.getresponse()
            response = Response(raw.status, raw.headers, raw.read())
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in header or not value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return response

    def get(self, path: str, params: dict[str, str] | None = None, status: int | None = None) -> Response:
        if params:
            path += "?" + urlencode(params)
        return self._check(self.request("GET", path), status)

    def post(self, path: str, body: str = "", status: int | None = None) -> Response:
        return self._check(self.request("POST", path, body), status)

    def post_json(self, path: str, value: object, status: int | None = None) -> Response:
        return self.post(path, json.dumps(value), status)

    @staticmethod
    def _check(response: Response, status: int | None) -> Response:
        if status is not None and response.status != status:
            raise AssertionError(f"expected {status}, got {response.status}: {response.body[:300]!r}")
        return response
