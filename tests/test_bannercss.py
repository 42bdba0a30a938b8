"""Tests for appliance/bannercss.py: reference §7.2 `TestValidateCSS`, plus parser tricks."""

from __future__ import annotations

import pytest

from appliance.bannercss import MAX_CSS_LENGTH, sanitize_stored_css, validate_banner_css
from appliance.errors import BadRequest


def refused(css: str) -> str:
    with pytest.raises(BadRequest) as info:
        validate_banner_css(css)
    return info.value.message


# --- the cases of Offen's TestValidateCSS (reference §7.2), in its order ---------------------------


def test_ok():
    validate_banner_css(
        """
        .banner__root { background-color: #fffdf4; color: #333; border: 1px solid #8a8a8a; }
        .buttons__button:hover { background-color: #c4c4c4 }
        """
    )


def test_non_class_selector():
    assert refused("div { color: red; }") == (
        'selector "div" is not allowed: only class selectors like .banner__root are'
    )


def test_nested_non_class_selector():
    message = refused(".banner__root div { color: red; }")
    assert 'selector ".banner__root div" is not allowed' in message
    message = refused("@media (max-width: 600px) { .banner__root { color: red } div { color: red } }")
    assert 'selector "div" is not allowed' in message


def test_disallowed_pseudo_class():
    assert refused(".buttons__button:visited { color: red }") == (
        'selector ".buttons__button:visited" is not allowed: only the pseudo classes :hover, :active and :focus are'
    )
    assert 'selector ".banner__root::before"' in refused(".banner__root::before { color: red }")
    assert 'selector ".banner__root:"' in refused(".banner__root: { color: red }")


def test_opacity():
    message = refused(".banner__root { opacity: 0.1; }")
    assert 'property "opacity" in ".banner__root" is not allowed' in message


def test_prefixed_opacity():
    assert 'property "-moz-opacity"' in refused(".banner__root { -moz-opacity: 0.1; }")


def test_nested_opacity():
    assert 'property "opacity"' in refused("@media all { .banner__root { opacity: 0 } }")


def test_content():
    assert 'property "content"' in refused('.banner__paragraph { content: "Click here" }')


def test_filter():
    assert 'property "filter"' in refused(".banner__root { filter: blur(5px) }")
    assert 'property "backdrop-filter"' in refused(".banner__root { backdrop-filter: blur(5px) }")


def test_image_url():
    message = refused(".banner__root { background: url(https://tracker.example/p.gif) }")
    assert 'value "url(https://tracker.example/p.gif)" of "background"' in message
    assert 'contains "url"' in message


def test_javascript_url():
    assert 'contains "url"' in refused(".banner__root { background-image: url(javascript:alert(1)) }")
    assert 'contains "javascript"' in refused(".banner__root { background: javascript }")


def test_ie_expression():
    assert 'contains "expression"' in refused(".banner__root { color: expression(alert(1)) }")


def test_hidden_in_invalid_css():
    # Garbage around a forbidden declaration must not make the parser skip it.
    assert "closing brace" in refused(".banner__root { color: red }} .banner__root { opacity: 0 }")
    assert "could not be read" in refused(".banner__root { color: red ; .banner__root { opacity: 0 }")
    assert "could not be read" in refused("}.banner__root { opacity: 0 }")


def test_font_size_on_host():
    validate_banner_css(".banner__root { font-size: 14px; }")
    validate_banner_css(".banner__root { font-size: 12px } .banner__root { font-size: 99px !important }")


def test_invalid_font_size_on_host():
    assert 'font-size "2px" is not allowed' in refused(".banner__root { font-size: 2px; }")
    assert 'font-size "100px"' in refused(".banner__root { font-size: 100px; }")
    assert 'font-size "1em"' in refused(".banner__root { font-size: 1em; }")
    assert 'font-size "large"' in refused(".banner__root { font-size: large; }")


def test_font_size_on_blocked_element():
    message = refused(".banner__paragraph { font-size: 14px; }")
    assert message == (
        '"font-size" in ".banner__paragraph" is not allowed: it may only be set on the single selector'
        " .banner__root"
    )


def test_width():
    assert 'property "width"' in refused(".banner__root { width: 10px }")
    assert 'property "max-width"' in refused(".banner__root { max-width: 10px }")
    assert 'property "border-width"' in refused(".banner__root { border-width: 10px }")


