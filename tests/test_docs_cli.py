"""docs/cli.md documents every subcommand and flag that `cli.build_parser()` defines."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from appliance.cli import EXIT_ERROR, EXIT_OK, build_parser

DOCS = Path(__file__).resolve().parent.parent / "docs"
DOC = DOCS / "cli.md"
HEADING = re.compile(r"^## `offen (\w+)`", re.MULTILINE)


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    for action in parser._actions:  # argparse offers no public accessor for subparsers
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("build_parser() defines no subcommands")


def flags(sub: argparse.ArgumentParser) -> list[str]:
    """The Go-style spelling of each flag (`-email`); `--email` is its alias."""
    names = []
    for action in sub._actions:
        if isinstance(action, argparse._HelpAction) or not action.option_strings:
            continue
        names.append(min(action.option_strings, key=len))
    return names


@pytest.fixture(scope="module")
def sections() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    found: dict[str, str] = {}
    matches = list(HEADING.finditer(text))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        found[match.group(1)] = text[match.end() : end]
    return found


def test_the_parser_has_the_commands_offen_had():
    assert {"serve", "setup", "secret", "migrate", "expire", "version", "debug"} <= set(subcommands())


def test_every_subcommand_has_a_section(sections):
    assert sorted(sections) == sorted(subcommands())


@pytest.mark.parametrize(
    ("command", "flag"),
    [(command, flag) for command, sub in subcommands().items() for flag in flags(sub)],
)
def test_every_flag_is_documented_in_its_commands_section(sections, command, flag):
    section = sections.get(command, "")
    rows = [line for line in section.splitlines() if re.match(rf"\| `{re.escape(flag)}[` ]", line)]
    assert len(rows) == 1, f"`offen {command} {flag}` needs one table row in {DOC.name}"
    assert rows[0].count("|") >= 3 and rows[0].split("|")[2].strip(), rows[0]


def test_no_section_documents_a_flag_that_does_not_exist(sections):
    for command, section in sections.items():
        documented = set(re.findall(r"^\| `(-\w+)", section, re.MULTILINE))
        assert documented <= set(flags(subcommands()[command])), command


def test_config_words_are_documented(sections):
    for words in (
        "offen config list",
        "offen config get NAME",
        "offen config set NAME VALUE",
        "offen config unset NAME",
    ):
        assert words in sections["config"]


def test_exit_codes_are_documented():
    text = DOC.read_text(encoding="utf-8")
    assert "## Exit codes" in text
    for code in (EXIT_OK, EXIT_ERROR, 2):  # 2 is argparse's code for a wrong command line
        assert f"| `{code}` |" in text


def test_documented_settings_exist():
    from appliance.config import SETTINGS

    known = {name for s in SETTINGS for name in (s.env, *s.aliases)}
    for doc in (DOC, DOCS / "running-on-a-vps.md"):
        mentioned = set(re.findall(r"\bOFFEN_[A-Z0-9_]*[A-Z0-9]", doc.read_text(encoding="utf-8")))
        unknown = {m for m in mentioned if m not in known and m.removesuffix("_FILE") not in known}
        assert not unknown, f"{doc.name} mentions settings that do not exist: {sorted(unknown)}"


def test_links_between_the_docs_resolve():
    for doc in (DOC, DOCS / "running-on-a-vps.md"):
        for target in re.findall(r"\]\(([\w.-]+\.md)(?:#[\w-]+)?\)", doc.read_text(encoding="utf-8")):
            assert (DOCS / target).is_file(), f"{doc.name} links to missing {target}"
