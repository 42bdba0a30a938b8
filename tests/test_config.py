"""Tests for appliance.config: the settings table, precedence, env files, secrets."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from appliance import config as cfgmod
from appliance.config import (
    SETTINGS,
    debug_view,
    find_env_file,
    load_config,
    read_env_file,
    sqlalchemy_url,
)
from appliance.errors import ConfigError
from appliance.keychain import Keychain, MemoryKeychain

SECRET_B64 = base64.b64encode(b"0123456789abcdef").decode()


def base_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A minimal environment that keeps every path inside tmp_path."""
    env = {"HOME": str(tmp_path / "home"), "OFFEN_APP_DATADIR": str(tmp_path / "data")}
    env.update(extra)
    return env


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# -- the table ----------------------------------------------------------------


def test_settings_table_is_consistent():
    envs = [s.env for s in SETTINGS]
    fields = [s.field for s in SETTINGS]
    assert len(set(envs)) == len(envs) and len(set(fields)) == len(fields)
    config_fields = set(cfgmod.Config.__dataclass_fields__) - {"sources"}
    assert set(fields) == config_fields
    for s in SETTINGS:
        assert s.env.startswith("OFFEN_") and s.help
        # Secrets and bootstrap settings never come from the database.
        if s.secret or s.bootstrap:
            assert not s.stored_ok, s.env
        if s.kind == "choice":
            assert s.default is None or s.default in s.choices


def test_defaults_as_root(tmp_path):
    cfg = load_config({}, is_root=True)
    assert cfg.server_port == 3000 and cfg.server_host == "0.0.0.0"
    assert cfg.app_datadir == "/var/opt/offen"
    assert cfg.database_connectionstring == "/var/opt/offen/offen.db"
    assert cfg.server_certificatecache == "/var/opt/offen/certs"
    assert sqlalchemy_url(cfg) == "sqlite:////var/opt/offen/offen.db"
    assert cfg.app_retention == "6months" and cfg.retention_period.days == 186
    assert cfg.smtp_port == 587 and cfg.smtp_authtype == "LOGIN" and cfg.smtp_sender == "no-reply@offen.dev"
    assert cfg.app_singlenode is True and cfg.app_accountkeytype == "x25519"
    assert len(cfg.secret) == 16  # random for this run
    assert cfg.sources["OFFEN_SECRET"] == "random for this run (not kept)"
    assert cfg.sources["OFFEN_SERVER_PORT"] == "default"


def test_default_data_dir_for_a_normal_user(tmp_path):
    cfg = load_config({}, is_root=False)
    assert cfg.app_datadir != "/var/opt/offen"
    assert cfg.app_datadir.rstrip("/").endswith("offen")
    assert cfg.database_connectionstring == os.path.join(cfg.app_datadir, "offen.db")


@pytest.mark.parametrize(
    "layers, expected, source",
    [
        ({"flag": "de", "env": "fr", "file": "es", "stored": "pt"}, "de", "flag"),
        ({"env": "fr", "file": "es", "stored": "pt"}, "fr", "environment"),
        ({"file": "es", "stored": "pt"}, "es", "env file"),
        ({"stored": "pt"}, "pt", "database"),
        ({}, "en", "default"),
    ],
    ids=["flag-wins", "env-beats-file", "file-beats-stored", "stored-beats-default", "default"],
)
def test_precedence(tmp_path, layers, expected, source):
    env = base_env(tmp_path)
    if "env" in layers:
        env["OFFEN_APP_LOCALE"] = layers["env"]
    env_file = (
        write(tmp_path / "offen.env", f"OFFEN_APP_LOCALE={layers['file']}\n") if "file" in layers else None
    )
    flags = {"OFFEN_APP_LOCALE": layers["flag"]} if "flag" in layers else {}
    stored = {"OFFEN_APP_LOCALE": layers["stored"]} if "stored" in layers else {}
    cfg = load_config(env, flags=flags, env_file=env_file, stored=stored)
    assert cfg.app_locale == expected
    assert cfg.sources["OFFEN_APP_LOCALE"].startswith(source)


