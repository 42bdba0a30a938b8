"""Tests for appliance.paths: data folder, env-file candidates, resource root."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from appliance import paths

REPO = Path(__file__).resolve().parent.parent


def test_root_uses_offens_system_folder():
    assert paths.default_data_dir(True) == Path("/var/opt/offen")


def test_user_folder_follows_xdg_data_home(tmp_path):
    # platformdirs reads XDG_DATA_HOME itself; check it in a clean child process.
    code = "from appliance.paths import default_data_dir; print(default_data_dir(False))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={"XDG_DATA_HOME": str(tmp_path / "xdg"), "HOME": str(tmp_path), "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout.strip()
    assert out == str(tmp_path / "xdg" / "offen")


@pytest.mark.skipif(sys.platform.startswith("win"), reason="Windows only looks in ./offen.env")
def test_env_file_candidates_in_offens_order(tmp_path):
    environ = {"HOME": "/home/op", "XDG_CONFIG_HOME": "/xdg"}
    assert paths.env_file_candidates(environ, tmp_path) == [
        tmp_path / "offen.env",
        Path("/home/op/.config/offen.env"),
        Path("/xdg/offen.env"),
        Path("/etc/offen/offen.env"),
    ]


def test_unset_variables_are_skipped(tmp_path):
    candidates = paths.env_file_candidates({"HOME": "", "XDG_CONFIG_HOME": ""}, tmp_path)
    assert candidates[0] == tmp_path / "offen.env"
    assert all(c.is_absolute() for c in candidates)


def test_resource_root_is_the_repository(monkeypatch, tmp_path):
    assert paths.resource_root() == REPO
    assert (paths.resource_root() / "appliance" / "paths.py").is_file()
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert paths.resource_root() == tmp_path
