"""The operator's pages in real Chromium against a real `offen serve` with real mail (aiosmtpd).

Flows: first-run setup (and its refusal), login (success, `next`, no open redirect, three wrong
passwords, the throttle's 429), forgot and reset through the mailed link (and forged or misdirected
tokens), invitations (new user joins, existing user gains accounts), a viewer calling admin routes
directly, create account, retire account (then collection for it fails), change email, change password,
logout, keyboard-only login, and axe-core on every page at 1280 and 375 px wide.

One server per module with its own seeded operators (so credential changes never leak into other
modules), SMTP to an aiosmtpd inbox on loopback. Tests in this module depend on each other only through
data they create themselves (each uses its own operator where it changes credentials).
"""

from __future__ import annotations

import base64
import email
import email.policy
import json
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from appliance import keys
from tests.e2e.axe import assert_no_axe_violations
from tests.e2e.sites import OffenClient, OffenServer, _OffenProcess
from tests.realserver import run_offen

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORD = "operator pages password 1"
SIGNING_SECRET = bytes(range(16))
ADMIN = "admin@pages.test"
KEYS = "keys@pages.test"  # changes its email and password
EXISTING = "existing@pages.test"  # a viewer of Alpha, later invited to all accounts
THROTTLED = "throttled@pages.test"  # types wrong passwords
RESETTER = "reset@pages.test"  # resets the password
NAMES = ("Alpha site", "Beta site", "Gamma site", "Retire me site")
WIDTHS = (1280, 375)


# --------------------------------------------------------------------------- mail


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)
        return "250 OK"

    def wait_for(self, to: str, count: int = 1, timeout: float = 20) -> email.message.EmailMessage:
        """The `count`-th message to `to` (waiting for it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                found = [m for m in self.messages if m["To"].lower() == to.lower()]
            if len(found) >= count:
                return found[count - 1]
            time.sleep(0.1)
        raise AssertionError(f"no mail #{count} to {to}; got {[m['To'] for m in self.messages]}")


def link_in(message: email.message.EmailMessage, origin: str, kind: str) -> str:
    body = message.get_body(preferencelist=("plain", "html")).get_content()
    match = re.search(re.escape(origin) + rf"/{kind}/[^/\s\"<>]+/", body)
    assert match, body
    return match.group(0)


@pytest.fixture(scope="module")
def inbox() -> Iterator[tuple[Inbox, int]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


# --------------------------------------------------------------------------- servers


class OperatorServer(OffenServer):
    """An OffenServer with this module's operators (or, with `seed=False`, an empty instance)."""

    def __init__(self, directory: Path, cert: Path, key: Path, smtp_port: int, *, seed: bool) -> None:
        super().__init__(
            directory,
            cert,
            key,
            accounts=len(NAMES),
            OFFEN_SMTP_HOST="127.0.0.1",
            OFFEN_SMTP_PORT=str(smtp_port),
            OFFEN_SMTP_AUTHTYPE="NOAUTH",
            OFFEN_SMTP_SENDER="no-reply@pages.test",
            # Known to the tests so they can sign links that have expired (no waiting 24 h).
            OFFEN_SECRET=base64.b64encode(SIGNING_SECRET).decode(),
        )
        self.seed = seed
        self.names = dict(zip(NAMES, self.account_ids, strict=True))

    def start(self) -> OperatorServer:
        if self.seed:
            alpha = [self.names["Alpha site"]]
            users = [
                (ADMIN, 1, self.account_ids),
                (KEYS, 1, alpha),
                (EXISTING, 0, alpha),
                (THROTTLED, 0, alpha),
                (RESETTER, 0, alpha),
            ]
            seed = {
                "accounts": [{"id": aid, "name": name} for name, aid in self.names.items()],
                "account_users": [
                    {"email": mail, "password": PASSWORD, "admin_level": level, "accounts": accounts}
                    for mail, level, accounts in users
                ],
            }
            seed_path = self.directory / "seed.json"
            seed_path.write_text(json.dumps(seed))
            done = run_offen(["setup", "-source", str(seed_path)], self.env, timeout=180)
            seed_path.unlink()
            if done.returncode != 0:
                raise RuntimeError(f"offen setup failed:\n{done.stdout}\n{done.stderr}")
        logs = self.directory / "logs"
        logs.mkdir(exist_ok=True)
        self.process = _OffenProcess(self.env, self.port, logs, tls=True).start()
        return self


