"""The embed script: its size budget, and its behaviour in real Chromium against a stand-in vault.

The browser tests serve a host page and a fake vault on two loopback origins
(`localhost` and `127.0.0.1` are different sites and both secure contexts, so
no TLS is needed). The fake vault records what arrives on its `message`
listener and answers like the real one: STYLES, OPEN_AUDITORIUM, ERROR, reply.
The host page has a strict CSP without `style-src 'unsafe-inline'`, and any
CSP violation fails the test. One more test runs the schemeful-same-site
check of docs/embedding.md over TLS with a self-signed certificate.

The browser tests need Debian's `chromium` and the `playwright` package and
are skipped without them (marked `slow`).
"""

from __future__ import annotations

import gzip
import http.server
import json
import ssl
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.certs import self_signed_cert
from tests.e2e.sites import CHROMIUM as E2E_CHROMIUM
from tests.e2e.sites import CHROMIUM_ARGS

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "ui" / "script" / "script.js"
BUDGET = 2560  # 2.5 KiB after gzip -9


def test_script_fits_the_budget_as_served(seeded_app):
    served = seeded_app.app.get("/script.js").body
    assert served == SCRIPT.read_bytes()
    # gzip -9 without a file name in the header, like a server would send it.
    size = len(gzip.compress(served, compresslevel=9, mtime=0))
    assert size <= BUDGET, f"script.js is {size} bytes gzipped, the budget is {BUDGET}"


def test_script_is_one_classic_script():
    text = SCRIPT.read_text(encoding="utf-8")
    # No module syntax, no style element, no style markup: see docs/embedding.md.
    for forbidden in (
        "import ",
        "export ",
        "createElement('style')",
        'createElement("style")',
        "setAttribute('style'",
    ):
        assert forbidden not in text
    assert "innerHTML" not in text and "cssText = ''" in text


# ------------------------------------------------------------------------- browser harness

# The same Chromium and flags as the end-to-end tests (machines.md §8); their
# host-resolver rules map www.site.test and offen.site.test to loopback.
CHROMIUM = E2E_CHROMIUM
ARGS = CHROMIUM_ARGS


def _playwright():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed")
    return pytest.importorskip("playwright.sync_api")


class Server:
    """A tiny threaded HTTP(S) server on 127.0.0.1 whose answers are Python functions."""

    def __init__(
        self, routes: dict[str, Callable[[str], tuple[int, dict[str, str], bytes]]], tls=None
    ) -> None:
        self.routes = routes
        self.posted: list[dict] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                handler = outer.routes.get(path)
                if handler is None:
                    self.send_error(404)
                    return
                status, headers, body = handler(self.headers.get("Cookie", ""))
                self.send_response(status)
                for name, value in headers.items():
                    for one in value.split("\n"):
                        self.send_header(name, one)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                outer.posted.append(json.loads(self.rfile.read(length)))
                self.send_response(204)
                self.send_header("Access-Control-Allow-Origin", "*")
                self.end_headers()

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def page(body: str, content_type: str = "text/html; charset=utf-8", **headers: str):
    return lambda cookie: (200, {"Content-Type": content_type, **headers}, body.encode())


FAKE_VAULT_JS = """
addEventListener('message', (e) => {
  const port = e.ports[0]
  const data = e.data
  fetch('/record', {method: 'POST', body: JSON.stringify({origin: e.origin, data})})
  if (data.type === 'ACQUIRE_CONSENT') {
    port.postMessage({type: 'STYLES', payload: {styles: {display: 'block', position: 'fixed', bottom: '10px',
      left: '0', width: '300px'}, attributes: {height: '123', src: 'about:blank', onload: 'alert(1)'}}})
    port.postMessage({type: 'OPEN_AUDITORIUM', payload: {url: '/auditorium/?overlay=1'}})
    port.postMessage(null)
    // Closing the banner after the reply, on the same port.
    setTimeout(() => port.postMessage({type: 'STYLES', payload: {styles: {display: 'none'}}}), 1500)
  } else if (String(data.payload.event.rawHref).includes('fail')) {
    port.postMessage({type: 'ERROR', payload: {error: 'the vault says no'}})
  } else {
    port.postMessage(null)
  }
})
"""
AUDITORIUM = """<!DOCTYPE html><title>aud</title><button id="x">close me</button>
<script src="/aud.js"></script>"""
AUDITORIUM_JS = (
    """document.getElementById('x').onclick = () => parent.postMessage({type: 'CLOSE_AUDITORIUM'}, '*')"""
)
LISTEN_JS = """window.violations = []
addEventListener('securitypolicyviolation', (e) => violations.push(e.violatedDirective + ' ' + e.blockedURI))"""


