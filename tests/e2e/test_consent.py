"""Nothing before consent, and nothing after "I don't allow" (issue 3, point 5), in all three set-ups."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.browsing import OffenTraffic, deny, offen_cookies, settle, vault, vault_frame, wait_for_banner
from tests.e2e.sites import OffenServer, Setup

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _indexeddb_names(page: Any, setup: Setup) -> list[str]:
    """Names of the vault's IndexedDB databases; none at all where the browser denies it storage."""
    frame = vault_frame(page, setup.offen_origin)
    return frame.evaluate(
        """async () => {
          try { return (await indexedDB.databases()).map((d) => d.name) }
          catch (err) { return [] }  // storage denied to this frame: it cannot have kept anything
        }"""
    )


def test_nothing_reaches_the_server_before_consent(
    setup: Setup, account: str, context: Any, offen: OffenServer
):
    secrets_before = offen.count_secrets()
    traffic = OffenTraffic(setup.offen_origin).attach(context)
    page = context.new_page()
    page.goto(setup.page_url(account, "start"))

    banner = wait_for_banner(page)
    # The banner is labelled for screen readers and operable by keyboard: two real buttons.
    assert vault(page).get_by_test_id("banner/allow").evaluate("(b) => b.tagName") == "BUTTON"
    assert vault(page).get_by_test_id("banner/deny").evaluate("(b) => b.tagName") == "BUTTON"
    assert banner.is_visible()

    # A single-page navigation without an answer sends nothing either.
    page.get_by_test_id("push-1").click()
    settle(page)

    assert traffic.api_calls() == [], "the vault talked to the API before consent"
    assert "user" not in traffic.set_cookies
    assert offen.count_events(account) == 0
    assert offen.count_secrets() == secrets_before, "a visitor secret was stored before consent"
    cookies = offen_cookies(context)
    assert "consent" not in cookies and "user" not in cookies, cookies
    assert vault(page).get_by_test_id("banner").is_visible()


def test_deny_leaves_only_the_deny_cookie(setup: Setup, account: str, context: Any, offen: OffenServer):
    secrets_before = offen.count_secrets()
    traffic = OffenTraffic(setup.offen_origin).attach(context)
    page = context.new_page()
    page.goto(setup.page_url(account, "start"))
    deny(page)
    vault(page).get_by_test_id("banner").wait_for(state="hidden")

    # Later visits: another page load and single-page navigations send nothing and ask nothing.
    page.get_by_test_id("to-app").click()
    page.wait_for_url("**/app?from=start")
    page.get_by_test_id("push-1").click()
    page.get_by_test_id("push-2").click()
    settle(page)
    assert not vault(page).get_by_test_id("banner").is_visible()

    assert traffic.api_calls() == []
    assert "user" not in traffic.set_cookies
    assert offen.count_events(account) == 0
    assert offen.count_secrets() == secrets_before
    cookies = offen_cookies(context)
    assert set(cookies) == {"consent"}, cookies
    assert cookies["consent"]["value"] == "deny"
    # No identifier and no data in the vault's storage either.
    assert _indexeddb_names(page, setup) == []