@pytest.fixture(scope="module")
def server(tmp_path_factory, certificate, inbox, playwright_instance) -> Iterator[OperatorServer]:
    instance = OperatorServer(tmp_path_factory.mktemp("operator-pages"), *certificate, inbox[1], seed=True)
    instance.start()
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture
def page(context) -> Any:
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors  # type: ignore[attr-defined]
    return page


# --------------------------------------------------------------------------- helpers


def login(page: Any, origin: str, address: str, password: str = PASSWORD, path: str = "/login/") -> None:
    page.goto(origin + path)
    page.get_by_test_id("login/email").fill(address)
    page.get_by_test_id("login/password").fill(password)
    page.get_by_test_id("login/submit").click()
    page.wait_for_url(lambda url: "/login/" not in url, timeout=30_000)


def stored_login(page: Any) -> dict[str, Any] | None:
    text = page.evaluate("() => sessionStorage.getItem('offen.operator.login')")
    return json.loads(text) if text else None


def api_status(page: Any, method: str, path: str, body: object | None = None) -> int:
    """Status of a fetch made by the page itself (its cookies, its origin)."""
    return page.evaluate(
        """async ([method, path, body]) => {
            const init = {method, credentials: 'same-origin'};
            if (body !== null) init.body = JSON.stringify(body);
            return (await fetch(path, init)).status;
        }""",
        [method, path, body],
    )


def alert_text(page: Any, form: str) -> str:
    alert = page.get_by_test_id(f"{form}/error")
    page.wait_for_function(
        "(el) => el.textContent.trim().length > 0 && !el.closest('form').hasAttribute('aria-busy')",
        arg=alert.element_handle(),
        timeout=30_000,
    )
    assert alert.get_attribute("role") == "alert"
    return alert.text_content().strip()


def check_page(page: Any, label: str) -> None:
    """axe-core at both widths, no horizontal scrolling at 375 px, no script errors."""
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(50)
        assert_no_axe_violations(page)
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{label}: {overflow}px of horizontal scrolling at {width}px"
    assert page.js_errors == [], page.js_errors
    page.set_viewport_size({"width": 1280, "height": 900})


# --------------------------------------------------------------------------- setup


def test_setup_on_an_empty_instance_then_refused(
    tmp_path_factory, certificate, inbox, context, playwright_instance
):
    instance = OperatorServer(tmp_path_factory.mktemp("operator-empty"), *certificate, inbox[1], seed=False)
    instance.start()
    try:
        origin = instance.origin
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.js_errors = []
        page.on("pageerror", lambda exc: page.js_errors.append(str(exc)))
        page.goto(origin + "/setup/")
        page.get_by_test_id("setup/account-name").wait_for()
        check_page(page, "setup form")
        # Client-side checks first: a short password and a mismatch are announced, nothing is sent.
        page.get_by_test_id("setup/account-name").fill("First site")
        page.get_by_test_id("setup/email").fill("first@pages.test")
        page.get_by_test_id("setup/password").fill("short")
        page.get_by_test_id("setup/repeat").fill("other")
        page.get_by_test_id("setup/submit").click()
        assert "at least 8" in alert_text(page, "setup")
        assert page.get_by_test_id("setup/password").get_attribute("aria-invalid") == "true"
        check_page(page, "setup form with errors")
        page.get_by_test_id("setup/password").fill(PASSWORD)
        page.get_by_test_id("setup/repeat").fill(PASSWORD)
        page.get_by_test_id("setup/submit").click()
        page.wait_for_url(origin + "/login/")
        assert "set up" in page.get_by_test_id("flash").text_content()
        login(page, origin, "first@pages.test")
        assert re.search(r"/auditorium/[0-9a-f-]{36}/$", page.url), page.url
        assert [a["accountName"] for a in stored_login(page)["accounts"]] == ["First site"]
        # Now the instance is set up: the page says so and links home, and the API refuses too.
        page.goto(origin + "/setup/")
        already = page.get_by_test_id("setup/already")
        assert already.text_content() == "This instance is already set up."
        assert page.get_by_test_id("setup/home").get_attribute("href") == "/"
        assert page.get_by_test_id("setup/submit").count() == 0
        check_page(page, "setup refused")
        assert (
            api_status(
                page,
                "POST",
                "/api/setup",
                {"accountName": "x", "emailAddress": "a@b.c", "password": PASSWORD},
            )
            >= 400
        )
    finally:
        instance.stop()


