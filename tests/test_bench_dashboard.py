"""Tests for bench/dashboard.py, bench/injector.py and bench/offen_design.js.

Fast tests: the /proc process walk and PSS sampling (on real processes made
for the test), the target checks, the extrapolation and the table. Slow
tests (`-m slow`): the injector against a real `offen serve`, and the whole
`--quick` run in real Chromium: Offen's design must decrypt every event, and
our dashboard either gives figures or says clearly that it is not ready.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench import dashboard, dataset
from bench.injector import Injector
from tests.realserver import SERVER_HOST, OffenProcess, free_port, offen_environment


def test_renderers_are_found_below_the_marked_browser(tmp_path: Path):
    marker = f"--user-data-dir={tmp_path / 'profile'}"
    # A stand-in browser: marked, no --type=; its child carries --type=renderer (as Chromium's do).
    code = (
        "import subprocess, sys, time;"
        "c = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)', '--type=renderer']);"
        # The tab: a renderer holding 64 MiB more than the other (a spare renderer, say).
        "t = subprocess.Popen([sys.executable, '-c',"
        " 'import time; b = bytearray(64 << 20); b[::4096] = bytes(len(b[::4096])) ; time.sleep(60)',"
        " '--type=renderer']);"
        "w = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)', '--type=renderer',"
        " '--top-chrome-webui']);"
        "print(c.pid, t.pid, w.pid, flush=True); time.sleep(60)"
    )
    browser = subprocess.Popen([sys.executable, "-c", code, marker], stdout=subprocess.PIPE, text=True)
    try:
        child, tab, webui = (int(x) for x in browser.stdout.readline().split())
        assert dashboard.browser_root_pids(marker) == [browser.pid]
        assert dashboard.browser_root_pids(marker + "-other") == []
        assert {child, tab, webui} <= dashboard.descendants([browser.pid])
        assert dashboard.renderer_pids(marker) == sorted([child, tab])
        deadline = time.monotonic() + 10
        while dashboard.pss_kib(tab) < 64 << 10:
            assert time.monotonic() < deadline, "the stand-in tab never touched its memory"
            time.sleep(0.05)
        sampler = dashboard.MemorySampler(marker, interval=0.05).start()
        time.sleep(0.2)
        sampler.mark("half-way")
        time.sleep(0.2)
        peak = sampler.stop()
        assert sampler.samples >= 3
        # The tab is the largest renderer; the other renderers are only in the sum beside it.
        assert peak == pytest.approx(dashboard.pss_kib(tab) * 1024, rel=0.2) and peak > 64 << 20
        both = (dashboard.pss_kib(tab) + dashboard.pss_kib(child)) * 1024
        assert sampler.peak_all_kib * 1024 == pytest.approx(both, rel=0.2)
        timeline = sampler.timeline()
        assert [label for _, label in timeline["marks"]] == ["half-way"]
        assert timeline["peak_phase"] in ("start", "after half-way")
        assert timeline["trace_mib"] and all(mib >= 64 for _, mib in timeline["trace_mib"])
    finally:
        for pid in dashboard.descendants([browser.pid]):
            os.kill(pid, 9)
        browser.kill()
        browser.wait()
    assert dashboard.pss_kib(os.getpid()) > 0
    assert dashboard.pss_kib(2**22 + 12345) == 0


def test_descendants_walks_the_whole_tree():
    parents = {2: 1, 3: 2, 4: 3, 5: 1, 6: 99}
    assert dashboard.descendants([1], parents) == {2, 3, 4, 5}
    assert dashboard.descendants([3], parents) == {4}


def test_parse_only():
    assert dashboard.parse_only(None, quick=True) == (["x25519", "rsa", "offen"], ["quick"])
    assert dashboard.parse_only("x25519,1m", quick=False) == (["x25519"], ["1m"])
    assert dashboard.parse_only("offen", quick=False) == (["offen"], ["100k", "1m"])
    with pytest.raises(ValueError):
        dashboard.parse_only("x448", quick=False)


def _phase(first: float, reload: float, refresh: float, peak: int, second: float) -> dict:
    return {
        "browser_a": {
            "first": {"wall_ms": first},
            "reload": {"wall_ms": reload},
            "refresh": {"ms": refresh},
            "peak_pss_bytes": peak,
        },
        "browser_b": {"first": {"wall_ms": second}, "peak_pss_bytes": peak // 2},
    }


def test_checks_against_the_targets():
    results = {
        "phases": {
            "x25519-1m": _phase(70_000, 1_500, 250, 900 << 20, 20_000),
            "rsa-1m": {
                "browser_a": {"first": {"wall_ms": 900_000}},
                "browser_b": {"first": {"wall_ms": 30_000}},
            },
            "x25519-100k": {"browser_a": {"error": "dashboard not ready: login page"}, "browser_b": {}},
            "offen-100k": {"timings": {"total": 1}},
        }
    }
    by_name = {c["target"]: c for c in dashboard.checks(results)}
    assert by_name["1m x25519 first load"]["status"] == "FAIL"
    assert by_name["1m x25519 first load (bar)"]["status"] == "PASS"
    assert by_name["1m x25519 reload"]["status"] == "PASS"
    assert by_name["1m x25519 refresh"]["status"] == "FAIL"
    assert by_name["1m x25519 tab memory"]["status"] == "PASS"
    assert by_name["1m rsa second browser"]["status"] == "PASS"
    assert by_name["100k x25519 first load"]["status"] == "n/a"
    assert "not ready" in by_name["100k x25519 first load"]["note"]
    assert not any(name.startswith("offen") for name in by_name)
    table = dashboard.render_table({**results, "checks": list(by_name.values())})
    assert "1m x25519 refresh" in table and "FAIL" in table and "dashboard not ready" in table


def test_extrapolation_scales_a_capped_sample():
    sample = {
        "eventsTotal": 100_000,
        "eventsDecrypted": 50_000,  # the cap stopped it half way
        "timings": {"login": 100, "key": 50, "download": 2_000, "decryption": 300_000, "aggregation": 40},
    }
    x = dashboard.extrapolate(sample, 10)
    assert x["label"] == "extrapolated"
    assert x["download_ms"] == 20_000
    assert x["decryption_ms"] == 6_000_000
    assert x["aggregation_ms"] == 800
    assert x["total_ms"] == 20_000 + 6_000_000 + 800 + 150
    assert "error" in dashboard.extrapolate({"eventsDecrypted": 0}, 10)


def test_design_script_is_one_function_expression():
    source = dashboard._design_source()
    assert source.startswith("async ({ accountId, username, password, deadlineMs }) =>")
    assert source.rstrip().endswith("}")


@pytest.fixture
def quick_server(tmp_path: Path):
    built = dataset.ensure(dataset.SIZES["quick"], cache=tmp_path / "cache", progress=lambda *a: None)
    env = offen_environment(dataset.copy_data_dir(built, tmp_path / "data"))
    logs = tmp_path / "logs"
    logs.mkdir()
    server = OffenProcess(env, free_port(), logs).start()
    try:
        yield server, built
    finally:
        server.stop()


@pytest.mark.slow
def test_injector_posts_visitors_and_events_through_the_api(quick_server):
    server, built = quick_server
    before = built.spec.events
    injector = Injector(
        SERVER_HOST, server.port, built.account_id, visitors_per_s=10, events_per_s=50, pool=40
    )
    injector.prepare()
    injector.start()
    time.sleep(3)
    stats = injector.stop().as_json()
    assert stats["errors"] == 0, stats
    assert stats["new_visitors"] >= 15 and stats["events"] >= 80
    import sqlite3

    db = sqlite3.connect(f"file:{Path(server.env['OFFEN_APP_DATADIR']) / 'offen.db'}?mode=ro", uri=True)
    try:
        events = db.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        newest = db.execute("SELECT MAX(sequence) FROM events").fetchone()[0]
    finally:
        db.close()
    # The pool's first events, the new visitors' first events and the returning ones, all stored.
    assert events >= before + 40 + stats["events"]
    assert newest > built.max_sequence


@pytest.mark.slow
def test_quick_run_measures_offen_design_and_our_dashboard(playwright_instance, monkeypatch, tmp_path: Path):
    from tests.e2e.sites import browser_missing_reason

    if browser_missing_reason():
        pytest.skip(browser_missing_reason())
    monkeypatch.setattr(dashboard, "REFRESH_TRAFFIC_S", 3.0)
    monkeypatch.setattr(dataset, "CACHE", tmp_path / "cache")  # a private cache: no race with other runs
    # The session's Playwright is already running: hand it to run() instead of starting a second one.
    monkeypatch.setattr(dashboard, "_playwright", lambda: _Borrowed(playwright_instance))
    results = dashboard.run(quick=True, only="x25519,offen")
    offen = results["phases"]["offen-quick"]
    assert "error" not in offen, offen
    assert offen["eventsDecrypted"] == offen["eventsTotal"] == 5000
    assert offen["secretsDecrypted"] == 1000 and offen["keyType"] == "rsa"
    assert offen["timings"]["decryption"] > 0 and offen["peak_pss_bytes"] > 10 << 20
    ours = results["phases"]["x25519-quick"]
    first = ours["browser_a"].get("first")
    if first is None:
        assert ours["browser_a"]["error"].startswith("dashboard not ready: "), ours
    else:
        assert first["wall_ms"] > 0 and ours["browser_a"]["peak_pss_bytes"] > 10 << 20
        assert "refresh" in ours["browser_a"], ours["browser_a"]
    assert {c["target"] for c in results["checks"]} >= {"quick x25519 first load", "quick x25519 reload"}


class _Borrowed:
    def __init__(self, playwright):
        self.playwright = playwright

    def __enter__(self):
        return self.playwright

    def __exit__(self, *exc):
        return False
