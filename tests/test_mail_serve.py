"""A real `offen serve` sending its mail: settings from the environment, SMTP or msmtp's sendmail.

The reset mail must arrive at a real SMTP server (aiosmtpd), in the language
of OFFEN_APP_LOCALE, with a link from OFFEN_APP_PUBLICURL that completes the
reset; the server's output must name how mail goes out and never the SMTP
password or the token.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.mailtemplates import TEMPLATES
from tests.mail_servers import PASSWORD, USER, RecordingHandler, authenticating_server, smtp_server
from tests.realserver import OffenProcess, free_port, offen_environment, run_offen

pytestmark = pytest.mark.slow

EMAIL, LOGIN_PASSWORD = "owner@example.test", "a long enough password"
PUBLIC_URL = "https://stats.example.test"


def _setup(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = offen_environment(tmp_path / "data", OFFEN_APP_PUBLICURL=PUBLIC_URL, **extra)
    done = run_offen(["setup", "-name", "Real Site", "-email", EMAIL, "-password", LOGIN_PASSWORD], env)
    assert done.returncode == 0, done.stderr
    return env


def _reset_through_the_mail(server: OffenProcess, handler: RecordingHandler, locale: str) -> str:
    client = server.client()
    client.post_json("/api/forgot-password", {"emailAddress": EMAIL}, status=204)
    assert handler.arrived.wait(10)
    message = handler.received[-1].message()
    assert message["Subject"] == TEMPLATES[locale]["reset_password"].subject
    body = message.get_content().replace("\r\n", "\n")
    link = next(line for line in body.splitlines() if line.startswith(f"{PUBLIC_URL}/reset-password/"))
    token = link.removeprefix(f"{PUBLIC_URL}/reset-password/").rstrip("/")
    client.post_json(
        "/api/reset-password",
        {"emailAddress": EMAIL, "password": "changed through the mail", "token": token},
        status=204,
    )
    client.post_json("/api/login", {"username": EMAIL, "password": "changed through the mail"}, status=200)
    return token


def test_serve_sends_reset_mail_over_smtp_in_the_instance_locale(tmp_path: Path) -> None:
    handler = RecordingHandler()
    with smtp_server(handler, **authenticating_server(handler, None)) as (controller, _):
        env = _setup(
            tmp_path,
            OFFEN_APP_LOCALE="fr",
            OFFEN_SMTP_HOST="127.0.0.1",
            OFFEN_SMTP_PORT=str(controller.port),
            OFFEN_SMTP_TLS="none",
            OFFEN_SMTP_TIMEOUT="5",
            OFFEN_SMTP_AUTHTYPE="CRAM-MD5",
            OFFEN_SMTP_USER=USER,
            OFFEN_SMTP_PASSWORD=PASSWORD,
            OFFEN_SMTP_SENDER="Offen <stats@example.test>",
        )
        server = OffenProcess(env, free_port(), tmp_path).start()
        try:
            token = _reset_through_the_mail(server, handler, "fr")
        finally:
            server.stop()
    assert handler.mechanisms == ["CRAM-MD5"] and handler.received[0].mail_from == "stats@example.test"
    output = server.output()
    assert "mail is not configured" not in output
    assert PASSWORD not in output and token not in output


def test_serve_without_smtp_uses_msmtp_sendmail_and_warns(tmp_path: Path) -> None:
    if not Path("/usr/bin/msmtp").exists():
        pytest.skip("msmtp is not installed: `apt-get install msmtp-mta`")
    with smtp_server() as (controller, handler):
        env = _setup(tmp_path, OFFEN_APP_LOCALE="es")
        # offen_environment sets HOME to tmp_path: msmtp reads ~/.msmtprc there.
        rc = Path(env["HOME"]) / ".msmtprc"
        rc.write_text(
            f"account relay\nhost 127.0.0.1\nport {controller.port}\nfrom stats@example.test\n"
            "tls off\nauth off\naccount default : relay\n"
        )
        rc.chmod(0o600)
        server = OffenProcess(env, free_port(), tmp_path).start()
        try:
            _reset_through_the_mail(server, handler, "es")
        finally:
            server.stop()
    output = server.output()
    # The start-up warning names the setting that would make mail reliable.
    assert "no SMTP server configured (OFFEN_SMTP_HOST)" in output and "sendmail" in output
