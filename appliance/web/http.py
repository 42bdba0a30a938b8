"""Request and response helpers shared by the route modules.

Everything that reads `bottle.request` for more than one route lives here:
JSON bodies, the request's real scheme (for cookie flags), cookies, and the
one JSON error body `{"error": ..., "status": N}`.
"""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import bottle

from appliance.errors import BadRequest

MAX_JSON_BODY = 1_048_576
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def declared_length(environ: dict[str, Any]) -> int | None:
    """The body length the client declared, or None for a chunked or undeclared body."""
    declared = environ.get("CONTENT_LENGTH", "")
    if declared.isdigit() and "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return int(declared)
    return None


def json_body(environ: dict[str, Any] | None = None) -> dict[str, Any]:
    """The request body as a JSON object, whatever the Content-Type (the vault sends none).

    `environ` is given by the collection fast path (`web/fastpath.py`), which
    only calls this for bodies of a declared length; bottle routes leave it out.
    """
    if environ is None:
        environ = bottle.request.environ
    length = declared_length(environ)
    if length is not None:
        # The common case (every collected event): read exactly the declared
        # body straight from the server, without bottle's buffering copy.
        if length > MAX_JSON_BODY:
            raise BadRequest("the request body is too large")
        raw = environ["wsgi.input"].read(length)
    else:
        raw = bottle.request.body.read(MAX_JSON_BODY + 1)
    if len(raw) > MAX_JSON_BODY:
        raise BadRequest("the request body is too large")
    return json_object(raw)


def json_object(raw: bytes) -> dict[str, Any]:
    """A request body's bytes as a JSON object, or BadRequest saying what is wrong."""
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise BadRequest("the request body is not valid JSON") from err
    if not isinstance(value, dict):
        raise BadRequest("the request body must be a JSON object")
    return value


def dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def json_response(value: object, status: int = 200) -> str:
    bottle.response.status = status
    bottle.response.content_type = "application/json; charset=utf-8"
    return dumps(value)


def no_content() -> str:
    bottle.response.status = 204
    return ""


def error_body(status: int, message: str) -> str:
    return dumps({"error": message, "status": status})


def is_secure_request(reverse_proxy: bool, environ: dict[str, Any] | None = None) -> bool:
    """Whether the client reached us over https (of bottle's current request unless `environ` is given).

    Only in reverse-proxy mode is X-Forwarded-Proto trusted: without a proxy
    any client could send it.
    """
    if environ is None:
        environ = bottle.request.environ
    if environ.get("wsgi.url_scheme") == "https":
        return True
    if reverse_proxy:
        forwarded = environ.get("HTTP_X_FORWARDED_PROTO", "")
        return forwarded.split(",")[0].strip().lower() == "https"
    return False


def request_origin(reverse_proxy: bool, environ: dict[str, Any] | None = None) -> str:
    """scheme://host[:port] of this request as the browser addressed it."""
    if environ is None:
        environ = bottle.request.environ
    host = environ.get("HTTP_HOST", "")
    if reverse_proxy and environ.get("HTTP_X_FORWARDED_HOST"):
        host = environ["HTTP_X_FORWARDED_HOST"].split(",")[0].strip()
    scheme = "https" if is_secure_request(reverse_proxy, environ) else "http"
    if scheme == "https" and host.endswith(":443"):
        host = host[:-4]
    if scheme == "http" and host.endswith(":80"):
        host = host[:-3]
    return f"{scheme}://{host}".lower()


def request_cookies(environ: dict[str, Any]) -> dict[str, str]:
    """The request's cookies by name (the first of duplicates wins, as in Offen)."""
    # Parsed once per request and kept in the environ. The standard library's
    # cookie parser costs more than the whole database write of collecting an
    # event; the cookies read here (`user`, `consent`, `auth`) are plain tokens.
    parsed = environ.get("offen.cookies")
    if parsed is None:
        parsed = {}
        for part in environ.get("HTTP_COOKIE", "").split(";"):
            name, sep, value = part.strip().partition("=")
            if sep and name and name not in parsed:
                parsed[name] = value.strip().strip('"')
        environ["offen.cookies"] = parsed
    return parsed


