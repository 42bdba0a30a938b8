"""SmtpMailer against real aiosmtpd servers: every auth type over every TLS mode, and every failure.

Each failure must end in a `MailError` whose message names the cause and the
setting to change, and neither the message nor the log may contain the
password (in any encoding) or the body (which carries reset and invitation
tokens).
"""

from __future__ import annotations

import base64
import logging
import ssl
import time
from pathlib import Path

import pytest

from appliance.config import SMTP_TLS_MODES, load_config
from appliance.errors import MailError
from appliance.mailer import TLS_MODES, SmtpMailer, build_mailer
from tests.mail_servers import (
    HOST,
    PASSWORD,
    USER,
    RecordingHandler,
    SilentServer,
    authenticating_server,
    free_port,
    make_cert,
    server_context,
    smtp_server,
)

# Some tests require AUTH on a plain connection on purpose (the "none" TLS mode).
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")

SECRET_BODY = "Join: https://offen.test/join/TOKEN-must-not-leak/"
AUTH_TYPES = ["LOGIN", "PLAIN", "CRAM-MD5"]


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    return make_cert(tmp_path_factory.mktemp("smtp-certs"))


@pytest.fixture
def trusting(certs: tuple[str, str]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=certs[0])


def _mailer(port: int, auth: str, tls: str, ctx: ssl.SSLContext | None, **kw) -> SmtpMailer:
    return SmtpMailer(HOST, port, kw.pop("user", USER), kw.pop("password", PASSWORD), auth,
                      "Offen <no-reply@offen.test>", tls=tls, ssl_context=ctx, **kw)  # fmt: skip


def _assert_clean(text: str, *secrets: str) -> None:
    for secret in (PASSWORD, *secrets):
        assert secret not in text
        assert base64.b64encode(secret.encode()).decode() not in text
    assert "TOKEN-must-not-leak" not in text


def test_tls_modes_are_the_settings_choices() -> None:
    assert TLS_MODES == SMTP_TLS_MODES


@pytest.mark.parametrize("tls", ["starttls", "starttls-if-offered", "implicit", "none"])
@pytest.mark.parametrize("auth", AUTH_TYPES)
def test_each_auth_type_over_each_tls_mode(certs, trusting, auth: str, tls: str) -> None:
    handler = RecordingHandler()
    kwargs = authenticating_server(handler, None if tls == "none" else certs, implicit=tls == "implicit")
    with smtp_server(handler, **kwargs) as (controller, _):
        _mailer(controller.port, auth.lower(), tls, trusting).send(
            "op@example.com", "Einladung ✓", SECRET_BODY
        )
    assert handler.mechanisms == [auth]
    (got,) = handler.received
    assert got.login == USER.encode() and got.rcpt_tos == ["op@example.com"]
    message = got.message()
    assert message["Subject"] == "Einladung ✓"
    assert message.get_content().strip() == SECRET_BODY


def test_noauth_sends_no_auth_command(certs, trusting) -> None:
    handler = RecordingHandler()
    with smtp_server(handler, ssl_context=server_context(certs)) as (controller, _):
        _mailer(controller.port, "NOAUTH", "implicit", trusting).send("op@example.com", "s", "b")
    assert handler.mechanisms == [] and len(handler.received) == 1


@pytest.mark.parametrize("auth", AUTH_TYPES)
def test_wrong_credentials_for_each_auth_type(certs, trusting, caplog, auth: str) -> None:
    handler = RecordingHandler()
    wrong = "wrong-Pässword-987"
    with smtp_server(handler, **authenticating_server(handler, certs)) as (controller, _):
        mailer = _mailer(controller.port, auth, "starttls", trusting, password=wrong, timeout=5)
        started = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="offen.mailer"), pytest.raises(MailError) as info:
            mailer.send("op@example.com", "s", SECRET_BODY)
    assert time.monotonic() - started < 4  # a refusal is an answer, not a timeout
    text = str(info.value)
    assert "refused the credentials" in text and auth in text and "535" in text
    assert "OFFEN_SMTP_USER" in text and "OFFEN_SMTP_PASSWORD" in text
    _assert_clean(text + caplog.text + repr(mailer), wrong)
    assert text in caplog.text  # the operator finds the same words in the server log
    assert handler.received == []


