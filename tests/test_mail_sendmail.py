"""The sendmail path for real: Debian's msmtp-mta (`/usr/sbin/sendmail` -> msmtp) relaying to aiosmtpd.

msmtp reads `~/.msmtprc` (owner-only), so each test points HOME at a folder
with a config that relays to an aiosmtpd server on loopback. Skipped only
when msmtp is not installed (`apt-get install msmtp-mta`).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from appliance.errors import MailError
from appliance.mailer import SendmailMailer, build_mailer, find_sendmail
from tests.mail_servers import (
    HOST,
    PASSWORD,
    USER,
    RecordingHandler,
    authenticating_server,
    free_port,
    make_cert,
    smtp_server,
)

MSMTP = Path("/usr/bin/msmtp")
SENDMAIL = Path("/usr/sbin/sendmail")

pytestmark = pytest.mark.skipif(
    not MSMTP.exists() or not SENDMAIL.exists(),
    reason="msmtp is not installed: `apt-get install msmtp-mta` provides /usr/bin/msmtp and /usr/sbin/sendmail",
)

SENDER = "stats@offen.test"


def write_msmtprc(home: Path, port: int, *extra: str) -> Path:
    rc = home / ".msmtprc"
    lines = [
        "defaults",
        "syslog off",
        f"logfile {home / 'msmtp.log'}",
        "account relay",
        f"host {HOST}",
        f"port {port}",
        f"from {SENDER}",
        *extra,
        "account default : relay",
    ]
    rc.write_text("\n".join(lines) + "\n")
    rc.chmod(0o600)  # msmtp refuses a config others can read when it holds a password
    return rc


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("HOME", str(folder))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    return folder


def test_find_sendmail_finds_msmtp_mta(monkeypatch: pytest.MonkeyPatch) -> None:
    # Daemons often run with a PATH without sbin folders; the fixed places still count.
    monkeypatch.setenv("PATH", "/nonexistent")
    found = find_sendmail()
    assert found is not None and os.path.realpath(found) == str(MSMTP)


def test_sendmail_relays_through_msmtp_to_a_real_server(home: Path) -> None:
    with smtp_server() as (controller, handler):
        write_msmtprc(home, controller.port, "tls off", "auth off")
        mailer = SendmailMailer(str(SENDMAIL), f"Offen <{SENDER}>", timeout=20)
        body = "Öffne diesen Link: https://offen.test/reset-password/tok-42/\n"
        mailer.send("Operator@Example.test", "Setze dein Offen-Passwort zurück", body)
    (got,) = handler.received
    assert got.mail_from == SENDER
    assert [r.lower() for r in got.rcpt_tos] == ["operator@example.test"]  # read from the To header (-t)
    message = got.message()
    assert message["Subject"] == "Setze dein Offen-Passwort zurück"
    assert message["From"] == f"Offen <{SENDER}>"
    assert message.get_content().replace("\r\n", "\n") == body


def test_sendmail_with_starttls_and_auth(home: Path, tmp_path: Path) -> None:
    certs = make_cert(tmp_path)
    handler = RecordingHandler()
    with smtp_server(handler, **authenticating_server(handler, certs)) as (controller, _):
        write_msmtprc(
            home,
            controller.port,
            "tls on",
            "tls_starttls on",
            f"tls_trust_file {certs[0]}",
            "auth plain",
            f"user {USER}",
            f"password {PASSWORD}",
        )
        SendmailMailer(str(SENDMAIL), SENDER, timeout=20).send("op@example.test", "Invitation", "Join us")
    assert handler.mechanisms == ["PLAIN"] and len(handler.received) == 1


def test_build_mailer_without_smtp_uses_the_real_sendmail(home: Path, caplog) -> None:
    cfg = SimpleNamespace(smtp_host=None, smtp_sender=SENDER, app_development=False, smtp_timeout=15)
    with caplog.at_level(logging.WARNING, logger="offen.mailer"):
        mailer = build_mailer(cfg)
    assert isinstance(mailer, SendmailMailer)
    assert "OFFEN_SMTP_HOST" in caplog.text and "sendmail" in caplog.text  # the start-up warning
    with smtp_server() as (controller, handler):
        write_msmtprc(home, controller.port, "tls off", "auth off")
        mailer.send("op@example.test", "s", "b")
    assert len(handler.received) == 1


def test_sendmail_failure_names_the_cause_without_the_body(home: Path, caplog) -> None:
    write_msmtprc(home, free_port(), "tls off", "auth off")
    mailer = SendmailMailer(str(SENDMAIL), SENDER, timeout=20)
    with caplog.at_level(logging.WARNING, logger="offen.mailer"), pytest.raises(MailError) as info:
        mailer.send("op@example.test", "s", "https://offen.test/reset-password/SECRET-TOKEN/")
    text = str(info.value)
    assert "sendmail" in text and "exit status" in text and "OFFEN_SMTP_HOST" in text
    assert "cannot connect" in text or "connection refused" in text.lower()
    assert "SECRET-TOKEN" not in text + caplog.text


def test_sendmail_without_configuration_fails_clearly(home: Path) -> None:
    # A fresh msmtp-mta with neither ~/.msmtprc nor /etc/msmtprc has nowhere to send.
    if Path("/etc/msmtprc").exists():
        pytest.skip("a system-wide /etc/msmtprc exists on this machine")
    with pytest.raises(MailError, match="exit status"):
        SendmailMailer(str(SENDMAIL), SENDER, timeout=20).send("op@example.test", "s", "b")


def test_untrusted_certificate_through_msmtp(home: Path, tmp_path: Path) -> None:
    certs = make_cert(tmp_path)
    handler = RecordingHandler()
    with smtp_server(handler, **authenticating_server(handler, certs)) as (controller, _):
        write_msmtprc(home, controller.port, "tls on", "tls_starttls on", "auth plain", f"user {USER}",
                      f"password {PASSWORD}")  # fmt: skip
        with pytest.raises(MailError) as info:
            SendmailMailer(str(SENDMAIL), SENDER, timeout=20).send("op@example.test", "s", "b")
    # msmtp verifies with GnuTLS and the system store, which lacks the test CA:
    # nothing is sent and the credentials never leave in clear.
    assert PASSWORD not in str(info.value) and handler.received == [] and handler.mechanisms == []