# --------------------------------------------------------------------------- login


def test_login_goes_to_next_or_first_account_and_never_off_site(server, page):
    origin = server.origin
    page.goto(origin + "/console/")
    page.wait_for_url(re.compile(r"/login/\?next=%2Fconsole%2F$"))
    page.get_by_test_id("login/email").fill(ADMIN)
    page.get_by_test_id("login/password").fill(PASSWORD)
    page.get_by_test_id("login/submit").click()
    page.wait_for_url(origin + "/console/")
    stored = stored_login(page)
    assert stored["adminLevel"] == 1 and len(stored["accounts"]) >= 3
    assert all(a["keyEncryptionKey"]["kty"] == "oct" for a in stored["accounts"])
    # An off-site next is ignored: the first account by name instead.
    page.evaluate("() => sessionStorage.clear()")
    login(page, origin, ADMIN, path="/login/?next=https%3A%2F%2Fevil.test%2F")
    first = min(stored["accounts"], key=lambda a: a["accountName"].lower())
    assert page.url == f"{origin}/auditorium/{first['accountId']}/"
    page.evaluate("() => sessionStorage.clear()")
    login(page, origin, ADMIN, path="/login/?next=%2F%2Fevil.test%2Fx")
    assert page.url.startswith(origin + "/auditorium/")


def test_wrong_password_three_times_then_the_throttle_answers(server, page):
    origin = server.origin
    page.goto(origin + "/login/")
    for attempt in range(3):
        page.get_by_test_id("login/email").fill(THROTTLED)
        page.get_by_test_id("login/password").fill(f"wrong password {attempt}")
        page.get_by_test_id("login/submit").click()
        assert alert_text(page, "login") == "The email address or password is not correct.", attempt
        assert page.url == origin + "/login/"
    assert stored_login(page) is None
    # Hammer the same address from the page until the server refuses with 429, then submit once more.
    page.evaluate(
        """(address) => {
            window.__burst = Array.from({length: 7}, () => fetch('/api/login', {method: 'POST',
                body: JSON.stringify({username: address, password: 'still wrong'})}).then(r => r.status));
        }""",
        THROTTLED,
    )
    page.wait_for_function(
        "() => Promise.race(window.__burst).then(() => true)",
        timeout=30_000,
    )
    page.get_by_test_id("login/password").fill("wrong again")
    page.get_by_test_id("login/submit").click()
    text = alert_text(page, "login")
    assert re.fullmatch(r"Too many attempts\. Please wait \d+ seconds and try again\.", text), text
    statuses = page.evaluate("() => Promise.all(window.__burst)")
    assert 429 in statuses and set(statuses) <= {401, 429}, statuses


def test_keyboard_only_login(server, page):
    origin = server.origin
    page.goto(origin + "/login/")
    page.get_by_test_id("login/email").wait_for()
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.dataset.testid") == "login/email":
            break
    else:
        pytest.fail("Tab never reached the email field")
    page.keyboard.type(ADMIN)
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.dataset.testid") == "login/password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/login/" not in url, timeout=30_000)
    assert stored_login(page)["adminLevel"] == 1


# --------------------------------------------------------------------------- reset


def test_forgot_and_reset_through_the_mailed_link(server, inbox, page):
    box, _ = inbox
    origin = server.origin
    page.goto(origin + "/forgot-password/")
    page.get_by_test_id("forgot/email").fill(RESETTER)
    page.get_by_test_id("forgot/submit").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"forgot/success\"]').textContent.length > 0"
    )
    url = link_in(box.wait_for(RESETTER), origin, "reset-password")
    token = url.rstrip("/").rsplit("/", 1)[1]
    # A forged token (the real one, altered) is refused, and so is the real one for another address.
    for address, link, expected in [
        (RESETTER, f"{origin}/reset-password/{token[:-3]}abc/", "invalid or has expired"),
        (ADMIN, url, "another email address"),
    ]:
        page.goto(link)
        page.get_by_test_id("reset/email").fill(address)
        page.get_by_test_id("reset/password").fill("a brand new password")
        page.get_by_test_id("reset/repeat").fill("a brand new password")
        page.get_by_test_id("reset/submit").click()
        assert expected in alert_text(page, "reset")
    page.goto(url)
    check_page(page, "reset password")
    page.get_by_test_id("reset/email").fill(RESETTER)
    page.get_by_test_id("reset/password").fill("a brand new password")
    page.get_by_test_id("reset/repeat").fill("a brand new password")
    page.get_by_test_id("reset/submit").click()
    page.wait_for_url(origin + "/login/")
    assert "reset" in page.get_by_test_id("flash").text_content()
    login(page, origin, RESETTER, "a brand new password")
    assert page.url == f"{origin}/auditorium/{server.names['Alpha site']}/"


