"""Shared fixtures: a real SQLite store per test, a frozen clock, the app in-process.

The clock is the one thing faked freely. Account key pairs come from a pool
of pre-made keys (tests/keypool.py) so no test waits for RSA-4096 generation;
real generation is tested once in test_keys.py.
"""

from __future__ import annotations

import base64
import re
import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import webtest

from appliance import keys
from appliance.config import Config, load_config
from appliance.mailer import Mailer, OutboxMailer
from appliance.store import Store, open_store
from appliance.web import Services, WebContext, build_services, build_wsgi
from tests import keypool

SECRET = base64.b64encode(b"0123456789abcdef").decode()
PUBLIC_URL = "https://offen.example.test"
ADMIN_EMAIL = "Admin@Example.test"
ADMIN_PASSWORD = "correct horse battery"


class FakeTime:
    """A clock for tests (a fake, by design): wall time and monotonic time that move only when told."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
        self._monotonic = 1000.0
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += timedelta(seconds=seconds)
            self._monotonic += seconds

    def monotonic(self) -> float:
        return self._monotonic

    def sleep(self, seconds: float) -> None:
        self.advance(max(0.0, seconds))


@pytest.fixture
def clock() -> FakeTime:
    return FakeTime()


@pytest.fixture(autouse=True)
def pooled_account_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Serve account key pairs from the pool instead of generating them."""
    real = keys.generate_account_keypair

    def pooled(key_type: str) -> tuple[dict, dict]:
        if key_type == keys.KEY_TYPE_RSA:
            return keypool.rsa_keypair()
        if key_type == keys.KEY_TYPE_X25519:
            return keypool.x25519_keypair()
        return real(key_type)

    monkeypatch.setattr(keys, "generate_account_keypair", pooled)


def make_config(data_dir: Path, **overrides: str) -> Config:
    environ = {
        "OFFEN_SECRET": SECRET,
        "OFFEN_APP_DATADIR": str(data_dir),
        "OFFEN_APP_PUBLICURL": PUBLIC_URL,
    }
    environ.update(overrides)
    return load_config(environ, is_root=False)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path)


def fresh_store(path: Path) -> Store:
    store = open_store(f"sqlite:///{path}")
    store.migrate()
    return store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = fresh_store(tmp_path / "offen.db")
    yield store
    store.close()


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A database with one X25519 account and its super admin, made once and copied per test."""
    from appliance.accounts import ActiveAccounts
    from appliance.logins import build_logins

    path = tmp_path_factory.mktemp("seed") / "offen.db"
    store = fresh_store(path)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(keys, "generate_account_keypair", lambda key_type: keypool.x25519_keypair())
        logins = build_logins(
            store,
            secret=base64.b64decode(SECRET),
            account_key_type="x25519",
            active_accounts=ActiveAccounts(store),
        )
        logins.ensure_lookup_key()
        account_id, _ = logins.setup("Example Site", ADMIN_EMAIL, ADMIN_PASSWORD, FakeTime()())
    store.close()
    return path, account_id


def mailed_link_token(mail_body: str, kind: str) -> str:
    """The token of a `<public URL>/<kind>/<token>/` link in a mail body (links never use another host)."""
    match = re.search(re.escape(PUBLIC_URL) + rf"/{kind}/([^/\s]+)/", mail_body)
    assert match, mail_body
    return match.group(1)


class Harness:
    """The app in-process (WebTest) over a real SQLite file, with its parts exposed."""

    def __init__(self, ctx: WebContext, services: Services, mailer: Mailer, clock: FakeTime) -> None:
        self.ctx = ctx
        self.services = services
        self.mailer = mailer
        self.clock = clock
        self.store = ctx.store
        self.app = webtest.TestApp(
            build_wsgi(ctx, services), extra_environ={"HTTP_HOST": "offen.example.test"}
        )
        self.account_id: str | None = None

    def login(self, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> dict:
        return self.app.post_json("/api/login", {"username": email, "password": password}).json


def build_harness(
    tmp_path: Path, clock: FakeTime, store: Store, mailer: Mailer | None = None, **config_overrides: str
) -> Harness:
    cfg = make_config(tmp_path, **config_overrides)
    mailer = mailer or OutboxMailer()
    ctx = WebContext(
        config=cfg, store=store, mailer=mailer, clock=clock, monotonic=clock.monotonic, sleep=clock.sleep
    )
    services = build_services(ctx)
    services.logins.ensure_lookup_key()
    return Harness(ctx, services, mailer, clock)


@pytest.fixture
def empty_app(tmp_path: Path, clock: FakeTime, store: Store) -> Harness:
    """An instance with an empty database (setup not run)."""
    return build_harness(tmp_path, clock, store)


def seeded_harness(
    tmp_path: Path,
    clock: FakeTime,
    seeded_template: tuple[Path, str],
    mailer: Mailer | None = None,
    **overrides: str,
) -> Harness:
    """A copy of the seeded database behind a fresh app (close `harness.store` when done)."""
    template, account_id = seeded_template
    path = tmp_path / "offen.db"
    shutil.copy(template, path)
    harness = build_harness(tmp_path, clock, open_store(f"sqlite:///{path}"), mailer, **overrides)
    harness.account_id = account_id
    return harness


@pytest.fixture
def seeded_app(tmp_path: Path, clock: FakeTime, seeded_template: tuple[Path, str]) -> Iterator[Harness]:
    """An instance with one account and its admin (ADMIN_EMAIL / ADMIN_PASSWORD)."""
    harness = seeded_harness(tmp_path, clock, seeded_template)
    yield harness
    harness.store.close()


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[object]:
    """One Playwright (sync API) for the whole session: it cannot be started twice in one process.

    Used by the browser tests (tests/e2e, tests/test_ui_script.py). Without
    Chromium or Playwright they skip, except under CI, where that is a failure.
    """
    import os

    from tests.e2e.sites import browser_missing_reason

    reason = browser_missing_reason()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot run under CI: {reason}", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    manager = sync_playwright()
    playwright = manager.start()
    try:
        yield playwright
    finally:
        manager.__exit__(None, None, None)
