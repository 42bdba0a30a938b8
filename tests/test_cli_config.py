"""Tests for appliance.cli_config: `offen config list|get|set|unset`."""

from __future__ import annotations

import base64
import io
from datetime import UTC, datetime
from pathlib import Path

import keyring.backends.fail
import pytest

from appliance.cli_config import run_config_command
from appliance.keychain import Keychain, MemoryKeychain

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
SECRET_B64 = base64.b64encode(b"0123456789abcdef").decode()


class FakeStore:
    """A fake of `appliance.store.Store`'s settings methods: a dict."""

    def __init__(self, initial: dict[str, str] | None = None) -> None:
        self.settings = dict(initial or {})
        self.writes: list[tuple[str, str, datetime]] = []

    def get_settings(self) -> dict[str, str]:
        return dict(self.settings)

    def set_setting(self, name: str, value: str, now: datetime) -> None:
        self.writes.append((name, value, now))
        self.settings[name] = value

    def delete_setting(self, name: str) -> bool:
        return self.settings.pop(name, None) is not None


def run(argv, *, environ=None, env_file=None, store=None, keychain=None):
    out, err = io.StringIO(), io.StringIO()
    code = run_config_command(
        argv,
        environ=environ if environ is not None else {},
        env_file=env_file,
        store=store if store is not None else FakeStore(),
        keychain=keychain if keychain is not None else MemoryKeychain(),
        now=lambda: NOW,
        out=out,
        err=err,
    )
    return code, out.getvalue(), err.getvalue()


def lines_by_name(text: str) -> dict[str, str]:
    return {line.split("=", 1)[0]: line for line in text.splitlines() if line.startswith("OFFEN_")}


def test_list_shows_every_setting_with_its_source(tmp_path):
    env_file = tmp_path / "offen.env"
    env_file.write_text("OFFEN_SMTP_HOST=mail.example\n")
    store = FakeStore({"OFFEN_APP_LOCALE": "de"})
    keychain = MemoryKeychain({"smtp_password": "hunter2"})
    environ = {"OFFEN_SERVER_PORT": "8080", "OFFEN_APP_DATADIR": str(tmp_path)}
    code, out, err = run(["list"], environ=environ, env_file=env_file, store=store, keychain=keychain)
    assert code == 0, err
    rows = lines_by_name(out)
    assert rows["OFFEN_SERVER_PORT"] == "OFFEN_SERVER_PORT=8080  (environment; bootstrap)"
    assert rows["OFFEN_APP_LOCALE"] == "OFFEN_APP_LOCALE=de  (database)"
    assert rows["OFFEN_SMTP_HOST"] == f"OFFEN_SMTP_HOST=mail.example  (env file {env_file})"
    assert rows["OFFEN_SMTP_PASSWORD"] == "OFFEN_SMTP_PASSWORD=******  (keyring)"
    assert rows["OFFEN_SECRET"] == "OFFEN_SECRET=(unset)  (default)"
    assert rows["OFFEN_APP_RETENTION"] == "OFFEN_APP_RETENTION=6months  (default)"
    assert "hunter2" not in out + err
    assert "Secrets are kept in: in-memory keychain" in out
    assert f"Env file: {env_file}" in out


def test_list_reports_the_file_fallback(tmp_path):
    keychain = Keychain(tmp_path / "data", backend=keyring.backends.fail.Keyring())
    keychain.set("secret", SECRET_B64)
    code, out, _ = run(["list"], environ={"OFFEN_APP_DATADIR": str(tmp_path / "data")}, keychain=keychain)
    assert code == 0
    secrets_file = tmp_path / "data" / "secrets.json"
    assert lines_by_name(out)["OFFEN_SECRET"] == f"OFFEN_SECRET=******  (secrets file {secrets_file})"
    assert f"owner-only file {secrets_file} (not encrypted" in out
    assert SECRET_B64 not in out


