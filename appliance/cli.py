"""The `offen` command line: the one place that wires the parts together.

Subcommands follow Offen 1.4 (reference §5.3): serve (the default), setup,
secret, migrate, expire, version, debug, plus `config` for stored settings.
Flags are written Go-style (`-email`) as Offen's were; `--email` works too.
This is the only module that reads argv, prints and exits.
"""

from __future__ import annotations

import argparse
import base64
import getpass
import json
import logging
import os
import secrets
import sys
import threading
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from appliance import __version__, retention
from appliance import config as config_module
from appliance.errors import ConfigError, OffenError

EXIT_OK = 0
EXIT_ERROR = 1


def utc_now() -> datetime:
    return datetime.now(UTC)


def _flag(parser: argparse.ArgumentParser, name: str, **kwargs: object) -> None:
    parser.add_argument(f"-{name}", f"--{name}", **kwargs)  # type: ignore[arg-type]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="offen",
        description="Offen fair web analytics: opt-in, end-to-end encrypted, every visitor sees their own data.",
    )
    commands = parser.add_subparsers(dest="command", metavar="command")

    serve = commands.add_parser("serve", help="run the server (the default)")
    _flag(serve, "envfile", help="read settings from this env file")
    _flag(serve, "port", type=int, help="listen on this port (OFFEN_SERVER_PORT)")
    _flag(serve, "host", help="listen on this address (OFFEN_SERVER_HOST)")

    setup = commands.add_parser("setup", help="create the first account and operator")
    _flag(setup, "envfile", help="read settings from this env file")
    _flag(setup, "name", help="the name of the first account")
    _flag(setup, "email", help="the operator's email address")
    _flag(setup, "password", help="the operator's password (prompted for when omitted)")
    _flag(setup, "populate", action="store_true", help="create and keep OFFEN_SECRET if it is not set")
    _flag(setup, "force", action="store_true", help="allow wiping existing data")
    _flag(setup, "source", help="(experimental) seed accounts and users from a YAML file")
    _flag(setup, "forceid", help="use this account id (a UUID)")

    secret = commands.add_parser("secret", help="print random secrets for OFFEN_SECRET")
    _flag(secret, "length", type=int, default=16, help="bytes per secret (default 16)")
    _flag(secret, "count", type=int, default=1, help="how many secrets (default 1)")
    _flag(secret, "quiet", action="store_true", help="print only the values")

    for name, help_text in (
        ("migrate", "apply pending database migrations"),
        ("expire", "delete events older than the retention period, once"),
        ("debug", "print the resolved configuration, secrets masked"),
    ):
        sub = commands.add_parser(name, help=help_text)
        _flag(sub, "envfile", help="read settings from this env file")

    commands.add_parser("version", help="print the version")
    config_cmd = commands.add_parser("config", help="list, get, set or unset stored settings")
    _flag(config_cmd, "envfile", help="read settings from this env file")
    config_cmd.add_argument(
        "words", nargs=argparse.REMAINDER, help="list | get NAME | set NAME VALUE | unset NAME"
    )
    return parser


