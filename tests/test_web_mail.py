"""Mail-sending routes through real SMTP (aiosmtpd), and gzip of text answers."""

from __future__ import annotations

import email
import email.policy
import gzip
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from appliance.mailer import SmtpMailer
from appliance.web.compress import gzip_responses
from tests.conftest import ADMIN_EMAIL, mailed_link_token, seeded_harness


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


def test_dead_smtp_server_is_a_clear_500(tmp_path, clock, seeded_template):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    mailer = SmtpMailer("127.0.0.1", port, "", "", "NOAUTH", "x@y.test", tls="none", timeout=2)
    seeded_app = seeded_harness(tmp_path, clock, seeded_template, mailer)
    response = seeded_app.app.post_json("/api/forgot-password", {"emailAddress": ADMIN_EMAIL}, status=500)
    assert response.json["status"] == 500 and "Traceback" not in response.text


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
