"""Mail templates: every template in every locale, with the same placeholders, rendered safely."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from appliance import mailtemplates
from appliance.config import LOCALES, find_setting
from appliance.mailtemplates import PLACEHOLDERS, TEMPLATE_NAMES, TEMPLATES, placeholders, render

DOCS = Path(__file__).resolve().parent.parent / "docs" / "email.md"
VALUES = {
    "reset_password": {"link": "https://offen.test/reset-password/TOKEN/", "hours": 24},
    "new_user_invite": {
        "link": "https://offen.test/join/TOKEN/",
        "accounts": "- Site A\n- Site B",
        "days": 7,
    },
    "existing_user_invite": {"link": "https://offen.test/login/", "accounts": "- Site A"},
}


def test_the_locales_are_the_settings_locales() -> None:
    assert tuple(TEMPLATES) == LOCALES == find_setting("OFFEN_APP_LOCALE").choices
    assert set(mailtemplates.REVIEW) == set(LOCALES)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_every_template_in_every_locale_has_the_same_placeholders(locale: str, name: str) -> None:
    template = TEMPLATES[locale][name]
    assert template.subject.strip() and template.body.strip()
    assert placeholders(template.body) == PLACEHOLDERS[name] == placeholders(TEMPLATES["en"][name].body)
    assert placeholders(template.subject) == frozenset()  # a subject is one fixed header line
    assert "\n" not in template.subject and len(template.subject) < 78
    # Each placeholder appears exactly once, and the link stands on its own line.
    for field in PLACEHOLDERS[name]:
        assert template.body.count("{" + field + "}") == 1, field
    assert "\n{link}\n" in template.body


@pytest.mark.parametrize("locale", LOCALES[1:])
def test_translations_differ_from_english_and_are_marked_unreviewed(locale: str) -> None:
    for name in TEMPLATE_NAMES:
        assert TEMPLATES[locale][name].subject != TEMPLATES["en"][name].subject
        assert TEMPLATES[locale][name].body != TEMPLATES["en"][name].body
    assert "NOT reviewed" in mailtemplates.REVIEW[locale]


def test_review_table_in_the_docs_matches() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for locale in LOCALES:
        (row,) = [line for line in text.splitlines() if line.startswith(f"| {locale} |")]
        assert ("not reviewed" in row.lower()) == (locale != "en"), row


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_render_inserts_every_value(locale: str, name: str) -> None:
    subject, body = render(name, locale, **VALUES[name])
    assert subject == TEMPLATES[locale][name].subject
    for value in VALUES[name].values():
        assert str(value) in body
    assert "{" not in body and "}" not in body
    assert body.endswith("\n") and not body.endswith("\n\n")


def test_render_refuses_missing_or_extra_values() -> None:
    with pytest.raises(ValueError, match="link"):
        render("reset_password", "en", hours=24)
    with pytest.raises(ValueError):
        render("existing_user_invite", "en", link="x", accounts="y", days=3)
    with pytest.raises(KeyError):
        render("welcome", "en", link="x")


def test_values_are_not_templates() -> None:
    _, body = render("existing_user_invite", "de", link="https://offen.test/login/", accounts="- {link} {0}")
    assert "- {link} {0}" in body


@pytest.mark.parametrize(
    "given,used",
    [("de", "de"), ("DE", "de"), ("pt-BR", "pt"), ("fr_CA", "fr"), ("it", "en"), ("", "en"), (None, "en")],
)
def test_resolve_locale(given: str | None, used: str) -> None:
    assert mailtemplates.resolve_locale(given) == used


def test_account_list_is_sorted_and_one_line_per_account() -> None:
    names = ["zeta", "Alpha", "Site\nhttps://evil.example/reset-password/x/", "tab\there\u2028x"]
    listed = mailtemplates.account_list(names)
    lines = listed.split("\n")
    assert len(lines) == 4 and all(line.startswith("- ") for line in lines)
    assert lines[0] == "- Alpha" and lines[-1] == "- zeta"
    assert not any(re.match(r"https?://", line) for line in lines)
