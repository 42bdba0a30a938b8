"""The visitor's auditorium: counts, export, delete, opt out (issue 3, point 4).

(a) same-site: the auditorium is a top-level page of the Offen origin, which
shares the vault's cookies and storage. (b) plain-http and (c) another site:
the vault's cookies are partitioned under the host page's site, so the
visitor reaches their auditorium in an overlay on the host page, opened from
the banner's follow-up screen.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.e2e.browsing import (
    OffenTraffic,
    offen_cookies,
    settle,
    vault,
    wait_for_banner,
)
from tests.e2e.sites import OffenServer, Setup

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _metric(auditorium: Any, name: str) -> str:
    return auditorium.get_by_test_id(f"auditorium/metric-{name}").get_attribute("data-value")


def _ready(auditorium: Any) -> None:
    auditorium.get_by_test_id("auditorium/consent-status").wait_for(state="visible")
    auditorium.get_by_test_id("auditorium/loading").wait_for(state="hidden")


def _collect_three(page: Any, setup: Setup, account: str, offen: OffenServer, *, keep_banner: bool) -> None:
    """First load plus two single-page navigations, after "I allow"."""
    page.goto(setup.page_url(account, "start"))
    wait_for_banner(page)
    vault(page).get_by_test_id("banner/allow").click()
    follow_up = vault(page).get_by_test_id("banner/continue")
    follow_up.wait_for(state="visible")
    if not keep_banner:
        follow_up.click()
    assert offen.wait_for_events(account, 1) == 1
    page.get_by_test_id("push-1").click()
    assert offen.wait_for_events(account, 2) == 2
    page.get_by_test_id("push-2").click()
    assert offen.wait_for_events(account, 3) == 3


def _delete_then_opt_out(
    auditorium: Any, reload: Any, page: Any, setup: Setup, account: str, context: Any, offen: OffenServer
) -> None:
    """The shared second half: "delete" keeps collecting, "opt out" stops it; both leave tombstones."""
    checkpoint = offen.account_view(account)["sequence"]

    # Delete my data, stay opted in.
    auditorium.get_by_test_id("auditorium/delete").click()
    _wait_until(lambda: offen.count_events(account) == 0, "the server still holds the visitor's events")
    assert offen.count_tombstones(account) == 3
    delta = offen.account_view(account, since=checkpoint)
    assert len(delta.get("deletedEvents", [])) == 3 and "events" not in delta
    auditorium = reload()
    _ready(auditorium)
    assert _metric(auditorium, "pageviews") == "0", "the local copy of the data was not deleted"
    assert auditorium.get_by_test_id("auditorium/consent-status").get_attribute("data-status") == "allow"
    assert offen_cookies(context)["consent"]["value"] == "allow"

    # Still opted in: the next navigation is collected (pushState directly: an overlay may cover the page).
    page.evaluate("history.pushState({}, '', 'step-1')")
    assert offen.wait_for_events(account, 1) == 1

    # Opt out: purge again, and nothing is collected any more.
    auditorium.get_by_test_id("auditorium/opt-out").click()
    _wait_until(lambda: offen.count_events(account) == 0, "opting out left events on the server")
    assert offen.count_tombstones(account) == 4
    _wait_until(lambda: offen_cookies(context).get("consent", {}).get("value") == "deny", "no consent=deny")
    assert "user" not in offen_cookies(context), "opting out keeps the visitor id"
    auditorium = reload()
    _ready(auditorium)
    assert auditorium.get_by_test_id("auditorium/consent-status").get_attribute("data-status") == "deny"

    traffic = OffenTraffic(setup.offen_origin).attach(context)
    page.goto(setup.page_url(account, "after-opt-out"))
    page.evaluate("history.pushState({}, '', 'step-2')")
    settle(page)
    assert offen.count_events(account) == 0
    assert traffic.api_calls() == []


def _wait_until(condition: Any, message: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(message)
        time.sleep(0.05)


def _check_counts_and_export(auditorium: Any, setup: Setup, account: str) -> None:
    _ready(auditorium)
    assert auditorium.get_by_test_id("auditorium/consent-status").get_attribute("data-status") == "allow"
    assert _metric(auditorium, "pageviews") == "3"
    assert _metric(auditorium, "websites") == "1"
    assert _metric(auditorium, "sessions") == "1"
    pages = auditorium.get_by_test_id("auditorium/pages").inner_text()
    assert "step-1" in pages and "step-2" in pages


def test_top_level_auditorium_same_site(
    setups: dict[str, Setup], account: str, context: Any, offen: OffenServer
):
    setup = setups["same-site"]
    page = context.new_page()
    _collect_three(page, setup, account, offen, keep_banner=False)

    auditorium = context.new_page()
    auditorium.goto(f"{setup.offen_origin}/auditorium/")
    _check_counts_and_export(auditorium, setup, account)

    # The export is the visitor's own decrypted data, as JSON.
    with auditorium.expect_download() as download_info:
        auditorium.get_by_test_id("auditorium/export").click()
    exported = json.loads(open(download_info.value.path(), encoding="utf-8").read())
    text = json.dumps(exported)
    assert text.count("PAGEVIEW") == 3 and f"/s/{account}/step-2" in text

    def reload() -> Any:
        auditorium.reload()
        return auditorium

    _delete_then_opt_out(auditorium, reload, page, setup, account, context, offen)


@pytest.mark.parametrize("setup_name", ["cross-site", "plain-http"])
def test_auditorium_in_an_overlay_on_the_host_page(
    setup_name: str, setups: dict[str, Setup], account: str, context: Any, offen: OffenServer
):
    setup = setups[setup_name]
    page = context.new_page()
    _collect_three(page, setup, account, offen, keep_banner=True)

    # A top-level visit of the Offen origin sees none of it: the cookies are partitioned.
    top = context.new_page()
    top.goto(f"{setup.offen_origin}/auditorium/")
    _ready(top)
    assert _metric(top, "pageviews") in ("0", "")
    top.close()

    def open_overlay() -> Any:
        link = vault(page).get_by_test_id("banner/auditorium")
        link.click()
        page.get_by_test_id("offen-auditorium-overlay").wait_for(state="visible")
        return page.frame_locator('[data-testid="offen-auditorium-overlay"] iframe[title="Offen Auditorium"]')

    auditorium = open_overlay()
    _check_counts_and_export(auditorium, setup, account)

    def reload() -> Any:
        # Close and reopen the overlay from the banner's follow-up screen: a fresh auditorium document.
        page.get_by_test_id("offen-auditorium-close").click()
        page.get_by_test_id("offen-auditorium-overlay").wait_for(state="detached")
        return open_overlay()

    _delete_then_opt_out(auditorium, reload, page, setup, account, context, offen)
