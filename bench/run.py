"""The server benchmarks of issue 2 in one invocation: ingestion, footprint, login (`make bench`).

Owns the benchmark *run*: it builds throw-away instances of `offen serve` and
of the ceiling app (`bench.baseline`) in a temporary folder, drives them with
the building blocks of `bench/` (`generate`, `wrk`, `openloop`, `footprint`),
checks the figures against the targets of the issue, prints a table and PASS /
FAIL lines, and writes every figure as JSON to `bench/results/<UTC>.json`.

    python -m bench.run [--quick] [--only ingestion,footprint,login]

Exit status: 0 when the benchmark ran, whatever the figures (a failed target
is a FAIL line, not a crash); 1 only when the benchmark itself broke.

How it is fair:
- Both targets run on loopback with the same cheroot settings, read from the
  defaults of `appliance.server.Server` (worker threads, listen backlog), the
  same bodies and the same cookies; the order of the two targets alternates
  from cell to cell.
- Every event request comes from a distinct visitor (`offen serve` throttles
  per visitor). The visitors are registered *before* the server starts, by
  inserting their secrets through `appliance.store` (the secret id computed
  with `appliance.keys.hash_visitor_id`, a real visitor key wrapped with
  `keys.wrap_for_account`), which is what `POST /api/exchange` would store.
- After every run the events table is counted: every 2xx the tool saw must be
  a stored row (nothing lost). wrk stops with requests in flight, so up to one
  stored row per connection may have no answer counted; more would be a fault.
- Logins are spaced so the login throttle (exponential 1 s per email, linear
  0.5 s global) never delays a measured request.

Privacy: the instances are throw-away, on loopback only; nothing here logs a
visitor id or a password, and the server's access log goes to /dev/null.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import inspect
import json
import os
import platform
import re
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import footprint as fp
from bench import generate, openloop, wrk

__all__ = [
    "Check",
    "Targets",
    "TARGETS",
    "ratio",
    "summarize_ms",
    "stored_check",
    "closed_loop_checks",
    "format_table",
    "cheroot_settings",
    "main",
]

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # loopback only: these are throw-away benchmark instances
MB = 1_000_000  # the targets are stated in MB; the stricter decimal unit is used
PHASES = ("footprint", "ingestion", "login")
ACCOUNT_ID = "6f1c2a9e-2b0e-4b59-9d1e-0c8b1b6e4a11"
OPERATOR_EMAIL = "operator-00@bench.example"
OPERATOR_PASSWORD = "bench password 00"
FORBIDDEN_AT_START = ("acme", "webview")


# --------------------------------------------------------------------------- pure parts


@dataclass(frozen=True)
class Targets:
    """The targets of the issue, in one place so the table, checks and docs agree."""

    throughput_ratio_min: float = 0.80
    p99_ratio_max: float = 1.5
    p99_max_ms: float = 250.0
    request_max_ms: float = 1000.0
    open_loop_rate: float = 500.0
    open_loop_p99_ms: float = 50.0
    max_rate_p99_ms: float = 100.0
    idle_rss_max: int = 80 * MB
    load_rss_max: int = 120 * MB
    start_max_s: float = 1.5
    login_max_ms: float = 300.0


TARGETS = Targets()


@dataclass
class Check:
    """One target checked: PASS or FAIL with the figures that decided it."""

    area: str
    name: str
    passed: bool
    detail: str

    def line(self) -> str:
        return f"{'PASS' if self.passed else 'FAIL'}  {self.area}: {self.name} ({self.detail})"


def ratio(ours: float | None, baseline: float | None) -> float | None:
    """ours / baseline, or None when either is missing or the baseline is zero."""
    if ours is None or baseline is None or baseline == 0:
        return None
    return ours / baseline


def _nearest_rank(ordered: Sequence[float], pct: float) -> float:
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[min(len(ordered), int(rank)) - 1]


def summarize_ms(values: Iterable[float]) -> dict[str, float | int]:
    """Count, median, p90 (nearest rank), min and max of durations in milliseconds."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values to summarize")
    return {
        "n": len(ordered),
        "median": statistics.median(ordered),
        "p90": _nearest_rank(ordered, 90),
        "min": ordered[0],
        "max": ordered[-1],
    }


def stored_check(acknowledged: int, stored: int, in_flight_allowance: int) -> dict[str, Any]:
    """Compare events the tool saw acknowledged (2xx) with rows the database gained.

    `lost` (acknowledged but not stored) must be 0. `unacknowledged` rows were
    stored for requests whose answer the tool never read (wrk stops with
    requests in flight); up to `in_flight_allowance` of them are expected.
    """
    lost = max(0, acknowledged - stored)
    unacknowledged = max(0, stored - acknowledged)
    return {
        "acknowledged": acknowledged,
        "stored": stored,
        "lost": lost,
        "unacknowledged": unacknowledged,
        "ok": lost == 0 and unacknowledged <= in_flight_allowance,
    }