def test_mechanism_the_server_does_not_offer(certs, trusting) -> None:
    handler = RecordingHandler()
    # aiosmtpd offers LOGIN and PLAIN (and our CRAM-MD5); hide CRAM-MD5 and PLAIN.
    kwargs = authenticating_server(handler, certs) | {"auth_exclude_mechanism": ["CRAM-MD5", "PLAIN"]}
    with smtp_server(handler, **kwargs) as (controller, _):
        with pytest.raises(MailError) as info:
            _mailer(controller.port, "PLAIN", "starttls", trusting, timeout=5).send(
                "op@example.com", "s", "b"
            )
    text = str(info.value)
    assert "does not accept PLAIN" in text and "LOGIN" in text and "OFFEN_SMTP_AUTHTYPE" in text
    _assert_clean(text)


def test_noauth_against_a_server_that_requires_auth(certs, trusting) -> None:
    handler = RecordingHandler()
    with smtp_server(handler, **authenticating_server(handler, certs, implicit=True)) as (controller, _):
        with pytest.raises(MailError) as info:
            _mailer(controller.port, "NOAUTH", "implicit", trusting, timeout=5).send(
                "op@example.com", "s", "b"
            )
    text = str(info.value)
    assert "requires authentication" in text and "OFFEN_SMTP_AUTHTYPE" in text


def test_dead_server_connection_refused(caplog) -> None:
    port = free_port()
    mailer = _mailer(port, "LOGIN", "starttls-if-offered", None, timeout=5)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="offen.mailer"), pytest.raises(MailError) as info:
        mailer.send("op@example.com", "s", SECRET_BODY)
    assert time.monotonic() - started < 2
    text = str(info.value)
    assert f"{HOST}:{port}" in text and "connection refused" in text
    assert "OFFEN_SMTP_HOST" in text and "OFFEN_SMTP_PORT" in text
    _assert_clean(text + caplog.text)


@pytest.mark.parametrize("tls", ["starttls-if-offered", "implicit"])
def test_server_that_never_answers_times_out(tls: str) -> None:
    with SilentServer() as silent:
        mailer = _mailer(silent.port, "LOGIN", tls, None, timeout=1)
        started = time.monotonic()
        with pytest.raises(MailError) as info:
            mailer.send("op@example.com", "s", SECRET_BODY)
        elapsed = time.monotonic() - started
    # The timeout is honoured: not before it, and not much after it.
    assert 0.9 <= elapsed < 3.5, elapsed
    text = str(info.value)
    assert "did not answer within 1 s" in text and "OFFEN_SMTP_TIMEOUT" in text
    _assert_clean(text)


def test_starttls_client_on_an_implicit_tls_port_hints_at_the_mode(certs) -> None:
    handler = RecordingHandler()
    with smtp_server(handler, ssl_context=server_context(certs)) as (controller, _):
        with pytest.raises(MailError) as info:
            _mailer(controller.port, "NOAUTH", "starttls-if-offered", None, timeout=1).send(
                "o@x.test", "s", "b"
            )
    assert "OFFEN_SMTP_TLS=implicit" in str(info.value)


def test_implicit_tls_on_a_plain_port_hints_at_starttls() -> None:
    with smtp_server() as (controller, handler):
        with pytest.raises(MailError) as info:
            _mailer(controller.port, "NOAUTH", "implicit", None, timeout=3).send("o@x.test", "s", "b")
    text = str(info.value)
    assert text.startswith("TLS with the SMTP server") and "OFFEN_SMTP_TLS=starttls" in text
    assert handler.received == []


def test_required_starttls_not_offered_sends_nothing(caplog) -> None:
    with smtp_server() as (controller, handler):
        with caplog.at_level(logging.WARNING, logger="offen.mailer"), pytest.raises(MailError) as info:
            _mailer(controller.port, "LOGIN", "starttls", None).send("o@x.test", "s", SECRET_BODY)
    assert "does not offer STARTTLS" in str(info.value)
    assert handler.received == [] and handler.mechanisms == []  # credentials never went out in clear
    _assert_clean(caplog.text)


@pytest.mark.parametrize("tls", ["starttls", "implicit"])
def test_certificate_failure(certs, tls: str) -> None:
    handler = RecordingHandler()
    kwargs = authenticating_server(handler, certs, implicit=tls == "implicit")
    with smtp_server(handler, **kwargs) as (controller, _):
        # The system's trust store does not know the test CA.
        with pytest.raises(MailError) as info:
            _mailer(controller.port, "PLAIN", tls, ssl.create_default_context()).send("o@x.test", "s", "b")
    text = str(info.value)
    assert "TLS certificate" in text and "could not be verified" in text and "self-signed" in text
    assert handler.mechanisms == [] and handler.received == []


