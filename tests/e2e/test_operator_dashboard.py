"""The operator's dashboard in real Chromium against a real `offen serve` (issue 4 items 1 and 4).

Events are posted through the protocol client (tests/protocol_client.py), encrypted as the vault does;
the operator logs in through the login page and the dashboard decrypts them in the browser with the real
engine. Every number checked on the page (`data-testid="dashboard/metric-<name>"`, `data-value`) is
computed here in Python from the same events with the definitions of reference §6.2, not copied from a
previous run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.e2e.axe import assert_no_axe_violations
from tests.e2e.sites import OPERATOR_EMAIL, OPERATOR_PASSWORD, OffenClient, OffenServer
from tests.protocol_client import Visitor

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SITE = "https://www.example.test"

# (visitor, session, path, referrer, campaign query, mobile, geo, pageload)
VISITS: list[tuple[str, str, str, str, str, bool, str | None, int | None]] = [
    ("a", "a1", "/", "https://www.google.com/", "", False, "DE", 200),
    ("a", "a1", "/about", SITE + "/", "", False, "DE", None),
    ("a", "a1", "/pricing", SITE + "/about/", "", False, "DE", None),
    ("a", "a2", "/blog", "", "?utm_campaign=spring&utm_source=newsletter", False, "DE", 300),
    ("b", "b1", "/", "https://news.ycombinator.com/item", "", True, "FR", 400),
    *[
        (
            "c",
            "c1",
            f"/p{i}",
            "https://www.google.de/search" if i == 1 else f"{SITE}/p{i - 1}/",
            "",
            False,
            None,
            100 if i == 1 else None,
        )
        for i in range(1, 13)
    ],
]
REFERRER_BUCKETS = {
    "www.google.com": "Google",
    "www.google.de": "Google",
    "news.ycombinator.com": "Hacker News",
}


def payload(
    session: str, path: str, referrer: str, query: str, mobile: bool, geo: str | None, pageload: int | None
) -> dict:
    href = SITE + path + query
    return {
        "type": "PAGEVIEW",
        "href": SITE + path,
        "rawHref": href if query else None,
        "referrer": referrer,
        "pageload": pageload,
        "isMobile": mobile,
        "timestamp": "2026-11-01T12:00:00.000Z",
        "sessionId": session,
        "geo": geo,
    }


def expected(visits: list[tuple], session_filter: Any = None) -> dict[str, float | int | None]:
    """Reference §6.2 over the fixture (all events are in the current 7-day range, none is older)."""
    sessions: dict[str, list[tuple]] = {}
    for visit in visits:
        sessions.setdefault(visit[1], []).append(visit)
    if session_filter is not None:
        sessions = {k: v for k, v in sessions.items() if session_filter(v)}
    events = [v for s in sessions.values() for v in s]
    loads = [v[7] for v in events if v[7]]
    return {
        "pageviews": len(events),
        "uniqueUsers": len({v[0] for v in events}),
        "uniqueSessions": len(sessions),
        "avgPageDepth": len(events) / len(sessions) if sessions else None,
        "bounceRate": sum(1 for s in sessions.values() if len(s) == 1) / len(sessions) if sessions else 0,
        "mobileShare": sum(1 for v in events if v[5]) / len(events) if events else None,
        "avgPageload": sum(loads) / len(loads) if loads else None,
        # Nobody was seen before the oldest event of the range: nobody returns.
        "returningUsers": 0,
    }


def first_referrer(session: list[tuple]) -> str | None:
    host = urlsplit(session[0][3]).hostname
    if not host or host == urlsplit(SITE).hostname:
        return None
    return REFERRER_BUCKETS.get(host, host)


@pytest.fixture(scope="module")
def seeded(offen: OffenServer) -> Iterator[tuple[OffenServer, str]]:
    """One account with the fixture's events, posted as three visitors."""
    account = offen.take_account()
    clients: dict[str, tuple[OffenClient, Visitor]] = {}
    for visitor_name, session, path, referrer, query, mobile, geo, pageload in VISITS:
        if visitor_name not in clients:
            client = OffenClient(offen.port)
            client.set_cookie("consent", "allow")
            visitor = Visitor()
            visitor.exchange(client, account)
            clients[visitor_name] = (client, visitor)
        client, visitor = clients[visitor_name]
        visitor.send(client, account, payload(session, path, referrer, query, mobile, geo, pageload))
        time.sleep(0.003)  # distinct event-id milliseconds keep each session's order unambiguous
    assert offen.wait_for_events(account, len(VISITS)) == len(VISITS)
    yield offen, account


def metric(page: Any, name: str) -> float | None:
    value = page.get_attribute(f'[data-testid="dashboard/metric-{name}"]', "data-value")
    return None if value in (None, "") else float(value)


def assert_metrics(page: Any, want: dict[str, float | int | None]) -> None:
    for name, value in want.items():
        got = metric(page, name)
        if value is None:
            assert got is None, name
        else:
            assert got == pytest.approx(value, rel=1e-9), f"{name}: shown {got}, expected {value}"