def test_expired_reset_and_invitation_links_are_refused(server, page):
    """Links signed with the instance's secret, but older than their lifetime (24 h, 7 days)."""
    origin = server.origin
    now = datetime.now(UTC)
    reset = keys.sign(
        "reset-password",
        {"token": keys.b64url_encode(bytes(32)), "email": RESETTER, "accountUserId": str(uuid.uuid4())},
        SIGNING_SECRET,
        now - timedelta(hours=25),
    )
    page.goto(f"{origin}/reset-password/{reset}/")
    page.get_by_test_id("reset/email").fill(RESETTER)
    page.get_by_test_id("reset/password").fill("a brand new password")
    page.get_by_test_id("reset/repeat").fill("a brand new password")
    page.get_by_test_id("reset/submit").click()
    assert "invalid or has expired" in alert_text(page, "reset")
    invitee = "late@pages.test"
    join = keys.sign("join", {"email": invitee}, SIGNING_SECRET, now - timedelta(days=8))
    page.goto(f"{origin}/join/{join}/")
    page.get_by_test_id("join/email").fill(invitee)
    page.get_by_test_id("join/password").fill("a brand new password")
    page.get_by_test_id("join/repeat").fill("a brand new password")
    page.get_by_test_id("join/submit").click()
    assert "invalid or has expired" in alert_text(page, "join")
    # The same links signed now are read (they fail later, for their made-up content, not their age).
    fresh = keys.sign("join", {"email": invitee}, SIGNING_SECRET, now)
    page.goto(f"{origin}/join/{fresh}/")
    page.get_by_test_id("join/email").fill(invitee)
    page.get_by_test_id("join/password").fill("a brand new password")
    page.get_by_test_id("join/repeat").fill("a brand new password")
    page.get_by_test_id("join/submit").click()
    page.wait_for_timeout(500)
    error = page.get_by_test_id("join/error").text_content() or ""
    assert "invalid or has expired" not in error


# --------------------------------------------------------------------------- invitations and roles


def test_invite_new_user_who_joins_and_is_a_viewer(server, inbox, page, context):
    box, _ = inbox
    origin = server.origin
    login(page, origin, ADMIN, path="/login/?next=%2Fconsole%2F")
    admin_accounts = {a["accountId"] for a in stored_login(page)["accounts"]}
    # Inviting yourself is refused before anything is sent.
    page.get_by_test_id("share-all/invitee").fill(ADMIN)
    page.get_by_test_id("share-all/emailAddress").fill(ADMIN)
    page.get_by_test_id("share-all/password").fill(PASSWORD)
    page.get_by_test_id("share-all/submit").click()
    assert alert_text(page, "share-all") == "You cannot invite yourself."
    # Wrong confirmation password: a readable error, and the session survives.
    invitee = f"new-{uuid.uuid4().hex[:8]}@pages.test"
    page.get_by_test_id("share-all/invitee").fill(invitee)
    page.get_by_test_id("share-all/password").fill("not my password")
    page.get_by_test_id("share-all/submit").click()
    assert alert_text(page, "share-all") == "The email address or password is not correct."
    assert page.url == origin + "/console/"
    page.get_by_test_id("share-all/password").fill(PASSWORD)
    page.get_by_test_id("share-all/submit").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"share-all/success\"]').textContent.includes('invited')"
    )
    assert page.get_by_test_id("share-all/password").input_value() == ""  # no password left in the form
    join_url = link_in(box.wait_for(invitee), origin, "join")

    guest = context.browser.new_context(ignore_https_errors=True)
    try:
        viewer = guest.new_page()
        viewer.set_default_timeout(20_000)
        viewer.js_errors = []
        viewer.on("pageerror", lambda exc: viewer.js_errors.append(str(exc)))
        viewer.goto(join_url)
        check_page(viewer, "join")
        viewer.get_by_test_id("join/email").fill(invitee)
        viewer.get_by_test_id("join/password").fill(PASSWORD)
        viewer.get_by_test_id("join/repeat").fill(PASSWORD)
        viewer.get_by_test_id("join/submit").click()
        viewer.wait_for_url(origin + "/login/")
        login(viewer, origin, invitee, path="/login/?next=%2Fconsole%2F")
        stored = stored_login(viewer)
        assert stored["adminLevel"] == 0
        assert {a["accountId"] for a in stored["accounts"]} == admin_accounts
        # The console hides the admin-only forms from a viewer ...
        assert viewer.get_by_test_id("console/role").get_attribute("data-admin") == "0"
        assert viewer.get_by_test_id("share-all/form").count() == 0
        assert viewer.get_by_test_id("create-account/form").count() == 0
        picker = viewer.get_by_test_id("accounts/open")
        assert picker.count() == len(admin_accounts)
        check_page(viewer, "console (viewer)")
        # ... and the server refuses the admin routes when the viewer calls them directly.
        alpha = server.names["Alpha site"]
        assert api_status(viewer, "DELETE", f"/api/accounts/{alpha}") == 403
        assert (
            api_status(
                viewer,
                "POST",
                "/api/accounts",
                {"accountName": "Mine", "emailAddress": invitee, "password": PASSWORD},
            )
            == 403
        )
        assert (
            api_status(viewer, "PUT", f"/api/accounts/{alpha}/account-styles", {"accountStyles": ""}) == 403
        )
        share = {
            "invitee": "x@pages.test",
            "emailAddress": invitee,
            "password": PASSWORD,
            "grantAdminPrivileges": True,
        }
        assert api_status(viewer, "POST", f"/api/share-account/{alpha}", share) in (400, 403)
        assert api_status(viewer, "GET", f"/api/accounts/{alpha}") == 200  # viewing is allowed
    finally:
        guest.close()