def cookie(name: str) -> str | None:
    return request_cookies(bottle.request.environ).get(name) or None


@functools.lru_cache(maxsize=64)
def _http_date(seconds: int) -> str:
    # The `user` cookie is refreshed on every collected event; its expiry
    # changes once a second, so its text is made once a second.
    return format_datetime(datetime.fromtimestamp(seconds, UTC), usegmt=True)


def set_cookie(name: str, value: str, **attributes: Any) -> None:
    """Add a Set-Cookie header written out by hand (`cookie_header` takes the attributes)."""
    bottle.response.add_header("Set-Cookie", cookie_header(name, value, **attributes))


def cookie_header(
    name: str,
    value: str,
    *,
    secure: bool,
    same_site: str,
    path: str = "/api",
    expires: datetime | None = None,
    http_only: bool = True,
    partitioned: bool = False,
) -> str:
    """The value of a Set-Cookie header with every attribute explicit."""
    parts = [f"{name}={value}", f"Path={path}"]
    if expires is not None:
        parts.append("Expires=" + _http_date(int(expires.timestamp())))
        if expires <= _EPOCH:
            parts.append("Max-Age=0")
    if http_only:
        parts.append("HttpOnly")
    if secure:
        parts.append("Secure")
    parts.append(f"SameSite={same_site}")
    if partitioned:
        # CHIPS: browsers require Secure with it, so it is only ever written with Secure.
        if not secure:
            raise ValueError("a Partitioned cookie must be Secure")
        parts.append("Partitioned")
    return "; ".join(parts)


def expire_cookie(
    name: str, *, secure: bool, same_site: str, path: str = "/api", partitioned: bool = False
) -> None:
    set_cookie(
        name, "", secure=secure, same_site=same_site, path=path, expires=_EPOCH, partitioned=partitioned
    )


def user_cookie(user_id: str, *, secure: bool, now: datetime, lifetime: timedelta) -> None:
    """The visitor's random id: HttpOnly, only sent to /api.

    SameSite=None (with Secure) over https, because the vault runs in an iframe
    on the operator's site; SameSite=Lax over plain http, where browsers refuse
    SameSite=None without Secure.

    Over https it is also Partitioned (CHIPS): browsers that block third-party
    cookies (Chromium by default) still keep a partitioned cookie in a vault
    framed by a site of another registrable domain, in that site's partition
    only, so a visitor stays unlinkable across sites. When the vault is on a
    sibling subdomain of the site, the partition is the site's own and nothing
    changes.
    """
    bottle.response.add_header(
        "Set-Cookie", user_cookie_header(user_id, secure=secure, now=now, lifetime=lifetime)
    )


def user_cookie_header(user_id: str, *, secure: bool, now: datetime, lifetime: timedelta) -> str:
    """The Set-Cookie value of `user_cookie`, for callers that write their own headers."""
    return cookie_header(
        "user",
        user_id,
        secure=secure,
        same_site="None" if secure else "Lax",
        expires=now + lifetime,
        partitioned=secure,
    )


def expire_user_cookie(*, secure: bool) -> None:
    """Expire the `user` cookie in every form it may have been set in.

    A partitioned and an unpartitioned cookie of the same name are two cookies
    to the browser; one set before this release (or by Offen) is unpartitioned.
    Over https both are expired, so an opt-out leaves neither behind.
    """
    same_site = "None" if secure else "Lax"
    if secure:
        expire_cookie("user", secure=True, same_site=same_site, partitioned=True)
    expire_cookie("user", secure=secure, same_site=same_site)


def auth_cookie(value: str, *, secure: bool) -> None:
    """The operator session: HttpOnly, SameSite=Lax, a session cookie (the signature carries its age)."""
    set_cookie("auth", value, secure=secure, same_site="Lax")


def expire_auth_cookie(*, secure: bool) -> None:
    expire_cookie("auth", secure=secure, same_site="Lax")