def open_dashboard(context: Any, offen: OffenServer, account: str, query: str = "", width: int = 1280) -> Any:
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.goto(f"{offen.origin}/login/?next=/auditorium/{account}/{query}")
    page.fill('[data-testid="login/email"]', OPERATOR_EMAIL)
    page.fill('[data-testid="login/password"]', OPERATOR_PASSWORD)
    page.click('[data-testid="login/submit"]')
    page.wait_for_selector('[data-testid="dashboard/ready"]', state="attached", timeout=30_000)
    assert not errors, errors
    return page


def wait_for_metric(page: Any, name: str, value: float) -> None:
    page.wait_for_function(
        '([name, value]) => { const el = document.querySelector(`[data-testid="dashboard/metric-${name}"]`);'
        " return el && Number(el.getAttribute('data-value')) === value; }",
        arg=[name, value],
    )


def test_numbers_filters_ranges_and_show_all(context: Any, seeded: tuple[OffenServer, str]) -> None:
    offen, account = seeded
    page = open_dashboard(context, offen, account)
    assert_metrics(page, expected(VISITS))
    assert metric(page, "liveUsers") == 3
    # The loading panel had one row per engine stage; once the panels are there it is hidden.
    stages = page.locator('[data-testid="dashboard/progress"] .dash-stage')
    assert [stages.nth(i).get_attribute("data-stage") for i in range(stages.count())] == [
        "download",
        "keyAgreement",
        "decryption",
        "aggregation",
        "storage",
    ]
    assert page.locator('[data-testid="dashboard/progress"]').is_hidden()
    hook = page.evaluate(
        "() => ({loadMs: window.__offenDashboard.loadMs, timings: window.__offenDashboard.timings})"
    )
    assert hook["loadMs"] > 0
    assert set(hook["timings"]) >= {
        "download",
        "keyAgreement",
        "decryption",
        "aggregation",
        "storage",
        "total",
    }

    # Top pages: 10 rows, then all 16 distinct pages.
    pages_table = '[data-testid="dashboard/table-pages"] tbody tr'
    assert page.locator(pages_table).count() == 10
    page.click('[data-testid="dashboard/show-all-pages"]')
    distinct_pages = {v[2] for v in VISITS}
    assert page.locator(pages_table).count() == len(distinct_pages)
    assert page.get_attribute('[data-testid="dashboard/show-all-pages"]', "aria-expanded") == "true"

    # Filter by clicking the "Google" referrer row: whole sessions whose first referrer is Google.
    page.click('[data-testid="dashboard/tab-referrers"]')
    referrers = page.locator('[data-testid="dashboard/table-referrers"] tbody th a')
    assert sorted(referrers.all_inner_texts()) == ["Direct / none", "Google", "Hacker News"]
    page.click('[data-testid="dashboard/table-referrers"] a[data-key="Google"]')
    google = expected(VISITS, lambda s: first_referrer(s) == "Google")
    wait_for_metric(page, "uniqueSessions", google["uniqueSessions"])
    assert_metrics(page, google)
    assert parse_qs(urlsplit(page.url).query)["filter"] == ["referrer:Google"]
    assert "Google" in page.inner_text('[data-testid="dashboard/filter"]')
    # The same row again removes the filter.
    page.click('[data-testid="dashboard/table-referrers"] a[data-key="Google"]')
    wait_for_metric(page, "uniqueSessions", expected(VISITS)["uniqueSessions"])
    assert "filter" not in parse_qs(urlsplit(page.url).query)

    # A filter whose value has no rows shows the fallback row in its table.
    page.click('[data-testid="dashboard/tab-geo"]')
    page.click('[data-testid="dashboard/table-geo"] a[data-key="FR"]')
    wait_for_metric(page, "uniqueSessions", 1)
    page.select_option('[data-testid="dashboard/range"]', "yesterday")
    wait_for_metric(page, "pageviews", 0)
    assert page.locator('[data-testid="dashboard/fallback-geo"]').count() == 1
    assert (
        page.locator('[data-testid="dashboard/chart-empty"]').inner_text()
        == "No data available for the selected time range."
    )
    assert parse_qs(urlsplit(page.url).query) == {"range": ["yesterday"], "filter": ["geo:FR"]}
    page.click('[data-testid="dashboard/remove-filter"]')
    page.select_option('[data-testid="dashboard/range"]', "30d")
    wait_for_metric(page, "pageviews", len(VISITS))
    assert_metrics(page, expected(VISITS))
    assert page.locator('[data-testid="dashboard/chart"] .chart-bar').count() == 30

    # Campaigns and sources come from the raw address the visitor saw.
    page.click('[data-testid="dashboard/tab-campaigns"]')
    assert page.locator('[data-testid="dashboard/table-campaigns"] tbody th a').all_inner_texts() == [
        "spring"
    ]

    # The back button restores the previous state of the URL.
    page.go_back()
    page.wait_for_function("() => !location.search.includes('range=30')")


