"""Builds and caches the databases of the operator-dashboard benchmark.

A data set is a real appliance data folder: `offen setup` (a subprocess,
exactly what an operator runs) makes the operator and one account of the
requested key type (X25519 by default, RSA-4096 with
`OFFEN_APP_ACCOUNTKEYTYPE=rsa`), then visitors and their events are written
straight into its SQLite file, in the appliance's schema and encrypted as
the vault encrypts (docs/protocol.md):

- secrets: `secret_id = sha256(user id || account user salt)` (§6), the
  visitor's AES-128 key as WebCrypto's JWK JSON wrapped for the account's
  public key with `appliance.keys.wrap_for_account` (`{2,}` X25519 or
  `{1,}` RSA-OAEP, §3);
- events: `event_id` a ULID at the event's time (as if received then),
  `sequence` strictly increasing in insert order (events are inserted in
  time order), payload `{1,}` AES-GCM of the plaintext from bench/generate.py;
- the sequence counter is moved to the highest sequence, so events posted
  later (bench/injector.py) sort after the bulk.

One database holds one account: the X25519 and the RSA data sets are built
from the same seed (same plaintext history, fresh keys). Each is cached under
`bench/.cache/<key>/` (`data/` is the data folder, `meta.json` says what it
holds); a cache is reused while every event is still inside the retention
window. Run `python -m bench.dataset --events 100000 --visitors 20000 --days 30`
to build one ahead of time.
"""

from __future__ import annotations

import argparse
import base64
import json
import multiprocessing
import os
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from appliance import keys
from bench.generate import plan_visits, visitor_events, visitor_user_id

__all__ = [
    "CACHE",
    "EMAIL",
    "PASSWORD",
    "SIZES",
    "Spec",
    "Built",
    "build",
    "ensure",
    "copy_data_dir",
    "encode_ulid",
    "main",
]

REPO = Path(__file__).resolve().parent.parent
CACHE = Path(__file__).resolve().parent / ".cache"
EMAIL = "bench@offen.test"
PASSWORD = "bench dashboard password 2026"
RETENTION_DAYS = 186  # OFFEN_APP_RETENTION default, "6months" (appliance/config.py)
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
FORMAT = 1  # bump when the layout of a built set changes, so old caches are not reused


@dataclass(frozen=True)
class Spec:
    """What a data set holds; its `key` names the cache folder."""

    events: int
    visitors: int
    days: int
    key_type: str = "x25519"
    seed: int = 1

    @property
    def key(self) -> str:
        return f"f{FORMAT}-{self.events}e-{self.visitors}v-{self.days}d-{self.key_type}-s{self.seed}"


SIZES: dict[str, Spec] = {
    "quick": Spec(5_000, 1_000, 14),
    "100k": Spec(100_000, 20_000, 30),
    "1m": Spec(1_000_000, 200_000, 180),
    # Offen's design gets a 10 % sample of the 1M set: a database of its own, same span.
    "1m-sample": Spec(100_000, 20_000, 180),
}


@dataclass(frozen=True)
class Built:
    """A cached data set: where it is and what the benchmark needs to log in and open it."""

    spec: Spec
    folder: Path
    account_id: str
    email: str
    password: str
    start: str
    end: str
    build_seconds: float
    max_sequence: str

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["folder"] = str(self.folder)
        out.pop("password")
        return out


# -- ULIDs -----------------------------------------------------------------------------


