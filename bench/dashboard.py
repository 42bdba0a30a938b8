"""The operator-dashboard benchmark of issue 4: load, reload, refresh and memory at 100k and 1M events.

Run with `python -m bench.dashboard`, `--quick` (5k events: a smoke test of
the harness, under 3 minutes), `--only x25519,100k` (kinds: x25519, rsa,
offen; sizes: 100k, 1m). Durations here with the engine of 2026-11-29: 100k
about 7 minutes, 1M X25519 and Offen's design about 8, and the 1M RSA phase
as long as its RSA work takes (200k RSA-4096 decryptions: 10-25 minutes;
`--rsa-timeout` caps it); building the data sets the first time adds about
10 minutes.

For every phase a real `offen serve` (tests/realserver.py) runs on loopback
with a private copy of a cached data set (bench/dataset.py), so the server's
shared cache starts empty; Debian's headless Chromium (`/usr/bin/chromium`,
the flags of tests/e2e/sites.py) drives the real pages through Playwright:

- **x25519**: browser A (fresh profile) logs in on `/login/`, opens
  `/auditorium/<accountId>/` and waits for `[data-testid="dashboard/ready"]`
  (first load), reloads the tab (warm IndexedDB), then, while
  bench/injector.py posts 10 new visitors/s and 50 events/s through the HTTP
  API, waits 15 s and calls `window.__offenDashboard.refresh()`. Browser B
  (another fresh profile) then loads once: it should use what A stored on
  the server (shared cache).
- **rsa**: the same data in an RSA-4096 account: A's first load does the RSA
  work once (its duration is reported), then B's first load.
- **offen**: Offen's design (bench/offen_design.js) on the RSA data: one
  giant `GET /api/accounts/:id`, RSA and AES-GCM on the main thread. The 100k
  set in full; for 1M a 10 % sample database (100k events, 20k visitors,
  180 days), capped at 10 minutes and extrapolated ×10, labelled so.

Times run from the start of the page's navigation (`performance.now()` of
the document, noted by a MutationObserver installed before the page's own
scripts) to the moment `[data-testid="dashboard/ready"]` appears, with the dashboard's own `loadMs` and per-stage `timings` beside
them. Tab memory is the peak PSS of the tab's renderer process (dedicated
workers are threads in it), from `/proc/<pid>/smaps_rollup` every 250 ms: the
largest `--type=renderer` process of the browser. The page runs in the tab
Chromium opens at start (no second, blank tab), and the sum over all renderers
(Chromium's spare renderers add 15-30 MB each) is reported beside it. Every wait has a timeout: a page that is not there yet gives
"dashboard not ready: …" and the run goes on. Prints a table against the
targets and writes JSON to bench/results/dashboard-<UTC timestamp>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import dataset
from bench.injector import Injector

__all__ = [
    "TARGETS",
    "MemorySampler",
    "browser_root_pids",
    "descendants",
    "extrapolate",
    "parse_only",
    "pss_kib",
    "render_table",
    "renderer_pids",
    "run",
    "checks",
    "main",
]

RESULTS = Path(__file__).resolve().parent / "results"
DESIGN_JS = Path(__file__).resolve().parent / "offen_design.js"
KINDS = ("x25519", "rsa", "offen")
FULL_SIZES = ("100k", "1m")
READY = '[data-testid="dashboard/ready"]'
PROGRESS = '[data-testid="dashboard/progress"]'
LOGIN_KEY = "offen.operator.login"
REFRESH_TRAFFIC_S = 15.0
OFFEN_SAMPLE_CAP_S = 600.0

# Targets of issue 4, item 5 (ms, bytes). "quick" borrows the 100k figures: a smoke test only.
TARGETS: dict[str, dict[str, float]] = {
    "quick": {"first_ms": 10_000, "reload_ms": 1_000},
    "100k": {"first_ms": 10_000, "reload_ms": 1_000},
    "1m": {
        "first_ms": 60_000,
        "first_bar_ms": 90_000,
        "reload_ms": 2_000,
        "refresh_ms": 200,
        "memory_bytes": 1 << 30,
    },
}
# Generous waits: about 3x the bar, so a slow but working dashboard is still measured. An RSA
# account's first load does one RSA-4096 decryption per visitor (6.2 ms each on one core here:
# about 20 minutes of work for 200k visitors, 10 on two cores), so its first browser gets longer.
FIRST_LOAD_TIMEOUT_S = {"quick": 60, "100k": 120, "1m": 400}
RSA_FIRST_LOAD_TIMEOUT_S = {"quick": 120, "100k": 600, "1m": 2700}


class NotReady(Exception):
    """The page under test is missing or did not reach the expected state in time."""


# -- memory -------------------------------------------------------------------------------


def _cmdline(pid: int) -> str:
    """The command line joined by spaces ("" when the process is gone).

    Debian's Chromium rewrites its process title into one argv string, so
    flags are looked for as substrings of the whole line.
    """
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return " ".join(part.decode(errors="replace") for part in handle.read().split(b"\0") if part)
    except OSError:
        return ""


def _parent_map() -> dict[int, int]:
    parents: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as handle:
                stat = handle.read()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: fields start after the last ')'.
        fields = stat[stat.rfind(")") + 2 :].split()
        parents[int(name)] = int(fields[1])
    return parents


def browser_root_pids(marker: str) -> list[int]:
    """Chromium browser processes (no `--type=`) whose command line holds the flag `marker`."""
    roots = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            line = _cmdline(int(name)) + " "
            if f"{marker} " in line and " --type=" not in line:
                roots.append(int(name))
    return roots


def descendants(roots: Iterable[int], parents: dict[int, int] | None = None) -> set[int]:
    """Every process below `roots` (children, grandchildren: renderers hang off the zygote)."""
    parents = _parent_map() if parents is None else parents
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    found: set[int] = set()
    stack = list(roots)
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def renderer_pids(marker: str) -> list[int]:
    """The renderer processes of the browser started with `marker`: the tab's (and its workers).

    The browser's own UI renderer (`--top-chrome-webui`) is left out; a spare
    renderer Chromium keeps ready would be counted (one tab is open).
    """
    found = []
    for pid in descendants(browser_root_pids(marker)):
        line = _cmdline(pid)
        if "--type=renderer" in line and "--top-chrome-webui" not in line:
            found.append(pid)
    return sorted(found)


def pss_kib(pid: int) -> int:
    """Proportional set size of a process in KiB (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


class MemorySampler:
    """Samples the summed renderer PSS of one browser every `interval` s and keeps the peak.

    It also keeps the whole trace and the harness's marks ("first load ready", ...), so a report can
    say in which phase the peak fell: the peak alone does not tell what to shrink.
    """

    def __init__(self, marker: str, interval: float = 0.25) -> None:
        self.marker, self.interval = marker, interval
        self.peak_kib = 0  # the tab: the largest renderer
        self.peak_all_kib = 0  # every renderer of the browser together
        self.peak_at = 0.0
        self.samples = 0
        self.trace: list[tuple[float, int]] = []
        self.marks: list[tuple[float, str]] = []
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pss-sampler", daemon=True)
        self._pids: list[int] = []
        self._pids_at = 0.0

    def _run(self) -> None:
        while not self._stop.is_set():
            now = time.monotonic()
            if now - self._pids_at > 1.0:
                # Walking /proc is dearer than reading PSS: refresh the renderer list once a second.
                self._pids, self._pids_at = renderer_pids(self.marker), now
            sizes = [pss_kib(pid) for pid in self._pids]
            tab = max(sizes, default=0)
            self.samples += 1
            self.trace.append((round(now - self._started, 2), tab))
            self.peak_all_kib = max(self.peak_all_kib, sum(sizes))
            if tab > self.peak_kib:
                self.peak_kib, self.peak_at = tab, now - self._started
            self._stop.wait(self.interval)

    def start(self) -> MemorySampler:
        self._started = time.monotonic()
        self._thread.start()
        return self

    def mark(self, label: str) -> None:
        """Note that the harness reached `label` now."""
        self.marks.append((round(time.monotonic() - self._started, 2), label))

    def stop(self) -> int:
        """Stop sampling; the peak in bytes."""
        self._stop.set()
        self._thread.join(timeout=5)
        return self.peak_kib * 1024

    def timeline(self) -> dict[str, Any]:
        """The peak's time and phase (the last mark before it), the marks, and the trace in MiB, 1 per s."""
        phase = "start"
        for at, label in self.marks:
            if at <= self.peak_at:
                phase = f"after {label}"
        step = max(1, round(1.0 / self.interval))
        return {
            "peak_at_s": round(self.peak_at, 2),
            "peak_phase": phase,
            "marks": self.marks,
            "trace_mib": [(at, round(kib / 1024)) for at, kib in self.trace[::step]],
        }


# -- the browser side ---------------------------------------------------------------------


@dataclass
class Server:
    process: Any
    base: str
    built: dataset.Built
    tmp: Path


def _start_server(built: dataset.Built, tmp: Path) -> Server:
    from tests.realserver import SERVER_HOST, OffenProcess, free_port, offen_environment

    data = dataset.copy_data_dir(built, tmp / "data")
    env = offen_environment(data)
    port = free_port()
    logs = tmp / "logs"
    logs.mkdir()
    process = OffenProcess(env, port, logs).start(timeout=60)
    return Server(process, f"http://{SERVER_HOST}:{port}", built, tmp)


def _launch(playwright: Any, profile: Path, base: str) -> tuple[Any, str]:
    from tests.e2e.sites import CHROMIUM, CHROMIUM_ARGS

    marker = f"--user-data-dir={profile}"
    context = playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=CHROMIUM,
        headless=True,
        # 127.0.0.2 over http: make it a secure context for WebCrypto whatever Chromium's loopback rules.
        args=[*CHROMIUM_ARGS, f"--unsafely-treat-insecure-origin-as-secure={base}"],
        viewport={"width": 1280, "height": 900},
    )
    context.set_default_timeout(30_000)
    context.add_init_script(_READY_OBSERVER)
    return context, marker