def test_font_size_on_rule_with_multiple_selectors():
    assert "single selector .banner__root" in refused(".banner__root, .banner__paragraph { font-size: 14px }")


def test_negative_value():
    message = refused(".banner__root { margin: -100px }")
    assert 'value "-100px" of "margin"' in message
    assert "negative numbers and hyphenated words" in message


# --- Offen's other rules ----------------------------------------------------------------------------


@pytest.mark.parametrize("word", ["calc(1px + 2px)", "rotate(4deg) transform", "transparent"])
def test_other_forbidden_value_words(word):
    assert "is not allowed: it contains" in refused(f".banner__root {{ color: {word} }}")


@pytest.mark.parametrize("prop", ["cursor", "pointer-events", "behavior", "-webkit-filter"])
def test_other_forbidden_properties(prop):
    assert f'property "{prop}"' in refused(f".banner__root {{ {prop}: none }}")


def test_display_none():
    assert '"display: none"' in refused(".banner__root { display: none }")
    assert '"display: none"' in refused(".banner__buttons { display:NONE!important }")
    validate_banner_css(".banner__buttons { display: flex }")


def test_hyphenated_keywords_are_refused_like_offen():
    assert "hyphenated" in refused(".banner__root { font-family: Roboto, sans-serif }")
    assert "hyphenated" in refused(".banner__buttons { display: inline-block }")


def test_every_selector_of_a_list_is_checked():
    assert 'selector "body"' in refused(".banner__root, body { color: red }")
    assert "empty entry" in refused(".banner__root, { color: red }")


def test_every_nested_rule_is_checked_not_only_the_first():
    css = "@media screen { .banner__root { color: red } .banner__paragraph { opacity: 0 } }"
    assert 'property "opacity" in ".banner__paragraph"' in refused(css)
    css = "@media screen { .banner__root { color: red } @supports (display: grid) { .x { filter: none } } }"
    assert 'property "filter"' in refused(css)


def test_media_and_supports_blocks_are_allowed():
    validate_banner_css(
        "@media (max-width: 414px) { .banner__root { padding: 4px } .buttons__button { margin: 2px } }"
        "@supports (display: grid) { .banner__buttons { display: grid } }"
    )


# --- tricks ----------------------------------------------------------------------------------------


def test_escapes_are_refused():
    message = refused(r".banner__root { background: \75 rl(https://tracker.example/p.gif) }")
    assert "escape sequences" in message
    assert "escape sequences" in refused(r'.banner__root { font-family: "\75 rl" }')
    assert "escape sequences" in refused(r".banner\_\_root { color: red }")
    assert "escape sequences" in refused(r".banner__root { op\61 city: 0 }")


def test_comments_inside_values_do_not_hide_forbidden_words():
    assert 'contains "url"' in refused(".banner__root { background: u/**/rl(https://t.example/p.gif) }")
    assert 'contains "expression"' in refused(".banner__root { color: expr/* x */ession(1) }")


def test_comments_inside_selectors_and_properties():
    assert "is not allowed" in refused(".banner__root/**/div { color: red }")
    assert "is not a property name" in refused(".banner__root { opa/**/city: 0 }")


def test_comments_are_allowed():
    validate_banner_css(
        "/* theme: dark */ .banner__root { /* bg */ background: #222 /* near black */; color: #eee }"
    )


def test_property_names_are_case_insensitive():
    assert 'property "opacity"' in refused(".banner__root { OPACITY: 0 }")
    assert 'contains "url"' in refused(".banner__root { background: URL(x) }")


def test_unbalanced_braces():
    assert "closing brace } is missing" in refused(".banner__root { color: red")
    assert "closing brace } is missing" in refused("@media screen { .banner__root { color: red }")
    assert "without a matching opening brace" in refused(".banner__root { color: red } }")
    assert "could not be read" in refused(".banner__root { .x { color: red } }")


def test_import_and_font_face_are_refused():
    assert 'at-rule "@import" is not allowed' in refused('@import "https://tracker.example/x.css";')
    assert 'at-rule "@import"' in refused("@import url(x.css); .banner__root { color: red }")
    message = refused('@font-face { font-family: "X"; src: url(https://tracker.example/f.woff) }')
    assert 'at-rule "@font-face" is not allowed' in message
    assert 'at-rule "@charset"' in refused('@charset "utf-8"; .banner__root { color: red }')
    assert 'at-rule "@keyframes"' in refused("@keyframes x { from { color: red } }")