def test_keyboard_tabs_and_axe(context: Any, seeded: tuple[OffenServer, str]) -> None:
    offen, account = seeded
    page = open_dashboard(context, offen, account)
    page.focus('[data-testid="dashboard/tab-pages"]')
    page.keyboard.press("ArrowRight")
    assert page.evaluate("() => document.activeElement.dataset.testid") == "dashboard/tab-geo"
    assert page.get_attribute('[data-testid="dashboard/tab-geo"]', "aria-selected") == "true"
    assert page.get_attribute('[data-testid="dashboard/tab-pages"]', "tabindex") == "-1"
    page.keyboard.press("End")
    assert page.evaluate("() => document.activeElement.dataset.testid") == "dashboard/tab-exitPages"
    page.keyboard.press("ArrowRight")
    assert page.evaluate("() => document.activeElement.dataset.testid") == "dashboard/tab-pages"
    # Enter on a row link filters, focus stays on that link.
    page.focus('[data-testid="dashboard/table-pages"] a[data-key="https://www.example.test/"]')
    page.keyboard.press("Enter")
    wait_for_metric(page, "pageviews", 2)
    assert page.evaluate("() => document.activeElement.dataset.key") == "https://www.example.test/"
    page.click('[data-testid="dashboard/embed"] summary')
    assert_no_axe_violations(page)


def test_narrow_screen(context: Any, seeded: tuple[OffenServer, str]) -> None:
    offen, account = seeded
    page = open_dashboard(context, offen, account, width=375)
    page.click('[data-testid="dashboard/show-all-pages"]')
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
    box = page.locator('[data-testid="dashboard/chart"]').bounding_box()
    assert box is not None and box["width"] <= 375
    assert_no_axe_violations(page)


def test_embed_code_access_widgets_and_refresh(context: Any, seeded: tuple[OffenServer, str]) -> None:
    offen, account = seeded
    page = open_dashboard(context, offen, account)
    code = page.input_value('[data-testid="dashboard/embed-code"]')
    assert code == f'<script async src="{offen.origin}/script.js" data-account-id="{account}"></script>'
    assert page.input_value('[data-testid="dashboard/access-link"]') == f"{offen.origin}/auditorium/"
    page.select_option('[data-testid="dashboard/widget-lang"]', "de")
    snippet = page.input_value('[data-testid="dashboard/widget-circle"]')
    assert f'src="{offen.origin}/user-access-widget-circle-de.svg"' in snippet
    # The widget images are served where the snippet points.
    loaded = page.evaluate(
        "() => Promise.all([...document.querySelectorAll('.dash-widget-img')].map(img => img.decode().then(() => img.naturalWidth)))"
    )
    assert all(width > 0 for width in loaded)

    # A new visit arrives; the refresh hook folds it in.
    client = OffenClient(offen.port)
    client.set_cookie("consent", "allow")
    visitor = Visitor()
    visitor.exchange(client, account)
    visitor.send(client, account, payload("d1", "/new", "", "", True, "ES", 150))
    refreshed = page.evaluate("() => window.__offenDashboard.refresh()")
    assert refreshed["added"] >= 1 and refreshed["renderMs"] >= 0
    wait_for_metric(page, "pageviews", len(VISITS) + 1)
    assert metric(page, "uniqueUsers") == 4


def test_banner_style_editor(context: Any, offen: OffenServer) -> None:
    account = offen.take_account()
    page = open_dashboard(context, offen, account)
    # No data yet: the real-time slot shows the embed code.
    assert page.locator('[data-testid="dashboard/embed-code"]').count() == 1
    page.fill('[data-testid="styles/css"]', ".banner__root { display: none; }")
    page.click('[data-testid="styles/preview"]')
    error = page.locator('[data-testid="styles/error"]')
    error.wait_for(state="visible")
    assert "display" in error.inner_text().lower()
    css = ".banner__root { background: #ff0000; }"
    page.fill('[data-testid="styles/css"]', css)
    page.click('[data-testid="styles/preview"]')
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"styles/message\"]').textContent.length > 0"
    )
    assert page.locator('[data-testid="styles/error"]').is_hidden()
    frame = page.frame_locator('[data-testid="styles/preview-frame-1"]')
    color = frame.locator(".banner__root").evaluate("el => getComputedStyle(el).backgroundColor")
    assert color == "rgb(255, 0, 0)"
    second = page.frame_locator('[data-testid="styles/preview-frame-2"]')
    assert second.locator(".banner--followup").count() == 1
    assert offen.account_view(account).get("accountStyles", "") in ("", None), "a dry run saves nothing"
    page.click('[data-testid="styles/apply"]')
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"styles/message\"]').textContent.includes('saved')"
    )
    assert offen.account_view(account)["accountStyles"] == css
    # The share and retire forms of the account-management pages are part of an admin's dashboard.
    assert page.locator('[data-testid="dashboard/share-slot"] form').count() == 1
    assert page.locator('[data-testid="dashboard/retire-slot"] form').count() == 1
    assert (
        json.loads(page.evaluate("() => sessionStorage.getItem('offen.operator.login')"))["adminLevel"] == 1
    )
