"""Memory and start-up figures of a server process (Linux /proc).

Owns the footprint half of the benchmark: VmRSS (resident set, what the
"80 MB idle / 120 MB under load" targets are stated in) from
`/proc/<pid>/status`, PSS (shared pages divided among the processes sharing
them, the fairer figure) from `/proc/<pid>/smaps_rollup`, a sampler that keeps
the peak while a load runs, and the time from starting a command to its first
`/healthz` 200.
"""

from __future__ import annotations

import http.client
import os
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

__all__ = [
    "read_rss",
    "read_pss",
    "RssSampler",
    "StartResult",
    "time_to_healthz",
    "wait_for_healthz",
    "describe",
]

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def _proc_kib(path: Path, key: str) -> int:
    with path.open(encoding="ascii") as handle:
        for line in handle:
            if line.startswith(key + ":"):
                value, unit = line.split()[1:3]
                if unit != "kB":
                    raise ValueError(f"unexpected unit {unit!r} for {key} in {path}")
                return int(value) * 1024
    raise ValueError(f"{key} not found in {path}")


def read_rss(pid: int) -> int:
    """Resident set size of `pid` in bytes (VmRSS)."""
    return _proc_kib(Path(f"/proc/{pid}/status"), "VmRSS")


def read_pss(pid: int) -> int:
    """Proportional set size of `pid` in bytes (Pss from smaps_rollup; needs Linux 4.14+)."""
    return _proc_kib(Path(f"/proc/{pid}/smaps_rollup"), "Pss")


class RssSampler:
    """Sample VmRSS and PSS of `pid` every `interval` seconds in a thread; keep the peaks.

    Use as a context manager around a load run: `with RssSampler(pid) as s: ...`,
    then read `s.peak_rss` and `s.peak_pss` (bytes).
    """

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.pid, self.interval = pid, interval
        self.peak_rss = 0
        self.peak_pss = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        try:
            self.peak_rss = max(self.peak_rss, read_rss(self.pid))
            self.peak_pss = max(self.peak_pss, read_pss(self.pid))
            self.samples += 1
        except (FileNotFoundError, ProcessLookupError):
            self._stop.set()  # the process is gone

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


def _healthz_status(host: str, port: int, path: str, timeout: float) -> int | None:
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    except OSError:
        return None  # not listening yet
    finally:
        conn.close()


def wait_for_healthz(
    url: str, *, timeout: float = 30.0, poll: float = 0.01, process: subprocess.Popen | None = None
) -> float:
    """Poll `url` until it answers 200; return the time it took (seconds).

    Raises TimeoutError after `timeout`, or RuntimeError if `process` exits first.
    """
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname not in LOOPBACK_HOSTS:
        raise ValueError(f"only http://127.0.0.1 targets are allowed, not {url!r}")
    path = parts.path or "/healthz"
    start = time.perf_counter()
    while True:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the process exited with status {process.returncode} before {url} answered")
        if _healthz_status(parts.hostname, parts.port or 80, path, timeout=1.0) == 200:
            return time.perf_counter() - start
        if time.perf_counter() - start > timeout:
            raise TimeoutError(f"{url} did not answer 200 within {timeout} s")
        time.sleep(poll)


@dataclass
class StartResult:
    """A started server: its process and the seconds from spawning it to the first /healthz 200."""

    process: subprocess.Popen
    seconds_to_healthz: float
    rss_after_1s: int | None = None
    pss_after_1s: int | None = None


def time_to_healthz(
    command: Sequence[str],
    healthz_url: str,
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    timeout: float = 30.0,
    settle: float | None = 1.0,
) -> StartResult:
    """Start `command`, time it to its first `/healthz` 200, then (after `settle` s) read its memory.

    The clock starts just before the process is spawned, so interpreter start-up
    and imports count. The caller owns the returned process and must stop it.
    Output goes to /dev/null: a server's log is not part of the measurement.
    """
    start = time.perf_counter()
    process = subprocess.Popen(
        list(command),
        env=dict(env) if env is not None else None,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_healthz(healthz_url, timeout=timeout, process=process)
    except BaseException:
        process.kill()
        process.wait()
        raise
    result = StartResult(process, time.perf_counter() - start)
    if settle is not None:
        time.sleep(settle)
        result.rss_after_1s = read_rss(process.pid)
        result.pss_after_1s = read_pss(process.pid)
    return result


def describe(pid: int) -> str:
    """One line with the current VmRSS and PSS of `pid` in MiB."""
    return f"pid {pid}: VmRSS {read_rss(pid) / 2**20:.1f} MiB, PSS {read_pss(pid) / 2**20:.1f} MiB"


if __name__ == "__main__":
    print(describe(os.getpid()))
