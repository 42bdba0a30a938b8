"""The settings table and its resolution into one frozen `Config`.

This module owns every `OFFEN_*` variable (reference §5): its default, its
parser, whether it is a bootstrap setting, whether it is a secret, and where a
value may come from. It is the only module that reads `os.environ`, and only
in `environment_from_process()`; everything else receives the environment as
a mapping, which keeps tests hermetic.

Precedence, highest first: command-line flag > environment (`NAME` or
`NAME_FILE`) > env file > stored setting (the settings table) > default.
Bootstrap settings (listener, TLS files, database, data folder) are needed
before the database is open, so they are never read from it. Secrets are
never stored in the database: after the environment they come from the
keychain (`appliance.keychain`), under the setting's field name.

Every problem is collected and raised once as `ConfigError(problems)`, in
words an operator can act on. Secret values never appear in a message.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets as _random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit, urlunsplit

from appliance import paths
from appliance.errors import ConfigError, SecretStoreError

if TYPE_CHECKING:  # only for annotations; config must work without a keyring
    from appliance.keychain import Keychain

MASK = "******"
UNSET = "(unset)"

RETENTION_DAYS: Mapping[str, int] = MappingProxyType(
    {"6months": 186, "12weeks": 84, "6weeks": 42, "30days": 30, "7days": 7}
)
_RETENTION_PERIODS = {name: timedelta(days=days) for name, days in RETENTION_DAYS.items()}
LOCALES = ("en", "de", "fr", "es", "pt", "vi")
LOG_LEVELS = ("debug", "info", "warn", "error")
AUTH_TYPES = ("LOGIN", "PLAIN", "CRAM-MD5", "NOAUTH")
# The same values as `mailer.TLS_MODES` (a test keeps them equal); repeated
# here because config must load without importing the mail code.
SMTP_TLS_MODES = ("starttls-if-offered", "starttls", "implicit", "none")
DIALECTS = ("sqlite3", "postgres", "mysql")
# Dialects Offen supports that this release does not yet; refused with a
# clear message instead of failing later inside SQLAlchemy.
LATER_DIALECTS = ("postgres", "mysql")

# Keychain entry holding the database password that is merged into a URL-form
# connection string. It is not an OFFEN_* variable: Offen carries the
# password inside OFFEN_DATABASE_CONNECTIONSTRING, which still works.
DATABASE_PASSWORD_ENTRY = "database_password"


@dataclass(frozen=True)
class Setting:
    """One row of the settings table.

    `kind` names the parser. `bootstrap` settings are read before the
    database is open and so never come from it; `stored_ok` says whether the
    value may live in the settings table; `secret` values live in the
    keychain under `field` and are always masked. `choices` lists the allowed
    values of a "choice" setting; `aliases` are other accepted names.
    """

    env: str
    field: str
    default: Any
    help: str
    kind: str
    bootstrap: bool = False
    secret: bool = False
    stored_ok: bool = True
    choices: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()


def _boot(env: str, field_: str, default: Any, help_: str, kind: str, **kw: Any) -> Setting:
    return Setting(env, field_, default, help_, kind, bootstrap=True, secret=False, stored_ok=False, **kw)


def _run(env: str, field_: str, default: Any, help_: str, kind: str, **kw: Any) -> Setting:
    return Setting(env, field_, default, help_, kind, bootstrap=False, secret=False, stored_ok=True, **kw)


def _secret(env: str, field_: str, help_: str, kind: str) -> Setting:
    return Setting(env, field_, None, help_, kind, bootstrap=False, secret=True, stored_ok=False)


SETTINGS: tuple[Setting, ...] = (
    _boot("OFFEN_SERVER_PORT", "server_port", 3000, "TCP port to listen on.", "port"),
    _boot("OFFEN_SERVER_HOST", "server_host", "0.0.0.0", "Address to listen on.", "host"),
    _run(
        "OFFEN_SERVER_REVERSEPROXY",
        "server_reverseproxy",
        False,
        "Running behind a reverse proxy: trust X-Forwarded-Proto/-Host; no gzip and no access log here (throttles stay on).",
        "bool",
    ),
    _boot("OFFEN_SERVER_SSLCERTIFICATE", "server_sslcertificate", None, "PEM certificate file.", "path"),
    _boot("OFFEN_SERVER_SSLKEY", "server_sslkey", None, "PEM private key file.", "path"),
    _boot("OFFEN_SERVER_AUTOTLS", "server_autotls", (), "Host names for automatic TLS (later).", "hostlist"),
    _run(
        "OFFEN_SERVER_LETSENCRYPTEMAIL",
        "server_letsencryptemail",
        None,
        "Contact email for the ACME account.",
        "email",
    ),
    _boot(
        "OFFEN_SERVER_CERTIFICATECACHE",
        "server_certificatecache",
        None,  # derived: <data folder>/certs
        "Folder for automatically issued certificates.",
        "path",
        aliases=("OFFEN_SERVER_CERTFICATECACHE",),  # the spelling in Offen's docs
    ),
    _boot(
        "OFFEN_DATABASE_DIALECT",
        "database_dialect",
        "sqlite3",
        "Database kind.",
        "choice",
        choices=DIALECTS,
    ),
    _boot(
        "OFFEN_DATABASE_CONNECTIONSTRING",
        "database_connectionstring",
        None,  # derived: <data folder>/offen.db
        "SQLite file path or database URL.",
        "path",
    ),
    _boot(
        "OFFEN_DATABASE_CONNECTIONRETRIES",
        "database_connectionretries",
        0,
        "Retries with back-off when opening the database.",
        "count",
    ),
    _boot("OFFEN_APP_DATADIR", "app_datadir", None, "Data folder.", "path"),
    _run("OFFEN_APP_DEVELOPMENT", "app_development", False, "Development mode.", "bool"),
    _run("OFFEN_APP_LOGLEVEL", "app_loglevel", "info", "Log level.", "choice", choices=LOG_LEVELS),
    # Bootstrap although Offen treats it as ordinary: it decides whether
    # migrations run, and the settings table cannot be read before they have.
    _boot("OFFEN_APP_SINGLENODE", "app_singlenode", True, "Run migrations and expiry here.", "bool"),
    _run("OFFEN_APP_LOCALE", "app_locale", "en", "Language of the UI and emails.", "choice", choices=LOCALES),
    _run("OFFEN_APP_ROOTACCOUNT", "app_rootaccount", None, "Account measuring Offen's own UI.", "uuid"),
    # Bootstrap: "heroku" overrides the port, database and secret.
    _boot(
        "OFFEN_APP_DEPLOYTARGET",
        "app_deploytarget",
        None,
        "Deploy target (only heroku).",
        "choice",
        choices=("heroku",),
    ),
    _run(
        "OFFEN_APP_RETENTION",
        "app_retention",
        "6months",
        "How long events are kept.",
        "choice",
        choices=tuple(RETENTION_DAYS),
    ),
    _run("OFFEN_APP_PUBLICURL", "app_publicurl", None, "Public URL of this instance.", "url"),
    # New here: ad blockers block "/script.js" (Offen #751), so the embed script
    # can also be served at a path of the operator's choosing.
    _run(
        "OFFEN_APP_SCRIPTPATH",
        "app_scriptpath",
        None,
        "An additional path that serves the embed script, such as /o.js.",
        "scriptpath",
    ),
    _run(
        "OFFEN_APP_ACCOUNTKEYTYPE",
        "app_accountkeytype",
        "x25519",
        "Key type of new accounts.",
        "choice",
        choices=("x25519", "rsa"),
    ),
    _secret("OFFEN_SECRET", "secret", "Key for signing login cookies and emailed links.", "base64"),
    _run("OFFEN_SMTP_HOST", "smtp_host", None, "SMTP server.", "host"),
    _run("OFFEN_SMTP_PORT", "smtp_port", 587, "SMTP port.", "port"),
    _run("OFFEN_SMTP_USER", "smtp_user", None, "SMTP user name.", "str"),
    _secret("OFFEN_SMTP_PASSWORD", "smtp_password", "SMTP password.", "str"),
    _run("OFFEN_SMTP_AUTHTYPE", "smtp_authtype", "LOGIN", "SMTP authentication.", "authtype"),
    _run("OFFEN_SMTP_SENDER", "smtp_sender", "no-reply@offen.dev", "From address of emails.", "email"),
    # New here: Offen always used STARTTLS when offered and had no timeout.
    _run(
        "OFFEN_SMTP_TLS",
        "smtp_tls",
        "starttls-if-offered",
        "TLS with the SMTP server (port 465 means implicit unless set).",
        "choice",
        choices=SMTP_TLS_MODES,
    ),
    _run("OFFEN_SMTP_TIMEOUT", "smtp_timeout", 15, "Seconds to wait for each SMTP network step.", "positive"),
    # Offen reads this at hash time from the real environment only; keeping
    # that means an env file or the database cannot change how old hashes
    # are verified.
    Setting(
        "OFFEN_ARGONNUMCPUOVERRIDE",
        "argon_num_cpu_override",
        None,
        "Thread count for legacy v2 Argon2 hashes.",
        "positive",
        bootstrap=True,
        secret=False,
        stored_ok=False,
    ),
)

_BY_ENV: dict[str, Setting] = {}
for _s in SETTINGS:
    for _name in (_s.env, *_s.aliases):
        _BY_ENV[_name] = _s
_BY_FIELD: dict[str, Setting] = {s.field: s for s in SETTINGS}
ENV_ONLY = frozenset({"OFFEN_ARGONNUMCPUOVERRIDE"})


def find_setting(name: str) -> Setting | None:
    """The setting called `name` (env name, alias or field name, any case)."""
    return _BY_ENV.get(name.upper()) or _BY_FIELD.get(name.lower())


@dataclass(frozen=True, kw_only=True, repr=False)
class Config:
    """The resolved, validated configuration. Built by `load_config`."""

    server_port: int = 3000
    server_host: str = "0.0.0.0"
    server_reverseproxy: bool = False
    server_sslcertificate: str | None = None
    server_sslkey: str | None = None
    server_autotls: tuple[str, ...] = ()
    server_letsencryptemail: str | None = None
    server_certificatecache: str = ""
    database_dialect: str = "sqlite3"
    database_connectionstring: str = ""
    database_connectionretries: int = 0
    app_datadir: str = ""
    app_development: bool = False
    app_loglevel: str = "info"
    app_singlenode: bool = True
    app_locale: str = "en"
    app_rootaccount: str | None = None
    app_deploytarget: str | None = None
    app_retention: str = "6months"
    app_publicurl: str | None = None
    app_accountkeytype: str = "x25519"
    app_scriptpath: str | None = None
    secret: bytes = b""
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_authtype: str = "LOGIN"
    smtp_sender: str = "no-reply@offen.dev"
    smtp_tls: str = "starttls-if-offered"
    smtp_timeout: int = 15
    argon_num_cpu_override: int | None = None
    # Where each value came from, by env name; left out of ==/hash so two
    # configs with equal values compare equal however they were given.
    sources: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), compare=False)

    @property
    def retention_period(self) -> timedelta:
        """How long events are kept (reference §4.4)."""
        return _RETENTION_PERIODS[self.app_retention]

    def __repr__(self) -> str:
        # Never show the secret, the SMTP password or a DSN password, even in
        # a traceback or a debugger.
        shown = ", ".join(f"{k}={v!r}" for k, v in debug_view(self).items())
        return f"Config({shown})"


# -- small helpers ------------------------------------------------------------


def environment_from_process() -> dict[str, str]:
    """A copy of the process environment: the one place `os.environ` is read."""
    return dict(os.environ)


_EXPAND = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")


def expand_env(value: str, environ: Mapping[str, str]) -> str:
    """`$VAR` / `${VAR}` expansion like Go's `os.ExpandEnv` (unknown -> "")."""
    return _EXPAND.sub(lambda m: environ.get(m.group(1) or m.group(2), ""), value)


