"""Tests for appliance.mailer against a real aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

import email
import email.policy
import logging
import os
import socket
import ssl
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from appliance.errors import ConfigError, MailError
from appliance.mailer import (
    OutboxMailer,
    SendmailMailer,
    SmtpMailer,
    build_mailer,
    build_message,
)
from tests.certs import self_signed_cert
from tests.mail_servers import PASSWORD, USER, RecordingHandler


def make_cert(folder: Path) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 and localhost."""
    certfile, keyfile = self_signed_cert(folder)
    return str(certfile), str(keyfile)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


Handler = RecordingHandler  # the shared aiosmtpd handler (tests/mail_servers.py)


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    return make_cert(tmp_path_factory.mktemp("smtp-certs"))


@pytest.fixture
def client_context(certs: tuple[str, str]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=certs[0])


def _start(handler: Handler, **kwargs: Any) -> Controller:
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    return controller


@pytest.fixture
def plain_server() -> Iterator[tuple[Controller, Handler]]:
    handler = Handler()
    controller = _start(handler)
    yield controller, handler
    controller.stop()


@pytest.fixture
def tls_server(certs: tuple[str, str]) -> Iterator[tuple[Controller, Handler]]:
    handler = Handler()
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(*certs)
    controller = _start(
        handler,
        tls_context=ctx,
        require_starttls=True,
        authenticator=handler.authenticator,
        auth_require_tls=True,
    )
    yield controller, handler
    controller.stop()


def parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def test_plain_delivery_without_auth(plain_server: tuple[Controller, Handler]) -> None:
    controller, handler = plain_server
    mailer = SmtpMailer(
        "127.0.0.1", controller.port, "", "", "NOAUTH", "Offen <no-reply@offen.test>", tls="none"
    )
    body = "Réinitialisez: https://offen.test/reset-password/tok-123/\nDanke, ✓"
    mailer.send("visitor@example.com", "Passwort zurücksetzen", body)
    assert len(handler.received) == 1
    got = handler.received[0]
    assert got.mail_from == "no-reply@offen.test"
    assert got.rcpt_tos == ["visitor@example.com"]
    msg = parse(got.content)
    assert msg["Subject"] == "Passwort zurücksetzen"
    assert msg["From"] == "Offen <no-reply@offen.test>"
    assert msg["To"] == "visitor@example.com"
    assert msg["Date"] and msg["Message-ID"].endswith("@offen.test>")
    assert msg.get_content_type() == "text/plain"
    assert msg.get_content_charset() == "utf-8"
    assert msg.get_content().replace("\r\n", "\n").rstrip("\n") == body


def test_starttls_if_offered_falls_back_to_plain(plain_server: tuple[Controller, Handler]) -> None:
    controller, handler = plain_server
    SmtpMailer("127.0.0.1", controller.port, "", "", "noauth", "a@offen.test").send("b@x.test", "s", "b")
    assert len(handler.received) == 1


@pytest.mark.parametrize("auth_type", ["LOGIN", "PLAIN", "CRAM-MD5"])
def test_starttls_with_forced_auth_mechanism(
    tls_server: tuple[Controller, Handler], client_context: ssl.SSLContext, auth_type: str
) -> None:
    controller, handler = tls_server
    mailer = SmtpMailer(
        "127.0.0.1", controller.port, USER, PASSWORD, auth_type.lower(), "no-reply@offen.test",
        tls="starttls", ssl_context=client_context,
    )  # fmt: skip
    mailer.send("operator@example.com", "Invitation", "Join: https://offen.test/join/abc/")
    assert handler.mechanisms == [auth_type]
    assert len(handler.received) == 1
    assert handler.received[0].login == USER.encode()


def test_wrong_password_is_a_mail_error_without_the_password(
    tls_server: tuple[Controller, Handler], client_context: ssl.SSLContext
) -> None:
    controller, handler = tls_server
    wrong = "not-the-password-XYZ"
    mailer = SmtpMailer(
        "127.0.0.1", controller.port, USER, wrong, "LOGIN", "no-reply@offen.test", ssl_context=client_context
    )
    started = time.monotonic()
    with pytest.raises(MailError) as info:
        mailer.send("operator@example.com", "s", "b")
    assert time.monotonic() - started < 5
    text = str(info.value)
    assert "535" in text and "credentials" in text
    assert wrong not in text and wrong not in repr(mailer)
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert handler.received == []


def test_untrusted_certificate_is_a_mail_error(tls_server: tuple[Controller, Handler]) -> None:
    controller, _ = tls_server
    mailer = SmtpMailer("127.0.0.1", controller.port, USER, PASSWORD, "PLAIN", "n@offen.test", tls="starttls")
    with pytest.raises(MailError, match="TLS"):
        mailer.send("operator@example.com", "s", "b")


def test_required_starttls_not_offered(plain_server: tuple[Controller, Handler]) -> None:
    controller, handler = plain_server
    mailer = SmtpMailer("127.0.0.1", controller.port, USER, PASSWORD, "LOGIN", "n@offen.test", tls="starttls")
    with pytest.raises(MailError, match="STARTTLS"):
        mailer.send("operator@example.com", "s", "b")
    assert handler.received == []


def test_dead_port_fails_quickly() -> None:
    mailer = SmtpMailer("127.0.0.1", free_port(), USER, PASSWORD, "LOGIN", "n@offen.test", timeout=3)
    started = time.monotonic()
    with pytest.raises(MailError) as info:
        mailer.send("operator@example.com", "s", "b")
    assert time.monotonic() - started < 2
    assert "127.0.0.1" in str(info.value)  # the server's own address helps the operator
    assert PASSWORD not in str(info.value)


