"""The visitor's routes in-process: exchange, events, own data, purge, and their cookies."""

from __future__ import annotations

import json
import sqlite3

import pytest

from appliance import keys
from tests.conftest import seeded_harness
from tests.protocol_client import Visitor, decrypt_operator_view, pageview


def consent(app, value: str = "allow") -> None:
    app.app.set_cookie("consent", value)


def test_public_key_of_active_account(seeded_app):
    body = seeded_app.app.get("/api/exchange", {"accountId": seeded_app.account_id}).json
    assert set(body) == {"accountId", "name", "publicKey", "created"}
    assert body["name"] == "Example Site"
    assert body["publicKey"]["kty"] == "OKP" and "d" not in body["publicKey"]


@pytest.mark.parametrize("query", [{}, {"accountId": ""}, {"accountId": "no-such-account"}])
def test_public_key_unknown_account_is_400(seeded_app, query):
    response = seeded_app.app.get("/api/exchange", query, status=400)
    assert response.json["status"] == 400 and response.json["error"]
    assert response.headers["Cache-Control"] == "no-store"


def test_exchange_sets_user_cookie_with_offen_attributes(seeded_app):
    Visitor().exchange(seeded_app.app, seeded_app.account_id)
    cookies = {c.name: c for c in seeded_app.app.cookiejar}
    assert "user" in cookies and cookies["user"].path == "/api"
    # Reading the public key sets nothing: no identifier before the exchange.
    response = seeded_app.app.get("/api/exchange", {"accountId": seeded_app.account_id})
    assert "Set-Cookie" not in response.headers


def test_user_cookie_flags_follow_the_scheme(seeded_app):
    info = seeded_app.app.get("/api/exchange", {"accountId": seeded_app.account_id}).json
    wrapped = keys.wrap_for_account(info["publicKey"], b'{"kty":"oct","k":"AAAAAAAAAAAAAAAAAAAAAA"}')
    body = json.dumps({"accountId": seeded_app.account_id, "encryptedSecret": wrapped})
    plain = seeded_app.app.post("/api/exchange", body, status=204).headers["Set-Cookie"]
    assert plain.startswith("user=") and "Path=/api" in plain and "HttpOnly" in plain
    assert "SameSite=Lax" in plain and "Secure" not in plain and "Expires=" in plain
    # CHIPS needs Secure, so a plain-http cookie is never Partitioned.
    assert "Partitioned" not in plain
    secure = seeded_app.app.post(
        "/api/exchange", body, status=204, extra_environ={"wsgi.url_scheme": "https"}
    ).headers["Set-Cookie"]
    assert "SameSite=None" in secure and "Secure" in secure
    # Partitioned (CHIPS): kept by browsers that block third-party cookies, in the host site's partition.
    assert secure.endswith("; Partitioned")


def test_forwarded_proto_counts_only_behind_a_reverse_proxy(tmp_path, clock, seeded_template):
    for proxy, expect_secure in (("false", False), ("true", True)):
        (tmp_path / proxy).mkdir()
        harness = seeded_harness(tmp_path / proxy, clock, seeded_template, OFFEN_SERVER_REVERSEPROXY=proxy)
        info = harness.app.get("/api/exchange", {"accountId": harness.account_id}).json
        wrapped = keys.wrap_for_account(info["publicKey"], b"{}")
        header = harness.app.post(
            "/api/exchange",
            json.dumps({"accountId": harness.account_id, "encryptedSecret": wrapped}),
            headers={"X-Forwarded-Proto": "https"},
            status=204,
        ).headers["Set-Cookie"]
        assert ("Secure" in header) is expect_secure
        # Security headers stay on in reverse-proxy mode.
        response = harness.app.get("/healthz", headers={"X-Forwarded-Proto": "https"})
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert ("Strict-Transport-Security" in response.headers) is expect_secure
        harness.store.close()


def test_event_without_consent_is_ignored_and_stores_nothing(seeded_app):
    visitor = Visitor()
    visitor.exchange(seeded_app.app, seeded_app.account_id)
    response = visitor.send(
        seeded_app.app, seeded_app.account_id, pageview("https://www.example.test/"), status=204
    )
    assert response.body == b""
    assert seeded_app.store.find_events_for_account(seeded_app.account_id) == []


