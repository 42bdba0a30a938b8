"""Routes the operator's dashboard calls: sessions, accounts, credentials, sharing, setup.

Status codes follow Offen 1.4 (reference §3.3) because the vault branches on
them (401 -> log in again, < 500 -> a `_FAILURE` message shown to the person).
Where Offen answered 500 for plain bad input (a duplicate account name), this
answers 400 with the reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import bottle

from appliance import accounts as accounts_domain
from appliance import sharedcache
from appliance.bannercss import validate_banner_css
from appliance.credentials import normalize_email
from appliance.errors import BadCredentials, BadRequest, Forbidden, NotAuthenticated
from appliance.logins import Session
from appliance.web.errors import response_for
from appliance.web.http import (
    auth_cookie,
    cookie,
    expire_auth_cookie,
    is_secure_request,
    json_body,
    json_object,
    json_response,
    no_content,
)

if TYPE_CHECKING:
    from appliance.web import Services, WebContext


class OperatorRoutes:
    def __init__(self, ctx: WebContext, services: Services) -> None:
        self._ctx = ctx
        self._services = services
        self._logins = services.logins
        self._throttles = services.throttles

    def _secure(self) -> bool:
        return is_secure_request(self._ctx.config.server_reverseproxy)

    def _session(self) -> Session:
        """The logged-in operator; a bad or stale cookie is cleared along with the 401."""
        value = cookie("auth")
        if not value:
            raise NotAuthenticated()
        try:
            return self._logins.session(value, self._ctx.clock())
        except NotAuthenticated:
            expire_auth_cookie(secure=self._secure())
            raise

    # -- accounts -------------------------------------------------------------

    def get_account(self, account_id: str) -> str:
        query = bottle.request.query
        if "limit" in query or "after" in query or "secrets" in query:
            return self._get_account_page(account_id)
        session = self._session()
        self._throttles.wait("account-get", account_id)
        if not session.can_access(account_id):
            raise Forbidden("you do not have access to this account")
        since = bottle.request.query.get("since") or None
        view = accounts_domain.operator_view(
            self._ctx.store, account_id, since, self._ctx.config.app_retention
        )
        return json_response(view)

    def _get_account_page(self, account_id: str) -> str:
        """The paged variant (issue 4): `limit` 0..10000, keyset `after`, `secrets=new`.

        Not throttled: walking a large account takes hundreds of pages in a
        row, and each page is a bounded indexed read. Checks run auth (401),
        account (404 unknown or retired), access (403), parameters (400).
        """
        session = self._session()
        sharedcache.authorize(self._ctx.store, session, account_id)
        query = bottle.request.query
        if "since" in query:
            raise BadRequest("since cannot be combined with limit; use after")
        limit = sharedcache.parse_limit(
            query.get("limit"), default=None, maximum=accounts_domain.EVENTS_PAGE_MAX
        )
        secrets = query.get("secrets")
        if secrets not in (None, "new"):
            raise BadRequest('secrets must be "new" or left out')
        view = accounts_domain.operator_page(
            self._ctx.store,
            account_id,
            limit=limit,
            after=query.get("after") or None,
            new_secrets=secrets == "new",
            retention=self._ctx.config.app_retention,
        )
        return json_response(view)

    # -- the shared cache (issue 4; not throttled: bounded keyset reads and writes) --

    def get_wrapped_secrets(self, account_id: str) -> str:
        session = self._session()
        sharedcache.authorize(self._ctx.store, session, account_id)
        query = bottle.request.query
        limit = sharedcache.parse_limit(
            query.get("limit"),
            default=sharedcache.WRAPPED_PAGE_DEFAULT,
            maximum=sharedcache.WRAPPED_PAGE_MAX,
        )
        return json_response(
            sharedcache.list_wrapped_secrets(self._ctx.store, account_id, query.get("after"), limit)
        )

    def post_wrapped_secrets(self, account_id: str) -> str:
        session = self._session()
        sharedcache.authorize(self._ctx.store, session, account_id)
        body = _limited_json_body(sharedcache.WRAPPED_BODY_MAX_BYTES)
        return json_response(
            sharedcache.store_wrapped_secrets(self._ctx.store, account_id, body, self._ctx.clock())
        )

    def get_rollups(self, account_id: str) -> str:
        session = self._session()
        sharedcache.authorize(self._ctx.store, session, account_id)
        query = bottle.request.query
        limit = sharedcache.parse_limit(
            query.get("limit"),
            default=sharedcache.ROLLUP_PAGE_DEFAULT,
            maximum=sharedcache.ROLLUP_PAGE_MAX,
        )
        return json_response(sharedcache.list_rollups(self._ctx.store, account_id, query.get("after"), limit))

    def put_rollup(self, account_id: str, period: str) -> Any:
        session = self._session()
        sharedcache.authorize(self._ctx.store, session, account_id)
        body = _limited_json_body(sharedcache.ROLLUP_BODY_MAX_BYTES)
        try:
            sharedcache.put_rollup(
                self._ctx.store,
                account_id,
                period,
                body,
                self._ctx.clock(),
                self._ctx.config.retention_period,
            )
        except sharedcache.StaleRollup as err:
            # 409, which the shared error table (Conflict -> 400) does not give.
            return response_for(err, 409)
        return no_content()

    def clear_shared_cache(self, account_id: str) -> str:
        session = self._session()
        sharedcache.authorize(self._ctx.store, session, account_id, admin=True)
        sharedcache.clear_shared_cache(self._ctx.store, account_id)
        return no_content()

    def retire_account(self, account_id: str) -> str:
        session = self._session()
        self._throttles.wait("account-retire", account_id)
        if not (session.can_access(account_id) and session.is_super_admin):
            raise Forbidden("only admins with access to this account can retire it")
        accounts_domain.retire_account(self._ctx.store, self._services.accounts, account_id)
        return no_content()

    def update_account_styles(self, account_id: str) -> str:
        session = self._session()
        body = json_body()
        if not session.can_access(account_id):
            # Offen answers 401 here, not 403 (reference §10.6); kept for the vault.
            raise NotAuthenticated("you do not have access to this account")
        self._throttles.wait("account-styles", session.account_user_id)
        dry_run = bool(bottle.request.query.get("dryRun"))
        # Anyone with access may check styles (the editor's live validation);
        # saving them is for admins only (issue 4: roles enforced by the server).
        if not dry_run and not session.is_super_admin:
            raise Forbidden("only admins can change the banner styles")
        styles = body.get("accountStyles", "")
        if not isinstance(styles, str):
            raise BadRequest("accountStyles must be a string")
        validate_banner_css(styles)
        if dry_run:
            return no_content()
        self._ctx.store.update_account(account_id, account_styles=styles)
        return no_content()

    def create_account(self) -> str:
        session = self._session()
        body = json_body()
        email = body.get("emailAddress")
        self._throttles.wait(
            "account-create", normalize_email(email) if isinstance(email, str) and email else ""
        )
        self._logins.create_account(
            session, body.get("accountName"), email, body.get("password"), self._ctx.clock()
        )
        return json_response(None, 201)

    # -- sessions -----------------------------------------------------------------

    def get_login(self) -> str:
        return json_response(self._session().as_json())

    def post_login(self) -> str:
        body = json_body()
        username = body.get("username")
        if not isinstance(username, str) or not isinstance(body.get("password"), str):
            raise BadRequest("username and password must be strings")
        self._throttles.wait("login", username.strip().lower())
        self._throttles.wait("login-global", "")
        result, session_value = self._logins.login(username, body.get("password"), self._ctx.clock())
        auth_cookie(session_value, secure=self._secure())
        return json_response(result)

    def post_logout(self) -> str:
        expire_auth_cookie(secure=self._secure())
        return no_content()

    # -- credentials ----------------------------------------------------------------

    def change_password(self) -> str:
        session = self._session()
        body = json_body()
        self._throttles.wait("change-password", session.account_user_id)
        try:
            self._logins.change_password(session, body.get("currentPassword"), body.get("changedPassword"))
        except BadCredentials as err:
            raise BadRequest("the current password is not correct") from err
        expire_auth_cookie(secure=self._secure())
        return no_content()

    def change_email(self) -> str:
        session = self._session()
        body = json_body()
        self._throttles.wait("change-email", session.account_user_id)
        try:
            self._logins.change_email(
                session, body.get("emailCurrent"), body.get("emailAddress"), body.get("password")
            )
        except BadCredentials as err:
            raise BadRequest("the current email address or password is not correct") from err
        expire_auth_cookie(secure=self._secure())
        return no_content()

    def forgot_password(self) -> str:
        body = json_body()
        email = body.get("emailAddress")
        normalized = normalize_email(email)
        self._throttles.wait("forgot-password", normalized)
        self._throttles.wait("forgot-password-global", "")
        # body["urlTemplate"] is deliberately ignored: links are built from
        # OFFEN_APP_PUBLICURL, never from a host the client chose.
        self._services.invitations.forgot_password(email, self._ctx.clock())
        return no_content()

    def reset_password(self) -> str:
        body = json_body()
        email = body.get("emailAddress")
        self._throttles.wait("reset-password", normalize_email(email))
        self._services.invitations.reset_password(
            email, body.get("password"), body.get("token"), self._ctx.clock()
        )
        return no_content()

    def share_account(self, account_id: str | None = None) -> str:
        session = self._session()
        body = json_body()
        if account_id is not None and not session.can_access(account_id):
            raise NotAuthenticated("you do not have access to this account")
        self._throttles.wait("share-account", session.account_user_id)
        self._services.invitations.share_account(
            session,
            invitee=body.get("invitee"),
            email=body.get("emailAddress"),
            password=body.get("password"),
            grant_admin=bool(body.get("grantAdminPrivileges")),
            account_id=account_id,
            now=self._ctx.clock(),
        )
        return no_content()

    def join(self) -> str:
        body = json_body()
        email = body.get("emailAddress")
        self._throttles.wait("join", normalize_email(email))
        self._throttles.wait("join-global", "")
        self._services.invitations.join(email, body.get("password"), body.get("token"), self._ctx.clock())
        return no_content()

    # -- first run ---------------------------------------------------------------------

    def get_setup(self) -> str:
        if self._ctx.store.is_empty():
            return no_content()
        return json_response(None, 403)

    def post_setup(self) -> str:
        body = json_body()
        self._throttles.wait("setup", "")
        self._logins.setup(
            body.get("accountName"), body.get("emailAddress"), body.get("password"), self._ctx.clock()
        )
        return no_content()


def _limited_json_body(max_bytes: int) -> dict[str, Any]:
    """The request body as a JSON object, refused (400) beyond `max_bytes`.

    `http.json_body` caps bodies at 1 MiB, fitting every other route; a day's
    roll-up may be up to 16 MiB, so these routes read with their own cap,
    refusing a declared oversize body before reading any of it.
    """
    environ = bottle.request.environ
    declared = environ.get("CONTENT_LENGTH", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise BadRequest(f"the request body is too large (at most {max_bytes} bytes)")
    raw = bottle.request.body.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise BadRequest(f"the request body is too large (at most {max_bytes} bytes)")
    return json_object(raw)
