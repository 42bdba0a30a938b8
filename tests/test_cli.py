"""The `offen` command, run for real: subprocesses over a real data folder, a real pty, real servers.

Every test gets its own data folder; the OS keyring is switched off
(`DBUS_SESSION_BUS_ADDRESS=disabled:`), so secrets go to the owner-only
secrets file, the path a headless server takes.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import json
import os
import pty
import secrets
import select
import sqlite3
import stat
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from appliance import ids
from appliance.accounts import ActiveAccounts
from appliance.config import MASK
from appliance.logins import Logins, build_logins
from appliance.store import open_store
from tests.offen14 import build_offen14_database
from tests.realserver import REPO, OffenProcess, free_port, offen_environment, run_offen

pytestmark = pytest.mark.slow

PASSWORD = "pty typed password 42"
ACCOUNT_ID = "9b63c4d8-65c0-438c-9d30-cc4b01173393"


def new_secret() -> str:
    return base64.b64encode(secrets.token_bytes(16)).decode()


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    return offen_environment(tmp_path / "data", **extra)


def ok(result) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def open_data_store(tmp_path: Path):
    return open_store(f"sqlite:///{tmp_path / 'data' / 'offen.db'}")


def logins_for(store, secret_b64: str) -> Logins:
    return build_logins(
        store,
        secret=base64.b64decode(secret_b64),
        account_key_type="x25519",
        active_accounts=ActiveAccounts(store),
    )


def setup(env: dict[str, str], *extra: str, name: str = "Site", email: str = "admin@example.test"):
    return run_offen(["setup", "-name", name, "-email", email, "-password", "correct horse 1", *extra], env)


# -- debug ------------------------------------------------------------------------------------


def test_debug_masks_the_secret_and_the_smtp_password(tmp_path):
    secret = new_secret()
    smtp_password = "smtp-" + secrets.token_hex(12)
    env = env_for(
        tmp_path, OFFEN_SECRET=secret, OFFEN_SMTP_PASSWORD=smtp_password, OFFEN_SMTP_HOST="mail.test"
    )
    result = run_offen(["debug"], env)
    view = json.loads(ok(result))
    assert view["OFFEN_SECRET"] == MASK
    assert view["OFFEN_SMTP_PASSWORD"] == MASK
    assert view["OFFEN_SMTP_HOST"] == "mail.test"
    assert view["OFFEN_APP_DATADIR"] == str(tmp_path / "data")
    everything = result.stdout + result.stderr
    assert secret not in everything and smtp_password not in everything
    assert base64.b64decode(secret).hex() not in everything


def test_debug_masks_secrets_given_as_files(tmp_path):
    smtp_password = "file-" + secrets.token_hex(12)
    (tmp_path / "smtp").write_text(smtp_password + "\n")
    env = env_for(tmp_path, OFFEN_SMTP_PASSWORD_FILE=str(tmp_path / "smtp"))
    result = run_offen(["debug"], env)
    assert json.loads(ok(result))["OFFEN_SMTP_PASSWORD"] == MASK
    assert smtp_password not in result.stdout + result.stderr


# -- config -----------------------------------------------------------------------------------


def test_config_set_get_list_unset_against_a_real_data_folder(tmp_path):
    env = env_for(tmp_path)
    assert "saved in the database" in ok(run_offen(["config", "set", "OFFEN_APP_LOCALE", "de"], env))
    assert ok(run_offen(["config", "get", "app_locale"], env)).strip() == "OFFEN_APP_LOCALE=de  (database)"
    listing = ok(run_offen(["config", "list"], env))
    assert "OFFEN_APP_LOCALE=de  (database)" in listing.splitlines()
    assert "Secrets are kept in: owner-only file" in listing

    # The environment wins over the stored value, and says so.
    overridden = run_offen(["config", "get", "OFFEN_APP_LOCALE"], {**env, "OFFEN_APP_LOCALE": "fr"})
    assert ok(overridden).strip() == "OFFEN_APP_LOCALE=fr  (environment)"
    assert "stored in the database, but the value from environment takes precedence" in overridden.stderr
    set_anyway = run_offen(["config", "set", "OFFEN_APP_LOCALE", "es"], {**env, "OFFEN_APP_LOCALE": "fr"})
    assert "also set in environment" in set_anyway.stderr

    assert "OFFEN_APP_LOCALE removed" in ok(run_offen(["config", "unset", "OFFEN_APP_LOCALE"], env))
    assert (
        ok(run_offen(["config", "get", "OFFEN_APP_LOCALE"], env)).strip() == "OFFEN_APP_LOCALE=en  (default)"
    )


def test_config_refuses_bootstrap_settings_and_bad_values(tmp_path):
    env = env_for(tmp_path)
    port = run_offen(["config", "set", "OFFEN_SERVER_PORT", "8080"], env)
    assert port.returncode == 1 and "bootstrap setting" in port.stderr
    bad = run_offen(["config", "set", "OFFEN_APP_RETENTION", "forever"], env)
    assert bad.returncode == 1 and "OFFEN_APP_RETENTION must be one of" in bad.stderr
    usage = run_offen(["config"], env)
    assert usage.returncode == 1 and "usage: offen config list" in usage.stderr


def test_config_keeps_secrets_out_of_the_database(tmp_path):
    env = env_for(tmp_path)
    value = "smtp-" + secrets.token_hex(12)
    assert "saved in owner-only file" in ok(run_offen(["config", "set", "OFFEN_SMTP_PASSWORD", value], env))
    assert ok(run_offen(["config", "get", "OFFEN_SMTP_PASSWORD"], env)).startswith(
        f"OFFEN_SMTP_PASSWORD={MASK}"
    )
    data = tmp_path / "data"
    secrets_file = data / "secrets.json"
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    assert json.loads(secrets_file.read_text())["services"]["offen"]["smtp_password"] == value
    for path in data.iterdir():
        if path != secrets_file:
            assert value.encode() not in path.read_bytes(), f"{path.name} holds the SMTP password"


# -- migrate ----------------------------------------------------------------------------------


def _offen14(tmp_path: Path, events: list[dict] | None = None, anonymous_event: bool = True) -> Path:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    return build_offen14_database(
        data / "offen.db",
        accounts=[{"account_id": ACCOUNT_ID, "name": "Offen Era Site", "public_key": "{}", "user_salt": "x"}],
        events=events or [],
        anonymous_event=anonymous_event,
    )


def test_migrate_an_offen_14_database_shows_progress_and_the_backup(tmp_path):
    path = _offen14(tmp_path)
    env = env_for(tmp_path)
    out = ok(run_offen(["migrate"], env))
    assert "Applying" in out and "database migration(s)" in out
    assert "Backing up the database: 100%" in out
    line = next(line for line in out.splitlines() if "from before the migration is at" in line)
    backup = Path(line.rsplit(" at ", 1)[1])
    assert backup.parent == path.parent and backup.name.startswith("offen.db.backup-")
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    with sqlite3.connect(backup) as copy:  # the copy is the untouched Offen 1.4 database
        assert copy.execute("SELECT name FROM accounts").fetchall() == [("Offen Era Site",)]
        tables = {row[0] for row in copy.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "account_users" in tables and not any(t.startswith("offen_") for t in tables)
    assert "Migrations done." in out

    again = ok(run_offen(["migrate"], env))
    assert again.strip() == "The database is up to date."
    # One backup, from the first run (opening it above may add its -wal/-shm companions).
    taken = [p.name for p in path.parent.glob("offen.db.backup-*") if not p.name.endswith(("-wal", "-shm"))]
    assert taken == [backup.name]


# -- expire -----------------------------------------------------------------------------------


def test_expire_prints_how_many_events_it_removed(tmp_path):
    now = datetime.now(UTC)
    old = [now - timedelta(days=400 + i) for i in range(3)]
    recent = [now - timedelta(days=10), now - timedelta(hours=1)]  # inside 6months; one outside 7days
    events = [
        {"event_id": ids.new_ulid(moment), "sequence": ids.new_ulid(moment), "account_id": ACCOUNT_ID}
        for moment in old + recent
    ]
    _offen14(tmp_path, events, anonymous_event=False)
    env = env_for(tmp_path)
    refused = run_offen(["expire"], env)
    assert refused.returncode == 1 and "run `offen migrate` first" in refused.stderr
    ok(run_offen(["migrate"], env))
    assert ok(run_offen(["expire"], env)).strip() == f"Expired {len(old)} event(s) older than 6months."
    assert ok(run_offen(["expire"], env)).strip() == "Expired 0 event(s) older than 6months."
    short = ok(run_offen(["expire"], {**env, "OFFEN_APP_RETENTION": "7days"}))
    assert short.strip() == "Expired 1 event(s) older than 7days."


# -- setup ------------------------------------------------------------------------------------


def test_setup_refuses_a_non_empty_database_without_force_and_force_wipes(tmp_path):
    env = env_for(tmp_path, OFFEN_SECRET=new_secret())
    first = ok(setup(env, name="First"))
    first_id = first.split(" with id ")[1].split()[0]
    again = setup(env, name="Second")
    assert again.returncode == 1 and "use -force to wipe it first" in again.stderr
    store = open_data_store(tmp_path)
    try:
        assert [a.account_id for a in store.all_accounts()] == [first_id]
    finally:
        store.close()
    ok(setup(env, "-force", name="Second"))
    store = open_data_store(tmp_path)
    try:
        assert [a.name for a in store.all_accounts()] == ["Second"]
        assert store.count_account_users() == 1
    finally:
        store.close()


def test_setup_forceid_sets_the_account_id(tmp_path):
    env = env_for(tmp_path, OFFEN_SECRET=new_secret())
    out = ok(setup(env, "-forceid", ACCOUNT_ID.upper()))
    assert f"with id {ACCOUNT_ID} " in out
    store = open_data_store(tmp_path)
    try:
        assert store.get_account(ACCOUNT_ID).name == "Site"
    finally:
        store.close()


def test_setup_with_an_invalid_forceid_is_a_readable_error(tmp_path):
    env = env_for(tmp_path)
    result = setup(env, "-forceid", "not-a-uuid")
    assert result.returncode == 1
    assert "-forceid must be a UUID" in result.stderr and "'not-a-uuid'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data" / "offen.db").exists()  # refused before anything was created


def test_setup_without_a_terminal_and_without_a_password_says_so(tmp_path):
    result = run_offen(["setup", "-name", "Site", "-email", "a@example.test"], env_for(tmp_path))
    assert result.returncode == 1 and "no terminal to ask for one" in result.stderr


def _secret_in_file(tmp_path: Path) -> str:
    return json.loads((tmp_path / "data" / "secrets.json").read_text())["services"]["offen"]["secret"]


def _lookup_key_id(tmp_path: Path) -> str | None:
    store = open_data_store(tmp_path)
    try:
        return store.get_meta("email_lookup_key_id")
    finally:
        store.close()


def test_setup_populate_keeps_the_secret_across_serve_starts(tmp_path):
    env = env_for(tmp_path)
    out = ok(setup(env, "-populate"))
    data = tmp_path / "data"
    assert f"OFFEN_SECRET is kept in: owner-only file {data / 'secrets.json'}" in out
    assert stat.S_IMODE((data / "secrets.json").stat().st_mode) == 0o600
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    kept = _secret_in_file(tmp_path)
    fingerprint = hashlib.sha256(kept.encode()).hexdigest()
    assert kept not in out
    # setup indexed the operator under a key derived from exactly this secret.
    store = open_data_store(tmp_path)
    try:
        assert _lookup_key_id(tmp_path) == logins_for(store, kept).credentials.lookup_key_id()
    finally:
        store.close()

    cookie = None
    for run in range(2):
        log_dir = tmp_path / f"serve-{run}"
        log_dir.mkdir()
        server = OffenProcess(env, free_port(), log_dir).start()
        try:
            client = server.client()
            if cookie is None:
                login = client.post_json(
                    "/api/login", {"username": "admin@example.test", "password": "correct horse 1"}
                )
                assert login.status == 200, login.body
                cookie = client.cookies["auth"]
            else:
                # A session signed by the first start is still valid: same OFFEN_SECRET.
                client.set_cookie("auth", cookie)
                assert client.get("/api/login").status == 200
        finally:
            assert server.stop() == 0
        output = server.output()
        assert "OFFEN_SECRET changed" not in output
        assert kept not in output
        assert hashlib.sha256(_secret_in_file(tmp_path).encode()).hexdigest() == fingerprint


def _read_until(fd: int, wanted: bytes, seen: bytearray, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while wanted not in seen:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"waited for {wanted!r}, the terminal showed {bytes(seen)!r}")
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError as exc:  # EIO: the child closed the terminal
            if exc.errno == errno.EIO:
                raise EOFError(bytes(seen)) from None
            raise
        if not chunk:
            raise EOFError(bytes(seen))
        seen += chunk


def _drain(fd: int, seen: bytearray, timeout: float = 30) -> None:
    try:
        _read_until(fd, b"\x00never\x00", seen, timeout)
    except EOFError:
        pass


def _spawn_in_terminal(argv: list[str], env: dict[str, str]) -> tuple[int, int]:
    """Run argv as a child whose controlling terminal is a new pty; returns (pid, pty fd)."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: a session whose controlling terminal is the pty
        try:
            os.chdir(env["HOME"])
            os.execve(sys.executable, argv, env)
        finally:
            os._exit(127)
    return pid, fd