def test_media_condition_is_checked():
    assert "condition" in refused('@media "x" { .banner__root { color: red } }')
    assert "condition" in refused("@supports (background: url(x)) { .banner__root { color: red } }")


def test_strings():
    validate_banner_css('.banner__root { font-family: "Open Sans", Roboto, Arial }')
    assert 'contains "url"' in refused('.banner__root { font-family: "url" }')
    assert "string is not closed" in refused('.banner__root { font-family: "Open Sans }')
    # A brace inside a string is not structure: the rule stays one rule.
    assert 'contains "url"' in refused('.banner__root { font-family: "} .x { a" ; background: url(x) }')


def test_end_of_style_element_is_refused_everywhere():
    assert '"<"' in refused(".banner__root { color: red } /* </style><script>alert(1)</script> */")
    assert '"<"' in refused('.banner__root { font-family: "</style>" }')


def test_control_characters_are_refused():
    assert "U+0000" in refused(".banner__root { color: red\x00 }")


def test_other_ways_to_hide_or_shrink_are_refused():
    assert 'property "zoom"' in refused(".banner__root { zoom: 0.1 }")
    assert "use font-size and font-family" in refused(".banner__root { font: 2px Arial }")
    assert '"visibility: hidden"' in refused(".banner__root { visibility: hidden }")
    assert 'contains "image("' in refused('.banner__root { background: image("https://t.example/p.gif") }')


def test_parse_errors_name_the_line():
    assert "(line 3)" in refused(".banner__root {\n color: red;\n opacity 0 }")


def test_empty_and_not_text():
    validate_banner_css("")
    validate_banner_css("  \n ")
    with pytest.raises(BadRequest):
        validate_banner_css(None)  # type: ignore[arg-type]


def test_too_long():
    assert "too long" in refused(".banner__root { color: red }" + " " * MAX_CSS_LENGTH)


def test_declaration_without_value():
    assert "has no value" in refused(".banner__root { color: ; }")


# --- three example themes (valid styling without hyphenated values) ---------------------------------

THEMES = {
    "dark": """
        .banner__root { background-color: #1e1e1e; color: #f0f0f0; border: 2px solid #444;
                        font-family: Georgia, "Times New Roman", serif; font-size: 15px }
        .paragraph__anchor { color: #9cdcfe }
        .buttons__button { background-color: #3a3a3a; color: #ffffff; border: 1px solid #666;
                           padding: 8px 16px; border-radius: 4px }
        .buttons__button:hover, .buttons__button:focus { background-color: #555555 }
    """,
    "calm": """
        /* soft green */
        .banner__root { background: rgb(232, 245, 233); color: #1b5e20; border: 1px dashed #66bb6a;
                        padding: 12px; font-family: Helvetica, Arial }
        .banner__paragraph--first { font-weight: bold }
        .buttons__button:active { background-color: #a5d6a7 }
    """,
    "contrast": """
        .banner__root { background-color: #ffff00; color: #000000; border: 3px solid #000; font-size: 18px }
        .buttons__button { background-color: #000; color: #ffff00; text-decoration: underline }
        @media (max-width: 414px) { .banner__root { padding: 4px } }
    """,
}


@pytest.mark.parametrize("name", sorted(THEMES))
def test_example_themes_are_valid(name):
    validate_banner_css(THEMES[name])
    assert sanitize_stored_css(THEMES[name]) == THEMES[name]


def test_sanitize_stored_css_drops_invalid_css():
    assert sanitize_stored_css(".banner__root { opacity: 0 }") == ""
    assert sanitize_stored_css("@media all { .a { color: red } .b { opacity: 0 } }") == ""
    assert sanitize_stored_css("") == ""
    assert sanitize_stored_css(None) == ""  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "css",
    [
        ".banner__buttons { transform: scale(0.1); }",
        ".buttons__button { position: absolute; top: 9999px; }",
        ".banner__root { height: 1px; overflow: hidden; }",
        ".banner__paragraph { max-height: 0; }",
    ],
)
def test_moving_or_squeezing_parts_out_of_view_is_refused(css):
    with pytest.raises(BadRequest, match="not allowed"):
        validate_banner_css(css)
