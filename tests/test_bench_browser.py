"""Tests for bench/browser.py: its arithmetic against real tools, and one short real run in Chromium."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from ulid import ULID

from bench.browser import gzip9_size, percentile, render_table, summarize, ulid_millis
from tests.e2e.sites import browser_missing_reason

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(shutil.which("gzip") is None, reason="no gzip binary")
def test_gzip9_size_matches_the_gzip_command(tmp_path):
    data = (b"const offen = window.__offen__ || {};\n" * 40) + os.urandom(300)
    path = tmp_path / "script.js"
    path.write_bytes(data)
    # `gzip -9 -n` omits the name and time, as our header does; the deflate stream is zlib's in both.
    made = subprocess.run(["gzip", "-9", "-n", "-c", str(path)], capture_output=True, check=True).stdout
    assert gzip9_size(data) == len(made)
    assert gzip.decompress(made) == data


def test_percentile_is_nearest_rank():
    values = [15.0, 20.0, 35.0, 40.0, 50.0]  # the textbook example: p30 = 20, p40 = 20, p50 = 35, p100 = 50
    assert percentile(values, 30) == 20.0
    assert percentile(values, 40) == 20.0
    assert percentile(values, 50) == 35.0
    assert percentile(values, 100) == 50.0
    twenty = [float(v) for v in range(20, 0, -1)]  # 20 loads, unordered input
    assert percentile(twenty, 90) == 18.0
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 0)


def test_summarize():
    summary = summarize([300.0, 100.0, 200.0, 400.0], failures=1)
    assert summary == {
        "n": 4,
        "failures": 1,
        "median_ms": 250.0,
        "p90_ms": 400.0,
        "min_ms": 100.0,
        "max_ms": 400.0,
    }
    assert summarize([], failures=2)["median_ms"] is None


def test_ulid_millis_reads_the_timestamp():
    when = datetime(2026, 11, 29, 12, 34, 56, 789000, tzinfo=UTC)
    ulid = str(ULID.from_datetime(when))
    assert ulid_millis(ulid) == 1795955696789
    assert ulid_millis(ulid) == int(when.timestamp() * 1000)
    assert ulid_millis(ulid.lower()) == ulid_millis(ulid)


def test_render_table_names_every_figure():
    results = {
        "script": {"raw_bytes": 6849, "gzip9_bytes": 2401, "served_gzip_bytes": 2420},
        "vault_bytes": [
            {
                "setup": "same-site",
                "webcrypto": True,
                "before_consent": {"body_bytes": 1000, "transfer_bytes": 400},
                "through_first_event": {"body_bytes": 1500, "transfer_bytes": 600},
                "resources": {"/vault/main.js": {"body_bytes": 900, "transfer_bytes": 300, "requests": 1}},
            }
        ],
        "load_times": [
            {
                "setup": "plain-http",
                "n": 0,
                "failures": 2,
                "median_ms": None,
                "p90_ms": None,
                "min_ms": None,
                "max_ms": None,
                "problems": ["load 0: no event within 15 s"],
            },
        ],
    }
    table = render_table(results)
    for expected in ("2401 B", "same-site (WebCrypto)", "/vault/main.js", "plain-http", "no event within"):
        assert expected in table


@pytest.mark.slow
def test_a_short_real_run_in_chromium(tmp_path):
    reason = browser_missing_reason()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"browser benchmark cannot run under CI: {reason}")
        pytest.skip(reason)
    # A subprocess: Playwright's sync API cannot start twice in one process (the e2e suite holds one).
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.browser",
            "--loads",
            "2",
            "--setups",
            "same-site",
            "--out",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "page load -> stored event" in done.stdout
    [written] = tmp_path.glob("browser-*.json")
    results = json.loads(written.read_text())
    assert results["script"]["gzip9_bytes"] < results["script"]["raw_bytes"]
    [vault] = results["vault_bytes"]
    assert vault["webcrypto"] is True and vault["event_stored"] is True
    assert "/vault" in vault["resources"] and vault["before_consent"]["body_bytes"] > 0
    [times] = results["load_times"]
    assert times["n"] == 2 and times["failures"] == 0
    assert 0 < times["median_ms"] < 15_000