def test_setup_asks_for_the_password_in_a_terminal_without_echo(tmp_path):
    secret = new_secret()
    env = env_for(tmp_path, OFFEN_SECRET=secret)
    argv = [
        sys.executable,
        "-m",
        "appliance",
        "setup",
        "-name",
        "Terminal Site",
        "-email",
        "tty@example.test",
    ]
    pid, fd = _spawn_in_terminal(argv, env)
    seen = bytearray()
    try:
        _read_until(fd, b"Password for the new operator: ", seen)
        os.write(fd, PASSWORD.encode() + b"\n")
        _read_until(fd, b"Repeat the password: ", seen)
        os.write(fd, PASSWORD.encode() + b"\n")
        _drain(fd, seen)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    transcript = bytes(seen).decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, transcript
    assert "Created account 'Terminal Site'" in transcript
    assert PASSWORD not in transcript, "the terminal echoed the password"
    assert "Warning" not in transcript  # getpass did not fall back to an echoing prompt

    store = open_data_store(tmp_path)
    try:
        result, _cookie = logins_for(store, secret).login("tty@example.test", PASSWORD, datetime.now(UTC))
        assert [a["accountName"] for a in result["accounts"]] == ["Terminal Site"]
    finally:
        store.close()


def test_setup_asks_again_when_the_passwords_differ(tmp_path):
    env = env_for(tmp_path)
    argv = [sys.executable, "-m", "appliance", "setup", "-name", "S", "-email", "tty@example.test"]
    pid, fd = _spawn_in_terminal(argv, env)
    seen = bytearray()
    try:
        _read_until(fd, b"Password for the new operator: ", seen)
        os.write(fd, PASSWORD.encode() + b"\n")
        _read_until(fd, b"Repeat the password: ", seen)
        os.write(fd, b"something else entirely\n")
        _drain(fd, seen)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 1
    assert b"the passwords do not match" in seen
    assert not (tmp_path / "data" / "offen.db").exists()