def test_header_injection_is_refused() -> None:
    with pytest.raises(MailError):
        build_message("n@offen.test", "a@x.test\r\nBcc: evil@x.test", "s", "b")
    with pytest.raises(MailError):
        build_message("n@offen.test", "a@x.test", "s\nBcc: evil@x.test", "b")
    with pytest.raises(MailError):
        build_message("n@offen.test", "a@x.test, b@x.test", "s", "b")


def test_unknown_auth_type_and_tls_mode() -> None:
    with pytest.raises(ConfigError):
        SmtpMailer("h", 25, "u", "p", "XOAUTH2", "s@x.test")
    with pytest.raises(ConfigError):
        SmtpMailer("h", 25, "u", "p", "LOGIN", "s@x.test", tls="sometimes")


def test_outbox_collects_and_bounds(caplog: pytest.LogCaptureFixture) -> None:
    outbox = OutboxMailer("n@offen.test", warn=True, keep=3)
    with caplog.at_level(logging.WARNING, logger="offen.mailer"):
        for i in range(5):
            outbox.send(f"user{i}@x.test", f"subject {i}", f"secret-token-{i}")
    assert [m.to for m in outbox.messages] == ["user2@x.test", "user3@x.test", "user4@x.test"]
    assert outbox.messages[-1].body == "secret-token-4"
    assert outbox.messages[-1].message["From"] == "n@offen.test"
    assert "mail is not configured" in caplog.text and "OFFEN_SMTP_HOST" in caplog.text
    assert "secret-token" not in caplog.text


def _fake_sendmail(folder: Path, exit_code: int = 0) -> Path:
    out = folder / "captured.eml"
    script = folder / "sendmail"
    script.write_text(
        f'#!/bin/sh\necho "$@" > "{folder}/args"\ncat > "{out}"\n'
        + (f'echo "sendmail: queue is broken" >&2\nexit {exit_code}\n' if exit_code else "")
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def test_sendmail_pipes_message(tmp_path: Path) -> None:
    script = _fake_sendmail(tmp_path)
    SendmailMailer(str(script), "n@offen.test").send("to@x.test", "Hallo", "Grüße")
    assert (tmp_path / "args").read_text().split() == ["-t", "-i"]
    msg = parse((tmp_path / "captured.eml").read_bytes())
    assert msg["To"] == "to@x.test" and msg.get_content().strip() == "Grüße"


def test_sendmail_failure_is_a_mail_error(tmp_path: Path) -> None:
    script = _fake_sendmail(tmp_path, exit_code=75)
    with pytest.raises(MailError, match="75.*queue is broken"):
        SendmailMailer(str(script)).send("to@x.test", "s", "b")
    with pytest.raises(MailError, match="could not be run"):
        SendmailMailer(str(tmp_path / "missing")).send("to@x.test", "s", "b")


def _cfg(**kw: Any) -> SimpleNamespace:
    base = dict(
        smtp_host="", smtp_port=587, smtp_user="", smtp_password="", smtp_authtype="LOGIN",
        smtp_sender="no-reply@offen.dev", app_development=False,
    )  # fmt: skip
    base.update(kw)
    return SimpleNamespace(**base)


def test_build_mailer_choices(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    smtp = build_mailer(_cfg(smtp_host="mail.x.test", smtp_password="pw"), which=lambda: None)
    assert isinstance(smtp, SmtpMailer) and smtp.tls == "starttls-if-offered" and smtp.port == 587
    implicit = build_mailer(_cfg(smtp_host="mail.x.test", smtp_port=465), which=lambda: None)
    assert isinstance(implicit, SmtpMailer) and implicit.tls == "implicit"
    dev = build_mailer(_cfg(app_development=True), which=lambda: "/usr/sbin/sendmail")
    assert isinstance(dev, OutboxMailer) and not dev.warn
    script = _fake_sendmail(tmp_path)
    sm = build_mailer(_cfg(), which=lambda: str(script))
    assert isinstance(sm, SendmailMailer) and sm.path == str(script)
    with caplog.at_level(logging.WARNING, logger="offen.mailer"):
        fallback = build_mailer(_cfg(), which=lambda: None)
    assert isinstance(fallback, OutboxMailer) and fallback.warn
    assert "mail is not configured" in caplog.text and "OFFEN_SMTP_HOST" in caplog.text


def test_smtp_mailer_delivers_through_build_mailer(plain_server: tuple[Controller, Handler]) -> None:
    controller, handler = plain_server
    mailer = build_mailer(_cfg(smtp_host="127.0.0.1", smtp_port=controller.port, smtp_authtype="NOAUTH"))
    mailer.send("x@y.test", "s", "b")
    assert handler.received[0].rcpt_tos == ["x@y.test"]


def test_find_sendmail_uses_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from appliance.mailer import find_sendmail

    script = _fake_sendmail(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path) + os.pathsep + os.environ.get("PATH", ""))
    assert find_sendmail() == str(script)


def test_implicit_tls(certs: tuple[str, str], client_context: ssl.SSLContext) -> None:
    handler = Handler()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(*certs)
    # the whole connection is TLS, which aiosmtpd's auth_require_tls does not see
    controller = _start(
        handler, ssl_context=server_ctx, authenticator=handler.authenticator, auth_require_tls=False
    )
    try:
        mailer = SmtpMailer(
            "127.0.0.1", controller.port, USER, PASSWORD, "PLAIN", "n@offen.test",
            tls="implicit", ssl_context=client_context,
        )  # fmt: skip
        mailer.send("operator@example.com", "s", "b")
    finally:
        controller.stop()
    assert handler.mechanisms == ["PLAIN"] and len(handler.received) == 1
