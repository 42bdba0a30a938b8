"""Logging set-up and the anonymised access log (reference §3.1, §5.2, §7.1).

This module owns everything the appliance writes about requests and errors,
and the privacy promise that comes with it: Offen's documentation says its
logs hold no IP address, no user agent and no referrer, and collapse every
2xx/3xx status to 200. We keep that and go further:

* path segments that carry secrets (`/reset-password/<token>`, `/join/<token>`,
  the links in emails) are redacted, and a query string is never written;
* every line the "offen" logger writes, tracebacks included, is passed through
  `scrub_addresses`, which removes IPv4/IPv6 addresses and their ports, so a
  library message that names a client cannot leak one.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any, TextIO
from urllib.parse import quote

__all__ = [
    "LOGGER_NAME",
    "REDACTED",
    "ScrubbingFormatter",
    "access_log",
    "configure_logging",
    "redact_path",
    "scrub_addresses",
]

LOGGER_NAME = "offen"
REDACTED = "…redacted…"
_QUERY_MARK = "?…"

# Path segments after which everything is a secret (links sent by email).
_SECRET_MARKERS = frozenset({"reset-password", "join"})

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# --- scrubbing addresses -------------------------------------------------------

_ADDRESS = "<address>"
# Python socket address tuples as printed in messages: ('127.0.0.1', 54321)
# or ('::1', 54321, 0, 0). The whole tuple goes, port included.
_ADDR_TUPLE = re.compile(r"\(\s*'([^']*)'\s*,\s*\d+(?:\s*,\s*\d+){0,2}\s*\)")
# IPv4, optionally with a port.
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?(?![\w.])")
# Anything that might be an IPv6 address (validated below, so times such as
# 15:04:05 are left alone), optionally bracketed with a port, or with a zone.
_IPV6_CANDIDATE = re.compile(
    r"\[?(?<![\w:.])([0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:\.\d{1,3}){0,3}(?:%[\w.-]+)?)\]?"
    r"(?::\d{1,5})?(?![\w:])"
)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return False
    return True


def _replace_tuple(match: re.Match[str]) -> str:
    return _ADDRESS if _is_ip(match.group(1)) or match.group(1) == "" else match.group(0)


def _replace_v6(match: re.Match[str]) -> str:
    return _ADDRESS if _is_ip(match.group(1)) else match.group(0)


def scrub_addresses(text: str) -> str:
    """Return `text` with every IPv4/IPv6 address (and the port next to it) removed."""
    text = _ADDR_TUPLE.sub(_replace_tuple, text)
    text = _IPV6_CANDIDATE.sub(_replace_v6, text)
    return _IPV4.sub(_ADDRESS, text)


class ScrubbingFormatter(logging.Formatter):
    """A formatter whose output, tracebacks included, never holds an IP address."""

    def format(self, record: logging.LogRecord) -> str:
        return scrub_addresses(super().format(record))


def configure_logging(level: str, stream: TextIO = sys.stderr) -> logging.Logger:
    """Set up the "offen" logger at `level` (debug|info|warn|error) writing to `stream`.

    Calling it again replaces the handler it installed before, so tests and a
    reloaded configuration do not stack handlers.
    """
    try:
        numeric = _LEVELS[level.strip().lower()]
    except KeyError:
        raise ValueError(f"unknown log level {level!r}; use debug, info, warn or error") from None
    logger = logging.getLogger(LOGGER_NAME)
    for handler in list(logger.handlers):
        if getattr(handler, "_offen_handler", False):
            logger.removeHandler(handler)
    handler = logging.StreamHandler(stream)
    handler._offen_handler = True  # type: ignore[attr-defined]
    handler.setFormatter(ScrubbingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(numeric)
    # The root logger may be configured by a library or a test runner; our
    # lines are already complete and must not be duplicated without scrubbing.
    logger.propagate = False
    return logger


# --- the access log ------------------------------------------------------------

# Characters left as they are in logged path segments; everything else
# (spaces, quotes, control characters, non-ASCII) is percent-encoded so a
# line can neither be split nor forged.
_SEGMENT_SAFE = "-._~!$&'()*+,;=:@%"
_TOKEN = re.compile(r"[^A-Za-z0-9!#$%&'*+.^_`|~-]")
_PROTO = re.compile(r"[^A-Za-z0-9/.]")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def redact_path(path: str, query: str) -> str:
    """Return a printable, single-line form of a request path with its secrets removed.

    `path` is the decoded path. Everything after a `reset-password` or `join`
    segment becomes `…redacted…` (those are the links with tokens sent by
    email); a non-empty `query` becomes `?…`, since query strings may carry
    identifiers. Other segments are percent-encoded where needed.
    """
    segments = path.split("/")
    out: list[str] = []
    for index, segment in enumerate(segments):
        out.append(quote(segment, safe=_SEGMENT_SAFE))
        if segment.lower() in _SECRET_MARKERS:
            rest = segments[index + 1 :]
            if any(rest):
                out.append(REDACTED + ("/" if rest[-1] == "" and len(rest) > 1 else ""))
            elif rest:
                out.append("")
            break
    redacted = "/".join(out)
    return redacted + (_QUERY_MARK if query else "")


@functools.lru_cache(maxsize=2048)
def _redacted_target(path: str, has_query: bool) -> str:
    # Most requests hit a handful of paths (/api/events above all); the
    # redacted form of each is worked out once.
    return redact_path(path, "?" if has_query else "")


def _clf_time(moment: datetime) -> str:
    return _clf_second(moment.replace(microsecond=0))


@functools.lru_cache(maxsize=8)
def _clf_second(moment: datetime) -> str:
    # Built by hand: %b depends on the locale, CLF wants English month names.
    offset = moment.strftime("%z") or "+0000"
    return (
        f"{moment.day:02d}/{_MONTHS[moment.month - 1]}/{moment.year:04d}:"
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d} {offset}"
    )


@functools.lru_cache(maxsize=64)
def _logged_status(status: str | None) -> str:
    # Offen's anonymisation: any 2xx/3xx is written as 200, so redirects and
    # 304s do not tell which pages a visitor had cached or was sent to.
    if status is None:
        return "500"
    code = status.split(" ", 1)[0]
    if not code.isdigit():
        return "500"
    return "200" if 200 <= int(code) < 400 else code


def _decoded_path(raw: str) -> str:
    # WSGI gives the path as bytes decoded with latin-1; recover the real text.
    try:
        return raw.encode("latin-1").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return raw


@functools.lru_cache(maxsize=2048)
def _target(raw_path: str, has_query: bool) -> str:
    # Most requests hit a handful of paths (/api/events above all); the
    # decoded, redacted form of each is worked out once.
    return _redacted_target(_decoded_path(raw_path), has_query)


@functools.lru_cache(maxsize=64)
def _method(raw: str) -> str:
    return _TOKEN.sub("", raw) or "-"


@functools.lru_cache(maxsize=64)
def _proto(raw: str) -> str:
    return _PROTO.sub("", raw) or "-"


def _line(environ: dict[str, Any], started: datetime, status: str | None) -> str:
    method = _method(environ.get("REQUEST_METHOD", ""))
    proto = _proto(environ.get("SERVER_PROTOCOL", ""))
    target = _target(
        environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""), bool(environ.get("QUERY_STRING"))
    )
    return f'- - - [{_clf_time(started)}] "{method} {target} {proto}" {_logged_status(status)} -\n'


class _StatusSeen:
    """The start_response handed to the app: remembers the status for the line."""

    __slots__ = ("start_response", "status")

    def __init__(self, start_response: Callable[..., Any]) -> None:
        self.start_response = start_response
        self.status: str | None = None

    def __call__(self, status: str, headers: list[Any], exc_info: Any = None) -> Any:
        self.status = status
        if exc_info is not None:
            return self.start_response(status, headers, exc_info)
        return self.start_response(status, headers)


class _LoggedBody:
    """Wraps the app's response iterable so the line is written once the body is sent."""

    def __init__(self, body: Iterable[bytes], finish: Callable[[], None]) -> None:
        self._body = body
        self._finish: Callable[[], None] | None = finish

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._body)

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            finish, self._finish = self._finish, None
            if finish is not None:
                finish()


