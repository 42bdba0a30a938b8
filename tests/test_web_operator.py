"""The operator's routes in-process: setup, login, sessions, accounts, credentials, mail links."""

from __future__ import annotations

import json

import pytest

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, mailed_link_token, seeded_harness


def test_setup_status_and_first_run(empty_app):
    empty_app.app.get("/api/setup", status=204)
    empty_app.app.post_json(
        "/api/setup",
        {"accountName": "<b>My</b> Site", "emailAddress": " Me@Example.test ", "password": "long enough"},
        status=204,
    )
    refused = empty_app.app.get("/api/setup", status=403)
    assert refused.body == b"null"
    again = empty_app.app.post_json(
        "/api/setup",
        {"accountName": "Other", "emailAddress": "x@example.test", "password": "long enough"},
        status=403,
    )
    assert "already set up" in again.json["error"]
    result = empty_app.login("me@example.test", "long enough")
    assert [a["accountName"] for a in result["accounts"]] == ["My Site"]


@pytest.mark.parametrize(
    "body, fragment",
    [
        ({"accountName": "", "emailAddress": "a@b.test", "password": "long enough"}, "name"),
        ({"accountName": "Site", "emailAddress": "not-an-email", "password": "long enough"}, "email"),
        ({"accountName": "Site", "emailAddress": "a@b.test", "password": "short"}, "at least 8"),
        ({"accountName": "Site", "emailAddress": "a@b.test", "password": "x" * 65}, "at most 64"),
    ],
)
def test_setup_bad_input_is_a_clear_400(empty_app, body, fragment):
    response = empty_app.app.post_json("/api/setup", body, status=400)
    assert fragment in response.json["error"]
    empty_app.app.get("/api/setup", status=204)