def _login(page: Any, base: str, email: str, password: str) -> None:
    try:
        page.goto(f"{base}/login/", wait_until="domcontentloaded", timeout=30_000)
        page.wait_for_selector('[data-testid="login/email"]', timeout=15_000)
    except Exception as error:  # noqa: BLE001 - Playwright's TimeoutError and friends
        raise NotReady(f"login page: no [data-testid=login/email] on /login/ ({_short(error)})") from error
    page.fill('[data-testid="login/email"]', email)
    page.fill('[data-testid="login/password"]', password)
    page.click('[data-testid="login/submit"]')
    try:
        page.wait_for_function(f"() => !!sessionStorage.getItem({json.dumps(LOGIN_KEY)})", timeout=30_000)
    except Exception as error:  # noqa: BLE001
        raise NotReady(f"login: sessionStorage[{LOGIN_KEY!r}] never set ({_short(error)})") from error


def _short(error: BaseException) -> str:
    return str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__


# Installed in every document before its own scripts: notes performance.now() (ms since this
# document's navigation started) when the progress and ready elements first appear, so the
# figure does not include Playwright's polling or the harness's own latency.
_READY_OBSERVER = """(() => {
  if (window.top !== window) return;
  const PROGRESS_SELECTOR = PROGRESS_JSON, READY_SELECTOR = READY_JSON;
  const look = () => {
    if (window.__benchProgressAt === undefined && document.querySelector(PROGRESS_SELECTOR)) {
      window.__benchProgressAt = performance.now();
    }
    if (window.__benchReadyAt === undefined && document.querySelector(READY_SELECTOR)) {
      window.__benchReadyAt = performance.now();
    }
  };
  new MutationObserver(look).observe(document, {childList: true, subtree: true});
})();""".replace("PROGRESS_JSON", json.dumps(PROGRESS)).replace("READY_JSON", json.dumps(READY))

