"""The HTTP layer: `build_app` returns the bottle app with Offen 1.4's whole route table.

This package is the only importer of `bottle`. Routes are thin: they read the
request, call one domain function and shape the answer. The route table below
is the map of the API (reference §3.2).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import bottle

from appliance import paths
from appliance.accounts import ActiveAccounts
from appliance.config import Config
from appliance.credentials import Credentials
from appliance.invitations import Invitations
from appliance.logins import Logins
from appliance.mailer import Mailer
from appliance.store import Store
from appliance.web import api_operator, api_visitor, assets, fastpath, guards
from appliance.web.compress import gzip_responses
from appliance.web.errors import JsonErrors, error_response


@dataclass
class WebContext:
    """Everything the routes depend on, passed in (the clock included)."""

    config: Config
    store: Store
    mailer: Mailer
    clock: Callable[[], datetime]
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("offen"))
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    resources: Path = field(default_factory=paths.resource_root)
    # How many requests per throttle group may wait for their turn at once;
    # beyond that the answer is 429 instead of a parked worker thread.
    throttle_max_waiting: int = 4


@dataclass
class Services:
    accounts: ActiveAccounts
    logins: Logins
    invitations: Invitations
    throttles: guards.Throttles


def build_services(ctx: WebContext) -> Services:
    cfg = ctx.config
    accounts = ActiveAccounts(ctx.store, monotonic=ctx.monotonic)
    credentials = Credentials(ctx.store, secret=cfg.secret, v2_threads=cfg.argon_num_cpu_override)
    logins = Logins(
        ctx.store,
        credentials,
        secret=cfg.secret,
        account_key_type=cfg.app_accountkeytype,
        active_accounts=accounts,
    )
    invitations = Invitations(
        ctx.store,
        credentials,
        secret=cfg.secret,
        mailer=ctx.mailer,
        public_url=cfg.app_publicurl,
        locale=cfg.app_locale,
    )
    throttles = guards.Throttles(
        monotonic=ctx.monotonic, sleep=ctx.sleep, max_waiting=ctx.throttle_max_waiting
    )
    return Services(accounts=accounts, logins=logins, invitations=invitations, throttles=throttles)


# Settings read once per start, because the app is built around them; a
# change to one of these takes effect at the next start.
RESTART_SETTINGS = ("server_reverseproxy", "app_loglevel", "app_singlenode", "app_development")


def apply_config(ctx: WebContext, services: Services, cfg: Config, mailer: Mailer) -> list[str]:
    """Switch a running app to a new configuration (a stored setting changed).

    Returns the names of changed settings that only take effect after a restart.
    """
    needs_restart = [name for name in RESTART_SETTINGS if getattr(ctx.config, name) != getattr(cfg, name)]
    ctx.config = cfg
    ctx.mailer = mailer
    services.logins.account_key_type = cfg.app_accountkeytype
    services.invitations.mailer = mailer
    services.invitations.public_url = cfg.app_publicurl.rstrip("/") if cfg.app_publicurl else None
    services.invitations.locale = cfg.app_locale
    return needs_restart


def build_app(ctx: WebContext, services: Services | None = None) -> bottle.Bottle:
    """A fresh bottle app (never bottle's default app) with every route of reference §3.2."""
    services = services or build_services(ctx)
    app = bottle.Bottle(catchall=True)
    # Routes write their own JSON (one error shape, no surprises from dicts).
    app.config["json.enable"] = False
    app.uninstall(bottle.JSONPlugin)
    api = [
        JsonErrors(ctx.logger),
        guards.ApiHeaders(),
        guards.SameOriginWrites(ctx.config.server_reverseproxy),
    ]
    visitor = api_visitor.VisitorRoutes(ctx, services)
    operator = api_operator.OperatorRoutes(ctx, services)
    static = assets.Assets(ctx, services)

    def route(
        method: str, path: str, callback: Callable[..., object], plugins: list[object] | None = None
    ) -> None:
        app.route(path, method=method, callback=callback, apply=plugins if plugins is not None else api)

    route("ANY", "/healthz", assets.health(ctx))
    route("GET", "/versionz", assets.version)
    route("GET", "/api/exchange", visitor.get_public_key)
    route("POST", "/api/exchange", visitor.post_user_secret)
    route("GET", "/api/accounts/<account_id>", operator.get_account)
    route("DELETE", "/api/accounts/<account_id>", operator.retire_account)
    route("PUT", "/api/accounts/<account_id>/account-styles", operator.update_account_styles)
    # The operators' shared cache (issue 4, docs/protocol.md §9).
    route("GET", "/api/accounts/<account_id>/wrapped-secrets", operator.get_wrapped_secrets)
    route("POST", "/api/accounts/<account_id>/wrapped-secrets", operator.post_wrapped_secrets)
    route("GET", "/api/accounts/<account_id>/rollups", operator.get_rollups)
    route("PUT", "/api/accounts/<account_id>/rollups/<period>", operator.put_rollup)
    route("DELETE", "/api/accounts/<account_id>/shared-cache", operator.clear_shared_cache)
    route("POST", "/api/accounts", operator.create_account)
    route("POST", "/api/purge", visitor.purge)
    route("GET", "/api/login", operator.get_login)
    route("POST", "/api/login", operator.post_login)
    route("POST", "/api/logout", operator.post_logout)
    route("POST", "/api/change-password", operator.change_password)
    route("POST", "/api/change-email", operator.change_email)
    route("POST", "/api/forgot-password", operator.forgot_password)
    route("POST", "/api/reset-password", operator.reset_password)
    route("POST", "/api/share-account/<account_id>", operator.share_account)
    route("POST", "/api/share-account", operator.share_account)
    route("POST", "/api/join", operator.join)
    route("GET", "/api/setup", operator.get_setup)
    route("POST", "/api/setup", operator.post_setup)
    route("GET", "/api/events", visitor.get_events)
    route("POST", "/api/events", visitor.post_event)
    route("GET", "/vault", static.vault, [])
    route("GET", "/script.js", static.script, [])
    route("ANY", "/<path:path>", static.fallback(app), [])
    route("ANY", "/", static.fallback(app), [])

    @app.error(404)
    @app.error(405)
    def _json_not_found(error: bottle.HTTPError) -> str:
        response = error_response(
            error.status_code, "not found" if error.status_code == 404 else "method not allowed"
        )
        bottle.response.status = response.status_code
        bottle.response.set_header("Content-Type", "application/json; charset=utf-8")
        return str(response.body)

    app.add_hook("after_request", guards.security_headers(ctx.config.server_reverseproxy))
    return app


def build_wsgi(ctx: WebContext, services: Services | None = None) -> Callable[..., object]:
    """The app as served: gzip unless a reverse proxy does it (Offen's behaviour),
    with `POST /api/events` answered ahead of bottle (`web/fastpath.py`)."""
    services = services or build_services(ctx)
    app = build_app(ctx, services)
    served = app if ctx.config.server_reverseproxy else gzip_responses(app)
    # The fast path shares `services` (the visitor throttle) with the bottle route.
    return fastpath.collection_fast_path(served, ctx, services)
