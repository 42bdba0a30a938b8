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
import socket
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
        timeout: float = 15,
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
        try:
            with self._connect() as smtp:
                try:
                    self._secure_and_login(smtp)
                except smtplib.SMTPAuthenticationError as exc:
                    # What the server announced explains most refusals.
                    offered = tuple((smtp.esmtp_features.get("auth") or "").upper().split())
                    raise MailError(self._auth_problem(exc, offered)) from None
                smtp.send_message(msg, from_addr=self.sender, to_addrs=[to])
        except MailError as error:
            log.warning("%s", error.message)
            raise
        except (smtplib.SMTPException, OSError, ValueError) as exc:
            # The error's text reaches the log and the person who asked for the
            # mail; the recipient and the body (tokens) are not part of it.
            error = self._explain(exc)
            log.warning("%s", error.message)
            raise error from None

    def _explain(self, exc: BaseException) -> MailError:
        """Turn what smtplib, ssl or the socket raised into one message a person can act on."""
        where = f"{self.host}:{self.port}"
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            return MailError(self._auth_problem(exc, ()))
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            return MailError(f"The SMTP server {where} refused the recipient.")
        if isinstance(exc, smtplib.SMTPSenderRefused) and exc.smtp_code == 530:
            return MailError(
                f"The SMTP server {where} requires authentication ({self._scrub(_reply(exc))}). "
                "Set OFFEN_SMTP_AUTHTYPE (LOGIN, PLAIN or CRAM-MD5), OFFEN_SMTP_USER and OFFEN_SMTP_PASSWORD."
            )
        if isinstance(exc, smtplib.SMTPSenderRefused):
            return MailError(
                f"The SMTP server {where} refused the sender address {self.sender!r}: "
                f"{self._scrub(_reply(exc))}. Check OFFEN_SMTP_SENDER: many servers only accept "
                "an address that belongs to the logged-in user."
            )
        if isinstance(exc, smtplib.SMTPNotSupportedError):
            return MailError(f"The SMTP server {where} does not support this: {self._scrub(str(exc))}")
        if isinstance(exc, smtplib.SMTPResponseException):
            return MailError(f"The SMTP server {where} answered {self._scrub(_reply(exc))}")
        if isinstance(exc, ssl.SSLCertVerificationError):
            detail = exc.verify_message or exc.reason or "unknown reason"
            return MailError(
                f"The TLS certificate of the SMTP server {where} could not be verified ({detail}). "
                "OFFEN_SMTP_HOST must be the name the certificate was issued for, and its issuer "
                "must be trusted by this machine."
            )
        if isinstance(exc, ssl.SSLError):
            hint = (
                " Does this port speak TLS from the first byte? If the server uses STARTTLS "
                "(usually port 587), set OFFEN_SMTP_TLS=starttls."
                if self.tls == "implicit"
                else ""
            )
            return MailError(f"TLS with the SMTP server {where} failed: {exc.reason or exc}.{hint}")
        if _timed_out(exc):
            return MailError(
                f"The SMTP server {where} did not answer within {self.timeout:g} s (OFFEN_SMTP_TIMEOUT)."
                + self._tls_hint()
            )
        if isinstance(exc, ConnectionRefusedError):
            return MailError(
                f"Could not connect to the SMTP server {where}: connection refused. "
                "Check OFFEN_SMTP_HOST and OFFEN_SMTP_PORT, and that the server is running."
            )
        if isinstance(exc, socket.gaierror):
            return MailError(
                f"The SMTP host name {self.host!r} could not be resolved ({exc.strerror or exc}). "
                "Check OFFEN_SMTP_HOST."
            )
        if isinstance(exc, smtplib.SMTPServerDisconnected):
            return MailError(
                f"The SMTP server {where} closed the connection unexpectedly." + self._tls_hint()
            )
        if isinstance(exc, OSError):
            reason = exc.strerror or str(exc)
            return MailError(f"Could not reach the SMTP server {where}: {self._scrub(reason)}")
        if isinstance(exc, smtplib.SMTPException):
            return MailError(f"Sending through the SMTP server {where} failed: {self._scrub(str(exc))}")
        # e.g. an address smtplib cannot encode
        return MailError(f"The email could not be sent to {where}: {self._scrub(str(exc))}")

    def _tls_hint(self) -> str:
        # A client that waits for a greeting while the server waits for a TLS
        # handshake (or the other way round) ends in a timeout or a hang-up.
        if self.tls != "implicit" and self.port == 465:
            return " Port 465 usually expects TLS from the first byte: set OFFEN_SMTP_TLS=implicit."
        if self.tls != "implicit":
            return " If the server expects TLS from the first byte, set OFFEN_SMTP_TLS=implicit."
        return ""

    def _auth_problem(self, exc: smtplib.SMTPAuthenticationError, offered: tuple[str, ...]) -> str:
        where = f"{self.host}:{self.port}"
        reply = self._scrub(_reply(exc))
        if exc.smtp_code in (502, 503) and not offered:
            return (
                f"The SMTP server {where} does not offer authentication ({reply}). If it needs none, "
                "set OFFEN_SMTP_AUTHTYPE=NOAUTH; if it only offers it over TLS, check OFFEN_SMTP_TLS."
            )
        if exc.smtp_code == 504 or (exc.smtp_code in (502, 503) and self.auth_type not in offered):
            names = ", ".join(offered) or "none"
            return (
                f"The SMTP server {where} does not accept {self.auth_type} authentication ({reply}); "
                f"it offers: {names}. Set OFFEN_SMTP_AUTHTYPE to one of these."
            )
        if exc.smtp_code in (530, 538):
            return (
                f"The SMTP server {where} requires encryption before authentication ({reply}). "
                "Set OFFEN_SMTP_TLS=starttls or implicit."
            )
        return (
            f"The SMTP server {where} refused the credentials ({self.auth_type}): {reply}. "
            "Check OFFEN_SMTP_USER, OFFEN_SMTP_PASSWORD and OFFEN_SMTP_AUTHTYPE."
        )

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