_READ_DASHBOARD = """() => {
  const d = window.__offenDashboard;
  if (!d) return null;
  const engine = d.engine || {};
  return {loadMs: d.loadMs ?? null, timings: d.timings ?? engine.timings ?? null,
          readyAt: window.__benchReadyAt ?? null, progressAt: window.__benchProgressAt ?? null};
}"""


def _wait_ready(page: Any, timeout_s: float, what: str) -> dict[str, Any]:
    """Wait for the ready element; the dashboard's own figures, or NotReady."""
    started = time.monotonic()
    try:
        page.wait_for_selector(READY, state="attached", timeout=timeout_s * 1000)
    except Exception as error:  # noqa: BLE001
        raise NotReady(f"{what}: no {READY} within {timeout_s:.0f} s ({_short(error)})") from error
    wall = (time.monotonic() - started) * 1000
    figures = page.evaluate(_READ_DASHBOARD)
    if figures is None:
        raise NotReady(f"{what}: {READY} is there but window.__offenDashboard is not")
    return {"wall_ms": round(wall, 1), **figures}


def _open_dashboard(page: Any, base: str, account_id: str, timeout_s: float, what: str) -> dict[str, Any]:
    started = time.monotonic()
    seen_progress = {"value": False}
    page.goto(f"{base}/auditorium/{account_id}/", wait_until="commit", timeout=30_000)
    try:
        page.wait_for_selector(f"{PROGRESS}, {READY}", state="attached", timeout=timeout_s * 1000)
        seen_progress["value"] = page.query_selector(PROGRESS) is not None
    except Exception:  # noqa: BLE001 - reported by _wait_ready below
        pass
    remaining = max(1.0, timeout_s - (time.monotonic() - started))
    result = _wait_ready(page, remaining, what)
    result["harness_ms"] = round((time.monotonic() - started) * 1000, 1)
    result["wall_ms"] = round(result["readyAt"], 1) if result.get("readyAt") else result["harness_ms"]
    result["progress_seen"] = seen_progress["value"] or result.get("progressAt") is not None
    return result