def test_invite_an_existing_user_to_all_accounts(server, inbox, page):
    box, _ = inbox
    origin = server.origin
    login(page, origin, ADMIN, path="/login/?next=%2Fconsole%2F")
    admin_accounts = {a["accountId"] for a in stored_login(page)["accounts"]}
    page.get_by_test_id("share-all/invitee").fill(EXISTING)
    page.get_by_test_id("share-all/emailAddress").fill(ADMIN)
    page.get_by_test_id("share-all/password").fill(PASSWORD)
    page.get_by_test_id("share-all/submit").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"share-all/success\"]').textContent.length > 0"
    )
    message = box.wait_for(EXISTING)
    assert "/join/" not in message.get_body(preferencelist=("plain",)).get_content()
    page.evaluate("() => sessionStorage.clear()")
    login(page, origin, EXISTING, path="/login/?next=%2Fconsole%2F")
    assert {a["accountId"] for a in stored_login(page)["accounts"]} == admin_accounts


# --------------------------------------------------------------------------- accounts


def test_create_account_then_log_in_again_to_see_it(server, page):
    origin = server.origin
    login(page, origin, KEYS, path="/login/?next=%2Fconsole%2F")
    before = {a["accountName"] for a in stored_login(page)["accounts"]}
    name = f"Created {uuid.uuid4().hex[:6]}"
    page.get_by_test_id("create-account/name").fill(name)
    page.get_by_test_id("create-account/emailAddress").fill(KEYS)
    page.get_by_test_id("create-account/password").fill(PASSWORD)
    page.get_by_test_id("create-account/submit").click()
    page.wait_for_url(origin + "/login/", timeout=30_000)
    assert "log in again" in page.get_by_test_id("flash").text_content()
    assert stored_login(page) is None
    login(page, origin, KEYS, path="/login/?next=%2Fconsole%2F")
    after = {a["accountName"] for a in stored_login(page)["accounts"]}
    assert after == before | {name}
    # The console renders after the session check; wait for the picker, then count.
    page.get_by_test_id("accounts/open").filter(has_text=name).wait_for()
    assert page.get_by_test_id("accounts/open").filter(has_text=name).count() == 1


