"""The HTTP(S) listener: cheroot, a graceful stop, a privacy-safe error log (reference §3.1).

This module owns serving a WSGI app on one address: plain HTTP, or HTTPS from
certificate files through cheroot's builtin SSL adapter; serving in a
background thread so the main thread stays free (signals, a window); and a
graceful stop that lets requests in flight finish, as Offen does on
SIGINT/SIGTERM with a 5 s timeout.

Privacy: cheroot's own error log names client addresses and ports ("Client
('203.0.113.9', 51234) attempted to speak plain HTTP ..."). Offen promises logs
without IP addresses, so every message and traceback cheroot writes goes
through `appliance.log.scrub_addresses` first, and nothing cheroot hands us
is written beyond the message and traceback (never request headers).
"""

from __future__ import annotations

import errno
import gc
import ipaddress
import logging
import signal
import sys
import threading
import traceback as traceback_module
from collections.abc import Callable
from typing import Any, TextIO

from cheroot import wsgi
from cheroot.server import HTTPConnection
from cheroot.ssl.builtin import BuiltinSSLAdapter

from appliance.log import scrub_addresses

__all__ = ["Server", "run_until_signalled"]

_LEVEL_NAMES = {
    logging.DEBUG: "DEBUG",
    logging.INFO: "INFO",
    logging.WARNING: "WARNING",
    logging.ERROR: "ERROR",
    logging.CRITICAL: "CRITICAL",
}


class _Connection(HTTPConnection):
    """cheroot's connection, freed as soon as it is closed.

    cheroot wraps two methods of every connection in `lru_cache` and keeps
    the wrappers on the instance: a reference cycle, so each closed
    connection (its socket objects and buffers included) waited for the
    garbage collector. With a new connection per request that was some 24
    objects per request, and a collection every few hundred requests, each
    pausing every thread; dropping the wrappers on close lets reference
    counting free it all at once.
    """

    def close(self) -> None:
        try:
            super().close()
        finally:
            # Afterwards the plain (uncached) methods answer, should anything ask.
            self.__dict__.pop("resolve_peer_creds", None)
            self.__dict__.pop("get_peer_creds", None)