_WRITE_BACK = """(ms) => {
  const d = window.__offenDashboard;
  const pending = d && d.engine && d.engine.writeBack;
  if (!pending) return null;
  return Promise.race([Promise.resolve(pending).then((flush) => flush || null),
    new Promise((_, no) => setTimeout(() => no(new Error(`write-back took over ${ms} ms`)), ms))]);
}"""


def _wait_write_back(page: Any, timeout_s: float) -> dict[str, Any]:
    """Wait for the engine's write-back (shared cache, local cache) of the load that just finished.

    The targets' "reload with a warm cache" and "the RSA work once, then shared" both presume the
    write-back has happened; without this wait the reload raced it (and fell back to the network) and
    closing browser A cut off its last wrapped-secret batches.
    """
    started = time.monotonic()
    out: dict[str, Any] = {}
    try:
        out["flush"] = page.evaluate(_WRITE_BACK, timeout_s * 1000)
    except Exception as error:  # noqa: BLE001 - recorded; the measurement goes on
        out["error"] = _short(error)
    out["wait_ms"] = round((time.monotonic() - started) * 1000, 1)
    return out


def _browser_session(
    playwright: Any, server: Server, profile: Path, timeout_s: float, steps: Sequence[str]
) -> dict[str, Any]:
    """One fresh browser: login, first load, and optionally reload and refresh; memory throughout."""
    out: dict[str, Any] = {}
    context, marker = _launch(playwright, profile, server.base)
    sampler = MemorySampler(marker).start()
    injector: Injector | None = None
    page_errors: list[str] = []
    try:
        # The tab Chromium opened at start: a second one would be another renderer beside the measured one.
        page = context.pages[0] if context.pages else context.new_page()
        # Uncaught errors of the page explain a "not ready" better than a timeout does.
        page.on("pageerror", lambda error: page_errors.append(_short(error)))
        built = server.built
        _login(page, server.base, built.email, built.password)
        sampler.mark("login")
        out["first"] = _open_dashboard(page, server.base, built.account_id, timeout_s, "first load")
        sampler.mark("first load ready")
        out["first"]["write_back"] = _wait_write_back(page, max(60.0, timeout_s))
        sampler.mark("write-back done")
        if "reload" in steps:
            started = time.monotonic()
            page.reload(wait_until="commit", timeout=30_000)
            figures = _wait_ready(page, 60, "reload")
            figures["harness_ms"] = round((time.monotonic() - started) * 1000, 1)
            figures["wall_ms"] = (
                round(figures["readyAt"], 1) if figures.get("readyAt") else figures["harness_ms"]
            )
            out["reload"] = figures
            sampler.mark("reload ready")
            out["reload"]["write_back"] = _wait_write_back(page, 60.0)
            sampler.mark("reload write-back done")
        if "refresh" in steps:
            port = int(server.base.rsplit(":", 1)[1])
            injector = Injector("127.0.0.2", port, built.account_id)
            injector.prepare()
            # The dashboard's own 15 s timer would fold most of the traffic in before the
            # measured refresh: pause it, so the one refresh below covers all of it.
            page.evaluate(
                "() => window.__offenDashboard.autoRefresh && window.__offenDashboard.autoRefresh(false)"
            )
            injector.start()
            sampler.mark("traffic")
            time.sleep(REFRESH_TRAFFIC_S)  # read at call time: tests shorten it
            try:
                refreshed = page.evaluate(
                    "() => Promise.race([window.__offenDashboard.refresh(),"
                    " new Promise((_, no) => setTimeout(() => no(new Error('refresh took over 60 s')), 60000))])"
                )
            except Exception as error:  # noqa: BLE001
                raise NotReady(
                    f"refresh: window.__offenDashboard.refresh() failed ({_short(error)})"
                ) from error
            finally:
                stats = injector.stop()
                injector = None
            out["refresh"] = {**(refreshed or {}), "traffic": stats.as_json()}
    except NotReady as error:
        out["error"] = f"dashboard not ready: {error}"
    except Exception as error:  # noqa: BLE001 - the run goes on; the phase says what broke
        out["error"] = f"{type(error).__name__}: {_short(error)}"
        out["traceback"] = traceback.format_exc(limit=5)
    finally:
        if injector is not None:
            injector.stop()
        out["peak_pss_bytes"] = sampler.stop()
        out["peak_pss_all_renderers_bytes"] = sampler.peak_all_kib * 1024
        out["pss_samples"] = sampler.samples
        out["pss_timeline"] = sampler.timeline()
        if page_errors:
            out["page_errors"] = page_errors[:5]
        try:
            context.close()
        except Exception:  # noqa: BLE001
            pass
    return out