def test_retire_account_then_collection_for_it_fails(server, page):
    origin = server.origin
    account_id = server.names["Retire me site"]
    login(page, origin, ADMIN, path=f"/login/?next=%2Fauditorium%2F{account_id}%2F")
    name_field = page.get_by_test_id("retire/name")
    name_field.wait_for(timeout=60_000)
    name_field.fill("Retire me")  # not the exact name
    page.get_by_test_id("retire/submit").click()
    assert alert_text(page, "retire") == "The name does not match the account's name."
    name_field.fill("Retire me site")
    page.get_by_test_id("retire/submit").click()
    page.wait_for_url(origin + "/login/", timeout=30_000)
    assert "retired" in page.get_by_test_id("flash").text_content()
    assert stored_login(page) is None
    # Collection for the retired account fails: key exchange, events, and the vault page.
    client = OffenClient(server.port)
    assert client.get(f"/api/exchange?accountId={account_id}").status == 400
    exchange = client.post_json(
        "/api/exchange", {"accountId": account_id, "encryptedSecret": "{1,}eA== eA=="}
    )
    assert exchange.status >= 400
    client.set_cookie("user", str(uuid.uuid4()))
    client.set_cookie("consent", "allow")
    assert (
        client.post_json("/api/events", {"accountId": account_id, "payload": "{1,}eA== eA=="}).status >= 400
    )
    assert client.get(f"/vault?accountId={account_id}").status == 400
    login(page, origin, ADMIN, path="/login/?next=%2Fconsole%2F")
    assert account_id not in {a["accountId"] for a in stored_login(page)["accounts"]}


# --------------------------------------------------------------------------- credentials


def test_change_password_then_change_email(server, page):
    origin = server.origin
    login(page, origin, KEYS, path="/login/?next=%2Fconsole%2F")
    # A wrong current password is a readable error and changes nothing.
    page.get_by_test_id("change-password/current").fill("not the password")
    page.get_by_test_id("change-password/new").fill("the second password")
    page.get_by_test_id("change-password/repeat").fill("the second password")
    page.get_by_test_id("change-password/submit").click()
    assert alert_text(page, "change-password") == "The current password is not correct."
    page.get_by_test_id("change-password/current").fill(PASSWORD)
    page.get_by_test_id("change-password/submit").click()
    page.wait_for_url(origin + "/login/", timeout=30_000)
    assert "password has been changed" in page.get_by_test_id("flash").text_content()
    page.get_by_test_id("login/email").fill(KEYS)
    page.get_by_test_id("login/password").fill(PASSWORD)
    page.get_by_test_id("login/submit").click()
    assert "not correct" in alert_text(page, "login")
    login(page, origin, KEYS, "the second password", path="/login/?next=%2Fconsole%2F")

    new_address = f"keys-{uuid.uuid4().hex[:6]}@pages.test"
    page.get_by_test_id("change-email/new-email").fill(new_address)
    page.get_by_test_id("change-email/current-email").fill(KEYS)
    page.get_by_test_id("change-email/password").fill("the second password")
    page.get_by_test_id("change-email/submit").click()
    page.wait_for_url(origin + "/login/", timeout=30_000)
    assert "email address has been changed" in page.get_by_test_id("flash").text_content()
    login(page, origin, new_address, "the second password", path="/login/?next=%2Fconsole%2F")
    assert page.url == origin + "/console/"


def test_logout_forgets_the_login(server, page):
    origin = server.origin
    login(page, origin, ADMIN, path="/login/?next=%2Fconsole%2F")
    assert stored_login(page) is not None
    page.get_by_test_id("logout/submit").click()
    page.wait_for_url(origin + "/login/")
    assert page.get_by_test_id("flash").text_content() == "You have been logged out."
    assert stored_login(page) is None
    assert api_status(page, "GET", "/api/login") == 401
    page.goto(origin + "/console/")
    page.wait_for_url(re.compile(r"/login/\?next="))


# --------------------------------------------------------------------------- accessibility


def test_no_axe_violations_on_the_operator_pages(server, page):
    origin = server.origin
    for path, ready in [
        ("/login/", "login/email"),
        ("/forgot-password/", "forgot/email"),
        ("/reset-password/some.token/", "reset/email"),
        ("/join/some.token/", "join/email"),
        ("/setup/", "setup/already"),
    ]:
        page.goto(origin + path)
        page.get_by_test_id(ready).wait_for()
        check_page(page, path)
    # The login form with its errors shown.
    page.goto(origin + "/login/")
    page.get_by_test_id("login/submit").click()
    alert_text(page, "login")
    check_page(page, "login with errors")
    # The console as an admin, with every form.
    login(page, origin, ADMIN, path="/login/?next=%2Fconsole%2F")
    page.get_by_test_id("change-password/form").wait_for()
    check_page(page, "console (admin)")
    page.get_by_test_id("change-password/submit").click()
    alert_text(page, "change-password")
    check_page(page, "console with errors")