class _PrivateCherootServer(wsgi.Server):
    """cheroot's WSGI server with an error log that never names a client."""

    ConnectionClass = _Connection

    def __init__(self, *args: Any, error_stream: TextIO, min_level: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._error_stream = error_stream
        self._min_level = min_level
        self._error_lock = threading.Lock()

    def error_log(self, msg: str = "", level: int = logging.INFO, traceback: bool = False) -> None:
        if level < self._min_level:
            return
        text = f"{_LEVEL_NAMES.get(level, level)} cheroot: {msg}\n"
        if traceback:
            text += traceback_module.format_exc()
        text = scrub_addresses(text)
        with self._error_lock:
            try:
                self._error_stream.write(text)
                self._error_stream.flush()
            except (OSError, ValueError):
                pass  # a closed stream must not take a worker thread down


class Server:
    """One cheroot listener serving `app`; start() returns once the port is bound."""

    def __init__(
        self,
        app: Callable[..., Any],
        host: str,
        port: int,
        *,
        certfile: str | None = None,
        keyfile: str | None = None,
        threads: int = 16,
        request_queue_size: int = 128,
        error_stream: TextIO = sys.stderr,
        shutdown_timeout: float = 5,
        error_level: int = logging.INFO,
    ) -> None:
        if (certfile is None) != (keyfile is None):
            raise ValueError("certfile and keyfile must be given together")
        if threads < 1:
            raise ValueError("threads must be at least 1")
        self.app = app
        self.host = host
        self.port = int(port)
        self.certfile = certfile
        self.keyfile = keyfile
        self.threads = threads
        self.request_queue_size = request_queue_size
        self.error_stream = error_stream
        self.shutdown_timeout = shutdown_timeout
        self.error_level = error_level
        self._cheroot: _PrivateCherootServer | None = None
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()
        self._stop_lock = threading.Lock()

    @property
    def url(self) -> str:
        """Where to reach the server; a wildcard address is shown as loopback."""
        scheme = "https" if self.certfile else "http"
        host = self.host
        if host in ("", "0.0.0.0"):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        try:
            if ipaddress.ip_address(host).version == 6:
                host = f"[{host}]"
        except ValueError:
            pass  # a host name
        return f"{scheme}://{host}:{self.port}"

    @property
    def started(self) -> bool:
        return self._thread is not None

    @property
    def running(self) -> bool:
        return self._thread is not None and not self._stopped.is_set()

    def start(self) -> None:
        """Bind, then serve in a background thread. Raises OSError when the address is taken."""
        if self._thread is not None:
            raise RuntimeError("the server was already started")
        server = _PrivateCherootServer(
            (self.host, self.port),
            self.app,
            numthreads=self.threads,
            request_queue_size=self.request_queue_size,
            shutdown_timeout=self.shutdown_timeout,
            server_name=self.host or "localhost",
            error_stream=self.error_stream,
            min_level=self.error_level,
        )
        if self.certfile and self.keyfile:
            # Loading here (not on first connection) makes a bad file fail start().
            server.ssl_adapter = BuiltinSSLAdapter(self.certfile, self.keyfile)
        try:
            server.prepare()
        except OSError as exc:
            cause = exc.__cause__ if isinstance(exc.__cause__, OSError) else exc
            code = cause.errno
            if code == errno.EADDRINUSE:
                reason = "the address is already in use (is another server running on that port?)"
            elif code == errno.EACCES:
                reason = "permission denied (ports below 1024 need privileges)"
            elif code == errno.EADDRNOTAVAIL:
                reason = "the address is not available on this machine"
            else:
                reason = cause.strerror or str(cause)
            raise OSError(code, f"Cannot listen on {self.host}:{self.port}: {reason}") from None
        if self.port == 0:
            self.port = server.bind_addr[1]
        self._cheroot = server
        self._thread = threading.Thread(target=self._serve, name=f"offen-server-{self.port}", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        assert self._cheroot is not None
        try:
            self._cheroot.serve()
        except BaseException:  # noqa: BLE001 - reported through the private error log
            self._cheroot.error_log("the server stopped unexpectedly", logging.ERROR, traceback=True)
            self._stop_cheroot()
        finally:
            self._stopped.set()

    def _stop_cheroot(self) -> None:
        with self._stop_lock:
            if self._cheroot is not None:
                self._cheroot.stop()

    def stop(self) -> None:
        """Stop accepting connections; let requests in flight finish (up to shutdown_timeout)."""
        if self._thread is None:
            return
        # cheroot's stop closes the listener first, then waits for every worker
        # (each finishing its current request) up to shutdown_timeout.
        self._stop_cheroot()
        self._thread.join(self.shutdown_timeout + 5)
        self._stopped.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the server has stopped; True if it has."""
        if self._thread is None:
            return True
        return self._stopped.wait(timeout)


def run_until_signalled(
    server: Server, on_stop: Callable[[], None] | None = None, *, freeze_heap: bool = True
) -> None:
    """Serve until SIGINT or SIGTERM (or until the server stops), then stop gracefully.

    Must be called from the main thread (Python only delivers signals there).
    The previous signal handlers are restored before returning. With
    `freeze_heap` (the default, meant for `offen serve`, which calls this once
    per process), the objects that exist once the server listens are moved
    out of the garbage collector's sight (`gc.freeze`).
    """
    received = threading.Event()

    def handler(signum: int, frame: Any) -> None:
        received.set()

    signums = [signal.SIGINT, signal.SIGTERM]
    previous = {signum: signal.signal(signum, handler) for signum in signums}
    try:
        if not server.started:
            server.start()
        if freeze_heap:
            # Everything made during start-up (modules, the app, SQLAlchemy's
            # metadata: some 80,000 objects) lives as long as the process. A
            # full garbage collection walks every tracked object and holds the
            # GIL while it does (about 30 ms here), stalling every request in
            # flight; frozen objects are left out of those walks.
            gc.collect()
            gc.freeze()
        # Wait in short slices so a server that stops on its own ends the loop;
        # the signal handler interrupts the wait in this (main) thread.
        while not received.wait(0.2):
            if server.wait(0):
                break
    finally:
        try:
            server.stop()
            if on_stop is not None:
                on_stop()
        finally:
            for signum, old in previous.items():
                signal.signal(signum, old)