def _timed_out(exc: BaseException) -> bool:
    # smtplib turns a read timeout into SMTPServerDisconnected("Connection
    # unexpectedly closed: timed out"); the TimeoutError is its context.
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, TimeoutError):
            return True
        seen.add(id(current))
        current = current.__context__
    return False


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
            self._run(msg)
        except MailError as error:
            log.warning("%s", error.message)
            raise

    def _run(self, msg: EmailMessage) -> None:
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
            # The first lines of its error output name the cause (msmtp:
            # "cannot connect to ...", then "could not send mail"); sendmail
            # programs report on the delivery, never the message itself.
            lines = [line.strip() for line in done.stderr.decode("utf-8", "replace").splitlines()]
            detail = "; ".join(line for line in lines if line)[:400]
            detail = f": {detail}" if detail else ""
            raise MailError(
                f"sendmail ({self.path}) failed with exit status {done.returncode}{detail}. "
                "Set it up to relay mail, or set OFFEN_SMTP_HOST instead."
            )


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
            log.warning(
                "mail is not configured (set OFFEN_SMTP_HOST): a message (%s) was kept in the outbox, not sent",
                subject,
            )
        else:
            log.info("outbox: kept a message (%s)", subject)


DEFAULT_TIMEOUT = 15
NOT_CONFIGURED = (
    "mail is not configured: set OFFEN_SMTP_HOST (with OFFEN_SMTP_PORT, OFFEN_SMTP_USER, "
    "OFFEN_SMTP_PASSWORD and OFFEN_SMTP_SENDER), or install a local sendmail; until then "
    "password-reset and invitation emails are not sent"
)


def build_mailer(cfg: Any, *, which: Callable[[], str | None] = find_sendmail) -> Mailer:
    """Choose the mailer for a configuration, and warn when mail will not (reliably) arrive.

    SMTP when `cfg.smtp_host` is set; otherwise, in development, an outbox;
    otherwise `sendmail` when one is found (with a warning: Offen's docs call
    it unreliable); otherwise an outbox that warns on every message that mail
    is not configured. Port 465 means implicit TLS while OFFEN_SMTP_TLS was
    left at its default (`cfg.sources` says so), because a STARTTLS client
    on an implicit-TLS port waits for a greeting that never comes.
    """
    sender = getattr(cfg, "smtp_sender", None) or "no-reply@offen.dev"
    timeout = float(getattr(cfg, "smtp_timeout", None) or DEFAULT_TIMEOUT)
    if getattr(cfg, "smtp_host", None):
        port = int(getattr(cfg, "smtp_port", None) or 587)
        tls = getattr(cfg, "smtp_tls", None) or "starttls-if-offered"
        chosen = getattr(cfg, "sources", {}).get("OFFEN_SMTP_TLS", "default") != "default"
        if port == 465 and tls == "starttls-if-offered" and not chosen:
            tls = "implicit"
        return SmtpMailer(
            cfg.smtp_host,
            port,
            getattr(cfg, "smtp_user", None) or "",
            getattr(cfg, "smtp_password", None) or "",
            getattr(cfg, "smtp_authtype", None) or "LOGIN",
            sender,
            timeout=timeout,
            tls=tls,
        )
    if getattr(cfg, "app_development", False):
        return OutboxMailer(sender)
    path = which()
    if path:
        log.warning(
            "no SMTP server configured (OFFEN_SMTP_HOST): emails go through the local sendmail at %s, "
            "which must be set up to relay them; setting OFFEN_SMTP_HOST is more reliable",
            path,
        )
        # sendmail may queue and retry on its own, so it gets more time than one SMTP step.
        return SendmailMailer(path, sender, timeout=max(30.0, timeout))
    log.warning("%s", NOT_CONFIGURED)
    return OutboxMailer(sender, warn=True)