class Runtime:
    """Configuration, keychain and store, resolved in the order the sources need."""

    def __init__(self, envfile: str | None, flags: dict[str, str] | None = None, *, stderr: TextIO) -> None:
        from appliance.keychain import Keychain

        self.environ = config_module.environment_from_process()
        self.env_file = config_module.find_env_file(self.environ, envfile, Path.cwd())
        self.flags = flags or {}
        bootstrap = config_module.load_config(self.environ, flags=self.flags, env_file=self.env_file)
        self.data_dir = Path(bootstrap.app_datadir)
        self.keychain = Keychain(self.data_dir)
        self.bootstrap = bootstrap
        self.stderr = stderr
        self._store = None

    def ensure_data_dir(self) -> None:
        # Owner-only: the database and the secrets fallback live here.
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)

    @property
    def store(self):  # noqa: ANN201 - the Store type is imported lazily
        if self._store is None:
            from appliance.store import open_store

            self.ensure_data_dir()
            self._store = open_store(config_module.sqlalchemy_url(self.bootstrap))
        return self._store

    def config(
        self,
        *,
        generate_secret: bool = False,
        stored: bool = True,
        stored_settings: dict[str, str] | None = None,
    ) -> config_module.Config:
        if stored_settings is not None:
            settings = stored_settings
        else:
            settings = self.store.get_settings() if stored and not self.store.pending_migrations() else {}
        return config_module.load_config(
            self.environ,
            flags=self.flags,
            env_file=self.env_file,
            stored=settings,
            keychain=self.keychain,
            generate_secret=generate_secret,
        )

    def migrate(self, out: TextIO) -> None:
        pending = self.store.pending_migrations()
        if not pending:
            return
        self._owner_only()
        print(f"Applying {len(pending)} database migration(s): {', '.join(pending)}", file=out)
        backup = self.store.migrate(progress=_progress_printer("Backing up the database", out))
        if backup:
            print(f"A copy of the database from before the migration is at {backup}", file=out)
        print("Migrations done.", file=out)
        self._owner_only()

    def _owner_only(self) -> None:
        # The database holds hashes and ciphertexts only, but nobody else on the
        # machine needs to read them; the data folder is 0700 as well.
        path = self.store.path
        if path is None:
            return
        for name in (path, path + "-wal", path + "-shm"):
            try:
                os.chmod(name, 0o600)
            except FileNotFoundError:
                pass


def _progress_printer(label: str, out: TextIO) -> Callable[[int, int], None]:
    last = {"percent": -1}

    def progress(done: int, total: int) -> None:
        percent = 100 if total <= 0 else int(done * 100 / total)
        if percent != last["percent"]:
            last["percent"] = percent
            end = "\n" if percent >= 100 else "\r"
            print(f"{label}: {percent:3d}% ({done}/{total} pages)", end=end, file=out, flush=True)

    return progress


def cmd_version(out: TextIO) -> int:
    print(f"offen {__version__}", file=out)
    return EXIT_OK


