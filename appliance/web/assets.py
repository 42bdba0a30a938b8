"""Health, version, the embed script, the vault page, static files and the SPA shell.

HTML answers carry an ETag (hex MD5 of the body), `Cache-Control: no-cache`
and Offen's Content-Security-Policy (reference §3.1). Unknown GET paths fall
back to the single-page shell; unknown API paths answer with the JSON error.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import bottle

from appliance import __version__
from appliance.errors import StoreError, UnknownAccount
from appliance.web.errors import error_response
from appliance.web.http import json_response

if TYPE_CHECKING:
    from appliance.web import Services, WebContext

CONTENT_SECURITY_POLICY = "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; img-src 'self' data:"


def health(ctx: WebContext) -> Callable[[], str]:
    def handler() -> str:
        bottle.response.set_header("Cache-Control", "no-store")
        try:
            ctx.store.ping()
        except StoreError:
            raise error_response(502, "the database is not reachable") from None
        return json_response({"ok": True})

    return handler


def version() -> str:
    bottle.response.set_header("Cache-Control", "no-store")
    bottle.response.content_type = "application/json; charset=utf-8"
    return json.dumps({"revision": __version__}, indent=2)


def _with_etag(body: bytes, content_type: str, *, csp: bool) -> bytes | bottle.HTTPResponse:
    etag = '"' + hashlib.md5(body, usedforsecurity=False).hexdigest() + '"'
    headers = {"ETag": etag, "Cache-Control": "no-cache", "Content-Type": content_type}
    if csp:
        headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    if bottle.request.environ.get("HTTP_IF_NONE_MATCH", "") in (etag, etag.strip('"')):
        return bottle.HTTPResponse(status=304, headers=headers)
    for name, value in headers.items():
        bottle.response.set_header(name, value)
    return body


class Assets:
    def __init__(self, ctx: WebContext, services: Services) -> None:
        self._ctx = ctx
        self._services = services
        self._ui = ctx.resources / "ui"

    def _read(self, relative: str) -> bytes:
        return (self._ui / relative).read_bytes()

    def vault(self) -> bytes | bottle.HTTPResponse:
        account_id = bottle.request.query.get("accountId")
        if account_id:
            try:
                self._services.accounts.get(account_id)
            except UnknownAccount:
                # A retired account's banner and collection stop here.
                page = (
                    b"<!DOCTYPE html><title>Offen</title><p>This account is unknown or has been retired.</p>"
                )
                return bottle.HTTPResponse(
                    body=page, status=400, headers={"Content-Type": "text/html; charset=utf-8"}
                )
        return _with_etag(self._read("vault/index.html"), "text/html; charset=utf-8", csp=True)

    def script(self) -> bytes | bottle.HTTPResponse:
        return _with_etag(self._read("script/script.js"), "application/javascript; charset=utf-8", csp=False)

    def shell(self) -> bytes | bottle.HTTPResponse:
        return _with_etag(self._read("index.html"), "text/html; charset=utf-8", csp=True)

    def fallback(self, app: bottle.Bottle) -> Callable[..., object]:
        """Trailing-slash redirects, static files under ui/, else the SPA shell (GET) or a JSON 404/405."""

        def handler(path: str = "") -> object:
            request = bottle.request
            full = "/" + path
            if full != "/" and full.endswith("/") and _matches_route(app, full.rstrip("/"), request.method):
                target = full.rstrip("/")
                if request.query_string:
                    target += "?" + request.query_string
                # 301 for GET, 307 otherwise, so a POST body survives (gin's behaviour).
                raise bottle.HTTPResponse(
                    status=301 if request.method == "GET" else 307, headers={"Location": target}
                )
            if full.startswith("/api/") or full == "/api":
                raise error_response(404, "not found")
            if request.method not in ("GET", "HEAD"):
                raise error_response(405, "method not allowed")
            candidate = _static_file(self._ui, path)
            if candidate is not None:
                if candidate.suffix == ".html":
                    return _with_etag(candidate.read_bytes(), "text/html; charset=utf-8", csp=True)
                response = bottle.static_file(candidate.relative_to(self._ui).as_posix(), root=str(self._ui))
                response.set_header("Cache-Control", "no-cache")
                return response
            return self.shell()

        return handler


def _static_file(root: Path, path: str) -> Path | None:
    if not path or path.endswith("/"):
        return None
    candidate = (root / path).resolve()
    try:
        candidate.relative_to(root.resolve())
    except ValueError:
        return None
    # Tests and sources of the front end are not served.
    if candidate.is_file() and "tests" not in candidate.relative_to(root.resolve()).parts:
        return candidate
    return None


def _matches_route(app: bottle.Bottle, path: str, method: str) -> bool:
    environ = {"PATH_INFO": path, "REQUEST_METHOD": method}
    try:
        route, _ = app.router.match(environ)
    except bottle.HTTPError:
        return False
    return route.rule not in ("/<path:path>", "/")
