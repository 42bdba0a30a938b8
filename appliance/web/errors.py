"""Domain errors to HTTP statuses: the only translation point.

Every JSON error has the one shape `{"error": "...", "status": N}`. The
message is the error's own text, written for people; unexpected exceptions
are logged (without request data) and answered with a generic 500, never a
stack trace.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

import bottle

from appliance import errors
from appliance.web.http import error_body

STATUS_BY_ERROR: tuple[tuple[type[errors.OffenError], int], ...] = (
    (errors.BadRequest, 400),
    (errors.InvalidToken, 400),
    (errors.UnknownSecret, 400),
    (errors.NotAuthenticated, 401),
    (errors.BadCredentials, 401),
    (errors.Forbidden, 403),
    (errors.NotFound, 404),
    (errors.UnknownAccount, 404),
    (errors.Conflict, 400),
    (errors.Throttled, 429),
    (errors.StoreError, 500),
    (errors.MailError, 500),
)


def status_for(error: errors.OffenError) -> int:
    for kind, status in STATUS_BY_ERROR:
        if isinstance(error, kind):
            return status
    return 500


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> bottle.HTTPResponse:
    response = bottle.HTTPResponse(body=error_body(status, message), status=status, headers=headers or {})
    response.content_type = "application/json; charset=utf-8"
    response.set_header("Cache-Control", "no-store")
    return response


def response_for(error: errors.OffenError, status: int | None = None) -> bottle.HTTPResponse:
    status = status or status_for(error)
    headers = {}
    if isinstance(error, errors.Throttled):
        headers["Retry-After"] = str(max(1, math.ceil(error.retry_after)))
    return error_response(status, error.message, headers)


def _keep_cookies(response: bottle.HTTPResponse) -> bottle.HTTPResponse:
    # A returned HTTPResponse replaces the headers set so far; cookies the
    # route already cleared (a stale `auth`) must still reach the browser.
    for name, value in bottle.response.headerlist:
        if name.lower() == "set-cookie":
            response.add_header("Set-Cookie", value)
    return response


class JsonErrors:
    """Bottle plugin: turn every exception a route raises into the JSON error body."""

    name = "json_errors"
    api = 2

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger

    def apply(self, callback: Callable[..., Any], route: bottle.Route) -> Callable[..., Any]:
        logger = self._logger

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return callback(*args, **kwargs)
            except bottle.HTTPResponse:
                raise
            except errors.OffenError as err:
                status = status_for(err)
                if status >= 500:
                    logger.error("%s %s failed: %s", route.method, route.rule, err)
                if isinstance(err, errors.MailError):
                    # The reason names the mail server and its answer: that is for the
                    # operator's log, not for whoever asked for a reset link.
                    err = errors.MailError("the email could not be sent; the server log has the reason")
                return _keep_cookies(response_for(err, status))
            except Exception:
                # No request data in the log line: it could hold cookies or ids.
                logger.exception("%s %s failed unexpectedly", route.method, route.rule)
                return error_response(500, "an internal error occurred")

        return wrapper