def test_certificate_for_another_name(tmp_path: Path) -> None:
    from tests.certs import self_signed_cert

    cert, key = self_signed_cert(tmp_path, ("mail.elsewhere.test",), ())
    handler = RecordingHandler()
    with smtp_server(handler, ssl_context=server_context((str(cert), str(key)))) as (controller, _):
        ctx = ssl.create_default_context(cafile=str(cert))
        with pytest.raises(MailError) as info:
            _mailer(controller.port, "NOAUTH", "implicit", ctx).send("o@x.test", "s", "b")
    assert "could not be verified" in str(info.value) and "OFFEN_SMTP_HOST" in str(info.value)


def _settings(tmp_path: Path, **env: str):
    environ = {"OFFEN_APP_DATADIR": str(tmp_path), "OFFEN_SECRET": "c2VjcmV0LXNlY3JldA=="}
    environ.update(env)
    return load_config(environ, is_root=False)


def test_settings_reach_the_mailer(tmp_path: Path) -> None:
    cfg = _settings(
        tmp_path,
        OFFEN_SMTP_HOST="127.0.0.1",
        OFFEN_SMTP_PORT="465",
        OFFEN_SMTP_TLS="starttls",
        OFFEN_SMTP_TIMEOUT="7",
        OFFEN_SMTP_AUTHTYPE="cram-md5",
        OFFEN_SMTP_USER=USER,
        OFFEN_SMTP_PASSWORD=PASSWORD,
    )
    mailer = build_mailer(cfg, which=lambda: None)
    assert isinstance(mailer, SmtpMailer)
    # An explicit mode wins over the port-465 rule.
    assert (mailer.tls, mailer.timeout, mailer.auth_type, mailer.port) == ("starttls", 7, "CRAM-MD5", 465)
    defaults = build_mailer(_settings(tmp_path, OFFEN_SMTP_HOST="mail.test"), which=lambda: None)
    assert (defaults.tls, defaults.timeout, defaults.port) == ("starttls-if-offered", 15, 587)
    port465 = build_mailer(_settings(tmp_path, OFFEN_SMTP_HOST="mail.test", OFFEN_SMTP_PORT="465"))
    assert port465.tls == "implicit"


@pytest.mark.parametrize("name,raw", [("OFFEN_SMTP_TLS", "sometimes"), ("OFFEN_SMTP_TIMEOUT", "0")])
def test_bad_settings_are_refused(tmp_path: Path, name: str, raw: str) -> None:
    from appliance.errors import ConfigError

    with pytest.raises(ConfigError, match=name):
        _settings(tmp_path, **{name: raw})


def test_configured_implicit_tls_and_timeout_deliver_and_time_out(
    tmp_path: Path, certs, monkeypatch: pytest.MonkeyPatch
) -> None:
    # build_mailer uses the system's verifying context; SSL_CERT_FILE makes
    # OpenSSL trust the test CA in this process, as an operator's CA bundle would.
    monkeypatch.setenv("SSL_CERT_FILE", certs[0])
    handler = RecordingHandler()
    with smtp_server(handler, **authenticating_server(handler, certs, implicit=True)) as (controller, _):
        cfg = _settings(
            tmp_path,
            OFFEN_SMTP_HOST=HOST,
            OFFEN_SMTP_PORT=str(controller.port),
            OFFEN_SMTP_TLS="implicit",
            OFFEN_SMTP_AUTHTYPE="PLAIN",
            OFFEN_SMTP_USER=USER,
            OFFEN_SMTP_PASSWORD=PASSWORD,
            OFFEN_SMTP_SENDER="Offen <stats@offen.test>",
        )
        build_mailer(cfg).send("op@example.com", "Reset", SECRET_BODY)
    assert handler.mechanisms == ["PLAIN"]
    assert handler.received[0].mail_from == "stats@offen.test"
    with SilentServer() as silent:
        cfg = _settings(
            tmp_path, OFFEN_SMTP_HOST=HOST, OFFEN_SMTP_PORT=str(silent.port), OFFEN_SMTP_TIMEOUT="1"
        )
        started = time.monotonic()
        with pytest.raises(MailError, match="within 1 s"):
            build_mailer(cfg).send("op@example.com", "s", "b")
        assert time.monotonic() - started < 3.5
