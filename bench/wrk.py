"""Closed-loop runs with `wrk`: POST an event body as a distinct visitor per request.

Owns the closed-loop half of the ingestion benchmark. `wrk` (Debian package
`wrk`) is driven with a Lua script, written next to the run, that

* reads the request bodies (one per line) and the visitors' Cookie headers
  (one per line, `user=...; consent=allow`) from files, and uses a different
  line for every request: thread k of T sends lines k, k+T, k+2T, ... so no two
  requests in a run share a visitor until the lists wrap around (give at least
  as many cookies as requests expected, or `offen serve`'s per-visitor
  throttle will show up in the figures);
* in `new_connection` mode adds `Connection: close`, so the server closes each
  connection after the answer and wrk opens a new one for the next request;
* prints exact percentiles from wrk's own histogram as one JSON line in its
  `done()` hook, next to wrk's `--latency` text, which is parsed as a fallback.

Latencies are wrk's: from the request written to the answer read, without
connection set-up. Only loopback targets are accepted.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["LUA_SCRIPT", "WrkResult", "wrk_binary", "write_lua", "parse_wrk_output", "run_wrk"]

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

LUA_SCRIPT = r"""
-- bench/wrk.py: POST one body per request, each with the next visitor's cookie.
-- script arguments: <bodies file> <cookies file or "-"> <"close" or "keep"> <number of threads>
local bodies, cookies = {}, {}
local counter, step, close = 0, 1, false
local next_id = 0

