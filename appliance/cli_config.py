"""`offen config list|get|set|unset`: look at and change settings at run time.

This module owns the subcommand only. Values are parsed by `appliance.config`
(the same parser `load_config` uses, so `set` accepts exactly what a start
would accept), stored through the store's settings table, and secrets go to
the keychain, never the database. It writes only to the `out` and `err`
streams it is given and returns an exit code; `cli.py` does the wiring.

Bootstrap settings (listener, TLS files, database, data folder) are refused:
they are needed before the database can be opened, so they belong in the
environment or the env file.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Protocol

from appliance import config as cfgmod
from appliance.errors import ConfigError, OffenError

USAGE = """\
usage: offen config list
       offen config get NAME
       offen config set NAME VALUE
       offen config unset NAME

NAME is an OFFEN_* variable (e.g. OFFEN_APP_LOCALE) or its short form
(app_locale). Secrets (OFFEN_SECRET, OFFEN_SMTP_PASSWORD, database_password)
are kept in the keychain and shown masked; bootstrap settings can only be set
in the environment or the env file.
"""


class SettingsStore(Protocol):
    """What this command needs from `appliance.store.Store`."""

    def get_settings(self) -> Mapping[str, str]: ...

    def set_setting(self, name: str, value: str, now: datetime) -> Any: ...

    def delete_setting(self, name: str) -> Any: ...


class KeychainLike(Protocol):
    def get(self, name: str) -> str | None: ...

    def set(self, name: str, value: str) -> None: ...

    def delete(self, name: str) -> bool: ...

    def describe(self) -> str: ...


class _UsageError(Exception):
    pass


def run_config_command(
    argv: list[str],
    *,
    environ: Mapping[str, str],
    env_file: Path | None,
    store: SettingsStore,
    keychain: KeychainLike | None,
    now: datetime | Callable[[], datetime],
    out: IO[str],
    err: IO[str],
) -> int:
    """Run `offen config ...`; 0 on success, 1 with a readable message on `err`."""
    if not argv or argv[0] in ("-h", "--help", "help"):
        (out if argv else err).write(USAGE)
        return 0 if argv else 1
    command, args = argv[0], argv[1:]
    expected = {"list": 0, "get": 1, "set": 2, "unset": 1}
    if command not in expected:
        err.write(f"offen config: unknown command {command!r}\n{USAGE}")
        return 1
    if len(args) != expected[command]:
        err.write(f"offen config {command}: wrong number of arguments\n{USAGE}")
        return 1
    ctx = _Context(environ, env_file, store, keychain, out, err)
    try:
        if command == "list":
            return ctx.list()
        if command == "get":
            return ctx.get(args[0])
        if command == "set":
            return ctx.set(args[0], args[1], now() if callable(now) else now)
        return ctx.unset(args[0])
    except OffenError as exc:
        # ConfigError, StoreError, SecretStoreError: all carry operator-facing text.
        problems = getattr(exc, "problems", None) or [str(exc)]
        for problem in problems:
            err.write(f"offen config: {problem}\n")
        return 1


class _Context:
    def __init__(
        self,
        environ: Mapping[str, str],
        env_file: Path | None,
        store: SettingsStore,
        keychain: KeychainLike | None,
        out: IO[str],
        err: IO[str],
    ) -> None:
        self.environ = environ
        self.env_file = env_file
        self.store = store
        self.keychain = keychain
        self.out = out
        self.err = err

    # -- helpers -------------------------------------------------------------

    def _resolve(self) -> cfgmod.Resolution:
        return cfgmod.resolve_settings(
            self.environ, env_file=self.env_file, stored=self.store.get_settings(), keychain=self.keychain
        )

    def _setting(self, name: str) -> cfgmod.Setting:
        setting = cfgmod.find_setting(name)
        if setting is None:
            known = [s.env for s in cfgmod.SETTINGS] + [s.field for s in cfgmod.SETTINGS]
            close = difflib.get_close_matches(name.upper(), known, n=1) or difflib.get_close_matches(
                name.lower(), known, n=1
            )
            hint = f"; did you mean {close[0]}?" if close else "; `offen config list` shows them all"
            raise ConfigError(f"there is no setting called {name!r}{hint}")
        return setting

    def _where_to_put_bootstrap(self) -> str:
        if self.env_file is not None:
            return f"the environment or the env file {self.env_file}"
        return "the environment or an env file (for example ./offen.env)"

    def _refuse_unstorable(self, setting: cfgmod.Setting, verb: str) -> None:
        if setting.env in cfgmod.ENV_ONLY:
            raise ConfigError(f"{setting.env} can only be set in the real environment of the server process")
        if setting.bootstrap:
            raise ConfigError(
                f"{setting.env} is a bootstrap setting: it is needed before the database is opened, "
                f"so it cannot be {verb} the database. Set it in {self._where_to_put_bootstrap()}."
            )

    def _need_keychain(self) -> KeychainLike:
        if self.keychain is None:
            raise ConfigError("no keychain is available, so secrets cannot be changed here")
        return self.keychain

    def _line(self, resolved: cfgmod.Resolved) -> str:
        return f"{resolved.setting.env}={_display(resolved)}  ({_source_text(resolved)})"

    def _warn_shadowed(self, resolved: cfgmod.Resolved) -> None:
        if "database" in resolved.shadowed:
            self.err.write(
                f"warning: {resolved.setting.env} is stored in the database, but the value from "
                f"{resolved.source} takes precedence.\n"
            )

    # -- commands --------------------------------------------------------------

    def list(self) -> int:
        resolution = self._resolve()
        for resolved in resolution.entries.values():
            self.out.write(self._line(resolved) + "\n")
        if self.keychain is not None and self.keychain.get(cfgmod.DATABASE_PASSWORD_ENTRY):
            self.out.write(f"{cfgmod.DATABASE_PASSWORD_ENTRY}={cfgmod.MASK}  (keychain)\n")
        if resolution.env_file is not None:
            self.out.write(f"Env file: {resolution.env_file}\n")
        else:
            self.out.write("Env file: none found\n")
        if resolution.keychain_description:
            self.out.write(f"Secrets are kept in: {resolution.keychain_description}\n")
        for resolved in resolution.entries.values():
            self._warn_shadowed(resolved)
        for problem in resolution.problems:
            self.err.write(f"problem: {problem}\n")
        return 1 if resolution.problems else 0

    def get(self, name: str) -> int:
        if name.lower() == cfgmod.DATABASE_PASSWORD_ENTRY:
            value = self._need_keychain().get(cfgmod.DATABASE_PASSWORD_ENTRY)
            self.out.write(
                f"{cfgmod.DATABASE_PASSWORD_ENTRY}={cfgmod.MASK if value else cfgmod.UNSET}  (keychain)\n"
            )
            return 0
        setting = self._setting(name)
        resolution = self._resolve()
        resolved = resolution.entries[setting.env]
        self.out.write(self._line(resolved) + "\n")
        self._warn_shadowed(resolved)
        if resolved.problem is not None:
            self.err.write(f"problem: {resolved.problem}\n")
            return 1
        return 0

    def set(self, name: str, value: str, now: datetime) -> int:
        if name.lower() == cfgmod.DATABASE_PASSWORD_ENTRY:
            keychain = self._need_keychain()
            keychain.set(cfgmod.DATABASE_PASSWORD_ENTRY, value)
            self.out.write(f"{cfgmod.DATABASE_PASSWORD_ENTRY} saved in {keychain.describe()}\n")
            return 0
        setting = self._setting(name)
        self._refuse_unstorable(setting, "stored in")
        parsed = cfgmod.parse_value(setting, value, self.environ)
        if setting.secret:
            keychain = self._need_keychain()
            keychain.set(setting.field, value.strip())
            self.out.write(f"{setting.env} saved in {keychain.describe()}\n")
        else:
            self.store.set_setting(setting.env, _canonical(setting, value, parsed), now)
            self.out.write(f"{setting.env}={_show(setting, parsed)}  (saved in the database)\n")
        self._warn_overridden(setting, "the stored value applies only once it is removed there")
        return 0

    def unset(self, name: str) -> int:
        if name.lower() == cfgmod.DATABASE_PASSWORD_ENTRY:
            removed = self._need_keychain().delete(cfgmod.DATABASE_PASSWORD_ENTRY)
            self.out.write(f"{cfgmod.DATABASE_PASSWORD_ENTRY} {'removed' if removed else 'was not stored'}\n")
            return 0
        setting = self._setting(name)
        self._refuse_unstorable(setting, "removed from")
        if setting.secret:
            removed = self._need_keychain().delete(setting.field)
        else:
            removed = setting.env in self.store.get_settings()
            if removed:
                self.store.delete_setting(setting.env)
        self.out.write(f"{setting.env} {'removed' if removed else 'was not stored'}\n")
        self._warn_overridden(setting, "so the setting stays in effect")
        return 0

    def _warn_overridden(self, setting: cfgmod.Setting, consequence: str) -> None:
        resolved = self._resolve().entries[setting.env]
        if resolved.source not in ("database", "default", "keyring") and not resolved.source.startswith(
            "secrets file"
        ):
            self.err.write(
                f"warning: {setting.env} is also set in {resolved.source}, which takes precedence; "
                f"{consequence}.\n"
            )


def _canonical(setting: cfgmod.Setting, raw: str, parsed: Any) -> str:
    """The text to store: normalised, except paths, which keep their `$VAR`s."""
    if setting.kind == "path":
        return raw.strip()
    return _text(parsed)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(value)
    return str(value)


def _show(setting: cfgmod.Setting, value: Any) -> str:
    if setting.secret:
        return cfgmod.MASK if value else cfgmod.UNSET
    if value is None:
        return cfgmod.UNSET
    if setting.env == "OFFEN_DATABASE_CONNECTIONSTRING":
        return cfgmod.mask_dsn(str(value))
    return _text(value)


def _display(resolved: cfgmod.Resolved) -> str:
    if resolved.problem is not None:
        # Show what is actually set (masked if secret), not the default that
        # replaced it, so the operator can find and fix it.
        return cfgmod.MASK if resolved.setting.secret else str(resolved.raw)
    return _show(resolved.setting, resolved.value)


def _source_text(resolved: cfgmod.Resolved) -> str:
    parts = [resolved.source]
    if resolved.setting.bootstrap:
        parts.append("bootstrap")
    if resolved.problem is not None:
        parts.append("NOT VALID")
    return "; ".join(parts)