def test_event_with_consent_is_stored_as_ciphertext_only(seeded_app, tmp_path):
    visitor = Visitor()
    visitor.exchange(seeded_app.app, seeded_app.account_id)
    consent(seeded_app)
    response = visitor.send(
        seeded_app.app, seeded_app.account_id, pageview("https://www.example.test/secret-page")
    )
    assert response.status_int == 201 and response.json == {"ack": True}
    assert "user=" in response.headers["Set-Cookie"]
    events = seeded_app.store.find_events_for_account(seeded_app.account_id)
    assert len(events) == 1 and events[0].payload.startswith("{1,} ")
    raw = (tmp_path / "offen.db").read_bytes()
    for path in tmp_path.glob("offen.db*"):
        raw += path.read_bytes()
    assert b"secret-page" not in raw


def test_event_errors(seeded_app):
    consent(seeded_app)
    no_user = seeded_app.app.post(
        "/api/events", json.dumps({"accountId": seeded_app.account_id, "payload": "x"}), status=400
    )
    assert "user cookie" in no_user.json["error"]
    visitor = Visitor()
    visitor.exchange(seeded_app.app, seeded_app.account_id)
    seeded_app.app.post("/api/events", "not json", status=400)
    missing = seeded_app.app.post(
        "/api/events", json.dumps({"accountId": "nope", "payload": "{1,} eA== eA=="}), status=404
    )
    assert missing.json == {"error": missing.json["error"], "status": 404}
    # A browser holds one `user` cookie; start from an empty jar so the one
    # set here is the only one sent (with duplicates, the first one counts, as in Offen).
    seeded_app.app.reset()
    consent(seeded_app)
    seeded_app.app.set_cookie("user", "someone-without-a-secret")
    seeded_app.clock.advance(1)
    unknown = visitor.send(
        seeded_app.app, seeded_app.account_id, pageview("https://www.example.test/"), status=400
    )
    assert unknown.json["status"] == 400


def test_events_are_throttled_per_visitor_without_parking_threads(seeded_app):
    visitor = Visitor()
    visitor.exchange(seeded_app.app, seeded_app.account_id)
    consent(seeded_app)
    start = seeded_app.clock.monotonic()
    for _ in range(3):
        visitor.send(seeded_app.app, seeded_app.account_id, pageview("https://www.example.test/"))
    # Offen's linear 0.5 s per visitor: the fake sleep advanced the clock.
    assert seeded_app.clock.monotonic() - start >= 1.0
    assert len(seeded_app.store.find_events_for_account(seeded_app.account_id)) == 3


def test_operator_decrypts_what_the_visitor_sent(seeded_app):
    visitor = Visitor()
    visitor.exchange(seeded_app.app, seeded_app.account_id)
    consent(seeded_app)
    sent = [pageview(f"https://www.example.test/page-{i}", "https://duckduckgo.com/") for i in range(3)]
    for event in sent:
        seeded_app.clock.advance(1)
        visitor.send(seeded_app.app, seeded_app.account_id, event)
    operator = seeded_app.app.__class__(seeded_app.app.app, extra_environ={"HTTP_HOST": "offen.example.test"})
    login = operator.post_json(
        "/api/login", {"username": "admin@example.test", "password": "correct horse battery"}
    ).json
    view = operator.get(f"/api/accounts/{seeded_app.account_id}").json
    assert decrypt_operator_view(login, view) == sent


def test_visitor_reads_own_events_and_syncs_with_since(seeded_app):
    visitor = Visitor()
    visitor.exchange(seeded_app.app, seeded_app.account_id)
    consent(seeded_app)
    visitor.send(seeded_app.app, seeded_app.account_id, pageview("https://www.example.test/a"))
    first = seeded_app.app.get("/api/events").json
    assert set(first) == {"events", "sequence", "retentionPeriod"}
    (event,) = first["events"][seeded_app.account_id]
    assert set(event) == {"accountId", "eventId", "payload"}  # never the secret id
    seeded_app.clock.advance(1)
    visitor.send(seeded_app.app, seeded_app.account_id, pageview("https://www.example.test/b"))
    later = seeded_app.app.get("/api/events", {"since": first["sequence"]}).json
    assert [e["eventId"] for e in later["events"][seeded_app.account_id]] != [event["eventId"]]
    assert len(later["events"][seeded_app.account_id]) == 1 and later["sequence"] > first["sequence"]
    nothing = seeded_app.app.get("/api/events", {"since": later["sequence"]}).json
    assert nothing["events"] == {} and "sequence" not in nothing


