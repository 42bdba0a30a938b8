"""Cross-cutting request guards: headers, same-origin writes and throttles.

- Every API answer is `Cache-Control: no-store`.
- State-changing API requests from another site are refused: Offen relied on
  SameSite cookies alone, but the visitor's `user` cookie is SameSite=None, so
  any site could make a visitor's browser `POST /api/purge` (reference §3.1).
- Security headers are set on every response, in reverse-proxy mode too.
- Throttles keep Offen's per-route delays (reference §3.2) without parking
  worker threads: see `appliance.ratelimit`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import bottle

from appliance.ratelimit import Throttle
from appliance.web.errors import error_response
from appliance.web.http import is_secure_request, request_origin

_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class ApiHeaders:
    """Bottle plugin: API answers are never cached."""

    name = "api_headers"
    api = 2

    def apply(self, callback: Callable[..., Any], route: bottle.Route) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            bottle.response.set_header("Cache-Control", "no-store")
            return callback(*args, **kwargs)

        return wrapper


def cross_site_reason(reverse_proxy: bool, environ: dict[str, Any] | None = None) -> str | None:
    """Why this write request looks cross-site, or None when it is same-origin.

    Browsers send Sec-Fetch-Site on every request; older ones send Origin on
    cross-origin writes. Requests with neither (curl, server-to-server) carry
    no ambient browser credentials worth protecting and pass.
    """
    if environ is None:
        environ = bottle.request.environ
    fetch_site = environ.get("HTTP_SEC_FETCH_SITE", "").lower()
    if fetch_site and fetch_site not in ("same-origin", "none"):
        return f"cross-site requests are not allowed (Sec-Fetch-Site: {fetch_site})"
    origin = environ.get("HTTP_ORIGIN")
    if origin is not None:
        if origin.lower().rstrip("/") != request_origin(reverse_proxy, environ):
            return "cross-origin requests are not allowed"
    return None


class SameOriginWrites:
    """Bottle plugin: refuse state-changing requests that come from another site."""

    name = "same_origin_writes"
    api = 2

    def __init__(self, reverse_proxy: bool) -> None:
        self._reverse_proxy = reverse_proxy

    def apply(self, callback: Callable[..., Any], route: bottle.Route) -> Callable[..., Any]:
        reverse_proxy = self._reverse_proxy

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if bottle.request.method in _WRITE_METHODS:
                reason = cross_site_reason(reverse_proxy)
                if reason:
                    return error_response(403, reason)
            return callback(*args, **kwargs)

        return wrapper


SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "origin-when-cross-origin"),
)
HSTS_HEADER = ("Strict-Transport-Security", "max-age=15768000")


def security_header_list(reverse_proxy: bool, environ: dict[str, Any]) -> list[tuple[str, str]]:
    """The headers every response carries, for code that writes its own WSGI headers."""
    headers = list(SECURITY_HEADERS)
    if is_secure_request(reverse_proxy, environ):
        headers.append(HSTS_HEADER)
    return headers


def security_headers(reverse_proxy: bool) -> Callable[[], None]:
    """An after_request hook setting the headers every response carries."""

    def hook() -> None:
        response = bottle.response
        for name, value in SECURITY_HEADERS:
            response.set_header(name, value)
        if is_secure_request(reverse_proxy):
            response.set_header(*HSTS_HEADER)

    return hook


# name: (threshold in seconds, exponential)  — reference §3.2
THROTTLES: dict[str, tuple[float, bool]] = {
    "exchange": (1.0, False),
    "account-get": (1.0, False),
    "account-retire": (1.0, False),
    "account-styles": (1.0, True),
    "account-create": (5.0, False),
    "purge": (1.0, False),
    "login": (1.0, True),
    "login-global": (0.5, False),
    "change-password": (5.0, False),
    "change-email": (5.0, False),
    "forgot-password": (5.0, True),
    "forgot-password-global": (1.0, False),
    "reset-password": (5.0, True),
    "share-account": (1.0, True),
    "join": (1.0, True),
    "join-global": (0.5, False),
    "setup": (5.0, False),
    "events-get": (1.0, False),
    "events-post": (0.5, False),
}


class Throttles:
    """One throttle per route group, each with its own bound on waiting requests."""

    def __init__(
        self, *, monotonic: Callable[[], float], sleep: Callable[[float], None], max_waiting: int
    ) -> None:
        self._throttles = {
            name: Throttle(
                threshold, exponential=exponential, max_waiting=max_waiting, clock=monotonic, sleep=sleep
            )
            for name, (threshold, exponential) in THROTTLES.items()
        }

    def wait(self, name: str, identifier: str) -> None:
        """Delay this request as the group's throttle says, or raise Throttled (429)."""
        self._throttles[name].wait(identifier)