@pytest.fixture
def origins() -> Iterator[tuple[Server, Server]]:
    offen = Server(
        {
            "/vault": page('<!DOCTYPE html><title>vault</title><script src="/fake-vault.js"></script>'),
            "/fake-vault.js": page(FAKE_VAULT_JS, "text/javascript"),
            "/o.js": lambda cookie: (200, {"Content-Type": "text/javascript"}, SCRIPT.read_bytes()),
            "/auditorium/": page(AUDITORIUM),
            "/aud.js": page(AUDITORIUM_JS, "text/javascript"),
        }
    )
    vault_origin = f"http://127.0.0.1:{offen.port}"
    csp = f"default-src 'self'; script-src 'self' {vault_origin}; frame-src {vault_origin}"

    def host_page(extra: str) -> Callable:
        return page(
            '<!DOCTYPE html><html><head><link rel="canonical" href="/canonical-page">'
            '<script src="/listen.js"></script>'
            f'<script src="{vault_origin}/o.js" data-account-id="acc-1" data-locale="de" {extra}></script>'
            '</head><body><button id="before">before</button><p>host page</p></body></html>',
            **{"Content-Security-Policy": csp},
        )

    host = Server(
        {
            "/auto.html": host_page(""),
            "/api.html": host_page("data-use-api"),
            "/listen.js": page(LISTEN_JS, "text/javascript"),
        }
    )
    yield offen, host
    offen.close()
    host.close()


@pytest.fixture
def browser(playwright_instance):
    _playwright()  # skips with a clear reason when Chromium or Playwright is missing
    instance = playwright_instance.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
    yield instance
    instance.close()


def wait_for(predicate: Callable[[], bool], page_, timeout_ms: int = 5000) -> None:
    waited = 0
    while not predicate():
        if waited >= timeout_ms:
            raise AssertionError("timed out")
        page_.wait_for_timeout(50)
        waited += 50


def events(offen: Server) -> list[dict]:
    return [p for p in offen.posted if p["data"]["type"] == "EVENT"]


@pytest.mark.slow
def test_automatic_mode_pageviews_iframe_and_history(origins, browser):
    offen, host = origins
    ctx = browser.new_context()
    tab = ctx.new_page()
    base = f"http://localhost:{host.port}"
    tab.goto(base + "/auto.html")
    wait_for(lambda: len(events(offen)) == 1, tab)
    first = events(offen)[0]
    assert first["origin"] == base
    assert first["data"]["payload"]["accountId"] == "acc-1"
    assert first["data"]["meta"] == {"skipConsent": False}
    event = first["data"]["payload"]["event"]
    assert event["type"] == "PAGEVIEW"
    assert event["href"] == base + "/canonical-page" and event["rawHref"] == base + "/auto.html"
    assert event["referrer"] == "" and event["isMobile"] is False
    assert isinstance(event["pageload"], int) and event["pageload"] >= 0
    frame = tab.locator("iframe[title='Offen Vault']")
    assert frame.count() == 1
    assert frame.get_attribute("id").startswith("offen-vault-")
    assert frame.get_attribute("src") == f"http://127.0.0.1:{offen.port}/vault?accountId=acc-1&locale=de"
    assert frame.evaluate("f => getComputedStyle(f).display") == "none"

    tab.evaluate("history.pushState({}, '', '/a')")
    wait_for(lambda: len(events(offen)) == 2, tab)
    second = events(offen)[1]["data"]["payload"]["event"]
    assert second["rawHref"] == base + "/a" and second["pageload"] is None
    tab.evaluate("history.replaceState({}, '', '/a')")  # same URL: no view
    tab.evaluate("history.pushState({}, '', '/a')")  # a new history entry: a view
    tab.evaluate("history.replaceState({}, '', '/b')")
    wait_for(lambda: len(events(offen)) == 4, tab)
    tab.go_back()
    wait_for(lambda: len(events(offen)) == 5, tab)
    tab.wait_for_timeout(300)
    hrefs = [e["data"]["payload"]["event"]["rawHref"] for e in events(offen)]
    # The stand-in vault records each message with a request of its own, so
    # two recordings close together may arrive in either order.
    assert hrefs[0] == base + "/auto.html"
    assert sorted(hrefs) == sorted(base + p for p in ("/auto.html", "/a", "/a", "/b", "/a"))
    assert tab.evaluate("violations") == []
    # Pasting the tag twice changes nothing.
    assert tab.locator("iframe[title='Offen Vault']").count() == 1
    ctx.close()


