"""Fixtures of the browser tests: one Chromium per session, one `offen serve` and host sites per module.

Chromium is Debian's (`/usr/bin/chromium`), driven by Playwright's Python
package; no browser is ever downloaded. Without either, the tests are skipped
with the reason, except under CI (env `CI` set), where a missing browser is a
failure: a suite that silently skips proves nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.sites import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SETUP_NAMES,
    HostSite,
    OffenServer,
    Setup,
    make_certificate,
    make_setups,
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: end-to-end tests in real Chromium against a real offen serve")
    config.addinivalue_line(
        "markers", "known_bug(setups, reason): a strict xfail for the named set-ups (a bug in another module)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        setup_name = params.get("setup", params.get("setup_name"))
        for mark in item.iter_markers("known_bug"):
            if setup_name in mark.args[0]:
                item.add_marker(pytest.mark.xfail(strict=True, reason=mark.kwargs["reason"]))


@pytest.fixture(scope="session")
def browser(playwright_instance: Any) -> Iterator[Any]:
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_certificate(tmp_path_factory.mktemp("e2e-tls"))


@pytest.fixture(scope="module")
def offen(
    tmp_path_factory: pytest.TempPathFactory, certificate: tuple[Path, Path], playwright_instance: Any
) -> Iterator[OffenServer]:
    # Depends on playwright_instance so a machine without a browser does not start servers for nothing.
    server = OffenServer(tmp_path_factory.mktemp("e2e-offen"), *certificate).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def setups(offen: OffenServer, certificate: tuple[Path, Path]) -> Iterator[dict[str, Setup]]:
    https_site = HostSite(offen.origin, cert=certificate).start()
    http_site = HostSite(offen.origin, cert=None).start()
    try:
        yield make_setups(offen.origin, https_site, http_site)
    finally:
        https_site.stop()
        http_site.stop()


@pytest.fixture(params=SETUP_NAMES)
def setup(request: pytest.FixtureRequest, setups: dict[str, Setup]) -> Setup:
    return setups[request.param]


@pytest.fixture
def account(offen: OffenServer) -> str:
    return offen.take_account()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """A fresh off-the-record browser context (third-party cookies blocked, as for every visitor)."""
    ctx = browser.new_context(ignore_https_errors=True)
    ctx.set_default_timeout(10_000)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def persistent_context(playwright_instance: Any, tmp_path: Path) -> Iterator[Callable[[], Any]]:
    """Open (and reopen) a browser with its own profile folder: a visitor who comes back."""
    opened: list[Any] = []
    profile = tmp_path / "profile"

    def open_browser() -> Any:
        ctx = playwright_instance.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            ignore_https_errors=True,
        )
        ctx.set_default_timeout(10_000)
        opened.append(ctx)
        return ctx

    try:
        yield open_browser
    finally:
        for ctx in opened:
            try:
                ctx.close()
            except Exception:  # noqa: BLE001 - already closed by the test
                pass
