"""The world of the browser tests: a real `offen serve`, host pages on three origins, Chromium's flags.

This module owns everything the end-to-end tests (and `bench/browser.py`) need
outside the browser itself:

- a self-signed certificate for `offen.site.test`, `www.site.test` and
  `www.other.test`, which Chromium resolves to 127.0.0.1 through
  `--host-resolver-rules` (made-up names, so nothing ever leaves the machine);
- `OffenServer`: `offen setup -source` with a pool of accounts (one per test, so
  tests sharing a server never see each other's rows), then `offen serve` over
  https on 127.0.0.1, plus an operator client that logs in and decrypts;
- `HostSite`: a tiny threaded web server for the operator's pages (the *host
  pages*), over http or https, which embed the script and move through
  `history.pushState`;
- the three set-ups of the issue: (a) same-site https, (b) a plain-http host
  page, (c) a host page on another site.

Cookies and "same site" ignore ports, so every origin here uses a free port.
"""

from __future__ import annotations

import html
import json
import shutil
import sqlite3
import ssl
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.certs import self_signed_cert
from tests.protocol_client import decrypt_operator_view
from tests.realserver import HttpClient, OffenProcess, Response, offen_environment, run_offen

LOOPBACK = "127.0.0.1"
OFFEN_HOST = "offen.site.test"
SITE_HOST = "www.site.test"
OTHER_HOST = "www.other.test"
HOST_NAMES = (OFFEN_HOST, SITE_HOST, OTHER_HOST)
CHROMIUM = "/usr/bin/chromium"

# Flags from ../shared/guides/machines.md §8. Third-party cookies stay blocked (Chromium's default,
# which is what visitors get); the host-resolver rules keep every made-up name on loopback.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=" + ", ".join(f"MAP {name} {LOOPBACK}" for name in HOST_NAMES),
]