def cmd_secret(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.length < 1 or args.length > 1024 or args.count < 1 or args.count > 1000:
        print("offen secret: -length must be 1-1024 and -count 1-1000", file=err)
        return EXIT_ERROR
    for _ in range(args.count):
        value = base64.b64encode(secrets.token_bytes(args.length)).decode()
        print(value if args.quiet else f"OFFEN_SECRET={value}", file=out)
    return EXIT_OK


def cmd_debug(runtime: Runtime, out: TextIO) -> int:
    cfg = runtime.config()
    view = config_module.debug_view(cfg)
    view["keychain"] = runtime.keychain.describe()
    print(json.dumps(view, indent=2, default=str), file=out)
    return EXIT_OK


def cmd_migrate(runtime: Runtime, out: TextIO) -> int:
    if not runtime.store.pending_migrations():
        print("The database is up to date.", file=out)
        return EXIT_OK
    runtime.migrate(out)
    return EXIT_OK


def cmd_expire(runtime: Runtime, out: TextIO, err: TextIO, now: Callable[[], datetime]) -> int:
    if runtime.store.pending_migrations():
        print("offen expire: the database has pending migrations; run `offen migrate` first.", file=err)
        return EXIT_ERROR
    cfg = runtime.config()
    removed = retention.expire(runtime.store, now(), cfg.retention_period)
    print(f"Expired {removed} event(s) older than {cfg.app_retention}.", file=out)
    return EXIT_OK


def _read_password(args: argparse.Namespace, err: TextIO) -> str | None:
    if args.password:
        return args.password
    if not sys.stdin.isatty():
        print("offen setup: no -password given and no terminal to ask for one.", file=err)
        return None
    first = getpass.getpass("Password for the new operator: ")
    second = getpass.getpass("Repeat the password: ")
    if first != second:
        print("offen setup: the passwords do not match.", file=err)
        return None
    return first


def _forced_account_id(raw: str | None) -> str | None:
    """`-forceid` as a canonical UUID; Offen required it to parse as one (reference §2.4)."""
    if raw is None:
        return None
    try:
        return str(uuid.UUID(raw.strip()))
    except ValueError:
        raise ConfigError(
            f"-forceid must be a UUID such as 9b63c4d8-65c0-438c-9d30-cc4b01173393, got {raw!r}"
        ) from None


def _setup_target(
    runtime: Runtime, args: argparse.Namespace, out: TextIO, err: TextIO
) -> tuple[Any, Any, Any] | None:
    """Migrate, resolve the configuration and make the operator logins for `setup`.

    None (after saying why) when the database holds data and -force was not given.
    """
    from appliance.accounts import ActiveAccounts
    from appliance.logins import build_logins

    runtime.migrate(out)
    cfg = runtime.config(generate_secret=args.populate)
    if args.populate:
        print(f"OFFEN_SECRET is kept in: {runtime.keychain.describe()}", file=out)
    if not runtime.store.is_empty() and not args.force:
        print("offen setup: the database already holds data; use -force to wipe it first.", file=err)
        return None
    accounts = ActiveAccounts(runtime.store)
    logins = build_logins(
        runtime.store,
        secret=cfg.secret,
        account_key_type=cfg.app_accountkeytype,
        active_accounts=accounts,
        v2_threads=cfg.argon_num_cpu_override,
    )
    return cfg, logins, accounts


def cmd_setup(
    runtime: Runtime, args: argparse.Namespace, out: TextIO, err: TextIO, now: Callable[[], datetime]
) -> int:
    if args.source:
        return _setup_from_source(runtime, args, out, err, now)
    if not args.name or not args.email:
        print("offen setup: -name and -email are required.", file=err)
        return EXIT_ERROR
    try:
        account_id = _forced_account_id(args.forceid)
    except ConfigError as error:
        print(f"offen setup: {error}", file=err)
        return EXIT_ERROR
    password = _read_password(args, err)
    if password is None:
        return EXIT_ERROR
    target = _setup_target(runtime, args, out, err)
    if target is None:
        return EXIT_ERROR
    cfg, logins, _ = target
    if not runtime.store.is_empty():
        runtime.store.drop_all_data()
    logins.ensure_lookup_key()
    account_id, _ = logins.setup(
        args.name, args.email, password, now(), account_id=account_id or cfg.app_rootaccount
    )
    print(
        f"Created account {args.name!r} with id {account_id} and its admin {args.email.strip().lower()}.",
        file=out,
    )
    return EXIT_OK


def _setup_from_source(
    runtime: Runtime, args: argparse.Namespace, out: TextIO, err: TextIO, now: Callable[[], datetime]
) -> int:
    """`offen setup -source FILE`: seed accounts and users from a YAML or JSON file (experimental)."""
    from appliance.seed import InvalidSeed, apply_seed, read_seed_file

    mixed = [f"-{flag}" for flag in ("name", "email", "password", "forceid") if getattr(args, flag)]
    if mixed:
        print(
            f"offen setup: -source takes accounts and users from the file; drop {', '.join(mixed)}.",
            file=err,
        )
        return EXIT_ERROR
    # The whole file is checked before the database is touched: a bad seed wipes nothing.
    try:
        seed = read_seed_file(args.source)
    except InvalidSeed as error:
        print(f"offen setup: the seed file {args.source} is not valid:", file=err)
        for problem in error.problems:
            print(f"  - {problem}", file=err)
        return EXIT_ERROR
    target = _setup_target(runtime, args, out, err)
    if target is None:
        return EXIT_ERROR
    cfg, logins, accounts = target
    result = apply_seed(
        runtime.store,
        seed,
        logins.credentials,
        now(),
        account_key_type=cfg.app_accountkeytype,
        force=args.force,
        active_accounts=accounts,
    )
    if result.wiped:
        print("Removed the existing data (-force).", file=out)
    for account in seed.accounts:
        print(f"Created account {account.name!r} with id {account.account_id}.", file=out)
    for user in seed.users:
        role = "super admin" if user.admin_level == 1 else "view only"
        print(
            f"Created operator {user.email} ({role}) with access to {len(user.account_ids)} account(s).",
            file=out,
        )
    return EXIT_OK


def cmd_config(
    runtime: Runtime, args: argparse.Namespace, out: TextIO, err: TextIO, now: Callable[[], datetime]
) -> int:
    from appliance.cli_config import run_config_command

    runtime.migrate(err)
    return run_config_command(
        list(args.words),
        environ=runtime.environ,
        env_file=runtime.env_file,
        store=runtime.store,
        keychain=runtime.keychain,
        now=now(),
        out=out,
        err=err,
    )


def _release_large_allocations() -> None:
    """Ask glibc to give large blocks (Argon2's 16 MiB) back to the system when freed.

    Without this, glibc keeps each worker thread's freed Argon2 memory in that
    thread's arena, and a burst of logins leaves the server at several hundred
    MB for good. Elsewhere (musl, macOS, Windows) this does nothing.
    """
    if sys.platform != "linux":
        return
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        m_mmap_threshold = -3
        libc.mallopt(m_mmap_threshold, 1 << 20)
    except (OSError, AttributeError):
        pass


def cmd_serve(runtime: Runtime, out: TextIO, err: TextIO, now: Callable[[], datetime]) -> int:
    from appliance.log import access_log, configure_logging
    from appliance.mailer import build_mailer
    from appliance.server import Server, run_until_signalled
    from appliance.web import WebContext, apply_config, build_services, build_wsgi

    boot = runtime.bootstrap
    _release_large_allocations()
    logger = configure_logging(boot.app_loglevel, err)
    if boot.app_singlenode:
        runtime.migrate(err)
    elif runtime.store.pending_migrations():
        print("offen: the database has pending migrations; run `offen migrate` (multi-node mode).", file=err)
        return EXIT_ERROR
    cfg = runtime.config(generate_secret=True)
    logger.info("secrets are kept in: %s", runtime.keychain.describe())
    mailer = build_mailer(cfg)  # warns when mail is not configured
    ctx = WebContext(config=cfg, store=runtime.store, mailer=mailer, clock=now, logger=logger)
    services = build_services(ctx)
    cleared = services.logins.ensure_lookup_key()
    if cleared:
        logger.warning("OFFEN_SECRET changed: %d operator(s) will be re-indexed at their next login", cleared)
    app = build_wsgi(ctx, services)
    if not cfg.server_reverseproxy:
        app = access_log(app, sys.stdout, now)
    server = Server(
        app,
        cfg.server_host,
        cfg.server_port,
        certfile=cfg.server_sslcertificate,
        keyfile=cfg.server_sslkey,
        error_stream=err,
    )
    try:
        server.start()
    except OSError as error:
        print(f"offen: cannot listen on {cfg.server_host}:{cfg.server_port}: {error}", file=err)
        return EXIT_ERROR
    print(f"Offen is running at {server.url}/ (stop with Ctrl+C)", file=out, flush=True)
    stop = threading.Event()
    if cfg.app_singlenode:
        threading.Thread(
            target=_expiry_loop,
            args=(runtime.store, lambda: ctx.config, now, logger, stop),
            name="offen-expiry",
            daemon=True,
        ).start()

    def reload(settings: dict[str, str]) -> None:
        fresh = runtime.config(generate_secret=True, stored_settings=settings)
        later = apply_config(ctx, services, fresh, build_mailer(fresh))
        logger.info("stored settings changed; the new configuration is in use")
        if later:
            logger.warning("changed settings that take effect after a restart: %s", ", ".join(later))

    threading.Thread(
        target=_watch_settings,
        args=(runtime.store, reload, logger, stop),
        name="offen-settings",
        daemon=True,
    ).start()
    run_until_signalled(server, on_stop=stop.set)
    sys.stdout.flush()  # the access log is flushed in batches
    logger.info("stopped")
    return EXIT_OK


SETTINGS_POLL_SECONDS = 5.0


def _watch_settings(
    store: object,
    reload: Callable[[dict[str, str]], None],
    logger: logging.Logger,
    stop: threading.Event,
) -> None:
    """Poll the settings table and reload the configuration when it changes.

    Stored settings live in the main database so that `offen config set` on
    any node (or on this machine while it serves) reaches every node; polling
    is the one mechanism that works the same on SQLite and, later, Postgres.
    """
    last = store.get_settings()  # type: ignore[attr-defined]
    while not stop.wait(SETTINGS_POLL_SECONDS):
        try:
            current = store.get_settings()  # type: ignore[attr-defined]
            if current != last:
                reload(current)
                last = current
        except ConfigError as error:
            logger.error("the stored settings are not valid, keeping the current ones: %s", error)
            last = current
        except Exception:  # noqa: BLE001 - the watcher must outlive one bad read
            logger.exception("reading the stored settings failed; trying again")


def _expiry_loop(
    store: object,
    current_config: Callable[[], config_module.Config],
    now: Callable[[], datetime],
    logger: logging.Logger,
    stop: threading.Event,
) -> None:
    """Expire old events now (the server is already listening), then every hour.

    Unlike Offen's loop, an error does not end it: the next run is tried an
    hour later. The retention is read at each run, so a changed setting counts.
    """
    while not stop.is_set():
        cfg = current_config()
        try:
            pending = retention.count_expired(store, now(), cfg.retention_period)  # type: ignore[arg-type]
            if pending:
                logger.info("expiring %d event(s) older than %s", pending, cfg.app_retention)
                removed = retention.expire(store, now(), cfg.retention_period)  # type: ignore[arg-type]
                logger.info("expired %d event(s)", removed)
        except Exception:  # noqa: BLE001 - a failed run must not end the loop
            logger.exception("expiring old events failed; trying again in an hour")
        stop.wait(3600)


def main(
    argv: Sequence[str] | None = None,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
    now: Callable[[], datetime] = utc_now,
) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    argv = list(sys.argv[1:] if argv is None else argv)
    known = {"serve", "setup", "secret", "migrate", "expire", "version", "debug", "config", "-h", "--help"}
    if not argv or argv[0] not in known:
        if argv and not argv[0].startswith("-"):
            print(f"offen: unknown command {argv[0]!r}", file=err)
            build_parser().print_usage(err)
            return EXIT_ERROR
        argv = ["serve", *argv]
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    try:
        if args.command == "version":
            return cmd_version(out)
        if args.command == "secret":
            return cmd_secret(args, out, err)
        flags: dict[str, str] = {}
        if args.command == "serve":
            if args.port is not None:
                flags["OFFEN_SERVER_PORT"] = str(args.port)
            if args.host:
                flags["OFFEN_SERVER_HOST"] = args.host
        runtime = Runtime(getattr(args, "envfile", None), flags, stderr=err)
        if args.command == "debug":
            return cmd_debug(runtime, out)
        if args.command == "migrate":
            return cmd_migrate(runtime, out)
        if args.command == "expire":
            return cmd_expire(runtime, out, err, now)
        if args.command == "setup":
            return cmd_setup(runtime, args, out, err, now)
        if args.command == "config":
            return cmd_config(runtime, args, out, err, now)
        return cmd_serve(runtime, out, err, now)
    except ConfigError as error:
        print("offen: the configuration is not valid:", file=err)
        for problem in error.problems:
            print(f"  - {problem}", file=err)
        return EXIT_ERROR
    except OffenError as error:
        print(f"offen: {error}", file=err)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return EXIT_ERROR


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["main"]