def closed_loop_checks(
    cell: str, ours: dict[str, Any], baseline: dict[str, Any], targets: Targets = TARGETS
) -> list[Check]:
    """The closed-loop targets for one cell; `ours`/`baseline` hold rps, p99_ms, max_ms, errors."""
    checks = []
    thr = ratio(ours["rps"], baseline["rps"])
    checks.append(
        Check(
            cell,
            f"throughput >= {targets.throughput_ratio_min:.0%} of baseline",
            thr is not None and thr >= targets.throughput_ratio_min,
            f"{ours['rps']:.0f} vs {baseline['rps']:.0f} req/s = {_fmt_ratio(thr)}",
        )
    )
    p99r = ratio(ours["p99_ms"], baseline["p99_ms"])
    checks.append(
        Check(
            cell,
            f"p99 <= {targets.p99_ratio_max}x baseline",
            p99r is not None and p99r <= targets.p99_ratio_max,
            f"{ours['p99_ms']:.1f} vs {baseline['p99_ms']:.1f} ms = {_fmt_ratio(p99r)}",
        )
    )
    checks.append(
        Check(
            cell,
            f"p99 <= {targets.p99_max_ms:.0f} ms",
            ours["p99_ms"] <= targets.p99_max_ms,
            f"{ours['p99_ms']:.1f} ms",
        )
    )
    checks.append(
        Check(
            cell,
            f"no request over {targets.request_max_ms:.0f} ms",
            ours["max_ms"] <= targets.request_max_ms,
            f"max {ours['max_ms']:.1f} ms",
        )
    )
    checks.append(Check(cell, "zero errors", ours["errors"] == 0, f"{ours['errors']} errors"))
    if "stored" in ours:
        stored = ours["stored"]
        checks.append(
            Check(
                cell,
                "every acknowledged event stored",
                bool(stored["ok"]),
                f"{stored['acknowledged']} acknowledged, {stored['stored']} stored, lost {stored['lost']},"
                f" in flight at stop {stored['unacknowledged']}",
            )
        )
    return checks


