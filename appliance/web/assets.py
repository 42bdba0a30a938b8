"""Health, version, the embed script, the vault page, static files and the SPA shell.

HTML answers carry an ETag (hex MD5 of the body), `Cache-Control: no-cache`
and a Content-Security-Policy (reference §3.1). Unknown GET paths fall back to
the single-page shell; unknown API paths answer with the JSON error.

The vault page is a template (`ui/vault/index.html`) with two placeholders:
`{{lang}}` (a locale from a fixed list) and `{{accountStyles}}` (the account's
banner CSS, re-validated with `appliance.bannercss` before it reaches a
visitor). The vault holds the visitor's keys, so its CSP allows no inline or
foreign script, and it sends no `frame-ancestors` or X-Frame-Options: any
operator's site must be able to frame it.

Static files are served only from the folders the browser code lives in, with
content types from a fixed table (Python's `mimetypes` depends on the host's
`/etc/mime.types` and does not know `.mjs` on 3.11) and an ETag over the bytes.

The operator's program (`ui/operator/`) has its own shell, served at the
operator's page paths (OPERATOR_PAGE) with a stricter CSP: these pages hold
key-encryption keys in sessionStorage, so no inline script may ever run there.
`/auditorium/<uuid>/` is the operator's dashboard; `/auditorium/` alone stays
the visitor's auditorium. The visitor-access widgets keep Offen's file names
at the root (`/user-access-widget-<style>-<lang>.svg`).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import bottle

from appliance import __version__
from appliance.bannercss import sanitize_stored_css
from appliance.errors import StoreError, UnknownAccount
from appliance.web.errors import error_response
from appliance.web.http import json_response

if TYPE_CHECKING:
    from appliance.web import Services, WebContext

CONTENT_SECURITY_POLICY = "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; img-src 'self' data:"
# The vault holds visitor keys: only its own script files run there (no inline
# script, no eval), it talks only to its own origin, and it may not be turned
# into a form or a <base> redirect. Inline styles stay allowed for the banner
# (the account's CSS is a <style> element). No frame-ancestors: every operator
# site embeds the vault.
VAULT_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'"
)
# The operator's pages hold key-encryption keys (sessionStorage) and decrypt usage data: their own
# script files and module workers only, no inline script, no plugins, no <base> tricks, forms post
# only here, and no other site may frame them (clickjacking of the account-management forms).
OPERATOR_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; worker-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'self'"
)
# The operator program's pages (reference §6.6), trailing slash optional. Tokens are signed values
# (URL-safe base64 and dots); account ids are UUIDs.
OPERATOR_PAGE = re.compile(
    r"/(?:login|setup|console|forgot-password)/?"
    r"|/(?:reset-password|join)/[A-Za-z0-9_.\-=%]+/?"
    r"|/auditorium/[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/?"
)
# Offen served the visitor-access widgets at the root; the files live with the operator's program.
WIDGET_FILE = re.compile(r"/(user-access-widget-(?:bar|box|circle)-(?:en|de|fr|es|pt|vi)\.svg)")
# The languages of the vault's catalogues. The same list as appliance.config.LOCALES
# (a test keeps them equal); routes do not import the config module.
VAULT_LOCALES = ("en", "de", "fr", "es", "pt", "vi")
# Offen re-validated stored styles at most every 5 minutes (1 s in development).
STYLES_TTL = 300.0
STYLES_TTL_DEVELOPMENT = 1.0
# The folders of ui/ whose files are served as they are, and the one top-level
# folder that is not (the embed script has its own routes).
STATIC_FOLDERS = ("vault", "shared", "auditorium", "vendor", "operator")
# Folders where a missing file is a 404 rather than the SPA shell: a module the browser imports must
# fail as a missing module, not parse an HTML page as JavaScript.
STRICT_FOLDERS = ("operator",)
CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
}
SCRIPT_CONTENT_TYPE = CONTENT_TYPES[".js"]


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


def _with_etag(
    body: bytes, content_type: str, *, csp: bool | str, etag: str | None = None
) -> bytes | bottle.HTTPResponse:
    """`csp` True means the shell's policy; a string is used as the policy itself."""
    etag = etag or '"' + hashlib.md5(body, usedforsecurity=False).hexdigest() + '"'
    headers = {"ETag": etag, "Cache-Control": "no-cache", "Content-Type": content_type}
    if csp:
        headers["Content-Security-Policy"] = csp if isinstance(csp, str) else CONTENT_SECURITY_POLICY
    if bottle.request.environ.get("HTTP_IF_NONE_MATCH", "") in (etag, etag.strip('"')):
        return bottle.HTTPResponse(status=304, headers=headers)
    for name, value in headers.items():
        bottle.response.set_header(name, value)
    return body


def style_element_text(css: str) -> str:
    """CSS made safe to sit inside a `<style>` element.

    bannercss already refuses "<" anywhere, so this changes nothing for styles
    that passed it; it is the second lock. "<" becomes the CSS escape `\\3c `,
    so no `</style>` or `<!--` can ever end the element early.
    """
    return css.replace("<", "\\3c ")