def _measure_ours(playwright: Any, built: dataset.Built, size: str, kind: str, tmp: Path) -> dict[str, Any]:
    server = _start_server(built, tmp / "server")
    try:
        timeout = FIRST_LOAD_TIMEOUT_S[size]
        first_timeout = RSA_FIRST_LOAD_TIMEOUT_S[size] if kind == "rsa" else timeout
        steps = ("reload", "refresh") if kind == "x25519" else ()
        result: dict[str, Any] = {"data": built.as_json()}
        result["browser_a"] = _browser_session(playwright, server, tmp / "profile-a", first_timeout, steps)
        if "error" in result["browser_a"]:
            result["browser_b"] = {"skipped": "browser A did not complete"}
        else:
            result["browser_b"] = _browser_session(playwright, server, tmp / "profile-b", timeout, ())
        result["server_cache"] = _shared_cache_rows(server)
        return result
    finally:
        server.process.stop()


def _shared_cache_rows(server: Server) -> dict[str, int]:
    """Rows of the server-side shared cache after the phase (tables of issue 4; absent before)."""
    import sqlite3

    out: dict[str, int] = {}
    conn = sqlite3.connect(f"file:{server.tmp / 'data' / 'offen.db'}?mode=ro", uri=True, timeout=10)
    try:
        names = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for name in names:
            if name.startswith("offen_") and ("wrapped" in name or "rollup" in name):
                out[name] = conn.execute(f"SELECT COUNT(*) FROM `{name}`").fetchone()[0]
    finally:
        conn.close()
    return out


def _design_source() -> str:
    text = DESIGN_JS.read_text()
    # The file opens with a comment; hand Playwright the function expression itself.
    return text[text.index("async ({") :]


def _measure_offen(playwright: Any, built: dataset.Built, cap_s: float, tmp: Path) -> dict[str, Any]:
    from tests.e2e.sites import CHROMIUM, CHROMIUM_ARGS

    server = _start_server(built, tmp / "server")
    profile = tmp / "profile-offen"
    marker = f"--user-data-dir={profile}"
    result: dict[str, Any] = {"data": built.as_json(), "cap_s": cap_s}
    try:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=[*CHROMIUM_ARGS, f"--unsafely-treat-insecure-origin-as-secure={server.base}"],
            bypass_csp=True,
        )
        sampler = MemorySampler(marker).start()
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.goto(f"{server.base}/healthz", timeout=30_000)
            started = time.monotonic()
            figures = page.evaluate(
                _design_source(),
                {
                    "accountId": built.account_id,
                    "username": built.email,
                    "password": built.password,
                    "deadlineMs": cap_s * 1000,
                },
            )
            result["wall_ms"] = round((time.monotonic() - started) * 1000, 1)
            result.update(figures)
        except Exception as error:  # noqa: BLE001
            result["error"] = f"{type(error).__name__}: {_short(error)}"
        finally:
            result["peak_pss_bytes"] = sampler.stop()
            result["peak_pss_all_renderers_bytes"] = sampler.peak_all_kib * 1024
            context.close()
    finally:
        server.process.stop()
    return result


