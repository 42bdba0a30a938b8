"""Runs the JavaScript unit tests (`node --test ui/tests/`) so that `make test` covers the browser code."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NODE = shutil.which("node")


@pytest.mark.slow
@pytest.mark.timeout(180)
@pytest.mark.skipif(NODE is None, reason="node is not installed (make deps installs nodejs)")
def test_node_unit_tests_pass():
    proc = subprocess.run(
        [NODE, "--test", "ui/tests/"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=170,
        check=False,
    )
    summary = [line for line in proc.stdout.splitlines() if line.startswith("# ")]
    if proc.returncode != 0:
        pytest.fail(
            f"node --test ui/tests/ failed (exit {proc.returncode}):\n{proc.stdout[-20000:]}\n{proc.stderr[-5000:]}"
        )
    # An empty run (no files found) also exits 0; insist that tests actually ran.
    assert any(line.startswith("# pass ") and line != "# pass 0" for line in summary), proc.stdout[-5000:]