def test_bootstrap_settings_never_come_from_the_database(tmp_path):
    stored = {
        "OFFEN_SERVER_PORT": "9999",
        "OFFEN_DATABASE_CONNECTIONSTRING": "/elsewhere.db",
        "OFFEN_SECRET": "x",
    }
    cfg = load_config(base_env(tmp_path), stored=stored)
    assert cfg.server_port == 3000
    assert cfg.database_connectionstring == str(tmp_path / "data" / "offen.db")
    assert cfg.sources["OFFEN_SECRET"] != "database"


def test_flags_accept_field_names_and_refuse_secrets(tmp_path):
    cfg = load_config(base_env(tmp_path), flags={"server_port": "8080"})
    assert cfg.server_port == 8080 and cfg.sources["OFFEN_SERVER_PORT"] == "flag"
    with pytest.raises(ConfigError) as info:
        load_config(base_env(tmp_path), flags={"OFFEN_SECRET": SECRET_B64})
    assert "cannot be given as a flag" in str(info.value)


def test_file_variant_is_read_and_stripped(tmp_path):
    secret_file = write(tmp_path / "run" / "secret", SECRET_B64 + "\n")
    cfg = load_config(base_env(tmp_path, OFFEN_SECRET_FILE=str(secret_file)))
    assert cfg.secret == b"0123456789abcdef"
    assert cfg.sources["OFFEN_SECRET"] == f"file {secret_file}"


def test_file_variant_and_plain_value_together_is_an_error(tmp_path):
    port_file = write(tmp_path / "port", "81")
    with pytest.raises(ConfigError) as info:
        load_config(base_env(tmp_path, OFFEN_SERVER_PORT="80", OFFEN_SERVER_PORT_FILE=str(port_file)))
    assert "OFFEN_SERVER_PORT and OFFEN_SERVER_PORT_FILE are both set" in str(info.value)


