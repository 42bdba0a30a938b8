"""docs/configuration.md and the SETTINGS table must agree, both ways."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from appliance.config import SETTINGS

DOC = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"
NAME = re.compile(r"\bOFFEN_[A-Z0-9_]*[A-Z0-9]")


@pytest.fixture(scope="module")
def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


@pytest.mark.parametrize("setting", SETTINGS, ids=[s.env for s in SETTINGS])
def test_every_setting_has_a_table_row(doc_text, setting):
    rows = [line for line in doc_text.splitlines() if line.startswith(f"| `{setting.env}` |")]
    assert len(rows) == 1, f"{setting.env} needs exactly one row in {DOC.name}"
    cells = [cell.strip() for cell in rows[0].strip("|").split("|")]
    assert len(cells) == 4 and all(cells), rows[0]
    if setting.default not in (None, ()):
        shown = str(setting.default).lower() if isinstance(setting.default, bool) else str(setting.default)
        assert f"`{shown}`" in cells[1], f"{setting.env}: default {shown!r} not documented"
    kind = cells[2]
    if setting.secret:
        assert kind == "secret"
    elif setting.bootstrap:
        assert kind in ("bootstrap", "environment only")
    else:
        assert kind == "storable"


def test_every_documented_name_exists(doc_text):
    known = {name for s in SETTINGS for name in (s.env, *s.aliases)}
    mentioned = set(NAME.findall(doc_text))
    # `NAME_FILE` forms are documented as the variable plus `_FILE`.
    unknown = {m for m in mentioned if m not in known and m.removesuffix("_FILE") not in known}
    assert not unknown, f"documented but not in SETTINGS: {sorted(unknown)}"