def extrapolate(sample: dict[str, Any], factor: float) -> dict[str, Any]:
    """Offen's design on the full set from a sample `factor` times smaller.

    Decryption first scales to the whole sample when the cap stopped it early
    (per event), then every stage scales linearly with the data: one RSA per
    visitor and one AES-GCM per event, one body `factor` times larger.
    """
    timings = sample.get("timings") or {}
    decrypted = sample.get("eventsDecrypted") or 0
    total = sample.get("eventsTotal") or 0
    if not decrypted:
        return {"error": "nothing was decrypted in the sample"}
    within_sample = timings.get("decryption", 0.0) * (total / decrypted)
    download = timings.get("download", 0.0) * factor
    decryption = within_sample * factor
    aggregation = timings.get("aggregation", 0.0) * (total / decrypted) * factor
    rest = timings.get("login", 0.0) + timings.get("key", 0.0)
    return {
        "label": "extrapolated",
        "factor": factor,
        "download_ms": round(download, 1),
        "decryption_ms": round(decryption, 1),
        "aggregation_ms": round(aggregation, 1),
        "total_ms": round(download + decryption + aggregation + rest, 1),
    }


# -- run, checks and table -------------------------------------------------------------------


def parse_only(only: str | None, quick: bool) -> tuple[list[str], list[str]]:
    """(kinds, sizes) selected by `--only`: names of either list; an unnamed list means all of it."""
    sizes_all = ["quick"] if quick else list(FULL_SIZES)
    if not only:
        return list(KINDS), sizes_all
    names = [name.strip().lower() for name in only.split(",") if name.strip()]
    unknown = [n for n in names if n not in KINDS and n not in FULL_SIZES and n != "quick"]
    if unknown:
        raise ValueError(f"unknown --only names: {', '.join(unknown)} (kinds {KINDS}, sizes {FULL_SIZES})")
    kinds = [k for k in KINDS if k in names] or list(KINDS)
    sizes = [s for s in sizes_all if s in names] or sizes_all
    return kinds, sizes


def _spec(size: str, key_type: str) -> dataset.Spec:
    base = dataset.SIZES[size]
    return dataset.Spec(base.events, base.visitors, base.days, key_type, base.seed)


def _playwright() -> Any:
    """The Playwright context manager; tests swap in their session's (it cannot start twice)."""
    from playwright.sync_api import sync_playwright

    return sync_playwright()


def run(quick: bool = False, only: str | None = None) -> dict[str, Any]:
    kinds, sizes = parse_only(only, quick)
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "load_average_start": os.getloadavg(),
        "method": "real offen serve per phase with a copy of the cached data set; headless Chromium, fresh "
        "profile per browser; wall time from navigation to [data-testid=dashboard/ready]; tab memory = peak "
        "PSS of the tab's renderer process (the browser's largest renderer; workers are threads in it), every 250 ms; "
        "the sum over all renderers beside it",
        "phases": {},
    }
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp_name, _playwright() as playwright:
        tmp = Path(tmp_name)
        for size in sizes:
            for kind in kinds:
                name = f"{kind}-{size}"
                print(f"== {name}", flush=True)
                phase_tmp = tmp / name
                phase_tmp.mkdir()
                try:
                    if kind == "offen":
                        sample = size == "1m"
                        spec = _spec("1m-sample" if sample else size, "rsa")
                        built = dataset.ensure(spec)
                        cap = OFFEN_SAMPLE_CAP_S if sample else 2 * OFFEN_SAMPLE_CAP_S
                        phase = _measure_offen(playwright, built, cap, phase_tmp)
                        if sample and "timings" in phase:
                            full = dataset.SIZES["1m"]
                            phase["extrapolated"] = extrapolate(phase, full.events / spec.events)
                    else:
                        built = dataset.ensure(_spec(size, kind))
                        phase = _measure_ours(playwright, built, size, kind, phase_tmp)
                except Exception as error:  # noqa: BLE001 - one broken phase does not stop the run
                    phase = {"error": f"{type(error).__name__}: {_short(error)}"}
                    phase["traceback"] = traceback.format_exc(limit=5)
                results["phases"][name] = phase
                shutil.rmtree(phase_tmp, ignore_errors=True)
                print(_phase_summary(name, phase), flush=True)
    results["load_average_end"] = os.getloadavg()
    results["checks"] = checks(results)
    return results