def test_purge_deletes_events_writes_tombstones_and_can_expire_the_cookie(seeded_app):
    visitor = Visitor()
    visitor.exchange(seeded_app.app, seeded_app.account_id)
    consent(seeded_app)
    visitor.send(seeded_app.app, seeded_app.account_id, pageview("https://www.example.test/a"))
    checkpoint = seeded_app.app.get("/api/events").json["sequence"]
    seeded_app.app.post("/api/purge", status=204)
    after = seeded_app.app.get("/api/events", {"since": checkpoint}).json
    assert after["events"] == {} and len(after["deletedEvents"]) == 1
    assert seeded_app.store.find_events_for_account(seeded_app.account_id) == []
    response = seeded_app.app.post("/api/purge?user=1", status=204)
    assert "user=;" in response.headers["Set-Cookie"] and "Max-Age=0" in response.headers["Set-Cookie"]


def test_purge_over_https_expires_the_partitioned_and_the_old_unpartitioned_user_cookie(seeded_app):
    https = {"wsgi.url_scheme": "https"}
    Visitor().exchange(seeded_app.app, seeded_app.account_id)
    response = seeded_app.app.post("/api/purge?user=1", status=204, extra_environ=https)
    expired = [v for n, v in response.headerlist if n == "Set-Cookie" and v.startswith("user=;")]
    assert len(expired) == 2 and all("Max-Age=0" in v and "Secure" in v for v in expired)
    assert sorted(v.endswith("; Partitioned") for v in expired) == [False, True]


def test_cross_site_purge_is_refused(seeded_app):
    visitor = Visitor()
    visitor.exchange(seeded_app.app, seeded_app.account_id)
    consent(seeded_app)
    visitor.send(seeded_app.app, seeded_app.account_id, pageview("https://www.example.test/a"))
    by_fetch_metadata = seeded_app.app.post(
        "/api/purge", headers={"Sec-Fetch-Site": "cross-site"}, status=403
    )
    assert by_fetch_metadata.json["status"] == 403
    seeded_app.app.post("/api/purge", headers={"Origin": "https://evil.example"}, status=403)
    assert len(seeded_app.store.find_events_for_account(seeded_app.account_id)) == 1
    seeded_app.app.post(
        "/api/purge",
        headers={"Sec-Fetch-Site": "same-origin", "Origin": "http://offen.example.test"},
        status=204,
    )
    assert seeded_app.store.find_events_for_account(seeded_app.account_id) == []


def test_second_exchange_parks_old_events(seeded_app):
    visitor = Visitor()
    visitor.exchange(seeded_app.app, seeded_app.account_id)
    consent(seeded_app)
    visitor.send(seeded_app.app, seeded_app.account_id, pageview("https://www.example.test/a"))
    seeded_app.clock.advance(2)
    visitor.exchange(seeded_app.app, seeded_app.account_id)  # lost local keys, kept the cookie
    own = seeded_app.app.get("/api/events").json
    assert own["events"] == {}
    events = seeded_app.store.find_events_for_account(seeded_app.account_id)
    assert len(events) == 1  # the operator keeps the parked copy


def test_no_ip_or_user_agent_is_stored(seeded_app, tmp_path):
    visitor = Visitor()
    environ = {"REMOTE_ADDR": "203.0.113.77", "HTTP_USER_AGENT": "Mozilla/5.0 (Special UA 4711)"}
    seeded_app.app.extra_environ.update(environ)
    visitor.exchange(seeded_app.app, seeded_app.account_id)
    consent(seeded_app)
    visitor.send(seeded_app.app, seeded_app.account_id, pageview("https://www.example.test/"))
    seeded_app.store.close()
    connection = sqlite3.connect(tmp_path / "offen.db")
    dump = "\n".join(connection.iterdump())
    assert "203.0.113.77" not in dump and "Special UA 4711" not in dump
