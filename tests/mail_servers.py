"""Real SMTP servers on loopback for the mail tests: aiosmtpd with every auth type, and a silent one.

`RecordingHandler` keeps what arrived and which AUTH mechanisms were used;
aiosmtpd has no CRAM-MD5, so the handler adds one (`auth_CRAM__MD5`, offered
as "CRAM-MD5"). `SilentServer` accepts TCP connections and never says a
word, the way a firewalled or hung server looks to a client.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.certs import self_signed_cert

USER = "mailer@example.com"
PASSWORD = "pässwörd-Sekret-42"
HOST = "127.0.0.1"


def free_port(host: str = HOST) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def make_cert(folder: Path) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 and localhost (cert.pem, key.pem)."""
    certfile, keyfile = self_signed_cert(folder)
    return str(certfile), str(keyfile)


def server_context(certs: tuple[str, str]) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(*certs)
    return ctx


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    login: Any

    def message(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.content, policy=email.policy.default)  # type: ignore[return-value]


class RecordingHandler:
    """Stores each message; checks USER/PASSWORD for LOGIN, PLAIN and CRAM-MD5."""

    challenge = b"<4711.1700000000@smtp.test>"

    def __init__(self, user: str = USER, password: str = PASSWORD) -> None:
        self.user, self.password = user, password
        self.received: list[Received] = []
        self.mechanisms: list[str] = []
        self.arrived = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content, session.login_data)
        )
        self.arrived.set()
        return "250 OK"

    async def auth_CRAM__MD5(self, server: Any, args: list[str]) -> AuthResult:
        answer = await server.challenge_auth(self.challenge)
        if not isinstance(answer, bytes):  # the client aborted with "*"
            return AuthResult(success=False, handled=False)
        user, _, digest = answer.decode("utf-8", "replace").partition(" ")
        expected = hmac.new(self.password.encode(), self.challenge, hashlib.md5).hexdigest()
        ok = user == self.user and hmac.compare_digest(digest.encode(), expected.encode())
        self.mechanisms.append("CRAM-MD5")
        # handled=False: otherwise a failure sends no reply (machines.md §7)
        return AuthResult(success=ok, handled=False, auth_data=LoginPassword(user.encode(), b""))

    def authenticator(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        self.mechanisms.append(mechanism)
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == self.user.encode()
            and auth_data.password == self.password.encode()
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data)


@contextmanager
def smtp_server(handler: RecordingHandler | None = None, **kwargs: Any) -> Iterator[tuple[Controller, Any]]:
    """An aiosmtpd Controller on a free loopback port, stopped afterwards."""
    handler = handler or RecordingHandler()
    controller = Controller(handler, hostname=HOST, port=free_port(), **kwargs)
    controller.start()
    try:
        yield controller, handler
    finally:
        controller.stop()


def authenticating_server(
    handler: RecordingHandler, certs: tuple[str, str] | None, *, implicit: bool = False
) -> dict[str, Any]:
    """Controller keyword arguments: AUTH required, over STARTTLS, implicit TLS or (certs None) plain."""
    kwargs: dict[str, Any] = {"authenticator": handler.authenticator, "auth_required": True}
    if certs is None:
        kwargs["auth_require_tls"] = False
    elif implicit:
        # The whole connection is TLS, which aiosmtpd's auth_require_tls does not see.
        kwargs.update(ssl_context=server_context(certs), auth_require_tls=False)
    else:
        kwargs.update(tls_context=server_context(certs), require_starttls=True, auth_require_tls=True)
    return kwargs


class SilentServer:
    """Accepts connections and never answers (nor reads): a hung or firewalled SMTP server."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind((HOST, 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self._held.append(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for conn in self._held:
            conn.close()
        self.sock.close()

    def __enter__(self) -> SilentServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