@pytest.mark.slow
def test_api_mode_styles_overlay_and_errors(origins, browser):
    offen, host = origins
    ctx = browser.new_context()
    tab = ctx.new_page()
    vault_origin = f"http://127.0.0.1:{offen.port}"
    tab.goto(f"http://localhost:{host.port}/api.html")
    tab.wait_for_timeout(300)
    assert events(offen) == [], "API mode sends no automatic page view"
    tab.focus("#before")
    result = tab.evaluate("new Promise((r) => window.__offen__.acquireConsent((err) => r(String(err))))")
    assert result == "null"
    frame = tab.locator("iframe[title='Offen Vault']")
    assert frame.evaluate("f => getComputedStyle(f).display") == "block"
    assert frame.evaluate("f => getComputedStyle(f).position") == "fixed"
    assert frame.evaluate("f => f.style.getPropertyPriority('display')") == "important"
    assert frame.get_attribute("height") == "123" and frame.get_attribute("onload") is None
    assert frame.get_attribute("src").startswith(vault_origin + "/vault?")
    # The overlay: a dialog with the auditorium of the vault origin, focus on its close button.
    overlay = tab.get_by_test_id("offen-auditorium-overlay")
    assert overlay.get_attribute("role") == "dialog"
    view = overlay.locator("iframe")
    assert view.get_attribute("src") == vault_origin + "/auditorium/?overlay=1"
    assert tab.evaluate("document.activeElement.dataset.testid") == "offen-auditorium-close"
    outline = tab.get_by_test_id("offen-auditorium-close").evaluate("b => getComputedStyle(b).outlineStyle")
    assert outline == "solid", "the focused close button shows a focus ring"
    # The banner's STYLES after the reply still arrive (closing it).
    wait_for(lambda: frame.evaluate("f => getComputedStyle(f).display") == "none", tab)
    tab.keyboard.press("Escape")
    assert overlay.count() == 0
    assert tab.evaluate("document.activeElement.id") == "before", "focus returns where it was"

    # Again, closed by the close button, then by the auditorium's own CLOSE_AUDITORIUM message.
    tab.evaluate("new Promise((r) => window.__offen__.acquireConsent(r))")
    tab.get_by_test_id("offen-auditorium-close").click()
    assert tab.get_by_test_id("offen-auditorium-overlay").count() == 0
    tab.evaluate("new Promise((r) => window.__offen__.acquireConsent(r))")
    tab.frame_locator("[data-testid=offen-auditorium-overlay] iframe").locator("#x").click()
    wait_for(lambda: tab.get_by_test_id("offen-auditorium-overlay").count() == 0, tab)
    # A CLOSE_AUDITORIUM from any other window is ignored.
    tab.evaluate("new Promise((r) => window.__offen__.acquireConsent(r))")
    tab.evaluate("window.postMessage({type: 'CLOSE_AUDITORIUM'}, '*')")
    tab.wait_for_timeout(200)
    assert tab.get_by_test_id("offen-auditorium-overlay").count() == 1
    tab.keyboard.press("Escape")

    ok = tab.evaluate(
        "new Promise((r) => window.__offen__.pageview({skipConsent: true}, (err) => r(String(err))))"
    )
    assert ok == "null"
    # The stand-in vault records what it received with a request of its own,
    # which may land just after the reply reached the page.
    wait_for(lambda: len(events(offen)) == 1, tab)
    sent = events(offen)[-1]["data"]
    assert sent["meta"] == {"skipConsent": True} and isinstance(sent["payload"]["event"]["pageload"], int)
    tab.evaluate("history.pushState({}, '', '/fail')")
    failed = tab.evaluate(
        "new Promise((r) => window.__offen__.pageview({subsequent: true}, (err) => r(err && err.message)))"
    )
    assert failed == "the vault says no"
    wait_for(lambda: len(events(offen)) == 2, tab)
    assert events(offen)[-1]["data"]["payload"]["event"]["pageload"] is None
    assert len(events(offen)) == 2, "history changes send nothing in API mode"
    assert tab.evaluate("violations") == []
    ctx.close()


