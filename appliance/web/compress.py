"""gzip for text answers, as Offen does when no reverse proxy is in front.

Bulk ciphertext answers (an account's events, a visitor's events) are left
alone: base64 ciphertext barely compresses and the CPU is better spent
serving requests. Small bodies are not worth a gzip header either.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterable
from typing import Any

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

MIN_SIZE = 1024
_COMPRESSIBLE = ("text/", "application/json", "application/javascript", "image/svg+xml")


def _bulk_ciphertext(environ: dict[str, Any]) -> bool:
    if environ.get("REQUEST_METHOD") != "GET":
        return False
    path = environ.get("PATH_INFO", "")
    return path == "/api/events" or path.startswith("/api/accounts/")


def gzip_responses(app: WSGIApp, level: int = 6) -> WSGIApp:
    def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if "gzip" not in environ.get("HTTP_ACCEPT_ENCODING", "") or _bulk_ciphertext(environ):
            return app(environ, start_response)
        captured: dict[str, Any] = {}

        def capture(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            captured["status"], captured["headers"], captured["exc_info"] = status, headers, exc_info
            return lambda data: None

        result = app(environ, capture)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        headers: list[tuple[str, str]] = captured["headers"]
        names = {name.lower(): value for name, value in headers}
        content_type = names.get("content-type", "")
        if (
            len(body) >= MIN_SIZE
            and "content-encoding" not in names
            and content_type.startswith(_COMPRESSIBLE)
        ):
            body = gzip.compress(body, compresslevel=level)
            headers = [(n, v) for n, v in headers if n.lower() != "content-length"]
            headers += [("Content-Encoding", "gzip"), ("Content-Length", str(len(body)))]
            headers.append(("Vary", "Accept-Encoding"))
        start_response(captured["status"], headers, captured["exc_info"])
        return [body]

    return middleware
