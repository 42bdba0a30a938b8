"""The collection fast path: `POST /api/events` answered in raw WSGI, ahead of bottle.

Every pageview of every site is one `POST /api/events`, so this one request
arrives by the thousand while every other route is rare. Going through bottle
(binding its request and response objects, routing, three plugins, the
after-request hook, building the header list) costs about as much CPU as the
SQLite write itself; this module answers the request directly and hands every
other request to the bottle app unchanged.

It keeps every behaviour of the bottle route (`VisitorRoutes.post_event` with
the `JsonErrors`, `ApiHeaders` and `SameOriginWrites` plugins and the
security-header hook), down to the status lines, headers and bodies:

- a cross-site write is refused with 403 before anything is read;
- without `consent=allow` nothing is read or stored: an empty 204;
- no `user` cookie: 400; a throttled visitor: 429 with `Retry-After`;
- an invalid body, unknown account or unknown secret: the JSON error of the
  domain error; a database failure: 500, logged without request data;
- stored: 201 `{"ack":true}` and a refreshed `user` cookie.

`tests/test_web_fastpath.py` sends the same requests through both paths and
compares the answers. A body of undeclared length (chunked) goes to bottle,
which knows how to read it. The access log wraps the whole stack (`log.py`),
so this path is logged like every other.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import bottle

from appliance import errors
from appliance import events as events_domain
from appliance.web.errors import status_for
from appliance.web.guards import HSTS_HEADER, SECURITY_HEADERS, cross_site_reason, security_header_list
from appliance.web.http import (
    declared_length,
    error_body,
    is_secure_request,
    json_body,
    request_cookies,
    user_cookie_header,
)

if TYPE_CHECKING:
    from appliance.web import Services, WebContext

__all__ = ["collection_fast_path"]

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_PATH = "/api/events"
_NO_USER = "user cookie: received no or blank identifier"
_ACK = b'{"ack":true}'
_JSON = ("Content-Type", "application/json; charset=utf-8")
_NO_STORE = ("Cache-Control", "no-store")
_ACK_LENGTH = ("Content-Length", str(len(_ACK)))


def _status_line(code: int) -> str:
    # The same reason phrases bottle writes.
    return f"{code} {bottle.HTTP_CODES.get(code, 'Unknown')}"


def collection_fast_path(app: WSGIApp, ctx: WebContext, services: Services) -> WSGIApp:
    """Wrap `app` (the bottle app as served) so `POST /api/events` skips bottle.

    `services` must be the ones the bottle app was built with: the fast path
    and the bottle route share the visitor throttle.
    """
    logger = ctx.logger
    statuses: dict[int, str] = {}

    def status_line(code: int) -> str:
        line = statuses.get(code)
        if line is None:
            line = statuses[code] = _status_line(code)
        return line

    def error(
        start_response: Callable[..., Any],
        environ: dict[str, Any],
        code: int,
        message: str,
        extra: list[tuple[str, str]] | None = None,
    ) -> list[bytes]:
        body = error_body(code, message).encode("utf-8")
        headers = [*(extra or ()), _JSON, _NO_STORE]
        headers += security_header_list(ctx.config.server_reverseproxy, environ)
        headers.append(("Content-Length", str(len(body))))
        start_response(status_line(code), headers)
        return [body]

    def collect(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        config = ctx.config
        reverse_proxy = config.server_reverseproxy
        if "HTTP_SEC_FETCH_SITE" in environ or "HTTP_ORIGIN" in environ:
            reason = cross_site_reason(reverse_proxy, environ)
            if reason:
                return error(start_response, environ, 403, reason)
        cookies = request_cookies(environ)
        if cookies.get("consent") != "allow":
            # No consent: nothing is stored, nothing is said (Offen 1.4).
            start_response(status_line(204), [_NO_STORE, *security_header_list(reverse_proxy, environ)])
            return []
        try:
            user_id = cookies.get("user")
            if not user_id:
                raise errors.BadRequest(_NO_USER)
            services.throttles.wait("events-post", user_id)
            body = json_body(environ)
            now = ctx.clock()
            events_domain.record_event(
                ctx.store,
                services.accounts,
                user_id,
                body.get("accountId"),  # type: ignore[arg-type]
                body.get("payload"),
                now,
            )
            secure = is_secure_request(reverse_proxy, environ)
            cookie = user_cookie_header(user_id, secure=secure, now=now, lifetime=config.retention_period)
        except errors.OffenError as err:
            code = status_for(err)
            if code >= 500:
                logger.error("%s %s failed: %s", "POST", _PATH, err)
            extra = None
            if isinstance(err, errors.Throttled):
                extra = [("Retry-After", str(max(1, math.ceil(err.retry_after))))]
            return error(start_response, environ, code, err.message, extra)
        except Exception:
            # No request data in the log line: it could hold cookies or ids.
            logger.exception("%s %s failed unexpectedly", "POST", _PATH)
            return error(start_response, environ, 500, "an internal error occurred")
        headers = [_NO_STORE, ("Set-Cookie", cookie), _JSON, *SECURITY_HEADERS]
        if secure:
            headers.append(HSTS_HEADER)
        headers.append(_ACK_LENGTH)
        start_response(status_line(201), headers)
        return [_ACK]

    def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if (
            environ.get("PATH_INFO") == _PATH
            and environ.get("REQUEST_METHOD") == "POST"
            and declared_length(environ) is not None
        ):
            return collect(environ, start_response)
        return app(environ, start_response)

    return middleware