def test_list_warns_when_the_environment_overrides_a_stored_value():
    store = FakeStore({"OFFEN_APP_LOCALE": "de"})
    code, out, err = run(["list"], environ={"OFFEN_APP_LOCALE": "fr"}, store=store)
    assert code == 0
    assert "OFFEN_APP_LOCALE=fr  (environment)" in out
    assert "warning: OFFEN_APP_LOCALE is stored in the database" in err


def test_list_reports_problems_and_fails():
    code, out, err = run(["list"], store=FakeStore({"OFFEN_SMTP_PORT": "lots"}))
    assert code == 1
    assert "OFFEN_SMTP_PORT=lots  (database; NOT VALID)" in out
    assert "problem: OFFEN_SMTP_PORT (stored in the database) must be a whole number" in err


def test_get_reports_an_invalid_value():
    code, out, err = run(["get", "OFFEN_SMTP_PORT"], store=FakeStore({"OFFEN_SMTP_PORT": "lots"}))
    assert code == 1 and out == "OFFEN_SMTP_PORT=lots  (database; NOT VALID)\n"
    assert "must be a whole number between 1 and 65535, got 'lots'" in err


def test_set_validates_and_stores_the_normalised_value():
    store = FakeStore()
    code, out, err = run(["set", "smtp_authtype", "plain"], store=store)
    assert code == 0, err
    assert store.writes == [("OFFEN_SMTP_AUTHTYPE", "PLAIN", NOW)]
    assert "OFFEN_SMTP_AUTHTYPE=PLAIN  (saved in the database)" in out
    code, out, err = run(["get", "OFFEN_SMTP_AUTHTYPE"], store=store)
    assert (code, out) == (0, "OFFEN_SMTP_AUTHTYPE=PLAIN  (database)\n")


def test_set_rejects_invalid_values_with_the_load_config_message():
    store = FakeStore()
    code, out, err = run(["set", "OFFEN_APP_LOCALE", "klingon"], store=store)
    assert code == 1 and out == ""
    assert "OFFEN_APP_LOCALE must be one of en, de, fr, es, pt, vi, got 'klingon'" in err
    assert store.writes == []


@pytest.mark.parametrize(
    "name", ["OFFEN_SERVER_PORT", "OFFEN_DATABASE_CONNECTIONSTRING", "app_datadir", "OFFEN_SERVER_SSLKEY"]
)
def test_bootstrap_settings_are_refused(tmp_path, name):
    store = FakeStore()
    env_file = tmp_path / "offen.env"
    for argv in (["set", name, "1234"], ["unset", name]):
        code, out, err = run(argv, store=store, env_file=env_file)
        assert code == 1
        assert "is a bootstrap setting" in err and str(env_file) in err
    assert store.writes == []


def test_argon_override_is_environment_only():
    code, _, err = run(["set", "OFFEN_ARGONNUMCPUOVERRIDE", "4"])
    assert code == 1 and "real environment" in err


def test_secrets_go_to_the_keychain_never_the_database():
    store, keychain = FakeStore(), MemoryKeychain()
    code, out, err = run(["set", "OFFEN_SMTP_PASSWORD", "hunter2"], store=store, keychain=keychain)
    assert code == 0, err
    assert keychain.get("smtp_password") == "hunter2"
    assert store.writes == [] and "hunter2" not in out + err
    code, out, _ = run(["get", "smtp_password"], store=store, keychain=keychain)
    assert out == "OFFEN_SMTP_PASSWORD=******  (keyring)\n"
    code, out, _ = run(["unset", "OFFEN_SMTP_PASSWORD"], store=store, keychain=keychain)
    assert code == 0 and keychain.get("smtp_password") is None


def test_secret_must_be_valid_base64_and_is_not_echoed():
    keychain = MemoryKeychain()
    code, out, err = run(["set", "OFFEN_SECRET", "not base64 hunter2!"], keychain=keychain)
    assert code == 1 and "must be standard base64" in err and "hunter2" not in err
    assert keychain.get("secret") is None
    code, _, _ = run(["set", "OFFEN_SECRET", SECRET_B64], keychain=keychain)
    assert code == 0 and keychain.get("secret") == SECRET_B64