def mask_dsn(dsn: str) -> str:
    """A connection string with any password replaced by the mask."""
    parts = urlsplit(dsn)
    if parts.scheme and parts.netloc and parts.password is not None:
        host = parts.netloc.rsplit("@", 1)[1]
        user = parts.username or ""
        return urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{host}"))
    # key=value DSNs (lib/pq style): password=...
    return re.sub(r"(?i)(password\s*=\s*)(\S+)", lambda m: m.group(1) + MASK, dsn)


def _merge_password(dsn: str, password: str) -> str:
    """Put a keychain password into a URL-form DSN that has a user but none."""
    parts = urlsplit(dsn)
    if not (parts.scheme and parts.netloc and "@" in parts.netloc) or parts.password is not None:
        return dsn
    userinfo, host = parts.netloc.rsplit("@", 1)
    return urlunsplit(parts._replace(netloc=f"{userinfo}:{quote(password, safe='')}@{host}"))


# -- the env file --------------------------------------------------------------

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\", "$": "$"}


def read_env_file(path: str | os.PathLike[str]) -> dict[str, str]:
    """Parse a dotenv file: `KEY=VALUE` lines, optional `export `, quotes, `#` comments.

    Double-quoted values may span lines and understand `\\n`, `\\t`, `\\"`
    and `\\\\`; single-quoted values are taken literally; unquoted values end
    at a ` #` comment and are stripped. Variables are not expanded here
    (paths are expanded when the setting is parsed). Every malformed line is
    reported in one `ConfigError`.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"The env file {path} cannot be read: {exc.strerror or exc}") from exc
    values: dict[str, str] = {}
    problems: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        lineno = i + 1
        line = lines[i].strip()
        i += 1
        if not line or line.startswith("#"):
            continue
        if line.startswith("export ") or line.startswith("export\t"):
            line = line[len("export") :].lstrip()
        key, sep, rest = line.partition("=")
        key = key.strip()
        if not sep or not _KEY.fullmatch(key):
            problems.append(f"{path} line {lineno}: expected KEY=VALUE")
            continue
        rest = rest.lstrip()
        if rest[:1] == "'":
            end = rest.find("'", 1)
            if end < 0:
                problems.append(f"{path} line {lineno}: the single quote is not closed")
                continue
            values[key] = rest[1:end]
            tail = rest[end + 1 :].strip()
        elif rest[:1] == '"':
            chunk, buf, closed, pos = rest, [], False, 1
            while True:
                while pos < len(chunk):
                    ch = chunk[pos]
                    if ch == "\\" and pos + 1 < len(chunk):
                        nxt = chunk[pos + 1]
                        buf.append(_ESCAPES.get(nxt, "\\" + nxt))
                        pos += 2
                        continue
                    if ch == '"':
                        closed = True
                        break
                    buf.append(ch)
                    pos += 1
                if closed or i >= len(lines):
                    break
                buf.append("\n")
                chunk, pos = lines[i], 0
                i += 1
            if not closed:
                problems.append(f"{path} line {lineno}: the double quote is not closed")
                continue
            values[key] = "".join(buf)
            tail = chunk[pos + 1 :].strip()
        else:
            value = re.split(r"\s#", rest, maxsplit=1)[0]
            values[key] = value.strip()
            tail = ""
        if tail and not tail.startswith("#"):
            problems.append(f"{path} line {lineno}: unexpected text after the closing quote")
    if problems:
        raise ConfigError(problems)
    return values


def find_env_file(environ: Mapping[str, str], explicit: str | None, cwd: Path) -> Path | None:
    """The env file to load: `-envfile` (must exist), else the first existing candidate."""
    if explicit:
        candidate = Path(explicit)
        if not candidate.is_absolute():
            candidate = Path(cwd) / candidate
        if not candidate.is_file():
            raise ConfigError(f"The env file given with -envfile does not exist: {candidate}")
        return candidate
    for candidate in paths.env_file_candidates(environ, Path(cwd)):
        if candidate.is_file():
            return candidate
    return None


# -- parsing one value -----------------------------------------------------------


class _Invalid(Exception):
    """A value does not fit its setting; `requirement` completes "X must be ..."."""

    def __init__(self, requirement: str) -> None:
        super().__init__(requirement)
        self.requirement = requirement


_TRUE = {"1", "t", "true", "yes", "y", "on"}
_FALSE = {"0", "f", "false", "no", "n", "off"}
_HOSTNAME = re.compile(
    r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)


def _whole(raw: str, low: int, high: int | None, requirement: str) -> int:
    text = raw.strip()
    if not re.fullmatch(r"[+-]?\d+", text):
        raise _Invalid(requirement)
    value = int(text)
    if value < low or (high is not None and value > high):
        raise _Invalid(requirement)
    return value


def _parse_host(raw: str) -> str:
    text = raw.strip()
    if not text or any(c.isspace() for c in text) or "/" in text:
        raise _Invalid("a host name or IP address")
    return text


def _parse_url(raw: str) -> str:
    text = raw.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise _Invalid("an absolute http:// or https:// URL without query or fragment")
    # No trailing slash, so links are built as publicurl + "/path".
    return text.rstrip("/")


def _parse_email(raw: str) -> str:
    text = raw.strip()
    # "Name <a@b>" is accepted as a sender; the address itself is checked.
    address = text[text.rfind("<") + 1 : -1] if text.endswith(">") and "<" in text else text
    local, at, domain = address.partition("@")
    if not (local and at and domain) or any(c.isspace() for c in address):
        raise _Invalid("an email address")
    return text


def _parse_hostlist(raw: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in raw.split(",") if part.strip())
    for name in names:
        if not _HOSTNAME.fullmatch(name):
            raise _Invalid("a comma-separated list of host names")
    return names


def _parse_base64(raw: str) -> bytes:
    try:
        value = base64.b64decode(raw.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _Invalid("standard base64, for example the output of `offen secret`") from exc
    if not value:
        raise _Invalid("standard base64 of at least one byte")
    return value


# Paths the app itself answers (routes, the single-page app's pages, static
# folders): an extra script path there would be shadowed or would shadow them.
RESERVED_PATHS = (
    "/api",
    "/vault",
    "/healthz",
    "/versionz",
    "/script.js",
    "/script",
    "/auditorium",
    "/login",
    "/console",
    "/setup",
    "/forgot-password",
    "/reset-password",
    "/join",
    "/shared",
    "/vendor",
)
_SCRIPT_PATH = re.compile(r"(/[A-Za-z0-9_~.\-]+)+")


def _parse_script_path(raw: str) -> str:
    text = raw.strip()
    if not _SCRIPT_PATH.fullmatch(text) or len(text) > 200:
        raise _Invalid(
            "a path such as /o.js: starting with /, made of letters, digits and . _ ~ -, "
            "without a trailing slash, query or fragment"
        )
    if any(segment in (".", "..") for segment in text.split("/")):
        raise _Invalid("a path without . or .. segments")
    lowered = text.lower()
    for reserved in RESERVED_PATHS:
        if lowered == reserved or lowered.startswith(reserved + "/"):
            raise _Invalid(f"a path the server does not use already (not {reserved} or below it)")
    return text


def _parse_uuid(raw: str) -> str:
    try:
        return str(uuid.UUID(raw.strip()))
    except ValueError as exc:
        raise _Invalid("a UUID such as 9b63c4d8-65c0-438c-9d30-cc4b01173393") from exc


def parse_value(setting: Setting, raw: str, environ: Mapping[str, str] | None = None) -> Any:
    """Parse one raw text value for `setting`; raises `ConfigError` in plain words.

    Shared by `load_config` and `offen config set` so both accept exactly the
    same values. `environ` is used to expand `$VAR` in paths.
    """
    try:
        return _parse(setting, raw, environ or {})
    except _Invalid as exc:
        raise ConfigError(_problem(setting, raw, exc.requirement, "")) from None


def _parse(setting: Setting, raw: str, environ: Mapping[str, str]) -> Any:
    kind = setting.kind
    if kind == "port":
        return _whole(raw, 1, 65535, "a whole number between 1 and 65535")
    if kind == "count":
        return _whole(raw, 0, None, "a whole number of 0 or more")
    if kind == "positive":
        return _whole(raw, 1, None, "a whole number of 1 or more")
    if kind == "bool":
        text = raw.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise _Invalid("true or false")
    if kind == "choice":
        text = raw.strip().lower()
        if setting.env == "OFFEN_APP_LOGLEVEL" and text == "warning":
            text = "warn"
        if text not in setting.choices:
            raise _Invalid("one of " + ", ".join(setting.choices))
        return text
    if kind == "authtype":
        text = raw.strip().upper()
        if text not in AUTH_TYPES:
            raise _Invalid("one of " + ", ".join(AUTH_TYPES))
        return text
    if kind == "path":
        text = expand_env(raw.strip(), environ)
        if not text:
            raise _Invalid("a path")
        return text
    if kind == "host":
        return _parse_host(raw)
    if kind == "url":
        return _parse_url(raw)
    if kind == "email":
        return _parse_email(raw)
    if kind == "hostlist":
        return _parse_hostlist(raw)
    if kind == "base64":
        return _parse_base64(raw)
    if kind == "uuid":
        return _parse_uuid(raw)
    if kind == "scriptpath":
        return _parse_script_path(raw)
    if kind == "str":
        return raw
    raise AssertionError(f"unknown setting kind {kind!r}")  # a bug in SETTINGS


def _where(source: str) -> str:
    if not source or source == "environment" or source.startswith("file "):
        return ""
    if source == "database":
        return " (stored in the database)"
    return f" (from {source})"


def _problem(setting: Setting, raw: str, requirement: str, source: str) -> str:
    # Secrets are never echoed, not even when they are wrong.
    got = "a value that is not" if setting.secret else repr(raw)
    return f"{setting.env}{_where(source)} must be {requirement}, got {got}"


# -- resolution ---------------------------------------------------------------------


@dataclass(frozen=True)
class Resolved:
    """How one setting was resolved: its raw text, parsed value and source.

    `shadowed` lists lower-precedence sources that also had a value (for
    the "the environment overrides the stored value" warning). `problem` is
    set when `raw` was not valid; `value` is then the default.
    """

    setting: Setting
    raw: str | None
    value: Any
    source: str
    shadowed: tuple[str, ...] = ()
    problem: str | None = None


@dataclass(frozen=True)
class Resolution:
    """Every setting resolved, plus every problem found on the way."""

    entries: Mapping[str, Resolved]
    problems: tuple[str, ...]
    env_file: Path | None
    keychain_description: str | None


def _layer_lookup(
    setting: Setting, layer: Mapping[str, str], label: str, problems: list[str], base: Path | None = None
) -> tuple[str, str] | None:
    """Find `setting` (or an alias, or its `_FILE` variant) in one layer."""
    for name in (setting.env, *setting.aliases):
        direct = layer.get(name, "")
        file_ref = layer.get(name + "_FILE", "")
        if direct and file_ref:
            problems.append(f"{name} and {name}_FILE are both set in the {label}; set only one")
            return None
        if direct:
            return direct, label
        if file_ref:
            ref = Path(file_ref)
            if base is not None and not ref.is_absolute():
                ref = base / ref
            try:
                content = ref.read_text(encoding="utf-8")
            except OSError as exc:
                problems.append(f"{name}_FILE points to {ref}, which cannot be read ({exc.strerror or exc})")
                return None
            # Docker secrets and `echo value > file` end with a newline that
            # is not part of the value.
            return content.rstrip("\r\n"), f"file {ref}"
    return None


def _normalise_keys(mapping: Mapping[str, str]) -> dict[str, str]:
    """Accept env names, aliases or field names as keys; key the result by env name."""
    out: dict[str, str] = {}
    for key, value in mapping.items():
        setting = find_setting(key)
        out[setting.env if setting else key] = value
    return out


def resolve_settings(
    environ: Mapping[str, str],
    *,
    flags: Mapping[str, str] | None = None,
    env_file: Path | None = None,
    stored: Mapping[str, str] | None = None,
    keychain: Keychain | None = None,
    is_root: bool | None = None,
) -> Resolution:
    """Resolve every setting without raising: values, sources and problems.

    `load_config` builds a `Config` from this; `offen config list` shows it.
    """
    problems: list[str] = []
    flag_values = _normalise_keys(flags or {})
    stored_values = _normalise_keys(stored or {})
    file_values: dict[str, str] = {}
    if env_file is not None:
        try:
            file_values = read_env_file(env_file)
        except ConfigError as exc:
            problems.extend(exc.problems)
    file_label = f"env file {env_file}"
    # The env file never overrides the real environment (godotenv without
    # overload), so `$VAR` in paths sees the environment first.
    merged_env = {**file_values, **environ}
    if is_root is None:
        is_root = hasattr(os, "geteuid") and os.geteuid() == 0

    for name in flag_values:
        setting = find_setting(name)
        if setting is None:
            problems.append(f"unknown setting {name!r} given as a flag")
        elif setting.secret:
            # Flags show up in `ps` output to every local user.
            problems.append(f"{setting.env} is a secret and cannot be given as a flag")
        elif setting.env in ENV_ONLY:
            problems.append(f"{setting.env} can only be set in the real environment")

    keychain_description: str | None = None
    entries: dict[str, Resolved] = {}
    for setting in SETTINGS:
        found: list[tuple[str, str]] = []
        if setting.env in flag_values and not setting.secret and setting.env not in ENV_ONLY:
            found.append((flag_values[setting.env], "flag"))
        hit = _layer_lookup(setting, environ, "environment", problems)
        if hit:
            found.append(hit)
        if setting.env not in ENV_ONLY and env_file is not None:
            hit = _layer_lookup(setting, file_values, file_label, problems, base=env_file.parent)
            if hit:
                found.append(hit)
        if setting.stored_ok and not setting.bootstrap and not setting.secret:
            if stored_values.get(setting.env, "") != "":
                found.append((stored_values[setting.env], "database"))
        if setting.secret and keychain is not None and not found:
            try:
                keychain_value = keychain.get(setting.field)
                if keychain_value:
                    found.append((keychain_value, _keychain_label(keychain)))
            except SecretStoreError as exc:
                problems.append(f"{setting.env} could not be read from the keychain: {exc}")
        if not found:
            entries[setting.env] = Resolved(setting, None, setting.default, "default")
            continue
        raw, source = found[0]
        shadowed = tuple(src for _, src in found[1:])
        problem = None
        try:
            value = _parse(setting, raw, merged_env)
        except _Invalid as exc:
            problem = _problem(setting, raw, exc.requirement, source)
            problems.append(problem)
            value = setting.default
        entries[setting.env] = Resolved(setting, raw, value, source, shadowed, problem)

    _derive(entries, merged_env, is_root, keychain, problems)
    if keychain is not None:
        try:
            keychain_description = keychain.describe()
        except SecretStoreError as exc:  # pragma: no cover - describe does not raise today
            problems.append(str(exc))
    return Resolution(MappingProxyType(entries), tuple(problems), env_file, keychain_description)


def _keychain_label(keychain: Any) -> str:
    if getattr(keychain, "is_fallback", False):
        return f"secrets file {getattr(keychain, 'secrets_file', 'secrets.json')}"
    return "keyring"


def _replace(entries: dict[str, Resolved], env: str, value: Any, source: str | None = None) -> None:
    old = entries[env]
    entries[env] = Resolved(old.setting, old.raw, value, source or old.source, old.shadowed, old.problem)


def _derive(
    entries: dict[str, Resolved],
    merged_env: Mapping[str, str],
    is_root: bool,
    keychain: Any,
    problems: list[str],
) -> None:
    """Defaults that depend on other settings, Heroku overrides, cross-checks."""
    datadir = entries["OFFEN_APP_DATADIR"]
    if datadir.value is None:
        _replace(entries, "OFFEN_APP_DATADIR", str(paths.default_data_dir(is_root)))
    else:
        _replace(entries, "OFFEN_APP_DATADIR", os.path.abspath(datadir.value))
    data = entries["OFFEN_APP_DATADIR"].value
    if entries["OFFEN_SERVER_CERTIFICATECACHE"].value is None:
        _replace(entries, "OFFEN_SERVER_CERTIFICATECACHE", os.path.join(data, "certs"))

    if entries["OFFEN_APP_DEPLOYTARGET"].value == "heroku":
        # Offen's overrides.go: Heroku hands these over in its own variables.
        port = merged_env.get("PORT", "")
        if port:
            try:
                _replace(
                    entries, "OFFEN_SERVER_PORT", _whole(port, 1, 65535, ""), "environment (PORT, heroku)"
                )
            except _Invalid:
                problems.append(f"PORT must be a whole number between 1 and 65535, got {port!r}")
        if merged_env.get("DATABASE_URL", ""):
            _replace(entries, "OFFEN_DATABASE_DIALECT", "postgres", "environment (DATABASE_URL, heroku)")
            _replace(
                entries,
                "OFFEN_DATABASE_CONNECTIONSTRING",
                merged_env["DATABASE_URL"],
                "environment (DATABASE_URL, heroku)",
            )
        if merged_env.get("APP_SECRET", ""):
            # Raw bytes, not base64 (reference §2.8).
            _replace(
                entries, "OFFEN_SECRET", merged_env["APP_SECRET"].encode(), "environment (APP_SECRET, heroku)"
            )

    dialect = entries["OFFEN_DATABASE_DIALECT"].value
    dsn = entries["OFFEN_DATABASE_CONNECTIONSTRING"]
    if dsn.value is None:
        _replace(entries, "OFFEN_DATABASE_CONNECTIONSTRING", os.path.join(data, "offen.db"))
    elif dialect == "sqlite3" and dsn.value != ":memory:":
        _replace(entries, "OFFEN_DATABASE_CONNECTIONSTRING", os.path.abspath(dsn.value))
    elif dialect != "sqlite3" and keychain is not None:
        try:
            password = keychain.get(DATABASE_PASSWORD_ENTRY)
        except SecretStoreError as exc:
            problems.append(f"the database password could not be read from the keychain: {exc}")
            password = None
        if password:
            _replace(entries, "OFFEN_DATABASE_CONNECTIONSTRING", _merge_password(dsn.value, password))
    if dialect in LATER_DIALECTS:
        problems.append(
            f"OFFEN_DATABASE_DIALECT={dialect} is not supported yet; it comes in a later release. "
            "Use sqlite3 (the default) for now."
        )
    if entries["OFFEN_SERVER_AUTOTLS"].value:
        problems.append(
            "automatic TLS comes in a later release; use OFFEN_SERVER_SSLCERTIFICATE/OFFEN_SERVER_SSLKEY"
        )
    cert = entries["OFFEN_SERVER_SSLCERTIFICATE"].value
    key = entries["OFFEN_SERVER_SSLKEY"].value
    if bool(cert) != bool(key):
        missing = "OFFEN_SERVER_SSLKEY" if cert else "OFFEN_SERVER_SSLCERTIFICATE"
        given = "OFFEN_SERVER_SSLCERTIFICATE" if cert else "OFFEN_SERVER_SSLKEY"
        problems.append(f"{given} is set but {missing} is not; HTTPS needs both files")


def load_config(
    environ: Mapping[str, str],
    *,
    flags: Mapping[str, str] | None = None,
    env_file: Path | None = None,
    stored: Mapping[str, str] | None = None,
    keychain: Keychain | None = None,
    is_root: bool | None = None,
    generate_secret: bool = False,
) -> Config:
    """Resolve and validate every setting into a frozen `Config`.

    Secrets: environment (including `*_FILE` and the env file), then the
    keychain. With `generate_secret` an unset `OFFEN_SECRET` is created once
    (16 random bytes, base64) and kept in the keychain, so sessions and
    emailed links survive a restart. Without it (or without a keychain) a
    random secret is used for this run only, as Offen does.
    Raises `ConfigError` listing every problem.
    """
    resolution = resolve_settings(
        environ, flags=flags, env_file=env_file, stored=stored, keychain=keychain, is_root=is_root
    )
    problems = list(resolution.problems)
    entries = dict(resolution.entries)
    secret = entries["OFFEN_SECRET"]
    if secret.value is None and not problems:
        fresh = base64.b64encode(_random.token_bytes(16)).decode("ascii")
        source = "random for this run (not kept)"
        if generate_secret and keychain is not None:
            try:
                keychain.set("secret", fresh)
                source = _keychain_label(keychain)
            except SecretStoreError as exc:
                problems.append(f"OFFEN_SECRET could not be kept in the keychain: {exc}")
        entries["OFFEN_SECRET"] = Resolved(secret.setting, None, base64.b64decode(fresh), source)
    if problems:
        raise ConfigError(problems)
    values = {r.setting.field: r.value for r in entries.values()}
    values["secret"] = values["secret"] or b""
    sources = MappingProxyType({env: r.source for env, r in entries.items()})
    return Config(**values, sources=sources)


def debug_view(cfg: Config) -> dict[str, object]:
    """Every setting by env name, JSON-ready, secrets masked (for `offen debug`)."""
    view: dict[str, object] = {}
    for setting in SETTINGS:
        value = getattr(cfg, setting.field)
        if setting.secret:
            view[setting.env] = MASK if value else UNSET
        elif setting.env == "OFFEN_DATABASE_CONNECTIONSTRING" and isinstance(value, str):
            view[setting.env] = mask_dsn(value)
        elif isinstance(value, tuple):
            view[setting.env] = list(value)
        else:
            view[setting.env] = value
    return view


def sqlalchemy_url(cfg: Config) -> str:
    """The SQLAlchemy URL for the configured database (`sqlite:////abs/path`)."""
    if cfg.database_dialect != "sqlite3":
        raise ConfigError(
            f"OFFEN_DATABASE_DIALECT={cfg.database_dialect} is not supported yet; it comes in a later release."
        )
    dsn = cfg.database_connectionstring
    if dsn == ":memory:":
        return "sqlite://"
    return "sqlite:///" + os.path.abspath(dsn)
