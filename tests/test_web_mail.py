"""Mail-sending routes through real SMTP (aiosmtpd), and gzip of text answers."""

from __future__ import annotations

import email
import email.policy
import gzip
import logging
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from appliance.mailer import SmtpMailer
from appliance.mailtemplates import TEMPLATES
from appliance.web.compress import gzip_responses
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, PUBLIC_URL, mailed_link_token, seeded_harness


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Controller, Inbox]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield controller, inbox
    controller.stop()


def test_reset_mail_arrives_over_smtp_and_its_link_works(tmp_path, clock, seeded_template, smtp):
    controller, inbox = smtp
    mailer = SmtpMailer(
        "127.0.0.1", controller.port, "", "", "NOAUTH", "no-reply@offen.example.test", tls="none"
    )
    seeded_app = seeded_harness(tmp_path, clock, seeded_template, mailer)
    seeded_app.app.post_json("/api/forgot-password", {"emailAddress": ADMIN_EMAIL}, status=204)
    (message,) = inbox.messages
    assert message["To"] == ADMIN_EMAIL.lower() and message["From"] == "no-reply@offen.example.test"
    body = message.get_content()
    token = mailed_link_token(body, "reset-password")
    seeded_app.app.post_json(
        "/api/reset-password",
        {"emailAddress": ADMIN_EMAIL, "password": "reset via smtp", "token": token},
        status=204,
    )
    assert seeded_app.login(ADMIN_EMAIL, "reset via smtp")["accounts"]


@pytest.mark.parametrize("locale", ["de", "vi"])
def test_mails_are_written_in_the_instance_locale_and_their_links_work(
    tmp_path, clock, seeded_template, smtp, locale
):
    """OFFEN_APP_LOCALE chooses the language of all three mails; each link still leads to the flow."""
    controller, inbox = smtp
    mailer = SmtpMailer(
        "127.0.0.1", controller.port, "", "", "NOAUTH", "no-reply@offen.example.test", tls="none"
    )
    harness = seeded_harness(tmp_path, clock, seeded_template, mailer, OFFEN_APP_LOCALE=locale)
    texts = TEMPLATES[locale]
    try:
        # Reset, in the instance's language.
        harness.app.post_json("/api/forgot-password", {"emailAddress": ADMIN_EMAIL}, status=204)
        (reset,) = inbox.messages
        assert reset["Subject"] == texts["reset_password"].subject
        body = reset.get_content().replace("\r\n", "\n")
        assert texts["reset_password"].body.split("{")[0] in body and "24" in body
        token = mailed_link_token(body, "reset-password")
        harness.app.post_json(
            "/api/reset-password",
            {"emailAddress": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "token": token},
            status=204,
        )
        # Invitation of a new operator: the join link, the account's name.
        clock.advance(5)
        harness.login()
        invite = {"emailAddress": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "grantAdminPrivileges": False}
        harness.app.post_json(
            f"/api/share-account/{harness.account_id}", {**invite, "invitee": "new@example.test"}, status=204
        )
        joined = inbox.messages[-1]
        assert joined["Subject"] == texts["new_user_invite"].subject and joined["To"] == "new@example.test"
        body = joined.get_content().replace("\r\n", "\n")
        assert "- Example Site" in body and "7" in body
        token = mailed_link_token(body, "join")
        harness.app.post_json(
            "/api/join",
            {"emailAddress": "new@example.test", "password": "new user pass 1", "token": token},
            status=204,
        )
        # A second account, shared with the operator who now has a password:
        # the "added to more accounts" mail lists it and links to the login page.
        clock.advance(5)
        harness.app.post_json(
            "/api/accounts",
            {"accountName": "Zweite Seite", "emailAddress": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
            status=201,
        )
        clock.advance(5)
        harness.app.post_json("/api/share-account", {**invite, "invitee": "new@example.test"}, status=204)
        added = inbox.messages[-1]
        assert added["Subject"] == texts["existing_user_invite"].subject
        body = added.get_content().replace("\r\n", "\n")
        assert "- Zweite Seite" in body and "- Example Site" not in body
        assert f"\n{PUBLIC_URL}/login/\n" in body
        assert len(inbox.messages) == 3
    finally:
        harness.store.close()


def test_dead_smtp_server_is_a_clear_500(tmp_path, clock, seeded_template, caplog):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    mailer = SmtpMailer("127.0.0.1", port, "", "", "NOAUTH", "x@y.test", tls="none", timeout=2)
    seeded_app = seeded_harness(tmp_path, clock, seeded_template, mailer)
    with caplog.at_level(logging.ERROR):
        response = seeded_app.app.post_json("/api/forgot-password", {"emailAddress": ADMIN_EMAIL}, status=500)
    assert response.json["status"] == 500 and "Traceback" not in response.text
    # Whoever asked for the link learns that mail failed, not which server refused how;
    # the operator's log has that.
    assert str(port) not in response.text and "could not be sent" in response.json["error"]
    assert any(str(port) in record.getMessage() for record in caplog.records)


def test_gzip_compresses_large_text_only():
    big = b"x" * 5000

    def app(environ, start_response):
        kind = "application/json" if environ["PATH_INFO"] == "/text" else "application/octet-stream"
        start_response("200 OK", [("Content-Type", kind), ("Content-Length", str(len(big)))])
        return [big]

    wrapped = gzip_responses(app)
    captured: dict[str, Any] = {}

    def start_response(status, headers, exc_info=None):
        captured["headers"] = dict(headers)

    body = b"".join(
        wrapped(
            {"PATH_INFO": "/text", "REQUEST_METHOD": "GET", "HTTP_ACCEPT_ENCODING": "gzip"}, start_response
        )
    )
    assert captured["headers"]["Content-Encoding"] == "gzip" and gzip.decompress(body) == big
    body = b"".join(
        wrapped(
            {"PATH_INFO": "/binary", "REQUEST_METHOD": "GET", "HTTP_ACCEPT_ENCODING": "gzip"}, start_response
        )
    )
    assert "Content-Encoding" not in captured["headers"] and body == big
    body = b"".join(
        wrapped(
            {"PATH_INFO": "/api/events", "REQUEST_METHOD": "GET", "HTTP_ACCEPT_ENCODING": "gzip"},
            start_response,
        )
    )
    assert "Content-Encoding" not in captured["headers"]
