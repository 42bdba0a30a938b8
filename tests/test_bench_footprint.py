"""Tests for bench/footprint.py: real /proc readings and a real server start."""

from __future__ import annotations

import os
import socket
import sys
import time
from pathlib import Path

import pytest

from bench.footprint import RssSampler, read_pss, read_rss, time_to_healthz, wait_for_healthz

ROOT = Path(__file__).resolve().parent.parent


def test_rss_and_pss_of_this_process_follow_an_allocation():
    before = read_rss(os.getpid())
    assert 5 * 2**20 < before < 4 * 2**30
    assert 0 < read_pss(os.getpid()) <= before + 2**20
    block = bytearray(os.urandom(1024)) * (48 * 1024)  # 48 MiB, touched
    try:
        assert read_rss(os.getpid()) - before > 40 * 2**20
    finally:
        del block


def test_sampler_keeps_the_peak():
    with RssSampler(os.getpid(), interval=0.01) as sampler:
        block = bytearray(os.urandom(1024)) * (32 * 1024)
        peak_inside = read_rss(os.getpid())
        # Keep the block alive until the sampler thread has looked at least twice.
        seen = sampler.samples
        deadline = time.monotonic() + 5
        while sampler.samples < seen + 2 and time.monotonic() < deadline:
            time.sleep(0.005)
        del block
    assert sampler.samples >= 1
    assert sampler.peak_rss >= peak_inside - 2**20
    assert sampler.peak_pss > 0


def test_unknown_process():
    with pytest.raises(FileNotFoundError):
        read_rss(2**22 + 12345)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_time_to_healthz_of_a_real_server(tmp_path):
    port = free_port()
    command = [sys.executable, "-m", "bench.baseline", "--port", str(port), "--db", str(tmp_path / "b.db")]
    started = time_to_healthz(command, f"http://127.0.0.1:{port}/healthz", cwd=str(ROOT), settle=0.2)
    try:
        assert 0 < started.seconds_to_healthz < 10
        assert started.rss_after_1s and started.rss_after_1s > 5 * 2**20
        assert started.pss_after_1s and started.pss_after_1s <= started.rss_after_1s
        assert started.process.poll() is None
    finally:
        started.process.terminate()
        started.process.wait(10)


@pytest.mark.slow
def test_a_process_that_exits_early_is_reported():
    with pytest.raises(RuntimeError, match="exited with status 3"):
        time_to_healthz(
            [sys.executable, "-c", "raise SystemExit(3)"], f"http://127.0.0.1:{free_port()}/healthz"
        )


def test_wait_for_healthz_times_out_and_refuses_remote_hosts():
    with pytest.raises(TimeoutError):
        wait_for_healthz(f"http://127.0.0.1:{free_port()}/healthz", timeout=0.2)
    with pytest.raises(ValueError, match="127.0.0.1"):
        wait_for_healthz("http://example.com/healthz", timeout=0.2)
