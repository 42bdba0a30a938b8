"""Outgoing mail: the Mailer protocol, SMTP, sendmail and an outbox (reference §5.2).

This module owns how the appliance sends its few emails (password reset,
invitations). Each mail is plain text in UTF-8 with From = the configured
sender, a Date and a Message-ID.

Errors are `MailError`s whose message a person can act on ("authentication
failed", "connection refused"); they never contain the SMTP password, in any
encoding, nor the message body (which holds reset and invitation tokens).
"""

from __future__ import annotations

import base64
import hmac
import logging
import os
import shutil
import smtplib
import ssl
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Protocol

from appliance.errors import ConfigError, MailError

__all__ = [
    "AUTH_TYPES",
    "TLS_MODES",
    "Mailer",
    "OutboxMailer",
    "OutboxMessage",
    "SendmailMailer",
    "SmtpMailer",
    "build_mailer",
    "build_message",
    "find_sendmail",
]

log = logging.getLogger("offen.mailer")

AUTH_TYPES = ("LOGIN", "PLAIN", "CRAM-MD5", "NOAUTH")
TLS_MODES = ("starttls-if-offered", "starttls", "implicit", "none")
USER_AGENT = "Offen Fair Web Analytics"


class Mailer(Protocol):
    """Something that sends one plain-text email."""

    def send(self, to: str, subject: str, body: str) -> None:
        """Send the message; raise `MailError` with a readable message on failure."""
        ...