# -- setup -source ------------------------------------------------------------------------------

SEED = f"""\
accounts:
  - id: {ACCOUNT_ID}
    name: Seeded Site
account_users:
  - email: Seeded@Example.test
    password: "seeded password 1"
    admin_level: 1
    accounts: [{ACCOUNT_ID}]
"""


def test_setup_source_seeds_accounts_and_operators(tmp_path):
    pytest.importorskip("yaml")
    secret = new_secret()
    env = env_for(tmp_path, OFFEN_SECRET=secret)
    seed_file = tmp_path / "seed.yml"
    seed_file.write_text(SEED)
    out = ok(run_offen(["setup", "-source", str(seed_file)], env))
    assert f"Created account 'Seeded Site' with id {ACCOUNT_ID}." in out
    assert "Created operator seeded@example.test (super admin) with access to 1 account(s)." in out
    assert "seeded password 1" not in out
    store = open_data_store(tmp_path)
    try:
        result, _ = logins_for(store, secret).login(
            "seeded@example.test", "seeded password 1", datetime.now(UTC)
        )
        assert [a["accountId"] for a in result["accounts"]] == [ACCOUNT_ID]
    finally:
        store.close()

    again = run_offen(["setup", "-source", str(seed_file)], env)
    assert again.returncode == 1 and "use -force to wipe it first" in again.stderr
    forced = ok(run_offen(["setup", "-source", str(seed_file), "-force"], env))
    assert "Removed the existing data (-force)." in forced