class Assets:
    def __init__(self, ctx: WebContext, services: Services) -> None:
        self._ctx = ctx
        self._services = services
        self._ui = ctx.resources / "ui"
        self._lock = threading.Lock()
        # account id -> (monotonic time, stored CSS, CSS ready for the page)
        self._styles: dict[str, tuple[float, str, str]] = {}
        # path -> ((mtime_ns, size), bytes, etag) of static files
        self._files: dict[Path, tuple[tuple[int, int], bytes, str]] = {}

    def _read(self, relative: str) -> bytes:
        return (self._ui / relative).read_bytes()

    def _account_styles(self, account_id: str, stored: str) -> str:
        """The account's banner CSS, re-validated and escaped, cached per account for a short time."""
        ttl = STYLES_TTL_DEVELOPMENT if self._ctx.config.app_development else STYLES_TTL
        now = self._ctx.monotonic()
        with self._lock:
            hit = self._styles.get(account_id)
        # A changed stored value is re-checked at once; the cache only saves re-parsing the same text.
        if hit is not None and now - hit[0] <= ttl and hit[1] == stored:
            return hit[2]
        ready = style_element_text(sanitize_stored_css(stored))
        with self._lock:
            if len(self._styles) > 10_000:
                self._styles.clear()
            self._styles[account_id] = (now, stored, ready)
        return ready

    def vault(self) -> bytes | bottle.HTTPResponse:
        query = bottle.request.query
        account_id = query.get("accountId")
        styles = ""
        if account_id:
            try:
                account = self._services.accounts.get(account_id)
            except UnknownAccount:
                # A retired account's banner and collection stop here.
                page = (
                    b"<!DOCTYPE html><title>Offen</title><p>This account is unknown or has been retired.</p>"
                )
                return bottle.HTTPResponse(
                    body=page, status=400, headers={"Content-Type": "text/html; charset=utf-8"}
                )
            styles = self._account_styles(account.account_id, account.account_styles or "")
        locale = query.get("locale", "")
        lang = locale if locale in VAULT_LOCALES else self._ctx.config.app_locale
        # Plain replacement, not a template engine: the page is full of JavaScript and
        # CSS braces that a template language would try to read. Styles go in last, so
        # a "{{lang}}" inside them stays text.
        template = self._read("vault/index.html").decode("utf-8")
        page = template.replace("{{lang}}", lang).replace("{{accountStyles}}", styles)
        return _with_etag(page.encode("utf-8"), "text/html; charset=utf-8", csp=VAULT_CONTENT_SECURITY_POLICY)

    def script(self) -> bytes | bottle.HTTPResponse:
        return _with_etag(self._read("script/script.js"), SCRIPT_CONTENT_TYPE, csp=False)

    def _static(self, candidate: Path, csp: bool | str | None = None) -> bytes | bottle.HTTPResponse:
        stat = candidate.stat()
        key = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            hit = self._files.get(candidate)
        if hit is None or hit[0] != key:
            body = candidate.read_bytes()
            hit = (key, body, '"' + hashlib.md5(body, usedforsecurity=False).hexdigest() + '"')
            with self._lock:
                if len(self._files) > 2_000:
                    self._files.clear()
                self._files[candidate] = hit
        content_type = CONTENT_TYPES[candidate.suffix.lower()]
        if csp is None:
            csp = candidate.suffix.lower() == ".html"
        return _with_etag(hit[1], content_type, csp=csp, etag=hit[2])

    def shell(self) -> bytes | bottle.HTTPResponse:
        return _with_etag(self._read("index.html"), "text/html; charset=utf-8", csp=True)

    def operator_shell(self) -> bytes | bottle.HTTPResponse:
        return self._static(self._ui / "operator" / "index.html", csp=OPERATOR_CONTENT_SECURITY_POLICY)

    def widget(self, name: str) -> bytes | bottle.HTTPResponse:
        candidate = self._ui / "operator" / "widgets" / name
        if not candidate.is_file():
            raise error_response(404, "not found")
        return self._static(candidate)

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
            # The operator's extra path for the embed script (ad blockers block /script.js).
            if self._ctx.config.app_scriptpath and full == self._ctx.config.app_scriptpath:
                return self.script()
            if OPERATOR_PAGE.fullmatch(full):
                return self.operator_shell()
            widget = WIDGET_FILE.fullmatch(full)
            if widget:
                return self.widget(widget.group(1))
            candidate = _static_file(self._ui, path)
            if candidate is not None:
                return self._static(candidate)
            if full.split("/", 2)[1] in STRICT_FOLDERS:
                raise error_response(404, "not found")
            return self.shell()

        return handler


def _static_file(root: Path, path: str) -> Path | None:
    """The file under one of STATIC_FOLDERS that `path` names, if it may be served."""
    if not path or path.endswith("/"):
        return None
    base = root.resolve()
    candidate = (root / path).resolve()
    try:
        parts = candidate.relative_to(base).parts
    except ValueError:
        return None
    if len(parts) < 2 or parts[0] not in STATIC_FOLDERS or candidate.suffix.lower() not in CONTENT_TYPES:
        return None
    # Tests are not served; nor is the vault's template, which only makes sense rendered by /vault,
    # nor the operator's shell, which has its page paths (and their CSP).
    if "tests" in parts or parts in (("vault", "index.html"), ("operator", "index.html")):
        return None
    return candidate if candidate.is_file() else None


def _matches_route(app: bottle.Bottle, path: str, method: str) -> bool:
    environ = {"PATH_INFO": path, "REQUEST_METHOD": method}
    try:
        route, _ = app.router.match(environ)
    except bottle.HTTPError:
        return False
    return route.rule not in ("/<path:path>", "/")