def access_log(app: WSGIApp, stream: TextIO, clock: Callable[[], datetime]) -> WSGIApp:
    """Wrap `app` so every request writes one anonymised CLF line to `stream`.

    The line is `- - - [02/Jan/2006:15:04:05 -0700] "METHOD /path PROTO" 200 -`:
    no address, no user, no user agent, no referrer, no size; the time is the
    request's start as given by `clock`.
    """
    lock = threading.Lock()
    flushed = [time.monotonic()]

    def write(line: str) -> None:
        # Flushed at most every half second rather than per line: a write
        # system call per request is a measurable share of collecting an
        # event. `flush_access_log` empties the buffer at shutdown.
        with lock:
            stream.write(line)
            moment = time.monotonic()
            if moment - flushed[0] >= 0.5:
                stream.flush()
                flushed[0] = moment

    def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = clock()
        seen = _StatusSeen(start_response)
        try:
            body = app(environ, seen)
        except BaseException:
            write(_line(environ, started, "500"))
            raise
        if type(body) is list:
            # A finished body (the collection fast path, bottle's answers):
            # nothing that happens while it is sent changes the line.
            write(_line(environ, started, seen.status))
            return body
        return _LoggedBody(body, lambda: write(_line(environ, started, seen.status)))

    return middleware
