"""The shared-cache routes in-process over real SQLite: wrapped secrets, roll-ups, roles (issue 4)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import webtest

from appliance import ids
from appliance.records import Secret
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, mailed_link_token, seeded_harness
from tests.protocol_client import Visitor, pageview

VIEWER_EMAIL = "viewer@example.test"
VIEWER_PASSWORD = "viewer pass 1"


@pytest.fixture
def app(tmp_path, clock, seeded_template):
    harness = seeded_harness(tmp_path, clock, seeded_template)
    yield harness
    harness.store.close()


def _client(harness) -> webtest.TestApp:
    return webtest.TestApp(harness.app.app, extra_environ={"HTTP_HOST": "offen.example.test"})


def viewer_client(harness) -> webtest.TestApp:
    """A logged-in operator without admin rights, invited and joined through the real flow."""
    harness.login()
    harness.app.post_json(
        f"/api/share-account/{harness.account_id}",
        {"invitee": VIEWER_EMAIL, "emailAddress": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
        status=204,
    )
    message = harness.mailer.messages[-1]
    body = message.body if hasattr(message, "body") else message[2]
    token = mailed_link_token(body, "join")
    harness.app.post_json(
        "/api/join", {"emailAddress": VIEWER_EMAIL, "password": VIEWER_PASSWORD, "token": token}, status=204
    )
    viewer = _client(harness)
    login = viewer.post_json("/api/login", {"username": VIEWER_EMAIL, "password": VIEWER_PASSWORD}).json
    assert login["adminLevel"] == 0
    return viewer


def visit(harness, days_ago: list[float]) -> tuple[Visitor, webtest.TestApp, list[str]]:
    """A real visitor (exchange + events over HTTP) with events on the given days; returns its secret ids."""
    browser = _client(harness)
    browser.set_cookie("consent", "allow")
    visitor = Visitor()
    start = harness.clock.now
    visitor.exchange(browser, harness.account_id)
    for back in days_ago:
        harness.clock.now = start - timedelta(days=back)
        visitor.send(browser, harness.account_id, pageview("https://example.com/"))
        harness.clock.advance(1)
    harness.clock.now = start
    view = harness.app.get(f"/api/accounts/{harness.account_id}", {"limit": "10000"}).json
    return visitor, browser, sorted(view["secrets"])


def day(harness, days_ago: float) -> str:
    return (harness.clock.now - timedelta(days=days_ago)).date().isoformat()


def put(client, harness, period: str, checkpoint: str, payload: str = "{3,} Y3Q= bm9uY2U=", status=204):
    return client.put(
        f"/api/accounts/{harness.account_id}/rollups/{period}",
        json.dumps({"checkpoint": checkpoint, "payload": payload}),
        status=status,
    )


def periods(client, harness) -> list[str]:
    page = client.get(f"/api/accounts/{harness.account_id}/rollups").json
    return [r["period"] for r in page["rollups"]]


# -- wrapped secrets ------------------------------------------------------------------------------


def test_wrapped_secrets_round_trip_first_write_wins_and_pages(app):
    app.login()
    secret_ids = []
    for _ in range(3):
        secret_ids += visit(app, [1])[2]
    secret_ids = sorted(set(secret_ids))
    url = f"/api/accounts/{app.account_id}/wrapped-secrets"
    stored = app.app.post(url, json.dumps({"wrappedSecrets": {s: f"w-{s[:6]}" for s in secret_ids}})).json
    assert stored["stored"] == 3
    again = app.app.post(url, json.dumps({"wrappedSecrets": {secret_ids[0]: "replaced?"}})).json
    assert again["stored"] == 0
    unknown = app.app.post(url, json.dumps({"wrappedSecrets": {"a" * 64: "x"}})).json
    assert unknown == {"stored": 0, "skipped": 1}
    got, after = {}, None
    while True:
        page = app.app.get(url, {"limit": "2", **({"after": after} if after else {})}).json
        got.update(page["wrappedSecrets"])
        if not page["more"]:
            break
        after = page["next"]
    assert got == {s: f"w-{s[:6]}" for s in secret_ids}


@pytest.mark.parametrize(
    "body",
    [
        {"wrappedSecrets": []},
        {"wrappedSecrets": {"ABC": "x"}},
        {"wrappedSecrets": {"a" * 64: ""}},
        {"wrappedSecrets": {"a" * 64: "x" * 2049}},
        {"wrappedSecrets": {f"{i:064x}": "x" for i in range(5001)}},
        {},
    ],
)
def test_bad_wrapped_secret_writes_are_400(app, body):
    app.login()
    url = f"/api/accounts/{app.account_id}/wrapped-secrets"
    assert app.app.post(url, json.dumps(body), status=400).json["status"] == 400


def test_bad_wrapped_secret_reads_are_400(app):
    app.login()
    url = f"/api/accounts/{app.account_id}/wrapped-secrets"
    app.app.get(url, {"limit": "20001"}, status=400)
    app.app.get(url, {"after": "xyz"}, status=400)


# -- roll-ups -----------------------------------------------------------------------------------


def test_rollups_store_page_and_refuse_stale_writers(app):
    app.login()
    visit(app, [1, 2, 3])
    checkpoint = app.store.max_sequence()
    for d in (1, 2, 3):
        put(app.app, app, day(app, d), checkpoint, f"payload-{d}")
    first = app.app.get(f"/api/accounts/{app.account_id}/rollups", {"limit": "2"}).json
    assert [r["period"] for r in first["rollups"]] == [day(app, 3), day(app, 2)]
    assert first["more"] and first["next"] == day(app, 2)
    assert first["rollups"][0] == {"period": day(app, 3), "checkpoint": checkpoint, "payload": "payload-3"}
    rest = app.app.get(f"/api/accounts/{app.account_id}/rollups", {"after": first["next"]}).json
    assert [r["period"] for r in rest["rollups"]] == [day(app, 1)] and not rest["more"]
    # A newer checkpoint arrives, then a writer still at the older one is stale.
    visit(app, [0])
    newer = app.store.max_sequence()
    put(app.app, app, day(app, 1), newer, "newer")
    conflict = put(app.app, app, day(app, 1), checkpoint, "older", status=409)
    assert conflict.json["status"] == 409
    assert app.app.get(f"/api/accounts/{app.account_id}/rollups").json["rollups"][-1]["payload"] == "newer"


@pytest.mark.parametrize(
    "period, body",
    [
        ("2026-02-30", None),
        ("2026-1-01", None),
        ("yesterday", None),
        ("2025-01-01", None),  # before the retention window
        ("2026-11-03", None),  # after tomorrow (UTC)
        (None, {"checkpoint": "not-a-sequence", "payload": "x"}),
        (None, {"checkpoint": "7ZZZZZZZZZZZZZZZZZZZZZZZZZ", "payload": "x"}),  # beyond every sequence
        (None, {"checkpoint": "CHECKPOINT", "payload": ""}),
        (None, {"payload": "x"}),
    ],
)
def test_bad_rollup_writes_are_400(app, period, body):
    app.login()
    visit(app, [1])
    checkpoint = app.store.max_sequence()
    if body is None:
        body = {"checkpoint": checkpoint, "payload": "x"}
    elif body.get("checkpoint") == "CHECKPOINT":
        body = dict(body, checkpoint=checkpoint)
    answer = app.app.put(
        f"/api/accounts/{app.account_id}/rollups/{period or day(app, 1)}", json.dumps(body), status=400
    ).json
    assert answer["status"] == 400 and answer["error"]


def test_tomorrow_is_allowed_and_big_bodies_are_refused_with_a_message(app):
    app.login()
    visit(app, [0])
    checkpoint = app.store.max_sequence()
    put(app.app, app, day(app, -1), checkpoint)
    big = "A" * (16 * 1024 * 1024 + 1)
    too_big = put(app.app, app, day(app, 0), checkpoint, big, status=400).json
    assert "16 MiB" in too_big["error"]
    # Just under the limit is stored (a real 16 MiB write, read back in full).
    payload = "B" * (16 * 1024 * 1024 - 10)
    put(app.app, app, day(app, 0), checkpoint, payload)
    got = app.app.get(f"/api/accounts/{app.account_id}/rollups").json["rollups"]
    assert [len(r["payload"]) for r in got if r["period"] == day(app, 0)] == [len(payload)]
    oversize = app.app.put(
        f"/api/accounts/{app.account_id}/rollups/{day(app, 0)}",
        b"{" + b" " * (17 * 1024 * 1024) + b"}",
        status=400,
    ).json
    assert "too large" in oversize["error"]


def test_purge_of_a_visitor_deletes_the_rollups_of_its_days(app):
    app.login()
    _visitor, browser, _ = visit(app, [1, 3])
    visit(app, [1, 2])
    checkpoint = app.store.max_sequence()
    for d in (1, 2, 3):
        put(app.app, app, day(app, d), checkpoint)
    browser.post("/api/purge", status=204)
    assert periods(app.app, app) == [day(app, 2)]
    # A browser that computed day 1 before the purge cannot bring it back.
    put(app.app, app, day(app, 1), checkpoint, status=409)
    put(app.app, app, day(app, 1), app.store.max_sequence())


def test_expiry_deletes_old_rollups(tmp_path, clock, seeded_template):
    harness = seeded_harness(tmp_path, clock, seeded_template, OFFEN_APP_RETENTION="7days")
    try:
        harness.login()
        # Straight into the store: the 7-day `user` cookie of the fake clock is
        # already expired for WebTest's cookie jar, which uses the real time.
        secret_id = "c" * 64
        harness.store.insert_secret(Secret(secret_id, "{1,} eA=="))
        for back in (6.5, 6, 2):
            moment = harness.clock.now - timedelta(days=back)
            harness.store.insert_event(harness.account_id, secret_id, "{1,} eA== eA==", moment)
        checkpoint = harness.store.max_sequence()
        for d in (6, 2):
            put(harness.app, harness, day(harness, d), checkpoint)
        put(harness.app, harness, day(harness, 8), checkpoint, status=400)  # outside the window
        from appliance import retention

        harness.clock.advance(timedelta(days=2).total_seconds())
        assert retention.expire(harness.store, harness.clock.now, harness.ctx.config.retention_period) == 2
        harness.login()  # the session of two days ago has expired
        assert periods(harness.app, harness) == [(harness.clock.now - timedelta(days=4)).date().isoformat()]
    finally:
        harness.store.close()


# -- roles, retire, clearing ------------------------------------------------------------------------


def test_viewer_writes_the_cache_but_cannot_clear_it_nor_save_styles(app):
    viewer = viewer_client(app)
    _, _, secret_ids = visit(app, [1])
    checkpoint = app.store.max_sequence()
    url = f"/api/accounts/{app.account_id}"
    stored = viewer.post(url + "/wrapped-secrets", json.dumps({"wrappedSecrets": {secret_ids[0]: "w"}})).json
    assert stored["stored"] == 1
    put(viewer, app, day(app, 1), checkpoint)
    assert periods(viewer, app) == [day(app, 1)]
    assert viewer.delete(url + "/shared-cache", status=403).json["status"] == 403
    styles = json.dumps({"accountStyles": ".banner__root { color: #000; }"})
    viewer.put(url + "/account-styles?dryRun=1", styles, status=204)
    viewer.put(url + "/account-styles", styles, status=403)
    app.app.delete(url + "/shared-cache", status=204)
    assert periods(app.app, app) == []
    assert app.app.get(url + "/wrapped-secrets").json == {"wrappedSecrets": {}, "more": False, "next": None}


def test_statuses_401_403_404_and_retire_clears_both_tables(app):
    url = f"/api/accounts/{app.account_id}"
    for method, path in [
        ("get", "/wrapped-secrets"),
        ("post", "/wrapped-secrets"),
        ("get", "/rollups"),
        ("put", "/rollups/2026-10-31"),
        ("delete", "/shared-cache"),
    ]:
        getattr(app.app, method)(url + path, status=401)
    app.login()
    from appliance import accounts as accounts_domain

    other = accounts_domain.new_account("Other", "x25519", app.clock.now).account
    app.store.insert_account(other)
    app.app.get(f"/api/accounts/{other.account_id}/rollups", status=403)
    app.app.delete(f"/api/accounts/{other.account_id}/shared-cache", status=403)
    app.app.get("/api/accounts/00000000-0000-4000-8000-000000000000/rollups", status=404)
    _, _, secret_ids = visit(app, [1])
    put(app.app, app, day(app, 1), app.store.max_sequence())
    app.app.post(url + "/wrapped-secrets", json.dumps({"wrappedSecrets": {secret_ids[0]: "w"}}))
    app.app.delete(url, status=204)
    app.app.get(url + "/rollups", status=404)
    app.app.get(url + "/wrapped-secrets", status=404)
    assert app.store.find_wrapped_secrets(app.account_id, None, 10) == []
    assert list(app.store.iter_rollups(app.account_id, None, 10)) == []


def test_cross_site_writes_are_refused(app):
    app.login()
    app.app.put(
        f"/api/accounts/{app.account_id}/rollups/2026-10-31",
        json.dumps({"checkpoint": ids.new_ulid(app.clock.now), "payload": "x"}),
        headers={"Sec-Fetch-Site": "cross-site"},
        status=403,
    )