def test_setup_source_with_a_bad_file_lists_the_problems_and_wipes_nothing(tmp_path):
    env = env_for(tmp_path, OFFEN_SECRET=new_secret())
    first = ok(setup(env, name="Keep Me"))
    bad = tmp_path / "seed.json"
    bad.write_text(
        json.dumps(
            {
                "accounts": [{"id": "nope", "name": "X"}],
                "account_users": [{"email": "a@example.test", "password": "tiny", "accounts": ["nope"]}],
            }
        )
    )
    result = run_offen(["setup", "-source", str(bad), "-force"], env)
    assert result.returncode == 1
    assert f"the seed file {bad} is not valid:" in result.stderr
    assert "  - accounts[0].id 'nope' is not a UUID" in result.stderr
    assert "password must be at least 8" in result.stderr and "tiny" not in result.stderr
    store = open_data_store(tmp_path)
    try:
        assert [a.name for a in store.all_accounts()] == ["Keep Me"]
    finally:
        store.close()
    assert "Keep Me" in first


def test_setup_source_cannot_be_mixed_with_name_and_email(tmp_path):
    seed_file = tmp_path / "seed.json"
    seed_file.write_text("{}")
    result = run_offen(
        ["setup", "-source", str(seed_file), "-name", "X", "-email", "a@b.test"], env_for(tmp_path)
    )
    assert result.returncode == 1 and "drop -name, -email" in result.stderr