OPERATOR_EMAIL = "operator@site.test"
OPERATOR_PASSWORD = "a long enough password for e2e"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for the three test host names (and 127.0.0.1)."""
    directory.mkdir(parents=True, exist_ok=True)
    return self_signed_cert(directory, HOST_NAMES, (LOOPBACK,))


def browser_missing_reason() -> str | None:
    """Why the browser tests cannot run here, or None when Chromium and Playwright are both present."""
    if shutil.which(CHROMIUM) is None:
        return f"{CHROMIUM} is missing (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is missing (pip install playwright; never `playwright install`)"
    return None


# --------------------------------------------------------------------------- the Offen server


class OffenClient(HttpClient):
    """HttpClient for a server on 127.0.0.1 that is reached as offen.site.test (the Host the browser sends)."""

    def __init__(self, port: int) -> None:
        super().__init__(LOOPBACK, port, tls=True, source=LOOPBACK)

    def request(
        self, method: str, path: str, body: str | bytes | None = None, headers: dict[str, str] | None = None
    ) -> Response:
        merged = {"Host": f"{OFFEN_HOST}:{self.port}"}
        merged.update(headers or {})
        return super().request(method, path, body, merged)


class _OffenProcess(OffenProcess):
    def client(self) -> HttpClient:
        return OffenClient(self.port)


class OffenServer:
    """`offen serve` over https with a pool of fresh accounts, and an operator who can read them.

    Each test takes its own account from the pool (`take_account`), so the
    server's rows of one test never mix with another's although the server is
    shared by a whole test module.
    """

    def __init__(self, directory: Path, cert: Path, key: Path, *, accounts: int = 12, **env: str) -> None:
        self.directory = directory
        self.port = free_port()
        self.origin = f"https://{OFFEN_HOST}:{self.port}"
        data = directory / "data"
        self.env = offen_environment(
            data,
            OFFEN_SERVER_HOST=LOOPBACK,
            OFFEN_SERVER_SSLCERTIFICATE=str(cert),
            OFFEN_SERVER_SSLKEY=str(key),
            OFFEN_APP_PUBLICURL=self.origin,
            **env,
        )
        self.db_path = data / "offen.db"
        self.account_ids = [str(uuid.uuid4()) for _ in range(accounts)]
        self._unused = list(self.account_ids)
        self.process: _OffenProcess | None = None
        self._operator: OffenClient | None = None
        self._login: dict[str, Any] | None = None

    def start(self) -> OffenServer:
        seed = {
            "accounts": [{"id": aid, "name": f"E2E site {i}"} for i, aid in enumerate(self.account_ids)],
            "account_users": [
                {
                    "email": OPERATOR_EMAIL,
                    "password": OPERATOR_PASSWORD,
                    "admin_level": 1,
                    "accounts": self.account_ids,
                }
            ],
        }
        seed_path = self.directory / "seed.json"
        seed_path.write_text(json.dumps(seed))
        done = run_offen(["setup", "-source", str(seed_path)], self.env, timeout=120)
        seed_path.unlink()  # it holds a password in the clear
        if done.returncode != 0:
            raise RuntimeError(f"offen setup failed:\n{done.stdout}\n{done.stderr}")
        logs = self.directory / "logs"
        logs.mkdir(exist_ok=True)
        self.process = _OffenProcess(self.env, self.port, logs, tls=True).start()
        return self

    def stop(self) -> int:
        assert self.process is not None
        return self.process.stop()

    def output(self) -> str:
        assert self.process is not None
        return self.process.output()

    def take_account(self) -> str:
        if not self._unused:
            raise RuntimeError("the account pool of this module is used up; raise `accounts=`")
        return self._unused.pop(0)

    # ------------------------------------------------------------------ reading the database directly

    def _query(self, sql: str, params: tuple = ()) -> list[tuple]:
        # Read-only and short: the server keeps writing through its own connections (WAL or not).
        conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=10)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def count_events(self, account_id: str) -> int:
        return self._query("SELECT count(*) FROM events WHERE account_id = ?", (account_id,))[0][0]

    def count_tombstones(self, account_id: str) -> int:
        return self._query("SELECT count(*) FROM tombstones WHERE account_id = ?", (account_id,))[0][0]

    def count_secrets(self) -> int:
        return self._query("SELECT count(*) FROM secrets")[0][0]

    def wait_for_events(self, account_id: str, count: int, timeout: float = 15.0) -> int:
        """Poll until the account holds at least `count` events; return how many it holds."""
        deadline = time.monotonic() + timeout
        found = self.count_events(account_id)
        while found < count and time.monotonic() < deadline:
            time.sleep(0.05)
            found = self.count_events(account_id)
        return found

    def api_requests_logged(self) -> list[str]:
        """Request lines of the anonymised access log that hit the API."""
        return [line for line in self.output().splitlines() if '"' in line and " /api/" in line]

    # ------------------------------------------------------------------ the operator's view

    def operator(self) -> tuple[OffenClient, dict[str, Any]]:
        if self._operator is None:
            client = OffenClient(self.port)
            login = client.post_json(
                "/api/login", {"username": OPERATOR_EMAIL, "password": OPERATOR_PASSWORD}, status=200
            ).json
            self._operator, self._login = client, login
        assert self._login is not None
        return self._operator, self._login

    def account_view(self, account_id: str, since: str | None = None) -> dict[str, Any]:
        client, _ = self.operator()
        params = {"since": since} if since else None
        return client.get(f"/api/accounts/{account_id}", params, status=200).json

    def decrypted_events(self, account_id: str) -> list[dict[str, Any]]:
        """Every event of the account, decrypted with the account's key as the operator would."""
        _, login = self.operator()
        return decrypt_operator_view(login, self.account_view(account_id))


# --------------------------------------------------------------------------- host pages

PAGE_JS = """\
// The host page's own script: single-page navigation through history.pushState.
document.addEventListener('click', function (event) {
  var button = event.target.closest('[data-push]')
  if (button) { history.pushState({}, '', button.getAttribute('data-push')) }
})
"""


def host_page(offen_origin: str, account_id: str, path: str, *, canonical: str | None, use_api: bool) -> str:
    """A host page that embeds the script. Its own code is in /page.js so a strict CSP can be tested."""
    head = f'<link rel="canonical" href="{html.escape(canonical)}">' if canonical else ""
    api = " data-use-api" if use_api else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Host page {html.escape(path)}</title>{head}