def test_database_password_goes_to_the_keychain():
    keychain = MemoryKeychain()
    code, out, _ = run(["set", "database_password", "pg-hunter2"], keychain=keychain)
    assert code == 0 and keychain.get("database_password") == "pg-hunter2" and "pg-hunter2" not in out
    code, out, _ = run(["get", "database_password"], keychain=keychain)
    assert out == "database_password=******  (keychain)\n"


def test_set_warns_when_the_environment_wins():
    code, out, err = run(["set", "OFFEN_APP_LOCALE", "de"], environ={"OFFEN_APP_LOCALE": "fr"})
    assert code == 0
    assert "warning: OFFEN_APP_LOCALE is also set in environment, which takes precedence" in err


def test_unset_removes_a_stored_value():
    store = FakeStore({"OFFEN_APP_LOCALE": "de"})
    code, out, _ = run(["unset", "app_locale"], store=store)
    assert (code, out) == (0, "OFFEN_APP_LOCALE removed\n")
    assert store.settings == {}
    code, out, _ = run(["unset", "app_locale"], store=store)
    assert (code, out) == (0, "OFFEN_APP_LOCALE was not stored\n")


@pytest.mark.parametrize(
    "argv, message",
    [
        ([], "usage: offen config list"),
        (["frobnicate"], "unknown command 'frobnicate'"),
        (["get"], "wrong number of arguments"),
        (["set", "OFFEN_APP_LOCALE"], "wrong number of arguments"),
        (["get", "OFFEN_APP_LOCAL"], "did you mean OFFEN_APP_LOCALE?"),
    ],
    ids=["no-args", "unknown-command", "get-no-name", "set-no-value", "typo"],
)
def test_usage_errors(argv, message):
    code, out, err = run(argv)
    assert code == 1 and message in err and out == ""


def test_help_goes_to_out():
    code, out, err = run(["--help"])
    assert code == 0 and out.startswith("usage:") and err == ""


def test_with_the_real_store(tmp_path):
    store_mod = pytest.importorskip("appliance.store")
    try:
        store = store_mod.open_store(f"sqlite:///{tmp_path / 'offen.db'}")
        store.migrate(now=NOW)
    except Exception as exc:  # the store is written in parallel; skip if not ready
        pytest.skip(f"appliance.store is not usable yet: {exc!r}")
    try:
        code, _, err = run(["set", "OFFEN_APP_RETENTION", "30days"], store=store)
        assert code == 0, err
        assert store.get_settings()["OFFEN_APP_RETENTION"] == "30days"
        code, out, _ = run(["get", "OFFEN_APP_RETENTION"], store=store)
        assert out == "OFFEN_APP_RETENTION=30days  (database)\n"
        code, out, _ = run(["unset", "OFFEN_APP_RETENTION"], store=store)
        assert out == "OFFEN_APP_RETENTION removed\n" and "OFFEN_APP_RETENTION" not in store.get_settings()
    finally:
        store.close()


def test_real_store_secret_never_reaches_the_database(tmp_path):
    store_mod = pytest.importorskip("appliance.store")
    db = tmp_path / "offen.db"
    try:
        store = store_mod.open_store(f"sqlite:///{db}")
        store.migrate(now=NOW)
    except Exception as exc:
        pytest.skip(f"appliance.store is not usable yet: {exc!r}")
    try:
        keychain = Keychain(tmp_path / "data", backend=keyring.backends.fail.Keyring())
        code, _, err = run(
            ["set", "OFFEN_SMTP_PASSWORD", "db-hunter2-marker"], store=store, keychain=keychain
        )
        assert code == 0, err
    finally:
        store.close()
    assert b"db-hunter2-marker" not in Path(db).read_bytes()
    assert keychain.get("smtp_password") == "db-hunter2-marker"
