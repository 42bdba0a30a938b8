"""Secrets at rest: the OS keyring, or an owner-only file where there is none.

This is the only module that imports `keyring`. It keeps the few secrets the
appliance has (`OFFEN_SECRET`, the SMTP password, the database password) out
of the database and out of the env file.

Where the OS keyring works (SecretService on a Linux desktop, macOS Keychain,
Windows Credential Locker) secrets go there. A headless server usually has
none: keyring then reports its `fail` backend, or a D-Bus call hangs. Every
keyring call therefore runs with a timeout, and a probe (set, get, delete a
throw-away value) decides once per instance whether the keyring is usable.
If it is not, secrets go to `<data folder>/secrets.json`, created 0600 in a
0700 folder. That file is **not encrypted**: like an SSH private key it is
protected by file permissions only, and `describe()` says so, so that
`offen config list` can tell the operator where their secrets are.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets as _random
import stat
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import keyring
import keyring.errors

from appliance.errors import SecretStoreError

try:  # POSIX only; Windows has no flock and no meaningful mode bits.
    import fcntl
except ImportError:  # pragma: no cover - exercised on Windows only
    fcntl = None  # type: ignore[assignment]

T = TypeVar("T")

SECRETS_FILE_NAME = "secrets.json"
_PROBE_NAME = "offen-keyring-probe"
_FILE_FORMAT_VERSION = 1


def _call_with_timeout(fn: Callable[[], T], timeout: float, what: str) -> T:
    """Run a keyring call in a daemon thread and give up after `timeout` s.

    A SecretService call can block forever on an unanswerable D-Bus prompt;
    the server must not hang with it. The stuck thread is a daemon and is
    left behind; it cannot hold any lock of ours.
    """
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised below in the caller's thread
            result["error"] = exc

    thread = threading.Thread(target=run, name="offen-keyring-call", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise SecretStoreError(f"The OS keyring did not answer within {timeout:g} s ({what}).")
    if "error" in result:
        err = result["error"]
        # The message names the operation only; keyring errors never carry
        # the secret itself, but we do not pass values into messages either.
        raise SecretStoreError(f"The OS keyring failed ({what}): {type(err).__name__}: {err}") from err
    return result["value"]


def _backend_label(backend: object) -> str:
    """A short human name for a keyring backend, e.g. "SecretService"."""
    module = type(backend).__module__
    if module.startswith("keyring.backends.chainer"):
        inner = getattr(backend, "backends", [])
        return "chain of " + ", ".join(_backend_label(b) for b in inner)
    if module.startswith("keyring.backends."):
        return module.rsplit(".", 1)[-1]
    return f"{module}.{type(backend).__name__}"


def _is_unusable(backend: object) -> bool:
    """True for backends that can never hold a secret (fail, null)."""
    module = type(backend).__module__
    if module in ("keyring.backends.fail", "keyring.backends.null"):
        return True
    priority = getattr(backend, "priority", 1)
    try:
        return float(priority) <= 0
    except (TypeError, ValueError):
        return False


class Keychain:
    """Named secrets for one service, in the OS keyring or the file fallback.

    `backend` forces a keyring backend instance (tests pass
    `keyring.backends.fail.Keyring()` to force the file); by default the one
    keyring itself picks is used. The decision is taken lazily, on first use,
    so constructing a Keychain never touches D-Bus.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        service: str = "offen",
        backend: object | None = None,
        timeout: float = 5.0,
    ) -> None:
        self._data_dir = Path(data_dir)
        self._file = self._data_dir / SECRETS_FILE_NAME
        self._service = service
        self._forced_backend = backend
        self._timeout = timeout
        self._lock = threading.RLock()
        self._backend: Any = None
        self._fallback: bool | None = None
        self._fallback_reason = ""

    def __repr__(self) -> str:
        state = "undecided" if self._fallback is None else self.describe()
        return f"<Keychain service={self._service!r} {state}>"

    # -- deciding where secrets live -------------------------------------

    def _decide(self) -> None:
        with self._lock:
            if self._fallback is not None:
                return
            try:
                backend = self._forced_backend
                if backend is None:
                    backend = _call_with_timeout(keyring.get_keyring, self._timeout, "choosing a backend")
                if _is_unusable(backend):
                    raise SecretStoreError(f"keyring offers only its {_backend_label(backend)} backend")
                self._probe(backend)
            except SecretStoreError as exc:
                self._backend = None
                self._fallback = True
                self._fallback_reason = str(exc)
                return
            self._backend = backend
            self._fallback = False

    def _probe(self, backend: Any) -> None:
        """Set, read back and delete a random value; any mismatch means unusable."""
        token = _random.token_hex(8)
        _call_with_timeout(
            lambda: backend.set_password(self._service, _PROBE_NAME, token), self._timeout, "probe set"
        )
        got = _call_with_timeout(
            lambda: backend.get_password(self._service, _PROBE_NAME), self._timeout, "probe get"
        )
        if got != token:
            # e.g. the null backend, which accepts writes and forgets them.
            raise SecretStoreError("the OS keyring did not return the value just stored")
        _call_with_timeout(
            lambda: backend.delete_password(self._service, _PROBE_NAME), self._timeout, "probe delete"
        )

    @property
    def is_fallback(self) -> bool:
        """True when secrets live in the owner-only file, not an OS keyring."""
        self._decide()
        return bool(self._fallback)

    @property
    def fallback_reason(self) -> str:
        """Why the OS keyring was not used ("" when it is)."""
        self._decide()
        return self._fallback_reason

    @property
    def secrets_file(self) -> Path:
        """Path of the fallback file (whether or not it is in use)."""
        return self._file

    def describe(self) -> str:
        """Where secrets are kept, in words an operator can act on."""
        self._decide()
        if self._fallback:
            return f"owner-only file {self._file} (not encrypted; no OS keyring available)"
        return f"OS keyring ({_backend_label(self._backend)})"

    # -- the interface -----------------------------------------------------

    def get(self, name: str) -> str | None:
        """The secret called `name`, or None when it is not stored."""
        self._decide()
        if self._fallback:
            with self._lock, self._file_lock():
                return self._read_file().get(name)
        backend = self._backend
        return _call_with_timeout(lambda: backend.get_password(self._service, name), self._timeout, "get")

    def set(self, name: str, value: str) -> None:
        """Store `value` as the secret called `name`, replacing any old value."""
        if not isinstance(value, str):
            raise TypeError("secrets are stored as text")
        self._decide()
        if self._fallback:
            with self._lock, self._file_lock():
                entries = self._read_file()
                entries[name] = value
                self._write_file(entries)
            return
        backend = self._backend
        _call_with_timeout(lambda: backend.set_password(self._service, name, value), self._timeout, "set")

    def delete(self, name: str) -> bool:
        """Remove the secret called `name`; False when there was none."""
        self._decide()
        if self._fallback:
            with self._lock, self._file_lock():
                entries = self._read_file()
                if name not in entries:
                    return False
                del entries[name]
                self._write_file(entries)
                return True
        backend = self._backend

        def remove() -> bool:
            if backend.get_password(self._service, name) is None:
                return False
            try:
                backend.delete_password(self._service, name)
            except keyring.errors.PasswordDeleteError:
                return False
            return True

        return _call_with_timeout(remove, self._timeout, "delete")

    # -- the file fallback ---------------------------------------------------

    def _ensure_private_dir(self) -> None:
        """Create the data folder 0700, or tighten one we own.

        A world-writable or sticky folder (such as /tmp), or one owned by
        somebody else, is refused: tightening it would break other users,
        and leaving it open would let them replace our secrets file.
        """
        self._data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        if os.name != "posix":
            return
        st = os.stat(self._data_dir)
        if st.st_uid != os.geteuid():
            raise SecretStoreError(
                f"The data folder {self._data_dir} belongs to another user; "
                "the secrets file must live in a folder only this user can open."
            )
        if stat.S_IMODE(st.st_mode) & 0o077:
            if st.st_mode & stat.S_ISVTX or stat.S_IMODE(st.st_mode) & 0o002:
                raise SecretStoreError(
                    f"The data folder {self._data_dir} is shared with other users; "
                    "set OFFEN_APP_DATADIR to a private folder."
                )
            os.chmod(self._data_dir, 0o700)

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        """Serialise read-modify-write across processes (server and `offen config`)."""
        if fcntl is None or not self._data_dir.is_dir():
            yield
            return
        fd = os.open(self._data_dir, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _read_file(self) -> dict[str, str]:
        try:
            st = os.stat(self._file)
        except FileNotFoundError:
            return {}
        if os.name == "posix":
            # Like ssh with a private key: refuse a file others could read,
            # rather than keep using secrets that may have leaked.
            if st.st_uid != os.geteuid():
                raise SecretStoreError(f"The secrets file {self._file} belongs to another user.")
            if stat.S_IMODE(st.st_mode) & 0o077:
                raise SecretStoreError(
                    f"The secrets file {self._file} can be read by other users; "
                    f"run `chmod 600 {self._file}` and change the secrets it holds."
                )
        try:
            data = json.loads(self._file.read_text(encoding="utf-8"))
            entries = data["services"].get(self._service, {})
        except (OSError, ValueError, KeyError, AttributeError, TypeError) as exc:
            raise SecretStoreError(f"The secrets file {self._file} is damaged.") from exc
        if not isinstance(entries, dict):
            raise SecretStoreError(f"The secrets file {self._file} is damaged.")
        return {str(k): str(v) for k, v in entries.items()}

    def _write_file(self, entries: Mapping[str, str]) -> None:
        self._ensure_private_dir()
        services: dict[str, Any] = {}
        if self._file.exists():
            try:
                services = json.loads(self._file.read_text(encoding="utf-8")).get("services", {})
            except (OSError, ValueError, AttributeError):
                services = {}
        services[self._service] = dict(entries)
        payload = json.dumps(
            {"version": _FILE_FORMAT_VERSION, "services": services}, indent=2, sort_keys=True
        )
        # Write a fresh 0600 file and rename it over the old one, so a crash
        # never leaves a half-written file and the mode never starts wider.
        tmp = self._file.with_name(f".{SECRETS_FILE_NAME}.{os.getpid()}.{_random.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(payload + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self._file)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


class MemoryKeychain:
    """A fake keychain for tests of other modules: a dict, nothing persists.

    Same interface as `Keychain`. Never use it in the running appliance.
    """

    def __init__(self, initial: Mapping[str, str] | None = None) -> None:
        self._entries: dict[str, str] = dict(initial or {})
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<MemoryKeychain entries={sorted(self._entries)}>"

    def get(self, name: str) -> str | None:
        with self._lock:
            return self._entries.get(name)

    def set(self, name: str, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("secrets are stored as text")
        with self._lock:
            self._entries[name] = value

    def delete(self, name: str) -> bool:
        with self._lock:
            return self._entries.pop(name, None) is not None

    def describe(self) -> str:
        return "in-memory keychain (tests only; nothing is kept)"

    @property
    def is_fallback(self) -> bool:
        return False

    @property
    def fallback_reason(self) -> str:
        return ""


__all__ = ["Keychain", "MemoryKeychain", "SECRETS_FILE_NAME"]