local function read_lines(path)
  local out = {}
  if path == nil or path == "" or path == "-" then return out end
  local f = assert(io.open(path, "r"))
  for line in f:lines() do
    if line ~= "" then out[#out + 1] = line end
  end
  f:close()
  return out
end

function setup(thread)
  -- runs in the main state: give each thread its start offset
  thread:set("thread_id", next_id)
  next_id = next_id + 1
end

function init(args)
  bodies = read_lines(args[1])
  cookies = read_lines(args[2])
  close = args[3] == "close"
  step = tonumber(args[4]) or 1
  counter = thread_id or 0
  if #bodies == 0 then error("no request bodies in " .. tostring(args[1])) end
end

function request()
  local headers = { ["Content-Type"] = "application/json" }
  if #cookies > 0 then headers["Cookie"] = cookies[(counter % #cookies) + 1] end
  if close then headers["Connection"] = "close" end
  local body = bodies[(counter % #bodies) + 1]
  counter = counter + step
  return wrk.format("POST", nil, headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"min":%d,"mean":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9)))
end
"""

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}
_DURATION = r"([\d.]+)(us|ms|s|m|h)"


@dataclass
class WrkResult:
    """One wrk run; latencies in milliseconds, `errors` = non-2xx answers + socket errors."""

    requests: int
    seconds: float
    requests_per_s: float
    p50_ms: float
    p90_ms: float | None
    p99_ms: float
    max_ms: float
    non_2xx: int
    socket_errors: dict[str, int] = field(default_factory=dict)
    connections: int | None = None
    new_connection: bool | None = None
    output: str = ""

    @property
    def errors(self) -> int:
        return self.non_2xx + sum(self.socket_errors.values())

    def summary(self) -> str:
        mode = {None: "", True: " new connection per request", False: " keep-alive"}[self.new_connection]
        conns = f"{self.connections} conn" if self.connections else ""
        return (
            f"wrk {conns}{mode}: {self.requests_per_s:.0f} req/s ({self.requests} in {self.seconds:.1f}s),"
            f" p50 {self.p50_ms:.1f} ms, p99 {self.p99_ms:.1f} ms, max {self.max_ms:.1f} ms,"
            f" errors {self.errors} (non-2xx {self.non_2xx}, socket {self.socket_errors})"
        )


def wrk_binary() -> str | None:
    """Path of the `wrk` executable, or None when it is not installed."""
    return shutil.which("wrk")


def write_lua(folder: str | Path) -> Path:
    """Write the Lua script into `folder` and return its path."""
    path = Path(folder) / "bench_post.lua"
    path.write_text(LUA_SCRIPT, encoding="utf-8")
    return path


def _ms(number: str, unit: str) -> float:
    return float(number) * _UNITS[unit]


def parse_wrk_output(text: str) -> WrkResult:
    """Read wrk's output: the script's WRK_JSON line if present, else the `--latency` text."""
    non_2xx_match = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", text)
    for line in text.splitlines():
        if line.startswith("WRK_JSON "):
            data = json.loads(line[len("WRK_JSON ") :])
            lat, err = data["latency_us"], data["errors"]
            seconds = data["duration_us"] / 1e6
            return WrkResult(
                requests=data["requests"],
                seconds=seconds,
                requests_per_s=data["requests"] / seconds if seconds else 0.0,
                p50_ms=lat["p50"] / 1e3,
                p90_ms=lat["p90"] / 1e3,
                p99_ms=lat["p99"] / 1e3,
                max_ms=lat["max"] / 1e3,
                # wrk's "status" error count: answers with a status of 400 or more.
                non_2xx=err["status"],
                socket_errors={k: err[k] for k in ("connect", "read", "write", "timeout")},
                output=text,
            )

    distribution: dict[str, float] = {}
    for pct, number, unit in re.findall(r"^\s*(\d+(?:\.\d+)?)%\s+" + _DURATION + r"\s*$", text, re.M):
        distribution[pct] = _ms(number, unit)
    if "50" not in distribution or "99" not in distribution:
        raise ValueError("no latency distribution in the wrk output (was --latency given?)")
    stats = re.search(r"^\s*Latency\s+" + _DURATION + r"\s+" + _DURATION + r"\s+" + _DURATION, text, re.M)
    if not stats:
        raise ValueError("no latency statistics in the wrk output")
    totals = re.search(r"(\d+) requests in " + _DURATION, text)
    rate = re.search(r"Requests/sec:\s*([\d.]+)", text)
    if not totals or not rate:
        raise ValueError("no request totals in the wrk output")
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    # wrk prints the socket-error line only when there were some.
    counts = map(int, sockets.groups()) if sockets else (0, 0, 0, 0)
    socket_errors = dict(zip(("connect", "read", "write", "timeout"), counts, strict=True))
    return WrkResult(
        requests=int(totals.group(1)),
        seconds=_ms(totals.group(2), totals.group(3)) / 1e3,
        requests_per_s=float(rate.group(1)),
        p50_ms=distribution["50"],
        p90_ms=distribution.get("90"),
        p99_ms=distribution["99"],
        max_ms=_ms(stats.group(5), stats.group(6)),
        non_2xx=int(non_2xx_match.group(1)) if non_2xx_match else 0,
        socket_errors=socket_errors,
        output=text,
    )


def run_wrk(
    url: str,
    *,
    body_file: str | Path,
    cookie_file: str | Path | None = None,
    connections: int,
    seconds: int,
    new_connection: bool = False,
    threads: int | None = None,
    timeout_s: int = 10,
    wrk: str | None = None,
) -> WrkResult:
    """Run wrk against `url` (POST, one body/cookie line per request) and parse its result.

    `timeout_s` is wrk's per-request timeout: longer than the "no request over
    1 s" target, so slow answers are measured instead of being counted as
    timeouts. `threads` defaults to min(2, connections) (a 2-core machine).
    """
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname not in LOOPBACK_HOSTS:
        raise ValueError(f"only http://127.0.0.1 targets are allowed, not {url!r}")
    if not 1 <= seconds <= 600 or not 1 <= connections <= 1000:
        raise ValueError("seconds must be 1-600 and connections 1-1000")
    binary = wrk or wrk_binary()
    if binary is None:
        raise FileNotFoundError("wrk is not installed (Debian package `wrk`)")
    threads = threads or min(2, connections)
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as folder:
        script = write_lua(folder)
        command = [
            binary,
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            f"--timeout={timeout_s}s",
            "--latency",
            "-s",
            str(script),
            url,
            "--",
            str(body_file),
            str(cookie_file) if cookie_file else "-",
            "close" if new_connection else "keep",
            str(threads),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + timeout_s + 30)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    result = parse_wrk_output(done.stdout)
    result.connections = connections
    result.new_connection = new_connection
    return result