def build_message(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    """Return the plain-text UTF-8 message every mailer sends."""
    try:
        msg = EmailMessage()
        # The default policy refuses CR/LF in header values, so a crafted
        # address or subject cannot add headers.
        msg["From"] = sender
        msg["To"] = to
        msg["Subject"] = subject
        msg["Date"] = formatdate(usegmt=True)
        domain = sender.rpartition("@")[2].strip("<> ") or None
        msg["Message-ID"] = make_msgid(domain=domain)
        msg["User-Agent"] = USER_AGENT
        msg.set_content(body, charset="utf-8")
    except (ValueError, TypeError) as exc:
        raise MailError(f"The email could not be built: {exc}") from None
    if len(msg.get_all("To", [])) != 1 or not to.strip() or "," in to:
        raise MailError("The email could not be built: exactly one recipient is needed.")
    return msg


class SmtpMailer:
    """Sends through an SMTP server, forcing the configured AUTH mechanism.

    `tls`: "starttls-if-offered" (default) upgrades when the server offers
    STARTTLS, "starttls" requires it, "implicit" speaks TLS from the first
    byte (usually port 465), "none" never uses TLS. `ssl_context` defaults to
    the system's verifying context.
    """

    def __init__(
        self,
        host: str,
        port: int,
        user: str,
        password: str,
        auth_type: str,
        sender: str,
        *,
        timeout: float = 10,
        tls: str = "starttls-if-offered",
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        auth = (auth_type or "LOGIN").strip().upper()
        if auth not in AUTH_TYPES:
            raise ConfigError(f"unknown SMTP auth type {auth_type!r}; use one of {', '.join(AUTH_TYPES)}")
        if tls not in TLS_MODES:
            raise ConfigError(f"unknown SMTP TLS mode {tls!r}; use one of {', '.join(TLS_MODES)}")
        self.host = host
        self.port = int(port)
        self.user = user
        self._password = password
        self.auth_type = auth
        self.sender = sender
        self.timeout = timeout
        self.tls = tls
        self._ssl_context = ssl_context

    def __repr__(self) -> str:  # never show the password
        return f"SmtpMailer({self.host!r}, {self.port}, auth={self.auth_type}, tls={self.tls})"

    def send(self, to: str, subject: str, body: str) -> None:
        msg = build_message(self.sender, to, subject, body)
        where = f"{self.host}:{self.port}"
        try:
            with self._connect() as smtp:
                self._secure_and_login(smtp)
                smtp.send_message(msg, from_addr=self.sender, to_addrs=[to])
        except MailError:
            raise
        except smtplib.SMTPAuthenticationError as exc:
            raise MailError(
                f"The SMTP server {where} refused the credentials ({self.auth_type}): "
                f"{self._scrub(_reply(exc))}"
            ) from None
        except smtplib.SMTPRecipientsRefused:
            raise MailError(f"The SMTP server {where} refused the recipient.") from None
        except smtplib.SMTPSenderRefused as exc:
            raise MailError(
                f"The SMTP server {where} refused the sender address: {self._scrub(_reply(exc))}"
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise MailError(
                f"The SMTP server {where} does not support this: {self._scrub(str(exc))}"
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise MailError(f"The SMTP server {where} answered {self._scrub(_reply(exc))}") from None
        except ssl.SSLError as exc:
            raise MailError(f"TLS with the SMTP server {where} failed: {exc.reason or exc}") from None
        except (smtplib.SMTPServerDisconnected, TimeoutError) as exc:
            raise MailError(
                f"The SMTP server {where} closed the connection or did not answer in time: {self._scrub(str(exc))}"
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise MailError(f"Could not reach the SMTP server {where}: {self._scrub(reason)}") from None
        except ValueError as exc:  # e.g. an address smtplib cannot encode
            raise MailError(f"The email could not be sent to {where}: {self._scrub(str(exc))}") from None

    def _connect(self) -> smtplib.SMTP:
        if self.tls == "implicit":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self._context())
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout)

    def _context(self) -> ssl.SSLContext:
        return self._ssl_context or ssl.create_default_context()

    def _secure_and_login(self, smtp: smtplib.SMTP) -> None:
        smtp.ehlo_or_helo_if_needed()
        encrypted = self.tls == "implicit"
        if self.tls in ("starttls", "starttls-if-offered"):
            if smtp.has_extn("starttls"):
                smtp.starttls(context=self._context())
                smtp.ehlo()
                encrypted = True
            elif self.tls == "starttls":
                raise MailError(f"The SMTP server {self.host}:{self.port} does not offer STARTTLS.")
        if self.auth_type == "NOAUTH":
            return
        if not encrypted:
            log.warning("SMTP: sending credentials to %s without TLS", self.host)
        self._authenticate(smtp)

    def _authenticate(self, smtp: smtplib.SMTP) -> None:
        # The configured mechanism is forced, as Offen does, instead of letting
        # smtplib's login() pick one. The exchanges are written out here rather
        # than through smtplib's auth(), which encodes credentials as ASCII and
        # so cannot send a UTF-8 password (RFC 4954 allows one).
        user, password = self.user.encode("utf-8"), self._password.encode("utf-8")
        if self.auth_type == "PLAIN":
            code, reply = smtp.docmd("AUTH", "PLAIN " + _b64(b"\0" + user + b"\0" + password))
        elif self.auth_type == "LOGIN":
            code, reply = smtp.docmd("AUTH", "LOGIN " + _b64(user))
            if code == 334:
                code, reply = smtp.docmd(_b64(password))
        else:  # CRAM-MD5
            code, reply = smtp.docmd("AUTH", "CRAM-MD5")
            if code == 334:
                try:
                    challenge = base64.b64decode(reply, validate=True)
                except ValueError:
                    smtp.docmd("*")  # abort the exchange (RFC 4954)
                    raise MailError(
                        f"The SMTP server {self.host}:{self.port} sent a malformed challenge."
                    ) from None
                digest = hmac.new(password, challenge, "md5").hexdigest().encode("ascii")
                code, reply = smtp.docmd(_b64(user + b" " + digest))
        if code != 235:
            raise smtplib.SMTPAuthenticationError(code, reply)

    def _scrub(self, text: str) -> str:
        # A server may echo what it was sent; none of the password's forms
        # may reach a log line or an error shown in the browser.
        pw = self._password
        if not pw:
            return text
        forms = {
            pw,
            base64.b64encode(pw.encode()).decode(),
            base64.b64encode(f"\0{self.user}\0{pw}".encode()).decode(),
        }
        for form in sorted(forms, key=len, reverse=True):
            text = text.replace(form, "***")
        return text


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _reply(exc: smtplib.SMTPResponseException) -> str:
    text = (
        exc.smtp_error.decode("utf-8", "replace")
        if isinstance(exc.smtp_error, bytes)
        else str(exc.smtp_error)
    )
    return f"{exc.smtp_code} {text}".strip()


def find_sendmail() -> str | None:
    """Return the path of a `sendmail` program, or None (like Offen's `which sendmail`)."""
    found = shutil.which("sendmail")
    if found:
        return found
    # Daemons often run with a PATH that lacks the sbin folders.
    for candidate in ("/usr/sbin/sendmail", "/usr/lib/sendmail"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


class SendmailMailer:
    """Pipes each message to `sendmail -t -i` (recipients read from the headers)."""

    def __init__(self, path: str, sender: str = "no-reply@offen.dev", *, timeout: float = 30) -> None:
        self.path = path
        self.sender = sender
        self.timeout = timeout

    def send(self, to: str, subject: str, body: str) -> None:
        msg = build_message(self.sender, to, subject, body)
        try:
            done = subprocess.run(
                [self.path, "-t", "-i"],
                input=msg.as_bytes(),
                capture_output=True,
                timeout=self.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise MailError(f"sendmail ({self.path}) did not finish within {self.timeout:g} s.") from None
        except OSError as exc:
            raise MailError(f"sendmail ({self.path}) could not be run: {exc.strerror or exc}") from None
        if done.returncode != 0:
            lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
            detail = f": {lines[-1][:200]}" if lines else ""
            raise MailError(f"sendmail ({self.path}) failed with exit status {done.returncode}{detail}")


@dataclass(frozen=True)
class OutboxMessage:
    to: str
    subject: str
    body: str
    message: EmailMessage


class OutboxMailer:
    """Keeps messages in `messages` instead of sending them (development mode and tests).

    With `warn=True` (mail not configured in production) each message logs a
    warning; the body is never logged because it holds tokens. Only the last
    `keep` messages are kept so a long-running process does not grow.
    """

    def __init__(self, sender: str = "no-reply@offen.dev", *, warn: bool = False, keep: int = 100) -> None:
        self.sender = sender
        self.warn = warn
        self.keep = keep
        self.messages: list[OutboxMessage] = []
        self._lock = threading.Lock()

    def send(self, to: str, subject: str, body: str) -> None:
        msg = build_message(self.sender, to, subject, body)
        with self._lock:
            self.messages.append(OutboxMessage(to, subject, body, msg))
            del self.messages[: -self.keep]
        if self.warn:
            log.warning("mail not configured: a message (%s) was kept in the outbox, not sent", subject)
        else:
            log.info("outbox: kept a message (%s)", subject)


def build_mailer(cfg: Any, *, which: Callable[[], str | None] = find_sendmail) -> Mailer:
    """Choose the mailer for a configuration.

    SMTP when `cfg.smtp_host` is set; otherwise, in development, an outbox;
    otherwise `sendmail` when one is found; otherwise an outbox that warns on
    every message that mail is not configured. Port 465 means implicit TLS
    unless `cfg.smtp_tls` says otherwise.
    """
    sender = getattr(cfg, "smtp_sender", None) or "no-reply@offen.dev"
    if getattr(cfg, "smtp_host", None):
        port = int(getattr(cfg, "smtp_port", None) or 587)
        tls = getattr(cfg, "smtp_tls", None) or ("implicit" if port == 465 else "starttls-if-offered")
        return SmtpMailer(
            cfg.smtp_host,
            port,
            getattr(cfg, "smtp_user", None) or "",
            getattr(cfg, "smtp_password", None) or "",
            getattr(cfg, "smtp_authtype", None) or "LOGIN",
            sender,
            tls=tls,
        )
    if getattr(cfg, "app_development", False):
        return OutboxMailer(sender)
    path = which()
    if path:
        return SendmailMailer(path, sender)
    log.warning("mail not configured: set OFFEN_SMTP_HOST; emails will not be sent")
    return OutboxMailer(sender, warn=True)
