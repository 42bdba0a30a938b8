"""After "I allow": every navigation gives exactly one event, end-to-end encrypted, in all three set-ups.

The test reads the events back as the operator does (login, then decrypt with
the account's key through `appliance.keys`), so what it checks is what the
server really holds: ciphertexts it cannot read itself.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import unquote

import pytest

from tests.e2e.browsing import (
    OffenTraffic,
    allow,
    offen_cookies,
    settle,
    vault,
    vault_frame,
)
from tests.e2e.sites import OffenServer, Setup

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _step(offen: OffenServer, account: str, expected: int) -> None:
    found = offen.wait_for_events(account, expected)
    assert found == expected, f"expected {expected} event(s) on the server, found {found}"


def _nonce_length(cipher: str) -> int:
    assert cipher.startswith("{1,} "), cipher[:10]
    return len(base64.b64decode(cipher.split(" ")[2]))


def test_each_navigation_gives_one_encrypted_event(
    setup: Setup, account: str, context: Any, offen: OffenServer
):
    traffic = OffenTraffic(setup.offen_origin).attach(context)
    page = context.new_page()
    start = setup.page_url(account, "start", "campaign=spring")
    page.goto(start)
    # The vault takes the crypto path its context allows: WebCrypto, or the userland fallback.
    frame = vault_frame(page, setup.offen_origin)
    assert frame.evaluate("!!(self.crypto && crypto.subtle)") is setup.secure_vault
    allow(page)
    _step(offen, account, 1)

    page.get_by_test_id("to-app").click()  # a full page load, referred by the first page
    page.wait_for_url("**/app?from=start")
    _step(offen, account, 2)
    page.get_by_test_id("push-1").click()  # single-page navigations
    _step(offen, account, 3)
    page.get_by_test_id("push-2").click()
    _step(offen, account, 4)
    page.goto(setup.page_url(account, "canonical"))  # a page with <link rel="canonical">
    _step(offen, account, 5)
    settle(page, 1000)
    assert offen.count_events(account) == 5, "a navigation was counted twice"
    assert not vault(page).get_by_test_id("banner").is_visible(), "consent was asked again"

    events = offen.decrypted_events(account)
    base = f"{setup.site_origin}/s/{account}"
    referred = f"{base}/start"  # the vault strips the query string from referrers
    expected = [
        (start, None, ""),
        (f"{base}/app?from=start", None, referred),
        (f"{base}/step-1", None, referred),
        (f"{base}/step-2", None, referred),
        (f"{base}/the-article", f"{base}/canonical", ""),
    ]
    assert [(e["href"], e.get("rawHref"), e["referrer"]) for e in events] == expected
    assert {e["type"] for e in events} == {"PAGEVIEW"}
    assert len({e["sessionId"] for e in events}) == 1, "one visit is one session"
    # Page-load time only for real page loads, never for single-page navigations.
    assert [e["pageload"] is None for e in events] == [False, False, True, True, False]
    for event in events:
        assert event["timestamp"] and "geo" in event and event["isMobile"] is False

    exchanges = [path for method, path in traffic.api_calls() if method == "POST" and path == "/api/exchange"]
    assert len(exchanges) == 1, (
        f"{len(exchanges)} key exchanges for one visitor: the vault lost its visitor secret between page loads"
    )
    view = offen.account_view(account)
    payloads = [e["payload"] for e in view["events"][account]]
    assert all(_nonce_length(p) == 12 for p in payloads), "new code must write 12-byte AES-GCM nonces"
    [wrapped] = view["secrets"].values()
    assert wrapped.startswith("{2,} "), "the visitor secret is wrapped for the account's X25519 key"

    cookies = offen_cookies(context)
    assert cookies["consent"]["value"] == "allow"
    assert cookies["user"]["httpOnly"] is True
    # Where the vault frame is refused IndexedDB (cross-site, which the plain-http page is too), the visitor
    # secret is kept in a partitioned cookie on /vault; where IndexedDB works, never.
    secret_cookies = {name: c for name, c in cookies.items() if name.startswith("USER_SECRET-")}
    if setup.name == "same-site":
        assert secret_cookies == {}, "the secret went to a cookie although IndexedDB works"
    else:
        assert list(secret_cookies) == [f"USER_SECRET-{account}"]
        held = secret_cookies[f"USER_SECRET-{account}"]
        assert (held["path"], held["secure"], held["sameSite"]) == ("/vault", True, "None")
        assert held.get("partitionKey", setup.top_level_site) == setup.top_level_site, held
        # The server neither logs nor stores it (the key material is the JWK's `k`).
        key = json.loads(unquote(held["value"]))["k"]
        assert key not in offen.output()
        assert all(key not in wrapped for wrapped in view["secrets"].values())
    methods = [m for m, path in traffic.api_calls() if path == "/api/events"]
    assert methods.count("POST") == 5


def test_host_page_with_a_strict_csp(setup: Setup, account: str, context: Any, offen: OffenServer):
    """A host page whose CSP forbids inline styles still shows the banner and collects (CSSOM only)."""
    context.add_init_script(
        "document.addEventListener('securitypolicyviolation', (e) =>"
        " (window.__violations = window.__violations || []).push(e.violatedDirective + ' ' + e.blockedURI))"
    )
    page = context.new_page()
    response = page.goto(setup.page_url(account, "start", "csp=strict"))
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    allow(page)  # the banner became visible: the vault's STYLES reached the frame through the CSSOM
    _step(offen, account, 1)
    page.get_by_test_id("push-1").click()
    _step(offen, account, 2)
    assert page.evaluate("window.__violations || []") == []


def test_a_visitor_who_comes_back_is_not_asked_again(
    setup: Setup, account: str, persistent_context: Any, offen: OffenServer
):
    """Consent and the visitor's identity survive a browser restart (partitioned cookies included)."""
    first = persistent_context()
    page = first.new_page()
    page.goto(setup.page_url(account, "start"))
    allow(page)
    _step(offen, account, 1)
    user_before = offen_cookies(first)["user"]["value"]
    first.close()

    again = persistent_context()
    traffic = OffenTraffic(setup.offen_origin).attach(again)
    page = again.new_page()
    page.goto(setup.page_url(account, "app"))
    _step(offen, account, 2)
    settle(page)
    assert not vault(page).get_by_test_id("banner").is_visible()
    assert offen_cookies(again)["user"]["value"] == user_before
    assert ("POST", "/api/exchange") not in traffic.api_calls(), "the returning visitor's secret was lost"
    events = offen.decrypted_events(account)
    assert [e["href"].rsplit("/", 1)[1] for e in events] == ["start", "app"]
    assert events[0]["sessionId"] != events[1]["sessionId"], "a new browser session is a new session"
