"""Tests for appliance.keychain: the real OS keyring and the owner-only file fallback."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import keyring.backend
import keyring.backends.fail
import keyring.backends.null
import pytest

from appliance.errors import SecretStoreError
from appliance.keychain import Keychain, MemoryKeychain

REPO = Path(__file__).resolve().parent.parent


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


class DictBackend(keyring.backend.KeyringBackend):
    """A fake in-process keyring backend (for the "backend works" path)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}
        self.delay = delay

    def set_password(self, service, username, password):
        time.sleep(self.delay)
        self.items[(service, username)] = password

    def get_password(self, service, username):
        time.sleep(self.delay)
        return self.items.get((service, username))

    def delete_password(self, service, username):
        if (service, username) not in self.items:
            raise keyring.errors.PasswordDeleteError("not found")
        del self.items[(service, username)]


# -- the file fallback ------------------------------------------------------------


def test_fail_backend_falls_back_to_an_owner_only_file(tmp_path):
    data = tmp_path / "data"
    kc = Keychain(data, backend=keyring.backends.fail.Keyring())
    assert kc.is_fallback
    assert (
        kc.describe() == f"owner-only file {data / 'secrets.json'} (not encrypted; no OS keyring available)"
    )
    assert kc.get("secret") is None
    kc.set("secret", "c2VjcmV0")
    kc.set("smtp_password", "pässword")
    assert mode(data / "secrets.json") == 0o600
    assert mode(data) == 0o700
    # Survives a new instance, i.e. a restart.
    again = Keychain(data, backend=keyring.backends.fail.Keyring())
    assert again.get("secret") == "c2VjcmV0" and again.get("smtp_password") == "pässword"
    assert again.delete("secret") is True
    assert again.delete("secret") is False
    assert Keychain(data, backend=keyring.backends.fail.Keyring()).get("secret") is None
    assert mode(data / "secrets.json") == 0o600
    # No temporary files are left next to it.
    assert sorted(p.name for p in data.iterdir()) == ["secrets.json"]


def test_services_do_not_see_each_others_secrets(tmp_path):
    a = Keychain(tmp_path, service="offen", backend=keyring.backends.fail.Keyring())
    b = Keychain(tmp_path, service="other", backend=keyring.backends.fail.Keyring())
    a.set("secret", "A")
    b.set("secret", "B")
    assert a.get("secret") == "A" and b.get("secret") == "B"
    assert set(json.loads((tmp_path / "secrets.json").read_text())["services"]) == {"offen", "other"}


def test_null_backend_is_detected_by_the_probe(tmp_path):
    # The null backend accepts writes and forgets them: it must not be trusted.
    kc = Keychain(tmp_path, backend=keyring.backends.null.Keyring())
    assert kc.is_fallback


def test_loose_permissions_are_refused(tmp_path):
    kc = Keychain(tmp_path, backend=keyring.backends.fail.Keyring())
    kc.set("secret", "x")
    os.chmod(tmp_path / "secrets.json", 0o644)
    with pytest.raises(SecretStoreError) as info:
        Keychain(tmp_path, backend=keyring.backends.fail.Keyring()).get("secret")
    assert "chmod 600" in str(info.value)