<script src="/page.js"></script></head>
<body>
<main>
<h1>A page of the operator's website</h1>
<p><a data-testid="to-app" href="app?from=start">Go to the app page</a></p>
<p><button type="button" data-testid="push-1" data-push="step-1">Step 1</button>
<button type="button" data-testid="push-2" data-push="step-2">Step 2</button></p>
</main>
<script src="{offen_origin}/script.js" data-account-id="{html.escape(account_id)}"{api}></script>
</body></html>
"""


def strict_csp(offen_origin: str) -> str:
    """A host-page CSP without 'unsafe-inline' anywhere: what docs/embedding.md promises is enough."""
    return (
        f"default-src 'self'; script-src 'self' {offen_origin}; frame-src {offen_origin}; "
        "style-src 'self'; img-src 'self'; connect-src 'self'"
    )


class HostSite:
    """The operator's website: GET /s/<accountId>/<page>[?csp=strict] and /page.js, over http or https.

    Pages named `canonical…` carry `<link rel="canonical" href="/s/<id>/the-article">`; pages named
    `api…` embed the script with `data-use-api`. Everything else is a plain page with pushState buttons.
    """

    def __init__(self, offen_origin: str, *, cert: tuple[Path, Path] | None) -> None:
        self.offen_origin = offen_origin
        self.requests: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass  # tests read `site.requests`; nothing about clients is printed

            def do_GET(self) -> None:  # noqa: N802
                site.requests.append(self.path)
                parts = urlsplit(self.path)
                segments = parts.path.strip("/").split("/")
                headers = {"Cache-Control": "no-store"}
                if parts.path == "/page.js":
                    body, ctype = PAGE_JS.encode(), "application/javascript; charset=utf-8"
                elif len(segments) == 3 and segments[0] == "s":
                    account_id, page = segments[1], segments[2]
                    canonical = f"/s/{account_id}/the-article" if page.startswith("canonical") else None
                    body = host_page(
                        site.offen_origin,
                        account_id,
                        page,
                        canonical=canonical,
                        use_api=page.startswith("api"),
                    ).encode()
                    ctype = "text/html; charset=utf-8"
                    if "csp=strict" in parts.query:
                        headers["Content-Security-Policy"] = strict_csp(site.offen_origin)
                else:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.server.daemon_threads = True
        self.scheme = "http"
        if cert is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(cert[0]), str(cert[1]))
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, name="host-site", daemon=True)

    def start(self) -> HostSite:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Setup:
    """One of the issue's three set-ups: where the host page lives relative to the Offen origin."""

    name: str  # "same-site", "plain-http" or "cross-site"
    site_origin: str
    offen_origin: str
    secure_vault: bool = True  # does the vault frame get WebCrypto?
    notes: list[str] = field(default_factory=list)

    def page_url(self, account_id: str, page: str = "start", query: str = "") -> str:
        return f"{self.site_origin}/s/{account_id}/{page}" + (f"?{query}" if query else "")

    @property
    def top_level_site(self) -> str:
        """The partition key Chromium uses for CHIPS cookies set inside this set-up's vault frame."""
        scheme, rest = self.site_origin.split("://", 1)
        host = rest.split(":", 1)[0]
        return f"{scheme}://{'.'.join(host.split('.')[-2:])}"


SETUP_NAMES = ("same-site", "plain-http", "cross-site")


def make_setups(offen_origin: str, https_site: HostSite, http_site: HostSite) -> dict[str, Setup]:
    return {
        "same-site": Setup("same-site", f"https://{SITE_HOST}:{https_site.port}", offen_origin),
        # Schemeful same-site: an http page embedding an https vault is cross-site, and the vault
        # frame is not a secure context (its parent is not), so it takes the userland crypto path.
        "plain-http": Setup(
            "plain-http", f"http://{SITE_HOST}:{http_site.port}", offen_origin, secure_vault=False
        ),
        "cross-site": Setup("cross-site", f"https://{OTHER_HOST}:{https_site.port}", offen_origin),
    }
