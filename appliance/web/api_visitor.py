"""Routes a visitor's vault calls: key exchange, events, their own data, purge.

Consent is the first check of event collection: without a `consent=allow`
cookie nothing is read, stored or answered beyond an empty 204 (Offen 1.4
behaviour, reference §3.3), so a visitor who said no leaves no trace.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import bottle

from appliance import accounts as accounts_domain
from appliance import events as events_domain
from appliance import ids
from appliance.errors import BadRequest, UnknownAccount
from appliance.web.http import (
    cookie,
    expire_user_cookie,
    is_secure_request,
    json_body,
    json_response,
    no_content,
    user_cookie,
)

if TYPE_CHECKING:
    from appliance.web import Services, WebContext

_NO_USER = "user cookie: received no or blank identifier"
_ACK_BODY = '{"ack":true}'


class VisitorRoutes:
    def __init__(self, ctx: WebContext, services: Services) -> None:
        self._ctx = ctx
        self._services = services

    def _secure(self) -> bool:
        return is_secure_request(self._ctx.config.server_reverseproxy)

    def _refresh_user_cookie(self, user_id: str) -> None:
        user_cookie(
            user_id,
            secure=self._secure(),
            now=self._ctx.clock(),
            lifetime=self._ctx.config.retention_period,
        )

    def get_public_key(self) -> str:
        account_id = bottle.request.query.get("accountId", "")
        try:
            view = accounts_domain.public_key_view(self._services.accounts, account_id)
        except UnknownAccount as err:
            # Offen answers 400 for unknown, retired and missing ids alike.
            raise BadRequest("unknown or retired account") from err
        return json_response(view)

    def post_user_secret(self) -> str:
        body = json_body()
        user_id = cookie("user") or ids.new_uuid()
        self._services.throttles.wait("exchange", user_id)
        account_id = body.get("accountId")
        if not isinstance(account_id, str) or not account_id:
            raise BadRequest("accountId must be a non-empty string")
        try:
            accounts_domain.associate_visitor_secret(
                self._ctx.store,
                self._services.accounts,
                account_id,
                user_id,
                body.get("encryptedSecret"),  # type: ignore[arg-type]
                self._ctx.clock(),
            )
        except UnknownAccount as err:
            # Offen answers 400 for any association failure.
            raise BadRequest("unknown or retired account") from err
        self._refresh_user_cookie(user_id)
        return no_content()

    def post_event(self) -> str:
        if cookie("consent") != "allow":
            # No consent: nothing is stored, nothing is said (Offen 1.4).
            return no_content()
        user_id = cookie("user")
        if not user_id:
            raise BadRequest(_NO_USER)
        self._services.throttles.wait("events-post", user_id)
        body = json_body()
        events_domain.record_event(
            self._ctx.store,
            self._services.accounts,
            user_id,
            body.get("accountId"),  # type: ignore[arg-type]
            body.get("payload"),
            self._ctx.clock(),
        )
        self._refresh_user_cookie(user_id)
        bottle.response.status = 201
        bottle.response.content_type = "application/json; charset=utf-8"
        return _ACK_BODY

    def get_events(self) -> str:
        user_id = cookie("user")
        if not user_id:
            raise BadRequest(_NO_USER)
        self._services.throttles.wait("events-get", user_id)
        since = bottle.request.query.get("since") or None
        view = events_domain.visitor_view(
            self._ctx.store, self._services.accounts, user_id, since, self._ctx.config.app_retention
        )
        return json_response(view)

    def purge(self) -> str:
        user_id = cookie("user")
        if not user_id:
            raise BadRequest(_NO_USER)
        self._services.throttles.wait("purge", user_id)
        events_domain.purge_visitor(self._ctx.store, self._services.accounts, user_id, self._ctx.clock())
        if bottle.request.query.get("user"):
            expire_user_cookie(secure=self._secure())
        return no_content()