def test_missing_file_variant_is_reported(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_config(base_env(tmp_path, OFFEN_SMTP_PASSWORD_FILE=str(tmp_path / "nope")))
    assert "OFFEN_SMTP_PASSWORD_FILE points to" in str(info.value)


def test_env_file_never_overrides_the_environment(tmp_path):
    env_file = write(tmp_path / "offen.env", "OFFEN_SERVER_PORT=4000\nOFFEN_SMTP_HOST=mail.example\n")
    cfg = load_config(base_env(tmp_path, OFFEN_SERVER_PORT="5000"), env_file=env_file)
    assert cfg.server_port == 5000
    assert cfg.smtp_host == "mail.example"
    assert cfg.sources["OFFEN_SMTP_HOST"] == f"env file {env_file}"


def test_env_file_file_variant_is_relative_to_the_env_file(tmp_path):
    write(tmp_path / "conf" / "pw.txt", "hunter2\n")
    env_file = write(tmp_path / "conf" / "offen.env", "OFFEN_SMTP_PASSWORD_FILE=pw.txt\n")
    cfg = load_config(base_env(tmp_path), env_file=env_file)
    assert cfg.smtp_password == "hunter2"


def test_all_problems_are_reported_at_once(tmp_path):
    env = base_env(
        tmp_path,
        OFFEN_SERVER_PORT="abc",
        OFFEN_SMTP_PORT="70000",
        OFFEN_APP_RETENTION="forever",
        OFFEN_APP_ROOTACCOUNT="not-a-uuid",
        OFFEN_APP_PUBLICURL="ftp://x",
        OFFEN_SERVER_REVERSEPROXY="maybe",
        OFFEN_SECRET="!!not base64 hunter2!!",
    )
    with pytest.raises(ConfigError) as info:
        load_config(env, stored={"OFFEN_APP_LOCALE": "xx"})
    problems = info.value.problems
    assert "OFFEN_SERVER_PORT must be a whole number between 1 and 65535, got 'abc'" in problems
    assert any(p.startswith("OFFEN_SMTP_PORT must be a whole number") for p in problems)
    assert any(p.startswith("OFFEN_APP_RETENTION must be one of 6months") for p in problems)
    assert any(p.startswith("OFFEN_APP_ROOTACCOUNT must be a UUID") for p in problems)
    assert any(p.startswith("OFFEN_APP_PUBLICURL must be an absolute") for p in problems)
    assert any(p.startswith("OFFEN_SERVER_REVERSEPROXY must be true or false") for p in problems)
    assert any(p.startswith("OFFEN_APP_LOCALE (stored in the database) must be one of") for p in problems)
    assert any(p.startswith("OFFEN_SECRET must be standard base64") for p in problems)
    assert len(problems) == 8
    # A wrong secret is still a secret: it is never echoed.
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize(
    "env, message",
    [
        ({"OFFEN_SERVER_AUTOTLS": "example.com"}, "automatic TLS comes in a later release"),
        ({"OFFEN_DATABASE_DIALECT": "postgres"}, "OFFEN_DATABASE_DIALECT=postgres is not supported yet"),
        ({"OFFEN_DATABASE_DIALECT": "mysql"}, "OFFEN_DATABASE_DIALECT=mysql is not supported yet"),
        ({"OFFEN_DATABASE_DIALECT": "oracle"}, "must be one of sqlite3, postgres, mysql"),
        ({"OFFEN_SERVER_SSLCERTIFICATE": "/c.pem"}, "HTTPS needs both files"),
        (
            {"OFFEN_SERVER_SSLKEY": "/k.pem"},
            "OFFEN_SERVER_SSLKEY is set but OFFEN_SERVER_SSLCERTIFICATE is not",
        ),
    ],
    ids=["autotls", "postgres", "mysql", "unknown-dialect", "cert-only", "key-only"],
)
def test_refused_features(tmp_path, env, message):
    with pytest.raises(ConfigError) as info:
        load_config(base_env(tmp_path, **env))
    assert message in str(info.value)


def test_tls_files_and_paths_are_env_expanded(tmp_path):
    env = base_env(
        tmp_path,
        CERTS=str(tmp_path / "certs"),
        OFFEN_SERVER_SSLCERTIFICATE="$CERTS/cert.pem",
        OFFEN_SERVER_SSLKEY="${CERTS}/key.pem",
        OFFEN_DATABASE_CONNECTIONSTRING="$HOME/db/offen.db",
    )
    cfg = load_config(env)
    assert cfg.server_sslcertificate == str(tmp_path / "certs" / "cert.pem")
    assert cfg.server_sslkey == str(tmp_path / "certs" / "key.pem")
    assert cfg.database_connectionstring == str(tmp_path / "home" / "db" / "offen.db")
    assert sqlalchemy_url(cfg) == "sqlite:///" + str(tmp_path / "home" / "db" / "offen.db")


def test_relative_sqlite_path_becomes_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = load_config(base_env(tmp_path, OFFEN_DATABASE_CONNECTIONSTRING="rel.db"))
    assert cfg.database_connectionstring == str(tmp_path / "rel.db")
    assert sqlalchemy_url(cfg).startswith("sqlite:////")


def test_certificate_cache_accepts_the_docs_typo(tmp_path):
    cfg = load_config(base_env(tmp_path, OFFEN_SERVER_CERTFICATECACHE=str(tmp_path / "cache")))
    assert cfg.server_certificatecache == str(tmp_path / "cache")


@pytest.mark.parametrize(
    "var, raw, field, value",
    [
        ("OFFEN_SMTP_AUTHTYPE", "cram-md5", "smtp_authtype", "CRAM-MD5"),
        ("OFFEN_APP_LOGLEVEL", "WARN", "app_loglevel", "warn"),
        ("OFFEN_APP_DEVELOPMENT", "1", "app_development", True),
        ("OFFEN_APP_SINGLENODE", "False", "app_singlenode", False),
        ("OFFEN_APP_PUBLICURL", "https://stats.example.com/", "app_publicurl", "https://stats.example.com"),
        ("OFFEN_APP_ACCOUNTKEYTYPE", "rsa", "app_accountkeytype", "rsa"),
        ("OFFEN_APP_ROOTACCOUNT", "9B63C4D8-65C0-438C-9D30-CC4B01173393", "app_rootaccount",
         "9b63c4d8-65c0-438c-9d30-cc4b01173393"),
        ("OFFEN_DATABASE_CONNECTIONRETRIES", "3", "database_connectionretries", 3),
        ("OFFEN_SMTP_SENDER", "Offen <stats@example.com>", "smtp_sender", "Offen <stats@example.com>"),
        ("OFFEN_APP_RETENTION", "7days", "retention_period.days", 7),
    ],
)  # fmt: skip
def test_values_are_normalised(tmp_path, var, raw, field, value):
    cfg = load_config(base_env(tmp_path, **{var: raw}))
    obj = cfg
    for part in field.split("."):
        obj = getattr(obj, part)
    assert obj == value


def test_argon_override_only_from_the_real_environment(tmp_path):
    env_file = write(tmp_path / "offen.env", "OFFEN_ARGONNUMCPUOVERRIDE=4\n")
    cfg = load_config(base_env(tmp_path), env_file=env_file, stored={"OFFEN_ARGONNUMCPUOVERRIDE": "2"})
    assert cfg.argon_num_cpu_override is None
    cfg = load_config(base_env(tmp_path, OFFEN_ARGONNUMCPUOVERRIDE="8"), env_file=env_file)
    assert cfg.argon_num_cpu_override == 8


def test_heroku_overrides(tmp_path):
    env = base_env(tmp_path, OFFEN_APP_DEPLOYTARGET="heroku", PORT="5123", APP_SECRET="raw-not-base64")
    cfg = load_config(env)
    assert cfg.server_port == 5123
    assert cfg.secret == b"raw-not-base64"  # raw bytes (reference §2.8)
    with pytest.raises(ConfigError) as info:
        load_config({**env, "DATABASE_URL": "postgres://u:p@db/x"})
    assert "postgres is not supported yet" in str(info.value)


# -- secrets ------------------------------------------------------------------


def test_secret_from_keychain_when_not_in_environment(tmp_path):
    keychain = MemoryKeychain({"secret": SECRET_B64, "smtp_password": "pw"})
    cfg = load_config(base_env(tmp_path), keychain=keychain)
    assert cfg.secret == b"0123456789abcdef" and cfg.smtp_password == "pw"
    assert cfg.sources["OFFEN_SECRET"] == "keyring"
    # The environment comes first, as in Offen.
    cfg = load_config(base_env(tmp_path, OFFEN_SMTP_PASSWORD="envpw"), keychain=keychain)
    assert cfg.smtp_password == "envpw" and cfg.sources["OFFEN_SMTP_PASSWORD"] == "environment"


def test_generated_secret_is_kept(tmp_path):
    keychain = Keychain(tmp_path / "data", backend=_fail_backend())
    first = load_config(base_env(tmp_path), keychain=keychain, generate_secret=True)
    assert len(first.secret) == 16
    assert base64.b64decode(keychain.get("secret")) == first.secret
    # A new process (a new Keychain on the same folder) gets the same secret.
    again = load_config(base_env(tmp_path), keychain=Keychain(tmp_path / "data", backend=_fail_backend()))
    assert again.secret == first.secret
    assert again.sources["OFFEN_SECRET"].startswith("secrets file ")


def test_without_generate_the_secret_is_random_per_run(tmp_path):
    keychain = MemoryKeychain()
    a = load_config(base_env(tmp_path), keychain=keychain)
    b = load_config(base_env(tmp_path), keychain=keychain)
    assert a.secret != b.secret and keychain.get("secret") is None


def test_secrets_are_masked_in_debug_view_and_repr(tmp_path):
    env = base_env(tmp_path, OFFEN_SECRET=SECRET_B64, OFFEN_SMTP_PASSWORD="smtp-hunter2")
    cfg = load_config(env)
    view = debug_view(cfg)
    assert set(view) == {s.env for s in SETTINGS}
    assert view["OFFEN_SECRET"] == "******" and view["OFFEN_SMTP_PASSWORD"] == "******"
    assert debug_view(load_config(base_env(tmp_path)))["OFFEN_SMTP_PASSWORD"] == "(unset)"
    text = repr(cfg) + repr(view)
    assert "smtp-hunter2" not in text and SECRET_B64 not in text and "0123456789abcdef" not in text


def test_dsn_password_is_masked():
    assert cfgmod.mask_dsn("postgres://u:hunter2@db:5432/x") == "postgres://u:******@db:5432/x"
    assert "hunter2" not in cfgmod.mask_dsn("host=db password=hunter2 dbname=x")
    assert cfgmod.mask_dsn("/var/opt/offen/offen.db") == "/var/opt/offen/offen.db"


# -- env files ------------------------------------------------------------------


def test_read_env_file_syntax(tmp_path):
    text = (
        "# a comment\n"
        "\n"
        "PLAIN=value\n"
        "export EXPORTED=yes\n"
        "SPACED = padded value   \n"
        "INLINE=abc # trailing comment\n"
        "HASH=abc#not-a-comment\n"
        "SINGLE='literal $HOME \\n # kept'\n"
        'DOUBLE="line1\\nline2 \\"quoted\\""  # comment\n'
        'MULTI="first\n'
        'second"\n'
        "EMPTY=\n"
        "EQUALS=a=b=c\n"
    )
    values = read_env_file(write(tmp_path / "offen.env", text))
    assert values == {
        "PLAIN": "value",
        "EXPORTED": "yes",
        "SPACED": "padded value",
        "INLINE": "abc",
        "HASH": "abc#not-a-comment",
        "SINGLE": "literal $HOME \\n # kept",
        "DOUBLE": 'line1\nline2 "quoted"',
        "MULTI": "first\nsecond",
        "EMPTY": "",
        "EQUALS": "a=b=c",
    }


def test_read_env_file_reports_every_bad_line(tmp_path):
    path = write(tmp_path / "bad.env", "GOOD=1\nno equals sign\n1BAD=x\nQ='open\n")
    with pytest.raises(ConfigError) as info:
        read_env_file(path)
    problems = info.value.problems
    assert [p.split(":")[0] for p in problems] == [f"{path} line {n}" for n in (2, 3, 4)]


def test_find_env_file_order(tmp_path):
    cwd, home, xdg = tmp_path / "cwd", tmp_path / "home", tmp_path / "xdg"
    cwd.mkdir()
    environ = {"HOME": str(home), "XDG_CONFIG_HOME": str(xdg)}
    assert find_env_file(environ, None, cwd) in (None, Path("/etc/offen/offen.env"))
    xdg_file = write(xdg / "offen.env", "A=1\n")
    assert find_env_file(environ, None, cwd) == xdg_file
    home_file = write(home / ".config" / "offen.env", "A=1\n")
    assert find_env_file(environ, None, cwd) == home_file
    cwd_file = write(cwd / "offen.env", "A=1\n")
    assert find_env_file(environ, None, cwd) == cwd_file
    explicit = write(tmp_path / "other.env", "A=1\n")
    assert find_env_file(environ, "other.env", tmp_path) == explicit


def test_explicit_env_file_must_exist(tmp_path):
    with pytest.raises(ConfigError) as info:
        find_env_file({}, str(tmp_path / "missing.env"), tmp_path)
    assert "does not exist" in str(info.value)


def test_broken_env_file_is_a_config_problem(tmp_path):
    env_file = write(tmp_path / "offen.env", "garbage line\n")
    with pytest.raises(ConfigError) as info:
        load_config(base_env(tmp_path, OFFEN_SERVER_PORT="x"), env_file=env_file)
    assert len(info.value.problems) == 2


def test_empty_values_count_as_unset(tmp_path):
    cfg = load_config(base_env(tmp_path, OFFEN_SERVER_PORT="", OFFEN_SMTP_HOST=""))
    assert cfg.server_port == 3000 and cfg.smtp_host is None


def test_environment_from_process_is_a_copy(monkeypatch):
    monkeypatch.setenv("OFFEN_TEST_MARKER", "1")
    env = cfgmod.environment_from_process()
    assert env["OFFEN_TEST_MARKER"] == "1"
    env["OFFEN_TEST_MARKER"] = "2"
    assert os.environ["OFFEN_TEST_MARKER"] == "1"


def _fail_backend():
    import keyring.backends.fail

    return keyring.backends.fail.Keyring()