def _fmt_ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain text table: columns as wide as their widest cell, numbers right-aligned."""

    def cell(value: Any) -> str:
        if value is None:
            return "-"
        if isinstance(value, float):
            return (
                f"{value:.2f}"
                if abs(value) < 10
                else f"{value:.0f}"
                if abs(value) >= 1000
                else f"{value:.1f}"
            )
        return str(value)

    text_rows = [[cell(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in text_rows]) for i, h in enumerate(headers)]
    numeric = [
        all(isinstance(row[i], int | float) or row[i] is None for row in rows) and bool(rows)
        for i in range(len(headers))
    ]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)
        )

    out = [line(list(headers)), line(["-" * w for w in widths])]
    out.extend(line(r) for r in text_rows)
    return "\n".join(out)


def cheroot_settings() -> dict[str, int]:
    """`offen serve`'s cheroot settings, read from `appliance.server.Server`'s defaults."""
    from appliance.server import Server

    params = inspect.signature(Server.__init__).parameters
    return {"threads": params["threads"].default, "request_queue_size": params["request_queue_size"].default}


def wrk_cell(result: wrk.WrkResult) -> dict[str, Any]:
    return {
        "rps": result.requests_per_s,
        "requests": result.requests,
        "seconds": result.seconds,
        "p50_ms": result.p50_ms,
        "p90_ms": result.p90_ms,
        "p99_ms": result.p99_ms,
        "max_ms": result.max_ms,
        "errors": result.errors,
        "non_2xx": result.non_2xx,
        "socket_errors": dict(result.socket_errors),
    }


# --------------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def stop_process(process: subprocess.Popen, timeout: float = 15.0) -> None:
    """SIGTERM (graceful stop), then SIGKILL if it does not end in time."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def count_events(db_path: Path) -> int:
    """Rows in the events table, read through a separate read-only connection."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute("SELECT count(*) FROM events").fetchone()[0]
    finally:
        conn.close()


def settled_count(db_path: Path, *, quiet: float = 0.3, limit: float = 5.0) -> int:
    """The event count once it stops changing (requests still in flight finish first)."""
    deadline = time.monotonic() + limit
    last = count_events(db_path)
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = count_events(db_path)
        if now == last:
            return now
        last = now
    return last


class OffenInstance:
    """A throw-away `offen serve` data folder, set up with the CLI, served on loopback."""

    def __init__(self, root: Path, name: str) -> None:
        self.home = root / name
        self.data = self.home / "data"
        self.data.mkdir(parents=True, mode=0o700)
        self.secret = os.urandom(16)
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("OFFEN_")}
        self.env.update(
            {
                "OFFEN_APP_DATADIR": str(self.data),
                "OFFEN_SERVER_HOST": HOST,
                "OFFEN_SECRET": base64.b64encode(self.secret).decode(),
                # No keyring daemon: the secret comes from the environment anyway.
                "DBUS_SESSION_BUS_ADDRESS": "disabled:",
                "PYTHONPATH": str(REPO),
                "HOME": str(self.home),
            }
        )

    @property
    def db_path(self) -> Path:
        return self.data / "offen.db"

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def serve_command(self) -> list[str]:
        return [sys.executable, "-m", "appliance", "serve", "-port", str(self.port)]

    def cli(self, *args: str, timeout: float = 120) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "appliance", *args],
            env=self.env,
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        if done.returncode != 0:
            raise RuntimeError(f"offen {args[0]} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
        return done.stdout

    def setup(self, email: str = OPERATOR_EMAIL, password: str = OPERATOR_PASSWORD) -> None:
        self.cli(
            "setup", "-name", "Bench Site", "-email", email, "-password", password, "-forceid", ACCOUNT_ID
        )

    def start(self, *, stderr_path: Path | None = None) -> subprocess.Popen:
        stderr = stderr_path.open("wb") if stderr_path else subprocess.DEVNULL
        self.process = subprocess.Popen(
            self.serve_command,
            env=self.env,
            cwd=self.home,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,  # the access log: one line per request, not measured here
            stderr=stderr,
        )
        fp.wait_for_healthz(f"{self.url}/healthz", timeout=60, process=self.process)
        return self.process

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None

    def register_visitors(self, count: int) -> list[str]:
        """Store `count` visitor secrets as `POST /api/exchange` would; returns their user ids.

        Done in-process before the server starts, in one transaction, so the
        benchmark does not spend minutes on key exchanges it does not measure.
        """
        from appliance import keys
        from appliance.records import Secret
        from appliance.store import open_store

        store = open_store(f"sqlite:///{self.db_path}")
        try:
            account = store.get_account(ACCOUNT_ID)
            if account is None:
                raise RuntimeError("the benchmark account is missing")
            public_jwk = json.loads(account.public_key)
            user_ids = [str(uuid.uuid4()) for _ in range(count)]
            with store.transaction():
                for user_id in user_ids:
                    visitor_key = json.dumps(keys.symmetric_jwk(generate.new_user_secret())).encode()
                    store.insert_secret(
                        Secret(
                            keys.hash_visitor_id(user_id, account.user_salt),
                            keys.wrap_for_account(public_jwk, visitor_key),
                        )
                    )
        finally:
            store.close()
        return user_ids


class BaselineInstance:
    """`python -m bench.baseline` with `offen serve`'s cheroot settings."""

    def __init__(self, root: Path, settings: dict[str, int], name: str = "baseline") -> None:
        self.folder = root / name
        self.folder.mkdir(parents=True)
        self.db_path = self.folder / "baseline.db"
        self.port = free_port()
        self.settings = settings
        self.process: subprocess.Popen | None = None
        self.env = dict(os.environ, PYTHONPATH=str(REPO))

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "bench.baseline",
            "--port",
            str(self.port),
            "--db",
            str(self.db_path),
            "--threads",
            str(self.settings["threads"]),
            "--request-queue-size",
            str(self.settings["request_queue_size"]),
        ]

    def start(self) -> subprocess.Popen:
        self.process = subprocess.Popen(
            self.command,
            env=self.env,
            cwd=self.folder,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        fp.wait_for_healthz(f"{self.url}/healthz", timeout=30, process=self.process)
        return self.process

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None


class VisitorPool:
    """Registered visitors handed out in order, so consecutive runs use different visitors."""

    def __init__(self, user_ids: Sequence[str]) -> None:
        self.cookies = [f"user={user_id}; consent=allow" for user_id in user_ids]
        self.cursor = 0

    def rotated(self) -> list[str]:
        return self.cookies[self.cursor :] + self.cookies[: self.cursor]

    def write(self, path: Path) -> Path:
        path.write_text("\n".join(self.rotated()) + "\n", encoding="ascii")
        return path

    def advance(self, used: int) -> None:
        self.cursor = (self.cursor + used) % len(self.cookies)


# --------------------------------------------------------------------------- output


class Report:
    """Collects figures, checks and printed lines; writes the JSON at the end."""

    def __init__(self, quick: bool) -> None:
        self.started = datetime.now(UTC)
        self.data: dict[str, Any] = {
            "started": self.started.isoformat(),
            "quick": quick,
            "machine": {
                "platform": platform.platform(),
                "python": sys.version.split()[0],
                "executable": sys.executable,
                "cpus": os.cpu_count(),
                "loadavg_at_start": os.getloadavg(),
            },
        }
        self.checks: list[Check] = []
        self.errors: list[str] = []

    def say(self, text: str = "") -> None:
        print(text, flush=True)

    def check(self, check: Check) -> None:
        self.checks.append(check)
        self.say("  " + check.line())

    def write(self) -> Path:
        self.data["machine"]["loadavg_at_end"] = os.getloadavg()
        self.data["finished"] = datetime.now(UTC).isoformat()
        self.data["checks"] = [asdict(c) for c in self.checks]
        self.data["errors"] = self.errors
        folder = REPO / "bench" / "results"
        folder.mkdir(exist_ok=True)
        path = folder / f"{self.started.strftime('%Y%m%dT%H%M%SZ')}.json"
        path.write_text(json.dumps(self.data, indent=2, default=str) + "\n", encoding="utf-8")
        return path


# --------------------------------------------------------------------------- footprint


def imported_modules(command: Sequence[str], env: dict[str, str], cwd: Path, url: str) -> dict[str, Any]:
    """Start `command` under `-X importtime` until /healthz answers; which modules did it import?"""
    log = cwd / "importtime.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [command[0], "-X", "importtime", *command[1:]],
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            fp.wait_for_healthz(url, timeout=60, process=process)
        finally:
            stop_process(process)
    modules: dict[str, int] = {}
    for line in log.read_text(errors="replace").splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if match:
            modules[match.group(4)] = int(match.group(2))
    tops = sorted(
        ((name, us) for name, us in modules.items() if "." not in name), key=lambda kv: kv[1], reverse=True
    )
    return {
        "count": len(modules),
        "forbidden_imported": sorted(name for name in modules if name.split(".")[0] in FORBIDDEN_AT_START),
        "slowest_top_level_ms": [(name, round(us / 1000, 1)) for name, us in tops[:8]],
    }


def measure_starts(
    command: Sequence[str], env: dict[str, str], cwd: Path, url: str, starts: int
) -> dict[str, Any]:
    """Median of `starts` cold starts: seconds to the first /healthz 200, VmRSS/PSS 1 s later."""
    seconds, rss, pss = [], [], []
    for _ in range(starts):
        result = fp.time_to_healthz(command, url, env=env, cwd=str(cwd), timeout=60, settle=1.0)
        try:
            seconds.append(result.seconds_to_healthz)
            rss.append(result.rss_after_1s or 0)
            pss.append(result.pss_after_1s or 0)
        finally:
            stop_process(result.process)
    return {
        "starts": starts,
        "seconds_to_healthz": seconds,
        "median_seconds_to_healthz": statistics.median(seconds),
        "rss_after_1s": rss,
        "pss_after_1s": pss,
        "median_rss_after_1s": statistics.median(rss),
        "median_pss_after_1s": statistics.median(pss),
    }


def run_footprint(report: Report, root: Path, args: argparse.Namespace) -> None:
    report.say("== Footprint (cold starts; no migration pending)")
    ours = OffenInstance(root, "footprint")
    ours.setup()
    base = BaselineInstance(root, cheroot_settings(), "baseline-footprint")
    starts = 3 if args.quick else 5
    data: dict[str, Any] = {}
    data["ours"] = measure_starts(ours.serve_command, ours.env, ours.home, f"{ours.url}/healthz", starts)
    data["baseline"] = measure_starts(base.command, base.env, base.folder, f"{base.url}/healthz", starts)
    data["ours"]["imports"] = imported_modules(ours.serve_command, ours.env, ours.home, f"{ours.url}/healthz")
    report.data["footprint"] = data
    rows = []
    for name in ("ours", "baseline"):
        d = data[name]
        rows.append(
            [
                name,
                d["median_seconds_to_healthz"],
                d["median_rss_after_1s"] / MB,
                d["median_pss_after_1s"] / MB,
                ", ".join(f"{s:.2f}" for s in d["seconds_to_healthz"]),
            ]
        )
    report.say(format_table(["process", "start->healthz s", "VmRSS MB", "PSS MB", "each start s"], rows))
    imports = data["ours"]["imports"]
    report.say(
        f"  offen serve imported {imports['count']} modules before its first /healthz;"
        f" slowest top-level imports (ms, cumulative): {imports['slowest_top_level_ms']}"
    )
    o = data["ours"]
    report.check(
        Check(
            "footprint",
            f"VmRSS 1 s after first /healthz <= {TARGETS.idle_rss_max / MB:.0f} MB",
            o["median_rss_after_1s"] <= TARGETS.idle_rss_max,
            f"{o['median_rss_after_1s'] / MB:.1f} MB (PSS {o['median_pss_after_1s'] / MB:.1f} MB)",
        )
    )
    report.check(
        Check(
            "footprint",
            f"first /healthz 200 <= {TARGETS.start_max_s} s after start (median of {starts})",
            o["median_seconds_to_healthz"] <= TARGETS.start_max_s,
            f"{o['median_seconds_to_healthz']:.2f} s",
        )
    )
    report.check(
        Check(
            "footprint",
            "acme and webview not imported at start",
            not imports["forbidden_imported"],
            f"imported: {imports['forbidden_imported'] or 'none'}",
        )
    )


# --------------------------------------------------------------------------- ingestion


def _hammer_logins(url: str, seconds: float, threads: int, email: str) -> dict[str, int]:
    """Post wrong passwords to /api/login from `threads` threads for `seconds`; count the statuses."""
    parts = url.split("//", 1)[1].split(":")
    host, port = parts[0], int(parts[1])
    if host not in openloop.LOOPBACK_HOSTS:
        raise ValueError("loopback only")
    statuses: Counter[str] = Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker(index: int) -> None:
        conn: http.client.HTTPConnection | None = None
        local: Counter[str] = Counter()
        n = 0
        while time.monotonic() < deadline:
            # Half the threads go for the operator's email, half spray unknown ones.
            user = email if index % 2 == 0 else f"nobody-{index}-{n}@bench.example"
            body = json.dumps({"username": user, "password": f"wrong password {n}"})
            n += 1
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(host, port, timeout=30)
                conn.request("POST", "/api/login", body=body, headers={"Content-Type": "application/json"})
                response = conn.getresponse()
                response.read()
                local[str(response.status)] += 1
                if response.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as exc:
                local[type(exc).__name__] += 1
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()
        with lock:
            statuses.update(local)

    pool = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(seconds + 60)
    return dict(statuses)


def start_hammer(url: str, seconds: float, threads: int, email: str) -> subprocess.Popen:
    """The login hammer in its own process, so its threads do not share a GIL with the event load."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.run",
            "--hammer-url",
            url,
            "--hammer-seconds",
            str(seconds),
            "--hammer-threads",
            str(threads),
            "--hammer-email",
            email,
        ],
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_ingestion(report: Report, root: Path, args: argparse.Namespace) -> None:
    quick = args.quick
    seconds = 3 if quick else 15
    settings = cheroot_settings()
    report.say(f"== Ingestion (cheroot settings of offen serve, used for both: {settings})")
    ours = OffenInstance(root, "ingestion")
    ours.setup()
    visitors = 15_000 if quick else 60_000
    t0 = time.perf_counter()
    pool = VisitorPool(ours.register_visitors(visitors))
    report.say(
        f"  registered {visitors} visitors in {time.perf_counter() - t0:.1f} s by inserting their secrets"
        " directly through appliance.store (secret id = keys.hash_visitor_id(user id, account salt),"
        " visitor key wrapped with keys.wrap_for_account) before the server started"
    )
    base = BaselineInstance(root, settings)
    files = root / "files"
    files.mkdir()
    typical = files / "typical.jsonl"
    stress = files / "stress.jsonl"
    typical_bodies = [b for _, b in generate.make_bodies(3000, seed=1, account_id=ACCOUNT_ID)]
    stress_bodies = [b for _, b in generate.make_bodies(1000, seed=2, account_id=ACCOUNT_ID, stress=True)]
    typical.write_text("\n".join(typical_bodies) + "\n", encoding="utf-8")
    stress.write_text("\n".join(stress_bodies) + "\n", encoding="utf-8")
    sizes = {
        name: statistics.median(len(json.loads(b)["payload"]) for b in bodies)
        for name, bodies in (("typical", typical_bodies), ("stress", stress_bodies))
    }
    report.say(f"  median ciphertext: typical {sizes['typical']:.0f} B, stress {sizes['stress']:.0f} B")
    data: dict[str, Any] = {
        "seconds_per_run": seconds,
        "visitors_registered": visitors,
        "cheroot": settings,
        "ciphertext_median_bytes": sizes,
        "closed_loop": [],
    }
    report.data["ingestion"] = data
    ours.start(stderr_path=root / "ingestion-serve.log")
    base.start()
    assert ours.process is not None and base.process is not None
    samplers = {"ours": fp.RssSampler(ours.process.pid), "baseline": fp.RssSampler(base.process.pid)}
    for sampler in samplers.values():
        sampler.__enter__()
    try:
        _closed_loop(report, ours, base, pool, typical, stress, files, seconds, data)
        _open_loop(report, ours, base, pool, typical_bodies, quick, data)
        _login_hammer(report, ours, pool, typical_bodies, quick, data)
    finally:
        for sampler in samplers.values():
            sampler.__exit__(None, None, None)
        ours.stop()
        base.stop()
    peaks = {
        name: {"peak_rss": s.peak_rss, "peak_pss": s.peak_pss, "samples": s.samples}
        for name, s in samplers.items()
    }
    data["memory_under_load"] = peaks
    report.say(
        format_table(
            ["process", "peak VmRSS MB", "peak PSS MB", "samples"],
            [[n, p["peak_rss"] / MB, p["peak_pss"] / MB, p["samples"]] for n, p in peaks.items()],
        )
    )
    report.check(
        Check(
            "footprint",
            f"peak VmRSS under the ingestion load <= {TARGETS.load_rss_max / MB:.0f} MB",
            peaks["ours"]["peak_rss"] <= TARGETS.load_rss_max,
            f"{peaks['ours']['peak_rss'] / MB:.1f} MB (PSS {peaks['ours']['peak_pss'] / MB:.1f} MB)",
        )
    )


def _one_wrk(
    target: OffenInstance | BaselineInstance,
    pool: VisitorPool,
    body_file: Path,
    files: Path,
    *,
    connections: int,
    seconds: int,
    new_connection: bool,
) -> dict[str, Any]:
    cookie_file = pool.write(files / "cookies.txt")
    before = count_events(target.db_path)
    result = wrk.run_wrk(
        f"{target.url}/api/events",
        body_file=body_file,
        cookie_file=cookie_file,
        connections=connections,
        seconds=seconds,
        new_connection=new_connection,
    )
    stored = settled_count(target.db_path) - before
    cell = wrk_cell(result)
    # Every answered request consumed a visitor; so may the ones in flight at the stop.
    pool.advance(result.requests + connections)
    cell["visitors_repeated"] = result.requests > len(pool.cookies)
    cell["stored"] = stored_check(result.requests - result.non_2xx, stored, connections)
    time.sleep(1.0)  # let the server drain its queue before the next run
    return cell


def _closed_loop(
    report: Report,
    ours: OffenInstance,
    base: BaselineInstance,
    pool: VisitorPool,
    typical: Path,
    stress: Path,
    files: Path,
    seconds: int,
    data: dict[str, Any],
) -> None:
    report.say(f"-- closed loop (wrk, {seconds} s per run, POST /api/events, one visitor per request)")
    cells = [(mode, conns, "typical") for mode in ("keep-alive", "new-conn") for conns in (1, 10, 50)]
    cells.append(("keep-alive", 10, "stress"))
    rows = []
    for index, (mode, conns, body) in enumerate(cells):
        order = ("ours", "baseline") if index % 2 == 0 else ("baseline", "ours")
        measured: dict[str, dict[str, Any]] = {}
        for name in order:
            target = ours if name == "ours" else base
            measured[name] = _one_wrk(
                target,
                pool,
                stress if body == "stress" else typical,
                files,
                connections=conns,
                seconds=seconds,
                new_connection=mode == "new-conn",
            )
        o, b = measured["ours"], measured["baseline"]
        label = f"{mode} c={conns} {body}"
        report.say(
            f"  {label}: ours {o['rps']:.0f} req/s p99 {o['p99_ms']:.1f} ms | baseline {b['rps']:.0f} req/s"
            f" p99 {b['p99_ms']:.1f} ms (order: {order[0]} first)"
        )
        cell = {"mode": mode, "connections": conns, "body": body, "order": list(order), **measured}
        cell["throughput_ratio"] = ratio(o["rps"], b["rps"])
        cell["p99_ratio"] = ratio(o["p99_ms"], b["p99_ms"])
        data["closed_loop"].append(cell)
        rows.append(
            [
                mode,
                conns,
                body,
                o["rps"],
                b["rps"],
                cell["throughput_ratio"],
                o["p50_ms"],
                b["p50_ms"],
                o["p99_ms"],
                b["p99_ms"],
                cell["p99_ratio"],
                o["max_ms"],
                b["max_ms"],
                o["errors"],
                b["errors"],
                f"{o['stored']['stored']}/{o['stored']['acknowledged']}",
            ]
        )
        for check in closed_loop_checks(f"closed {label}", o, b):
            report.check(check)
        if not b["stored"]["ok"]:
            report.say(f"  note: the baseline itself lost events in {label}: {b['stored']}")
    report.say(
        format_table(
            [
                "mode",
                "conn",
                "body",
                "ours/s",
                "base/s",
                "thr ratio",
                "ours p50",
                "base p50",
                "ours p99",
                "base p99",
                "p99 ratio",
                "ours max",
                "base max",
                "ours err",
                "base err",
                "ours stored/2xx",
            ],
            rows,
        )
    )
    report.say("  (latencies in ms, from wrk: request written to answer read, connection set-up excluded)")


def _open_run(
    target: OffenInstance | BaselineInstance,
    pool: VisitorPool,
    bodies: Sequence[bytes],
    rate: float,
    seconds: float,
) -> dict[str, Any]:
    before = count_events(target.db_path)
    result = openloop.run_open_loop(
        f"{target.url}/api/events",
        rate=rate,
        seconds=seconds,
        bodies=bodies,
        cookies=pool.rotated(),
        connections=64,
        expect_status=201,
    )
    stored = settled_count(target.db_path) - before
    pool.advance(result.scheduled)
    out = asdict(result)
    acknowledged = sum(n for s, n in result.statuses.items() if s.startswith("2"))
    out["stored"] = stored_check(acknowledged, stored, 0)
    return out


def _open_loop(
    report: Report,
    ours: OffenInstance,
    base: BaselineInstance,
    pool: VisitorPool,
    bodies_text: Sequence[str],
    quick: bool,
    data: dict[str, Any],
) -> None:
    bodies = [b.encode() for b in bodies_text]
    seconds = 3 if quick else 15
    rate = TARGETS.open_loop_rate
    report.say("-- open loop (requests leave at a fixed rate; latency from the scheduled send time)")
    steady: dict[str, Any] = {}
    for name, target in (("baseline", base), ("ours", ours)):
        steady[name] = _open_run(target, pool, bodies, rate, seconds)
        report.say(
            f"  {name} steady: {openloop.OpenLoopResult(**{k: v for k, v in steady[name].items() if k != 'stored'}).summary()}"
        )
        time.sleep(1.0)
    data["open_loop_steady"] = steady
    o = steady["ours"]
    report.check(
        Check(
            "open loop",
            f"{rate:.0f} events/s for {seconds} s: p99 <= {TARGETS.open_loop_p99_ms:.0f} ms",
            o["p99_ms"] <= TARGETS.open_loop_p99_ms and o["errors"] == 0,
            f"p99 {o['p99_ms']:.1f} ms, errors {o['errors']}, achieved {o['achieved_rate']:.0f}/s"
            f" (baseline p99 {steady['baseline']['p99_ms']:.1f} ms)",
        )
    )
    report.check(
        Check(
            "open loop",
            "every acknowledged event stored",
            bool(o["stored"]["ok"]),
            f"{o['stored']['acknowledged']} acknowledged, {o['stored']['stored']} stored",
        )
    )
    step_seconds = 2 if quick else 5
    maxima: dict[str, Any] = {}
    for name, target in (("ours", ours), ("baseline", base)):
        best, steps = openloop.find_max_rate(
            f"{target.url}/api/events",
            bodies=bodies,
            cookies=pool.rotated(),
            start_rate=200.0,
            factor=1.25,
            seconds=step_seconds,
            p99_limit_ms=TARGETS.max_rate_p99_ms,
            connections=64,
            expect_status=201,
        )
        pool.advance(sum(s.scheduled for s in steps))
        maxima[name] = {
            "best_rate": best,
            "steps": [asdict(s) for s in steps],
            "generator_max_lag_ms": max(s.max_send_lag_ms for s in steps),
        }
        last = steps[-1]
        report.say(
            f"  {name}: highest steady rate with p99 < {TARGETS.max_rate_p99_ms:.0f} ms: {best:.0f}/s"
            f" ({len(steps)} steps of {step_seconds} s; the step that stopped it: {last.summary()})"
        )
        time.sleep(1.0)
    maxima["ratio"] = ratio(maxima["ours"]["best_rate"], maxima["baseline"]["best_rate"])
    data["open_loop_max_rate"] = maxima
    report.say(
        format_table(
            ["target", "p50 @500/s", "p99 @500/s", "max @500/s", "errors", "max rate p99<100ms"],
            [
                [
                    n,
                    steady[n]["p50_ms"],
                    steady[n]["p99_ms"],
                    steady[n]["max_ms"],
                    steady[n]["errors"],
                    maxima[n]["best_rate"],
                ]
                for n in ("ours", "baseline")
            ],
        )
    )
    report.say(f"  max-rate ratio ours/baseline: {_fmt_ratio(maxima['ratio'])}")


def _login_hammer(
    report: Report,
    ours: OffenInstance,
    pool: VisitorPool,
    bodies_text: Sequence[str],
    quick: bool,
    data: dict[str, Any],
) -> None:
    bodies = [b.encode() for b in bodies_text]
    seconds = 3 if quick else 10
    rate, threads = 200.0, 32
    report.say(
        f"-- events at {rate:.0f}/s for {seconds} s, without and with /api/login hammered ({threads} threads)"
    )
    quiet = _open_run(ours, pool, bodies, rate, seconds)
    time.sleep(1.0)
    hammer = start_hammer(ours.url, seconds + 1.5, threads, OPERATOR_EMAIL)
    time.sleep(1.0)  # the hammer is running at full speed before the events start
    loud = _open_run(ours, pool, bodies, rate, seconds)
    out, err = hammer.communicate(timeout=seconds + 90)
    if hammer.returncode != 0:
        raise RuntimeError(f"the login hammer failed: {err.strip()[-500:]}")
    statuses = json.loads(out.strip().splitlines()[-1])
    data["login_hammer"] = {"quiet": quiet, "hammered": loud, "login_statuses": statuses, "threads": threads}
    total = sum(statuses.values())
    report.say(
        format_table(
            ["events", "p50 ms", "p99 ms", "max ms", "errors", "logins sent", "logins 429", "logins 401"],
            [
                [
                    "quiet",
                    quiet["p50_ms"],
                    quiet["p99_ms"],
                    quiet["max_ms"],
                    quiet["errors"],
                    None,
                    None,
                    None,
                ],
                [
                    "login hammered",
                    loud["p50_ms"],
                    loud["p99_ms"],
                    loud["max_ms"],
                    loud["errors"],
                    total,
                    statuses.get("429", 0),
                    statuses.get("401", 0),
                ],
            ],
        )
    )
    report.say(
        f"  login statuses: {statuses}; event p99 ratio hammered/quiet: {_fmt_ratio(ratio(loud['p99_ms'], quiet['p99_ms']))}"
    )
    report.check(
        Check(
            "login hammer",
            "events keep flowing while /api/login is hammered (zero event errors, all stored)",
            loud["errors"] == 0 and bool(loud["stored"]["ok"]),
            f"event p99 {loud['p99_ms']:.1f} ms vs {quiet['p99_ms']:.1f} ms quiet, {loud['errors']} errors,"
            f" {statuses.get('429', 0)} of {total} logins got 429",
        )
    )


# --------------------------------------------------------------------------- login


def _post_login(url: str, email: str, password: str) -> tuple[int, float]:
    host, port = url.split("//", 1)[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    body = json.dumps({"username": email, "password": password})
    try:
        start = time.perf_counter()
        conn.request("POST", "/api/login", body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        elapsed = time.perf_counter() - start
    finally:
        conn.close()
    return response.status, elapsed * 1000


def timed_logins(url: str, credentials: Sequence[tuple[str, str]], spacing: float) -> list[float]:
    """Log each (email, password) in, `spacing` s apart start to start; milliseconds each (all must be 200)."""
    times = []
    next_start = time.monotonic()
    for email, password in credentials:
        pause = next_start - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        next_start = time.monotonic() + spacing
        status, ms = _post_login(url, email, password)
        if status != 200:
            raise RuntimeError(f"login answered {status}, not 200 (is the throttle spacing too short?)")
        times.append(ms)
    return times


def _operator(i: int) -> tuple[str, str]:
    return f"operator-{i:02d}@bench.example", f"bench password {i:02d}"


def setup_with_operators(instance: OffenInstance, count: int) -> None:
    """Set the instance up with `count` operators of one account, through `offen setup -source`.

    The seed file is the documented way to start with many operators; each
    gets the account's key wrapped under their password and email, as an
    accepted invitation would leave it.
    """
    seed = {
        "accounts": [{"id": ACCOUNT_ID, "name": "Bench Site"}],
        "account_users": [
            {
                "email": email,
                "password": password,
                "admin_level": 1 if i == 0 else 0,
                "accounts": [ACCOUNT_ID],
            }
            for i, (email, password) in enumerate(_operator(i) for i in range(count))
        ],
    }
    path = instance.home / "seed.json"
    path.write_text(json.dumps(seed), encoding="utf-8")
    instance.cli("setup", "-source", str(path))
    path.unlink()  # it holds passwords


def build_migrated(instance: OffenInstance, users: int) -> None:
    """An Offen 1.4 database (tests/offen14.py) with `users` operators of one RSA account."""
    from appliance import ids, keys
    from tests import keypool
    from tests.offen14 import build_offen14_database

    public_jwk, private_jwk = keypool.rsa_keypair()
    kek = keys.random_bytes(32)
    user_rows, relationship_rows = [], []
    for i in range(users):
        email, password = _operator(i)
        salt = keys.new_kdf_salt()
        user_id = ids.new_uuid()
        user_rows.append(
            {
                "account_user_id": user_id,
                "hashed_email": keys.hash_secret(email),  # Argon2id v3, as Offen 1.4 wrote them
                "hashed_password": keys.hash_secret(password),
                "salt": salt,
                "admin_level": 1 if i == 0 else 0,
            }
        )
        relationship_rows.append(
            {
                "relationship_id": ids.new_uuid(),
                "account_user_id": user_id,
                "account_id": ACCOUNT_ID,
                "password_encrypted_key_encryption_key": keys.encrypt_symmetric(
                    keys.derive_key(password, salt), kek
                ),
                "email_encrypted_key_encryption_key": keys.encrypt_symmetric(
                    keys.derive_key(email, salt), kek
                ),
            }
        )
    build_offen14_database(
        instance.db_path,
        accounts=[
            {
                "account_id": ACCOUNT_ID,
                "name": "Offen Era Site",
                "public_key": json.dumps(public_jwk),
                "encrypted_private_key": keys.encrypt_symmetric(kek, json.dumps(private_jwk).encode()),
                "user_salt": keys.new_user_salt(),
                "retired": False,
                "created": datetime(2024, 5, 1, 10, tzinfo=UTC),
            }
        ],
        users=user_rows,
        relationships=relationship_rows,
    )


def run_login(report: Report, root: Path, args: argparse.Namespace) -> None:
    n = 10 if args.quick else 12
    operators = 50
    report.say(f"== Login (POST /api/login over a new loopback connection; {n} logins per figure)")
    data: dict[str, Any] = {"logins_per_figure": n}
    report.data["login"] = data
    figures: dict[str, list[float]] = {}

    one = OffenInstance(root, "login-1")
    one.setup()
    one.start()
    try:
        # One operator logging in again and again: the per-email throttle blocks for 1 s.
        figures["fresh, 1 operator"] = timed_logins(one.url, [_operator(0)] * n, spacing=1.1)
    finally:
        one.stop()

    many = OffenInstance(root, "login-50")
    t0 = time.perf_counter()
    setup_with_operators(many, operators)
    report.say(f"  `offen setup -source` with {operators} operators took {time.perf_counter() - t0:.1f} s")
    many.start()
    try:
        # Different operators 0.6 s apart: past the global 0.5 s throttle.
        figures[f"fresh, {operators} operators"] = timed_logins(
            many.url, [_operator(i) for i in range(0, operators, operators // n)][:n], spacing=0.6
        )
    finally:
        many.stop()

    migrated = OffenInstance(root, "login-offen14")
    t0 = time.perf_counter()
    build_migrated(migrated, operators)
    built = time.perf_counter() - t0
    t0 = time.perf_counter()
    migrated.cli("migrate")
    data["offen14_build_seconds"] = built
    data["offen14_migrate_seconds"] = time.perf_counter() - t0
    report.say(
        f"  built an Offen 1.4 database with {operators} operators (Argon2id v3) in {built:.1f} s;"
        f" `offen migrate` took {data['offen14_migrate_seconds']:.2f} s"
    )
    migrated.start()
    try:
        chosen = [_operator(i) for i in range(1, operators, operators // n)][:n]
        figures[f"migrated, {operators} operators, first login (re-hash)"] = timed_logins(
            migrated.url, chosen, spacing=0.6
        )
        figures[f"migrated, {operators} operators, second login"] = timed_logins(
            migrated.url, chosen, spacing=0.6
        )
    finally:
        migrated.stop()

    rows = []
    fresh_one = summarize_ms(figures["fresh, 1 operator"])
    for name, times in figures.items():
        s = summarize_ms(times)
        data[name] = {**s, "times_ms": times}
        rows.append([name, s["n"], s["median"], s["p90"], s["max"], ratio(s["median"], fresh_one["median"])])
    report.say(format_table(["case", "n", "median ms", "p90 ms", "max ms", "median / fresh 1-op"], rows))
    report.check(
        Check(
            "login",
            f"one operator logs in within {TARGETS.login_max_ms:.0f} ms (median)",
            fresh_one["median"] <= TARGETS.login_max_ms,
            f"median {fresh_one['median']:.0f} ms, p90 {fresh_one['p90']:.0f} ms",
        )
    )
    for name in (f"fresh, {operators} operators", f"migrated, {operators} operators, second login"):
        s = data[name]
        report.check(
            Check(
                "login",
                f"{name}: median within {TARGETS.login_max_ms:.0f} ms",
                s["median"] <= TARGETS.login_max_ms,
                f"median {s['median']:.0f} ms, p90 {s['p90']:.0f} ms",
            )
        )


# --------------------------------------------------------------------------- main


def parse_only(value: str | None) -> list[str]:
    """The phases to run, in their fixed order; ValueError for an unknown name."""
    if not value:
        return list(PHASES)
    wanted = [part.strip() for part in value.split(",") if part.strip()]
    unknown = [part for part in wanted if part not in PHASES]
    if unknown:
        raise ValueError(f"unknown phase(s) {unknown}; choose from {', '.join(PHASES)}")
    return [phase for phase in PHASES if phase in wanted]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Server benchmarks: ingestion, footprint, login (loopback).")
    parser.add_argument("--quick", action="store_true", help="3 s runs instead of 15 s (a smoke test)")
    parser.add_argument("--only", help="comma-separated phases: " + ",".join(PHASES))
    # The login hammer runs in a child process of this module (not for people to call).
    parser.add_argument("--hammer-url", help=argparse.SUPPRESS)
    parser.add_argument("--hammer-seconds", type=float, default=10.0, help=argparse.SUPPRESS)
    parser.add_argument("--hammer-threads", type=int, default=32, help=argparse.SUPPRESS)
    parser.add_argument("--hammer-email", default=OPERATOR_EMAIL, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.hammer_url:
        print(
            json.dumps(
                _hammer_logins(args.hammer_url, args.hammer_seconds, args.hammer_threads, args.hammer_email)
            )
        )
        return 0
    try:
        phases = parse_only(args.only)
    except ValueError as exc:
        parser.error(str(exc))
    if wrk.wrk_binary() is None and "ingestion" in phases:
        print("bench: wrk is not installed (`make bench-deps` installs the Debian package)", file=sys.stderr)
        return 1

    report = Report(args.quick)
    report.data["cheroot"] = cheroot_settings()
    report.data["targets"] = asdict(TARGETS)
    report.say(
        f"bench.run {'--quick ' if args.quick else ''}phases {', '.join(phases)}; {os.cpu_count()} CPUs,"
        f" load average {os.getloadavg()[0]:.2f}; {report.data['machine']['platform']}, Python"
        f" {report.data['machine']['python']} ({sys.executable})"
    )
    runners: dict[str, Callable[[Report, Path, argparse.Namespace], None]] = {
        "footprint": run_footprint,
        "ingestion": run_ingestion,
        "login": run_login,
    }
    with tempfile.TemporaryDirectory(prefix="offen-bench-") as folder:
        for phase in phases:
            t0 = time.perf_counter()
            try:
                runners[phase](report, Path(folder), args)
            except Exception:  # a broken phase is reported; the other phases still run
                report.errors.append(f"{phase}: {traceback.format_exc()}")
                report.say(f"BROKEN  {phase}:\n{traceback.format_exc()}")
            report.say(f"   ({phase} took {time.perf_counter() - t0:.0f} s)\n")
    path = report.write()
    report.say("== Summary")
    for check in report.checks:
        report.say(check.line())
    passed = sum(c.passed for c in report.checks)
    report.say(
        f"{passed} of {len(report.checks)} targets met; load average now {os.getloadavg()[0]:.2f};"
        f" figures in {path.relative_to(REPO)}"
    )
    if report.errors:
        report.say(f"the benchmark itself broke in: {', '.join(e.split(':', 1)[0] for e in report.errors)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