# -- exit codes and the rest ----------------------------------------------------------------------


def test_exit_codes(tmp_path):
    env = env_for(tmp_path)
    version = run_offen(["version"], env)
    assert ok(version).startswith("offen ")
    unknown = run_offen(["frobnicate"], env)
    assert unknown.returncode == 1 and "unknown command 'frobnicate'" in unknown.stderr
    bad_flag = run_offen(["secret", "-length", "many"], env)
    assert bad_flag.returncode == 2 and "invalid int value" in bad_flag.stderr
    out_of_range = run_offen(["secret", "-length", "0"], env)
    assert out_of_range.returncode == 1
    invalid = run_offen(["debug"], {**env, "OFFEN_APP_RETENTION": "forever"})
    assert invalid.returncode == 1 and "the configuration is not valid" in invalid.stderr
    assert ok(run_offen(["--help"], env)).startswith("usage: offen")


def test_secret_prints_distinct_values(tmp_path):
    out = ok(run_offen(["secret", "-count", "3", "-length", "24", "-quiet"], env_for(tmp_path)))
    values = out.split()
    assert len(values) == 3 and len(set(values)) == 3
    assert all(len(base64.b64decode(v)) == 24 for v in values)


def test_the_module_runs_from_the_repository():
    assert (REPO / "appliance" / "__main__.py").is_file()