@pytest.mark.slow
def test_strict_csp_allows_the_cssom_but_not_style_markup(browser):
    """What docs/embedding.md states about a host CSP without style-src 'unsafe-inline'."""
    probe = """window.violations = []
addEventListener('securitypolicyviolation', (e) => violations.push(e.violatedDirective))
const a = document.createElement('div'); document.body.append(a)
a.style.setProperty('display', 'flex', 'important')
const b = document.createElement('div'); document.body.append(b)
b.style.cssText = 'display: grid'
const c = document.createElement('div'); document.body.append(c)
c.setAttribute('style', 'display: inline-block')
const d = document.createElement('div'); d.className = 'd'; document.body.append(d)
const s = document.createElement('style'); s.textContent = '.d { display: table }'; document.head.append(s)
window.results = [a, b, c, d].map((el) => getComputedStyle(el).display)"""
    host = Server(
        {
            "/p.html": page(
                "<!DOCTYPE html><body><script src='/probe.js'></script></body>",
                **{"Content-Security-Policy": "default-src 'self'"},
            ),
            "/probe.js": page(probe, "text/javascript"),
        }
    )
    try:
        tab = browser.new_page()
        tab.goto(f"http://127.0.0.1:{host.port}/p.html")
        tab.wait_for_timeout(200)
        assert tab.evaluate("results") == ["flex", "grid", "block", "block"]
        assert sorted(tab.evaluate("violations")) == ["style-src-attr", "style-src-elem"]
    finally:
        host.close()


def _self_signed(tmp_path: Path) -> ssl.SSLContext:
    cert, key = self_signed_cert(tmp_path, ("www.site.test", "offen.site.test"), ("127.0.0.1",))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


@pytest.mark.slow
def test_plain_http_host_page_is_cross_site_for_an_https_instance(tmp_path, browser):
    """Schemeful same-site: http://www.site.test framing https://offen.site.test is a cross-site embed."""
    tls = _self_signed(tmp_path)
    cookies = "\n".join(
        [
            "lax=1; Path=/; Secure; SameSite=Lax",
            "none=1; Path=/; Secure; SameSite=None",
            "chips=1; Path=/; Secure; SameSite=None; Partitioned",
        ]
    )
    frame_js = """fetch('/echo').then((r) => r.text()).then((sent) => fetch('/record', {method: 'POST',
  body: JSON.stringify({sent, secure: isSecureContext, subtle: !!(self.crypto && crypto.subtle)})}))"""
    offen = Server(
        {
            "/frame": page("<!DOCTYPE html><script src='/frame.js'></script>", **{"Set-Cookie": cookies}),
            "/frame.js": page(frame_js, "text/javascript"),
            "/echo": lambda cookie: (200, {"Content-Type": "text/plain"}, cookie.encode()),
        },
        tls=tls,
    )
    frame_url = f"https://offen.site.test:{offen.port}/frame"
    embed = page(f"<!DOCTYPE html><iframe src='{frame_url}'></iframe>")
    plain = Server({"/": embed})
    secure = Server({"/": embed}, tls=tls)
    try:
        results = {}
        for label, url in (
            ("https", f"https://www.site.test:{secure.port}/"),
            ("http", f"http://www.site.test:{plain.port}/"),
        ):
            # A fresh context each time: no cookies carried over.
            ctx = browser.new_context(ignore_https_errors=True)
            tab = ctx.new_page()
            before = len(offen.posted)
            tab.goto(url)
            wait_for(lambda before=before: len(offen.posted) > before, tab)
            results[label] = offen.posted[-1]
            ctx.close()
        same_site, cross_site = results["https"], results["http"]
        assert sorted(same_site["sent"].split("; ")) == ["chips=1", "lax=1", "none=1"]
        assert same_site["secure"] and same_site["subtle"]
        # Over a plain-http parent: Lax is not kept (cross-site), unpartitioned None is blocked as a
        # third-party cookie, only the partitioned cookie works; and no WebCrypto in the frame.
        assert cross_site["sent"] == "chips=1"
        assert not cross_site["secure"] and not cross_site["subtle"]
    finally:
        for server in (offen, plain, secure):
            server.close()