def test_login_result_shape_and_auth_cookie(seeded_app):
    response = seeded_app.app.post_json("/api/login", {"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    body = response.json
    assert set(body) == {"accountUserId", "adminLevel", "accounts"} and body["adminLevel"] == 1
    (account,) = body["accounts"]
    assert set(account) == {"accountName", "accountId", "keyEncryptionKey", "created"}
    assert account["keyEncryptionKey"]["kty"] == "oct"
    cookie = response.headers["Set-Cookie"]
    assert (
        cookie.startswith("auth=")
        and "Path=/api" in cookie
        and "HttpOnly" in cookie
        and "SameSite=Lax" in cookie
    )
    assert "Expires" not in cookie
    session = seeded_app.app.get("/api/login").json
    assert session["accountUserId"] == body["accountUserId"]
    assert session["accounts"][0]["keyEncryptionKey"] is None


@pytest.mark.parametrize("email", ["admin@example.test", "  ADMIN@EXAMPLE.TEST  ", ADMIN_EMAIL])
def test_login_email_is_trimmed_and_case_insensitive(seeded_app, email):
    assert seeded_app.login(email, ADMIN_PASSWORD)["adminLevel"] == 1


def test_wrong_credentials_and_bad_bodies(seeded_app):
    for _ in range(3):
        wrong = seeded_app.app.post_json(
            "/api/login", {"username": ADMIN_EMAIL, "password": "wrong password"}, status=401
        )
        assert wrong.json["status"] == 401
    seeded_app.app.post_json(
        "/api/login", {"username": "nobody@example.test", "password": "whatever1"}, status=401
    )
    seeded_app.app.post("/api/login", "{not json", status=400)
    seeded_app.app.post_json("/api/login", ["a", "list"], status=400)
    seeded_app.app.get("/api/login", status=401)


def test_forged_or_expired_auth_cookie_is_cleared(seeded_app):
    seeded_app.app.set_cookie("auth", "forged.value.here")
    response = seeded_app.app.get("/api/login", status=401)
    assert "auth=;" in response.headers["Set-Cookie"]
    seeded_app.login()
    seeded_app.clock.advance(25 * 3600)
    expired = seeded_app.app.get("/api/login", status=401)
    assert "expired" in expired.json["error"] or "invalid" in expired.json["error"]


def test_logout_expires_auth(seeded_app):
    seeded_app.login()
    response = seeded_app.app.post("/api/logout", status=204)
    assert "auth=;" in response.headers["Set-Cookie"]
    seeded_app.app.get("/api/login", status=401)


def test_get_account_order_of_checks(seeded_app):
    seeded_app.app.get(f"/api/accounts/{seeded_app.account_id}", status=401)
    seeded_app.login()
    view = seeded_app.app.get(f"/api/accounts/{seeded_app.account_id}").json
    assert {"accountId", "name", "publicKey", "encryptedPrivateKey", "created", "retentionPeriod"} <= set(
        view
    )
    assert "events" not in view and "secrets" not in view and "deletedEvents" not in view
    assert view["retentionPeriod"] == "6months"
    seeded_app.app.get("/api/accounts/00000000-0000-4000-8000-000000000000", status=403)
    with_since = seeded_app.app.get(f"/api/accounts/{seeded_app.account_id}", {"since": "0"}).json
    assert with_since["deletedEvents"] == []
    seeded_app.app.get(f"/api/accounts/{seeded_app.account_id}", {"since": "'; drop"}, status=400)


def test_create_account_requires_credentials_and_unique_name(seeded_app):
    seeded_app.login()
    body = {"accountName": "Second Site", "emailAddress": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    created = seeded_app.app.post_json("/api/accounts", body, status=201)
    assert created.body == b"null"
    duplicate = seeded_app.app.post_json("/api/accounts", body, status=400)
    assert "already exists" in duplicate.json["error"]
    wrong = dict(body, accountName="Third", password="not the password")
    seeded_app.app.post_json("/api/accounts", wrong, status=401)
    names = sorted(a["accountName"] for a in seeded_app.login()["accounts"])
    assert names == ["Example Site", "Second Site"]


def test_rsa_accounts_when_configured(tmp_path, clock, store):
    from tests.conftest import build_harness

    harness = build_harness(tmp_path, clock, store, OFFEN_APP_ACCOUNTKEYTYPE="rsa")
    harness.app.post_json(
        "/api/setup",
        {"accountName": "Legacy", "emailAddress": "a@b.test", "password": "long enough"},
        status=204,
    )
    account_id = harness.login("a@b.test", "long enough")["accounts"][0]["accountId"]
    key = harness.app.get("/api/exchange", {"accountId": account_id}).json["publicKey"]
    assert key["kty"] == "RSA" and set(key) == {"kty", "n", "e"}


def test_retire_account(seeded_app):
    seeded_app.login()
    seeded_app.app.delete(f"/api/accounts/{seeded_app.account_id}", status=204)
    seeded_app.app.get("/api/exchange", {"accountId": seeded_app.account_id}, status=400)
    seeded_app.app.get(f"/vault?accountId={seeded_app.account_id}", status=400)
    seeded_app.clock.advance(2)
    seeded_app.app.delete(f"/api/accounts/{seeded_app.account_id}", status=403)
    assert seeded_app.login()["accounts"] == []


def test_account_styles_validation_and_dry_run(seeded_app):
    seeded_app.login()
    url = f"/api/accounts/{seeded_app.account_id}/account-styles"
    good = ".banner__root { background: #fff; }"
    seeded_app.app.put(url + "?dryRun=1", json.dumps({"accountStyles": good}), status=204)
    assert "accountStyles" not in seeded_app.app.get(f"/api/accounts/{seeded_app.account_id}").json
    seeded_app.clock.advance(5)
    seeded_app.app.put(url, json.dumps({"accountStyles": good}), status=204)
    assert seeded_app.app.get(f"/api/accounts/{seeded_app.account_id}").json["accountStyles"] == good
    seeded_app.clock.advance(5)
    bad = seeded_app.app.put(url, json.dumps({"accountStyles": "div { color: red; }"}), status=400)
    assert bad.json["status"] == 400
    seeded_app.app.put(
        "/api/accounts/someone-else/account-styles", json.dumps({"accountStyles": good}), status=401
    )


def test_change_password_rewraps_keys(seeded_app):
    seeded_app.login()
    seeded_app.app.post_json(
        "/api/change-password",
        {"currentPassword": "wrong one!", "changedPassword": "new pass 123"},
        status=400,
    )
    seeded_app.clock.advance(10)
    response = seeded_app.app.post_json(
        "/api/change-password",
        {"currentPassword": ADMIN_PASSWORD, "changedPassword": "new pass 123"},
        status=204,
    )
    assert "auth=;" in response.headers["Set-Cookie"]
    seeded_app.app.post_json("/api/login", {"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD}, status=401)
    result = seeded_app.login(ADMIN_EMAIL, "new pass 123")
    assert result["accounts"][0]["keyEncryptionKey"]["k"]


def test_change_email(seeded_app):
    seeded_app.login()
    seeded_app.app.post_json(
        "/api/change-email",
        {"emailCurrent": ADMIN_EMAIL, "emailAddress": "New@Example.test", "password": ADMIN_PASSWORD},
        status=204,
    )
    seeded_app.app.post_json("/api/login", {"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD}, status=401)
    assert seeded_app.login("new@example.test", ADMIN_PASSWORD)["accounts"]


def test_forgot_and_reset_password_use_the_public_url_only(seeded_app):
    seeded_app.app.post_json(
        "/api/forgot-password",
        {"emailAddress": "nobody@example.test", "urlTemplate": "https://evil.example/{token}"},
        status=204,
    )
    assert seeded_app.mailer.messages == []
    seeded_app.clock.advance(10)
    seeded_app.app.post_json(
        "/api/forgot-password",
        {"emailAddress": ADMIN_EMAIL, "urlTemplate": "https://evil.example/{token}"},
        status=204,
    )
    (message,) = seeded_app.mailer.messages
    body = message.body if hasattr(message, "body") else message[2]
    assert "evil.example" not in body
    token = mailed_link_token(body, "reset-password")
    seeded_app.app.post_json(
        "/api/reset-password",
        {"emailAddress": "other@example.test", "password": "brand new 1", "token": token},
        status=400,
    )
    seeded_app.clock.advance(30)
    seeded_app.app.post_json(
        "/api/reset-password",
        {"emailAddress": ADMIN_EMAIL, "password": "brand new 1", "token": token + "x"},
        status=400,
    )
    seeded_app.clock.advance(60)
    seeded_app.app.post_json(
        "/api/reset-password",
        {"emailAddress": ADMIN_EMAIL, "password": "brand new 1", "token": token},
        status=204,
    )
    assert seeded_app.login(ADMIN_EMAIL, "brand new 1")["accounts"]


def test_forgot_password_without_public_url_is_a_clear_error(tmp_path, clock, seeded_template):
    harness = seeded_harness(tmp_path, clock, seeded_template, OFFEN_APP_PUBLICURL="")
    response = harness.app.post_json("/api/forgot-password", {"emailAddress": ADMIN_EMAIL}, status=500)
    assert "OFFEN_APP_PUBLICURL" in response.json["error"]
    harness.store.close()


def test_invite_join_and_roles(seeded_app):
    seeded_app.login()
    seeded_app.app.post_json(
        f"/api/share-account/{seeded_app.account_id}",
        {
            "invitee": "Viewer@Example.test",
            "emailAddress": ADMIN_EMAIL,
            "password": ADMIN_PASSWORD,
            "urlTemplate": "https://evil.example/{token}",
            "grantAdminPrivileges": False,
        },
        status=204,
    )
    (message,) = seeded_app.mailer.messages
    body = message.body if hasattr(message, "body") else message[2]
    token = mailed_link_token(body, "join")
    seeded_app.app.post_json(
        "/api/join",
        {"emailAddress": "viewer@example.test", "password": "viewer pass 1", "token": token},
        status=204,
    )
    viewer = seeded_app.app.__class__(seeded_app.app.app, extra_environ={"HTTP_HOST": "offen.example.test"})
    result = viewer.post_json(
        "/api/login", {"username": "viewer@example.test", "password": "viewer pass 1"}
    ).json
    assert result["adminLevel"] == 0 and [a["accountId"] for a in result["accounts"]] == [
        seeded_app.account_id
    ]
    viewer.get(f"/api/accounts/{seeded_app.account_id}", status=200)
    # A viewer calling admin routes directly is refused by the server.
    viewer.delete(f"/api/accounts/{seeded_app.account_id}", status=403)
    viewer.put(
        f"/api/accounts/{seeded_app.account_id}/account-styles", json.dumps({"accountStyles": ""}), status=403
    )
    viewer.post_json(
        "/api/accounts",
        {"accountName": "Mine", "emailAddress": "viewer@example.test", "password": "viewer pass 1"},
        status=403,
    )
    seeded_app.clock.advance(5)
    again = seeded_app.app.post_json(
        f"/api/share-account/{seeded_app.account_id}",
        {"invitee": "viewer@example.test", "emailAddress": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
        status=400,
    )
    assert "already has access" in again.json["error"]


def test_healthz_versionz_and_headers(seeded_app):
    health = seeded_app.app.get("/healthz")
    assert health.json == {"ok": True} and health.headers["Cache-Control"] == "no-store"
    assert health.headers["X-Content-Type-Options"] == "nosniff"
    seeded_app.app.post("/healthz", status=200)
    version = seeded_app.app.get("/versionz")
    assert "revision" in version.json and "\n" in version.text
    redirected = seeded_app.app.get("/healthz/", status=301)
    assert redirected.headers["Location"].endswith("/healthz")
    seeded_app.app.post("/api/login/", "{}", status=307)


def test_html_etag_csp_and_spa_fallback(seeded_app):
    shell = seeded_app.app.get("/")
    assert shell.headers["Content-Type"].startswith("text/html")
    assert "default-src 'self'" in shell.headers["Content-Security-Policy"]
    etag = shell.headers["ETag"]
    seeded_app.app.get("/auditorium/abc", headers={"If-None-Match": etag}, status=304)
    vault = seeded_app.app.get(f"/vault?accountId={seeded_app.account_id}")
    assert vault.headers["Cache-Control"] == "no-cache"
    script = seeded_app.app.get("/script.js")
    assert script.headers["Content-Type"].startswith("text/javascript")
    missing = seeded_app.app.get("/api/nothing-here", status=404)
    assert missing.json == {"error": "not found", "status": 404}
    seeded_app.app.get("/../../etc/passwd", status=200)  # the shell, never a file outside ui/


def test_gzip_for_text_not_for_bulk_ciphertext(seeded_app):
    seeded_app.login()
    big = seeded_app.app.get("/api/accounts/" + seeded_app.account_id, headers={"Accept-Encoding": "gzip"})
    assert big.headers.get("Content-Encoding") is None


@pytest.mark.slow
def test_hammered_login_answers_429_instead_of_parking_threads(tmp_path, seeded_template):
    import threading
    import time

    from tests.conftest import FakeTime

    clock = FakeTime()
    harness = seeded_harness(tmp_path, clock, seeded_template)
    # Real waiting for this test: the throttle must refuse, not queue, once
    # its few waiting slots are taken.
    harness.ctx.monotonic, harness.ctx.sleep = time.monotonic, time.sleep
    from appliance.web import build_services, build_wsgi

    harness.ctx.throttle_max_waiting = 2
    services = build_services(harness.ctx)
    services.logins.ensure_lookup_key()
    app = harness.app.__class__(
        build_wsgi(harness.ctx, services), extra_environ={"HTTP_HOST": "offen.example.test"}
    )
    results: list[tuple[int, str | None, float]] = []
    lock = threading.Lock()

    def attempt() -> None:
        started = time.monotonic()
        response = app.post_json(
            "/api/login", {"username": ADMIN_EMAIL, "password": "wrong password"}, expect_errors=True
        )
        with lock:
            results.append(
                (response.status_int, response.headers.get("Retry-After"), time.monotonic() - started)
            )

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    statuses = sorted(status for status, _, _ in results)
    refused = [(retry, took) for status, retry, took in results if status == 429]
    assert len(results) == 8 and set(statuses) <= {401, 429}
    # One passes at once, two may wait their turn, the rest are refused at once.
    assert len(refused) >= 5
    assert all(retry is not None and int(retry) >= 1 for retry, _ in refused)
    assert all(took < 1.0 for _, took in refused)
    harness.store.close()