def encode_ulid(value: int) -> str:
    """A 128-bit integer as 26 Crockford base32 characters (docs/protocol.md §7)."""
    chars = []
    for _ in range(26):
        chars.append(CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


# -- workers: plaintext, visitor keys, wraps and ciphertexts ------------------------------

_WORKER: dict[str, Any] = {}


def _worker_init(seed: int, start: str, end: str, public_jwk: dict, user_salt: str) -> None:
    _WORKER.update(
        seed=seed,
        start=datetime.fromisoformat(start),
        end=datetime.fromisoformat(end),
        public_jwk=public_jwk,
        user_salt=user_salt,
    )


def _make_chunk(job: tuple[int, list[list[int]]]) -> tuple[list[tuple[str, str]], list[tuple[int, str, str]]]:
    """Secrets rows and (ms, secret id, payload) of visitors `first..first+len(plan)`."""
    first, plan = job
    w = _WORKER
    secrets_rows: list[tuple[str, str]] = []
    events_rows: list[tuple[int, str, str]] = []
    for offset, sessions in enumerate(plan):
        index = first + offset
        user_id = visitor_user_id(w["seed"], index)
        secret_id = keys.hash_visitor_id(user_id, w["user_salt"])
        key = os.urandom(16)
        # What WebCrypto's exportKey('jwk') gives and the vault wraps (docs/protocol.md §3.3).
        jwk = {
            "alg": "A128GCM",
            "ext": True,
            "k": base64.urlsafe_b64encode(key).rstrip(b"=").decode(),
            "key_ops": ["encrypt", "decrypt"],
            "kty": "oct",
        }
        wrapped = keys.wrap_for_account(w["public_jwk"], json.dumps(jwk, separators=(",", ":")).encode())
        secrets_rows.append((secret_id, wrapped))
        cipher = AESGCM(key)
        for moment, payload in visitor_events(
            sessions, seed=w["seed"], index=index, start=w["start"], end=w["end"]
        ):
            nonce = os.urandom(12)
            plain = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
            sealed = cipher.encrypt(nonce, plain, None)
            text = "{1,} " + base64.b64encode(sealed).decode() + " " + base64.b64encode(nonce).decode()
            events_rows.append((_ms(moment), secret_id, text))
    return secrets_rows, events_rows


# -- building ---------------------------------------------------------------------------


def _offen_env(data_dir: Path, key_type: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OFFEN_")}
    env.update(
        {
            "OFFEN_APP_DATADIR": str(data_dir),
            "OFFEN_APP_ACCOUNTKEYTYPE": key_type,
            "DBUS_SESSION_BUS_ADDRESS": "disabled:",
            "PYTHONPATH": str(REPO),
            "HOME": str(data_dir.parent),
        }
    )
    return env


def _setup(data_dir: Path, key_type: str) -> None:
    import subprocess

    data_dir.mkdir(parents=True)
    args = ["setup", "-name", f"Bench {key_type}", "-email", EMAIL, "-password", PASSWORD, "-populate"]
    done = subprocess.run(
        [sys.executable, "-m", "appliance", *args],
        env=_offen_env(data_dir, key_type),
        cwd=data_dir.parent,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode != 0:
        raise RuntimeError(f"offen setup failed ({done.returncode}):\n{done.stdout}{done.stderr}")


def _print_progress(stage: str, done: int, total: int) -> None:
    print(f"  {stage}: {done}/{total}", flush=True)


def build(
    spec: Spec,
    folder: Path,
    *,
    now: datetime | None = None,
    processes: int | None = None,
    progress: Callable[[str, int, int], None] = _print_progress,
) -> Built:
    """Build the data set `spec` into `folder` (which must not exist) and return what it holds."""
    started = time.monotonic()
    now = now or datetime.now(UTC)
    # Events end an hour before now (so "today" has data) and span `days` days.
    end = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    start = end - timedelta(days=spec.days)
    # A work folder of this process's own: two builds of one set may race (parallel test runs).
    work = folder.with_name(f"{folder.name}.building-{os.getpid()}")
    if work.exists():
        shutil.rmtree(work)
    data_dir = work / "data"
    _setup(data_dir, spec.key_type)
    db_path = data_dir / "offen.db"
    conn = sqlite3.connect(db_path)
    try:
        account_id, public_key, user_salt = conn.execute(
            "SELECT account_id, public_key, user_salt FROM accounts"
        ).fetchone()
        public_jwk = json.loads(public_key)
        plan = plan_visits(spec.events, spec.visitors, seed=spec.seed)
        step = 2000
        jobs = [(i, plan[i : i + step]) for i in range(0, len(plan), step)]
        secrets_rows: list[tuple[str, str]] = []
        events_rows: list[tuple[int, str, str]] = []
        context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
        init = (spec.seed, start.isoformat(), end.isoformat(), public_jwk, user_salt)
        with context.Pool(processes or os.cpu_count() or 2, _worker_init, init) as pool:
            for number, (s_rows, e_rows) in enumerate(pool.imap(_make_chunk, jobs), start=1):
                secrets_rows.extend(s_rows)
                events_rows.extend(e_rows)
                if number % max(1, len(jobs) // 10) == 0 or number == len(jobs):
                    progress("visitors encrypted", min(number * step, spec.visitors), spec.visitors)
        # Inserted in time order, as the server would have received them.
        events_rows.sort(key=lambda row: row[0])
        progress("events sorted", len(events_rows), spec.events)
        rand = int.from_bytes
        previous = 0
        rows = []
        for ms, secret_id, payload in events_rows:
            event_id = encode_ulid((ms << 80) | rand(os.urandom(10), "big"))
            fresh = (ms << 80) | rand(os.urandom(10), "big")
            previous = fresh if fresh > previous else previous + 1
            rows.append((event_id, encode_ulid(previous), account_id, secret_id, payload))
        del events_rows
        max_sequence = encode_ulid(previous)
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO secrets (secret_id, encrypted_secret) VALUES (?, ?)", secrets_rows)
        progress("secrets stored", len(secrets_rows), spec.visitors)
        chunk = 100_000
        for i in range(0, len(rows), chunk):
            conn.executemany(
                "INSERT INTO events (event_id, sequence, account_id, secret_id, payload) VALUES (?, ?, ?, ?, ?)",
                rows[i : i + chunk],
            )
            progress("events stored", min(i + chunk, len(rows)), len(rows))
        conn.execute("UPDATE offen_sequence SET value = ? WHERE name = 'events'", (max_sequence,))
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    built = Built(
        spec=spec,
        folder=folder,
        account_id=account_id,
        email=EMAIL,
        password=PASSWORD,
        start=start.isoformat(),
        end=end.isoformat(),
        build_seconds=round(time.monotonic() - started, 1),
        max_sequence=max_sequence,
    )
    meta = built.as_json()
    meta["spec"] = asdict(spec)
    (work / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    if folder.exists():
        shutil.rmtree(folder, ignore_errors=True)
    try:
        work.rename(folder)
    except OSError:
        # Another build of the same set finished first: keep its copy, return that one.
        shutil.rmtree(work, ignore_errors=True)
        other = _load(folder)
        if other is None:
            raise
        return other
    return built


def _load(folder: Path) -> Built | None:
    try:
        meta = json.loads((folder / "meta.json").read_text())
    except (OSError, ValueError):
        return None
    return Built(
        spec=Spec(**meta["spec"]),
        folder=folder,
        account_id=meta["account_id"],
        email=meta["email"],
        password=PASSWORD,
        start=meta["start"],
        end=meta["end"],
        build_seconds=meta["build_seconds"],
        max_sequence=meta["max_sequence"],
    )


def ensure(
    spec: Spec,
    *,
    cache: Path | None = None,
    now: datetime | None = None,
    progress: Callable[[str, int, int], None] = _print_progress,
) -> Built:
    """The cached data set `spec` (in `cache`, default CACHE), built first when missing or near expiry."""
    now = now or datetime.now(UTC)
    cache = cache or CACHE
    folder = cache / spec.key
    built = _load(folder)
    if built is not None:
        # The server's expiry would delete events older than the retention period
        # at start; keep a day of margin so a measurement sees the whole set.
        if datetime.fromisoformat(built.start) > now - timedelta(days=RETENTION_DAYS - 1):
            return built
        print(f"data set {spec.key}: too old for the retention window, rebuilding", flush=True)
    print(f"building data set {spec.key} in {folder}", flush=True)
    cache.mkdir(parents=True, exist_ok=True)
    built = build(spec, folder, now=now, progress=progress)
    print(f"data set {spec.key} built in {built.build_seconds:.0f} s", flush=True)
    return built


def copy_data_dir(built: Built, target: Path) -> Path:
    """A private copy of the set's data folder (the server writes to its database)."""
    shutil.copytree(built.data_dir, target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dataset", description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), help="a named size (overrides the numbers)")
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--visitors", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--key-type", choices=("x25519", "rsa"), default="x25519")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.size:
        base = SIZES[args.size]
        spec = Spec(base.events, base.visitors, base.days, args.key_type, args.seed)
    else:
        spec = Spec(args.events, args.visitors, args.days, args.key_type, args.seed)
    built = ensure(spec)
    print(json.dumps(built.as_json(), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