def _get(data: dict[str, Any], *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def checks(results: dict[str, Any]) -> list[dict[str, Any]]:
    """One line per target: figure, limit, PASS/FAIL, or n/a with the reason."""
    lines: list[dict[str, Any]] = []
    phases = results.get("phases", {})

    def add(label: str, value: float | None, limit: float, unit: str, why: str | None = None) -> None:
        status = "n/a" if value is None else ("PASS" if value <= limit else "FAIL")
        lines.append(
            {
                "target": label,
                "value": value,
                "limit": limit,
                "unit": unit,
                "status": status,
                "note": why if value is None else None,
            }
        )

    for name, phase in phases.items():
        kind, size = name.split("-", 1)
        targets = TARGETS.get(size)
        if kind == "offen" or not targets:
            continue
        why = phase.get("error") or _get(phase, "browser_a", "error")
        a, b = phase.get("browser_a", {}), phase.get("browser_b", {})
        if kind == "x25519":
            add(f"{size} x25519 first load", _get(a, "first", "wall_ms"), targets["first_ms"], "ms", why)
            if "first_bar_ms" in targets:
                add(
                    f"{size} x25519 first load (bar)",
                    _get(a, "first", "wall_ms"),
                    targets["first_bar_ms"],
                    "ms",
                    why,
                )
            add(f"{size} x25519 reload", _get(a, "reload", "wall_ms"), targets["reload_ms"], "ms", why)
            if "refresh_ms" in targets:
                add(f"{size} x25519 refresh", _get(a, "refresh", "ms"), targets["refresh_ms"], "ms", why)
            if "memory_bytes" in targets:
                peak = max(a.get("peak_pss_bytes") or 0, b.get("peak_pss_bytes") or 0) or None
                add(f"{size} x25519 tab memory", peak, targets["memory_bytes"], "B", why)
            add(
                f"{size} x25519 second browser",
                _get(b, "first", "wall_ms"),
                targets["first_ms"],
                "ms",
                why or b.get("error") or b.get("skipped"),
            )
        else:
            add(
                f"{size} rsa second browser",
                _get(b, "first", "wall_ms"),
                targets["first_ms"],
                "ms",
                why or b.get("error") or b.get("skipped"),
            )
            if "first_bar_ms" in targets:
                add(
                    f"{size} rsa second browser (bar)",
                    _get(b, "first", "wall_ms"),
                    targets["first_bar_ms"],
                    "ms",
                    why or b.get("error") or b.get("skipped"),
                )
    return lines


def _fmt_ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.0f} ms"


def _fmt_bytes(value: float | None) -> str:
    return "-" if not value else f"{value / (1 << 20):.0f} MiB"


def _timings(figures: dict[str, Any] | None) -> str:
    timings = (figures or {}).get("timings") or {}
    parts = [f"{k} {_fmt_ms(v)}" for k, v in timings.items() if isinstance(v, int | float)]
    if timings.get("source"):
        parts.append(f"source {timings['source']}")
    busy = timings.get("busy")
    if isinstance(busy, dict) and busy:
        # Stages overlap (workers run in parallel); "busy" is the time each stage actually worked.
        parts.append("busy: " + ", ".join(f"{k} {_fmt_ms(v)}" for k, v in busy.items()))
    return ", ".join(parts)