def test_a_shared_folder_is_refused(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    with pytest.raises(SecretStoreError) as info:
        Keychain(shared, backend=keyring.backends.fail.Keyring()).set("secret", "x")
    assert "shared with other users" in str(info.value)
    assert not (shared / "secrets.json").exists()


def test_an_own_group_readable_folder_is_tightened(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    os.chmod(data, 0o755)
    Keychain(data, backend=keyring.backends.fail.Keyring()).set("secret", "x")
    assert mode(data) == 0o700


def test_damaged_file_is_reported(tmp_path):
    fd = os.open(tmp_path / "secrets.json", os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b"{not json")
    os.close(fd)
    with pytest.raises(SecretStoreError):
        Keychain(tmp_path, backend=keyring.backends.fail.Keyring()).get("secret")


def test_concurrent_writers_lose_nothing(tmp_path):
    kc = Keychain(tmp_path, backend=keyring.backends.fail.Keyring())
    kc.set("warmup", "1")
    threads = [threading.Thread(target=kc.set, args=(f"k{i}", str(i))) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    fresh = Keychain(tmp_path, backend=keyring.backends.fail.Keyring())
    assert [fresh.get(f"k{i}") for i in range(8)] == [str(i) for i in range(8)]


# -- a working or hanging backend ------------------------------------------------------


def test_working_backend_is_used_and_probe_cleans_up(tmp_path):
    backend = DictBackend()
    kc = Keychain(tmp_path, backend=backend)
    assert not kc.is_fallback
    assert kc.describe().startswith("OS keyring (")
    kc.set("secret", "v")
    assert kc.get("secret") == "v"
    assert backend.items == {("offen", "secret"): "v"}  # the probe entry is gone
    assert kc.delete("secret") is True and kc.delete("secret") is False
    assert not (tmp_path / "secrets.json").exists()


def test_a_hanging_keyring_does_not_hang_us(tmp_path):
    start = time.monotonic()
    kc = Keychain(tmp_path, backend=DictBackend(delay=3.0), timeout=0.2)
    assert kc.is_fallback
    assert "did not answer within 0.2 s" in kc.fallback_reason
    assert time.monotonic() - start < 1.5


def test_headless_process_uses_the_file(tmp_path):
    """With no session bus (a headless VPS), keyring's own choice is `fail`."""
    script = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from appliance.keychain import Keychain
        kc = Keychain(Path(sys.argv[1]))
        kc.set("secret", "headless")
        print(kc.is_fallback, Keychain(Path(sys.argv[1])).get("secret"))
        print(kc.describe())
        """
    )
    env = _clean_env(tmp_path)
    env["DBUS_SESSION_BUS_ADDRESS"] = "disabled:"
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "data")],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.splitlines()[:2]
    assert first == "True headless"
    assert "not encrypted" in second
    assert mode(tmp_path / "data" / "secrets.json") == 0o600


def test_memory_keychain():
    kc = MemoryKeychain({"a": "1"})
    assert kc.get("a") == "1" and not kc.is_fallback
    kc.set("b", "2")
    assert kc.delete("a") is True and kc.delete("a") is False
    assert kc.get("b") == "2" and "1" not in repr(kc) and "2" not in repr(kc)


# -- the real SecretService ---------------------------------------------------------------


def _clean_env(tmp_path: Path) -> dict[str, str]:
    """An environment for a child process with no user keyring configuration."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON_KEYRING", "DBUS_", "DISPLAY"))}
    # gnome-keyring-daemon needs an existing HOME for its control socket
    # (~/.cache/keyring-*); without it the unlock fails and writes hang.
    (tmp_path / "home").mkdir(exist_ok=True)
    env.update(
        HOME=str(tmp_path / "home"),
        XDG_CONFIG_HOME=str(tmp_path / "xdg-config"),
        XDG_DATA_HOME=str(tmp_path / "xdg-data"),
        PYTHONPATH=str(REPO),
    )
    return env


@pytest.mark.keyring
@pytest.mark.timeout(90)
def test_real_secret_service_round_trip(tmp_path):
    missing = [tool for tool in ("dbus-run-session", "gnome-keyring-daemon") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs {' and '.join(missing)} (Debian packages dbus and gnome-keyring)")
    script = tmp_path / "probe.py"
    script.write_text(
        textwrap.dedent(
            """
            import json, sys
            from pathlib import Path
            from appliance.keychain import Keychain
            kc = Keychain(Path(sys.argv[1]), service="offen-test")
            out = {"fallback": kc.is_fallback, "describe": kc.describe(), "reason": kc.fallback_reason}
            kc.set("secret", "s3cret-é")
            out["roundtrip"] = Keychain(Path(sys.argv[1]), service="offen-test").get("secret")
            out["deleted"] = kc.delete("secret")
            out["after"] = kc.get("secret")
            print("RESULT " + json.dumps(out))
            """
        )
    )
    inner = (
        "echo -n ci-password | gnome-keyring-daemon --unlock --components=secrets --daemonize >/dev/null && "
        'exec "$0" "$1" "$2"'
    )
    result = subprocess.run(
        ["dbus-run-session", "--", "sh", "-c", inner, sys.executable, str(script), str(tmp_path / "data")],
        env=_clean_env(tmp_path),
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, f"no result (rc={result.returncode}): {result.stderr[-2000:]}"
    out = json.loads(lines[0].split(" ", 1)[1])
    assert out["fallback"] is False, out["reason"]
    assert out["describe"] == "OS keyring (SecretService)"
    assert out["roundtrip"] == "s3cret-é"
    assert out["deleted"] is True and out["after"] is None
    # Nothing fell back to the file.
    assert not (tmp_path / "data" / "secrets.json").exists()