def _phase_summary(name: str, phase: dict[str, Any]) -> str:
    lines = [f"  {name}"]
    if "error" in phase:
        lines.append(f"    ! {phase['error']}")
    if name.startswith("offen"):
        if "timings" in phase:
            t = phase["timings"]
            lines.append(
                f"    Offen's design: {phase.get('eventsDecrypted')}/{phase.get('eventsTotal')} events,"
                f" {phase.get('secretsDecrypted')} secrets ({phase.get('keyType')}),"
                f" body {phase.get('bodyBytes', 0) / (1 << 20):.0f} MiB: total {_fmt_ms(t.get('total'))}"
                f" (download {_fmt_ms(t.get('download'))}, decryption {_fmt_ms(t.get('decryption'))}"
                f" of which secrets {_fmt_ms(t.get('secretDecryption'))}, aggregation"
                f" {_fmt_ms(t.get('aggregation'))}); tab memory {_fmt_bytes(phase.get('peak_pss_bytes'))}"
                + ("; STOPPED AT THE CAP" if phase.get("stoppedEarly") else "")
            )
        if "extrapolated" in phase:
            x = phase["extrapolated"]
            lines.append(
                f"    1M extrapolated (x{x.get('factor', 0):.0f}, label: extrapolated): total"
                f" {_fmt_ms(x.get('total_ms'))} (download {_fmt_ms(x.get('download_ms'))}, decryption"
                f" {_fmt_ms(x.get('decryption_ms'))})"
            )
        return "\n".join(lines)
    for browser in ("browser_a", "browser_b"):
        data = phase.get(browser) or {}
        if "skipped" in data:
            lines.append(f"    {browser}: skipped ({data['skipped']})")
            continue
        if "error" in data:
            lines.append(f"    {browser}: ! {data['error']}")
        for text in data.get("page_errors", []):
            lines.append(f"    {browser}: page error: {text}")
        for step in ("first", "reload", "refresh"):
            figures = data.get(step)
            if not figures:
                continue
            if step == "refresh":
                traffic = figures.get("traffic", {})
                lines.append(
                    f"    {browser} refresh: {_fmt_ms(figures.get('ms'))} (added {figures.get('added')},"
                    f" removed {figures.get('removed')}, render {_fmt_ms(figures.get('renderMs'))});"
                    f" traffic {traffic.get('visitors_per_s')} visitors/s, {traffic.get('events_per_s')}"
                    f" events/s, {traffic.get('errors')} errors"
                )
            else:
                lines.append(
                    f"    {browser} {step}: {_fmt_ms(figures.get('wall_ms'))} (dashboard loadMs"
                    f" {_fmt_ms(figures.get('loadMs'))}; {_timings(figures)})"
                    + ("" if figures.get("progress_seen", True) else "; no progress element seen")
                )
        if data:
            when = data.get("pss_timeline") or {}
            at = f" at {when['peak_at_s']:.0f} s, {when['peak_phase']}" if when.get("peak_phase") else ""
            every = data.get("peak_pss_all_renderers_bytes")
            beside = f" (all renderers {_fmt_bytes(every)})" if every else ""
            lines.append(
                f"    {browser} tab memory (peak PSS): {_fmt_bytes(data.get('peak_pss_bytes'))}{at}{beside}"
            )
    if name.startswith("rsa") and _get(phase, "browser_a", "first"):
        first = phase["browser_a"]["first"]
        rsa_ms = (first.get("timings") or {}).get("keyAgreement")
        lines.append(
            f"    RSA work, once per instance (browser A's first load): {_fmt_ms(first.get('wall_ms'))},"
            f" of which key agreement {_fmt_ms(rsa_ms)}"
        )
    if phase.get("server_cache"):
        lines.append(f"    server shared cache rows: {phase['server_cache']}")
    return "\n".join(lines)


def render_table(results: dict[str, Any]) -> str:
    lines = [
        "Operator dashboard at scale"
        + (" (--quick: a smoke test, not figures to quote)" if results.get("quick") else "")
    ]
    for name, phase in results.get("phases", {}).items():
        lines.append(_phase_summary(name, phase))
    lines.append("")
    lines.append(f"{'target':<36}{'figure':>12}{'limit':>12}  status")
    for check in results.get("checks", []):
        fmt = _fmt_bytes if check["unit"] == "B" else _fmt_ms
        line = f"{check['target']:<36}{fmt(check['value']):>12}{fmt(check['limit']):>12}  {check['status']}"
        if check.get("note"):
            line += f"  ({check['note'][:120]})"
        lines.append(line)
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    from tests.e2e.sites import browser_missing_reason

    parser = argparse.ArgumentParser(prog="python -m bench.dashboard", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5k events only: a smoke test of the harness")
    parser.add_argument("--only", help="comma-separated kinds (x25519, rsa, offen) and/or sizes (100k, 1m)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the JSON result")
    parser.add_argument(
        "--rsa-timeout",
        type=float,
        help="seconds the RSA account's first load may take (default: 120 quick, 600 100k, 2700 1m)",
    )
    args = parser.parse_args(argv)
    if args.rsa_timeout:
        for size in RSA_FIRST_LOAD_TIMEOUT_S:
            RSA_FIRST_LOAD_TIMEOUT_S[size] = args.rsa_timeout
    reason = browser_missing_reason()
    if reason is not None:
        print(f"bench.dashboard: cannot run: {reason}", file=sys.stderr)
        return 2
    try:
        parse_only(args.only, args.quick)
    except ValueError as error:
        parser.error(str(error))
    results = run(quick=args.quick, only=args.only)
    print()
    print(render_table(results))
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"dashboard-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\nwritten to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
