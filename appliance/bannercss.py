"""Validation of the custom consent-banner CSS an operator may store per account.

Owns the rules of reference §3.3 (`PUT /api/accounts/:id/account-styles`) and
§1.8 item 9: the operator may restyle the banner (colours, borders, fonts) but
must not be able to hide it, make it see-through, resize it into a clickjacking
overlay, or make the visitor's browser fetch anything (a request to a third
party on every page view would leak the visitor's IP address before consent).

The CSS is read by a small tokenizer and parser written for this purpose. It is
deliberately stricter than a browser: anything it cannot read with certainty is
refused, because a difference between our reading and the browser's is exactly
where a bypass hides. In particular:

* escapes (`\\75 rl(`) are refused outright instead of being decoded, so no
  decoding subtlety can turn an allowed word into `url(`;
* comments inside a value are removed without leaving a gap before the
  forbidden-word check (`u/**/rl` is checked as `url`), and replaced by a gap in
  selectors (`.a/**/div` is checked as `.a div`), the stricter reading each time;
* the character `<` is refused everywhere, comments and strings included: the
  CSS ends up inside a `<style>` element, and `</style>` there would let the
  operator inject markup into the vault, which holds the visitors' keys;
* every rule nested in `@media`/`@supports` is validated (Offen only validated
  the first one); every other at-rule (`@import`, `@font-face`, ...) is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from appliance.errors import BadRequest

__all__ = ["validate_banner_css", "sanitize_stored_css"]

# Longer than any sensible banner theme; bounds the parser's work per request.
MAX_CSS_LENGTH = 65_536
# @media inside @media ... ; bounds recursion.
MAX_NESTING = 8

# Offen's selector rule, anchored at both ends (Offen's regular expression was
# only anchored at the end) and with the colon only allowed before a pseudo class.
_SELECTOR = re.compile(r"\.[a-z_\-]+(?::(?:hover|active|focus))?")
_CLASS_WITH_PSEUDO = re.compile(r"\.[a-z_\-]+::?[a-z\-]*")  # only to word the refusal
# Properties ending in one of these change visibility, size, pointer handling or
# inject content; the suffix rule also catches prefixed variants and `border-width`.
_FORBIDDEN_PROPERTY_SUFFIXES = (
    "opacity",
    "content",
    "filter",
    "behavior",
    "width",
    "cursor",
    "pointer-events",
)
# Not in Offen's list: other ways to shrink, clip or hide the banner that the
# suffix rule misses (`font` would bypass the font-size bounds).
_EXTRA_FORBIDDEN_PROPERTIES = frozenset(
    {
        "zoom",
        "scale",
        "clip",
        "clip-path",
        "mask",
        "font",
        # Moving or squeezing parts of the banner out of the visible frame: the
        # frame itself is placed by the vault, its contents must stay in it.
        "transform",
        "translate",
        "rotate",
        "position",
        "top",
        "left",
        "right",
        "bottom",
        "inset",
        "height",
        "max-height",
        "overflow",
        "overflow-x",
        "overflow-y",
    }
)
# Offen's forbidden substrings of values; "-" rules out negative offsets, vendor
# functions and `var(--x)`. `image(` and `src(` (not in Offen's list) are the
# CSS Images/Values 4 functions that take a bare string as a URL.
_FORBIDDEN_VALUE_WORDS = (
    "url",
    "expression",
    "javascript",
    "calc",
    "transform",
    "transparent",
    "-",
    "image(",
    "src(",
)
_PROPERTY_NAME = re.compile(r"-{0,2}[a-z][a-z0-9\-]*")
_FONT_SIZE = re.compile(r"(\d{1,3})px")
_FONT_SIZE_MIN, _FONT_SIZE_MAX = 12, 99
_FONT_SIZE_SELECTOR = ".banner__root"
# Block at-rules that only group ordinary rules; each nested rule is validated.
_GROUPING_AT_RULES = frozenset({"media", "supports"})
# What a media or supports condition may consist of (no strings, no escapes,
# no functions that fetch; `<` is refused globally anyway).
_AT_PRELUDE = re.compile(r"[a-z0-9 \t\n\r\f():,.\-_>=/]*")

_ALLOWED_CONTROL = "\t\n\r\f"
# CSS whitespace; other Unicode spaces (U+00A0 ...) are ordinary characters in CSS.
_WHITESPACE = " \t\n\r\f"


def validate_banner_css(css: str) -> None:
    """Accept `css` as custom banner styles, or raise BadRequest saying what is wrong.

    An empty string is valid (it means "use the default styles").
    """
    if not isinstance(css, str):
        raise BadRequest("the banner styles must be text")
    if len(css) > MAX_CSS_LENGTH:
        raise BadRequest(f"the banner styles are too long: at most {MAX_CSS_LENGTH} characters are allowed")
    for node in _Parser(css).parse():
        _check_node(node)


def sanitize_stored_css(css: str) -> str:
    """Return stored styles unchanged if they still validate, else "" (default styles).

    Used when the vault is rendered: styles stored by an older version (or by
    Offen, whose checks were weaker) must never reach a visitor unchecked.
    """
    try:
        validate_banner_css(css)
    except BadRequest:
        return ""
    return css


# --------------------------------------------------------------------------- tokens


@dataclass(frozen=True)
class _Token:
    kind: str  # "ws" "comment" "string" "{" "}" ";" ":" "at" "text"
    text: str  # source text (string tokens: with their quotes; at: the name, lower-cased)
    line: int


def _shorten(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _refuse_dangerous_characters(css: str) -> None:
    """Refuse `<` and control characters anywhere, comments and strings included.

    The HTML parser does not know CSS comments or strings, so "</style>" anywhere
    in the text would end the style element the banner CSS is rendered into.
    """
    for index, ch in enumerate(css):
        code = ord(ch)
        if ch == "<" or (code < 0x20 and ch not in _ALLOWED_CONTROL) or code == 0x7F:
            line = css.count("\n", 0, index) + 1
            what = '"<"' if ch == "<" else f"U+{code:04X}"
            raise BadRequest(
                f"the banner styles could not be read: the character {what} is not allowed (line {line})"
            )


def _tokenize(css: str) -> list[_Token]:
    _refuse_dangerous_characters(css)
    tokens: list[_Token] = []
    i, n, line = 0, len(css), 1

    def fail(message: str) -> BadRequest:
        return BadRequest(f"the banner styles could not be read: {message} (line {line})")

    while i < n:
        ch = css[i]
        if ch == "\\":
            # Refused rather than decoded: see the module docstring.
            raise fail("escape sequences (a backslash) are not allowed")
        if ch in _WHITESPACE:
            j = i
            while j < n and css[j] in _WHITESPACE:
                j += 1
            kind = "ws"
        elif css.startswith("/*", i):
            end = css.find("*/", i + 2)
            if end < 0:
                raise fail("a comment is not closed with */")
            j, kind = end + 2, "comment"
        elif ch in "\"'":
            j = i + 1
            while j < n and css[j] != ch:
                if css[j] == "\n":
                    raise fail("a string is not closed before the end of the line")
                if css[j] == "\\":
                    raise fail("escape sequences (a backslash) are not allowed")
                j += 1
            if j >= n:
                raise fail("a string is not closed")
            j, kind = j + 1, "string"
        elif ch in "{};:":
            j, kind = i + 1, ch
        elif ch == "@":
            j = i + 1
            while j < n and (css[j].isalnum() or css[j] in "-_"):
                j += 1
            if j == i + 1:
                raise fail('"@" must start an at-rule name')
            tokens.append(_Token("at", css[i + 1 : j].lower(), line))
            i = j
            continue
        else:
            j = i
            while j < n and not (css[j] in _WHITESPACE or css[j] in "{};:\"'@\\" or css.startswith("/*", j)):
                j += 1
            kind = "text"
        tokens.append(_Token(kind, css[i:j], line))
        line += css.count("\n", i, j)
        i = j
    return tokens


# --------------------------------------------------------------------------- tree


@dataclass
class _Declaration:
    tokens: list[_Token]  # the property name's tokens
    value: list[_Token]
    line: int


@dataclass
class _Rule:
    prelude: list[_Token]
    declarations: list[_Declaration]
    line: int


@dataclass
class _AtRule:
    name: str
    prelude: list[_Token]
    children: list[_Rule | _AtRule] = field(default_factory=list)
    line: int = 0


class _Parser:
    def __init__(self, css: str) -> None:
        self.tokens = _tokenize(css)
        self.pos = 0

    def fail(self, message: str, line: int | None = None) -> BadRequest:
        if line is None:
            line = self.tokens[min(self.pos, len(self.tokens) - 1)].line if self.tokens else 1
        return BadRequest(f"the banner styles could not be read: {message} (line {line})")

    def peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def skip_blank(self) -> None:
        while (tok := self.peek()) is not None and tok.kind in ("ws", "comment"):
            self.pos += 1

    def parse(self) -> list[_Rule | _AtRule]:
        nodes = self.parse_rules(nested=False, depth=0)
        return nodes

    def parse_rules(self, *, nested: bool, depth: int) -> list[_Rule | _AtRule]:
        nodes: list[_Rule | _AtRule] = []
        while True:
            self.skip_blank()
            tok = self.peek()
            if tok is None:
                if nested:
                    raise self.fail("a block is not closed: a closing brace } is missing")
                return nodes
            if tok.kind == "}":
                if not nested:
                    raise self.fail("there is a closing brace } without a matching opening brace")
                self.pos += 1
                return nodes
            if tok.kind == "at":
                nodes.append(self.parse_at_rule(depth))
            else:
                nodes.append(self.parse_rule())

    def parse_at_rule(self, depth: int) -> _AtRule:
        at = self.tokens[self.pos]
        self.pos += 1
        prelude: list[_Token] = []
        while (tok := self.peek()) is not None and tok.kind not in ("{", ";", "}"):
            prelude.append(tok)
            self.pos += 1
        if at.text not in _GROUPING_AT_RULES:
            # Refuse before reading further: @import and @font-face fetch
            # resources, the others have no use in a banner.
            raise BadRequest(
                f'the at-rule "@{at.text}" is not allowed: only @media and @supports blocks are (line {at.line})'
            )
        if tok is None or tok.kind != "{":
            raise self.fail(f'"@{at.text}" must be followed by a block in braces', at.line)
        if depth + 1 > MAX_NESTING:
            raise self.fail(f"blocks are nested more than {MAX_NESTING} levels deep", at.line)
        self.pos += 1
        children = self.parse_rules(nested=True, depth=depth + 1)
        return _AtRule(at.text, prelude, children, at.line)

    def parse_rule(self) -> _Rule:
        start = self.peek()
        assert start is not None
        prelude: list[_Token] = []
        while (tok := self.peek()) is not None and tok.kind != "{":
            if tok.kind in ("}", ";"):
                raise self.fail(
                    f'expected a block in braces after "{_shorten(_join(prelude, gap=" "))}", found "{tok.text}"'
                )
            prelude.append(tok)
            self.pos += 1
        if tok is None:
            raise self.fail(
                f'the rule "{_shorten(_join(prelude, gap=" "))}" has no block in braces', start.line
            )
        self.pos += 1
        declarations: list[_Declaration] = []
        while True:
            self.skip_blank()
            tok = self.peek()
            if tok is None:
                raise self.fail("a block is not closed: a closing brace } is missing", start.line)
            if tok.kind == "}":
                self.pos += 1
                return _Rule(prelude, declarations, start.line)
            if tok.kind == ";":
                self.pos += 1
                continue
            declarations.append(self.parse_declaration())

    def parse_declaration(self) -> _Declaration:
        first = self.tokens[self.pos]
        name: list[_Token] = []
        while (tok := self.peek()) is not None and tok.kind != ":":
            if tok.kind in ("{", "}", ";", "at"):
                raise self.fail(
                    f'"{_shorten(_join(name + [tok], gap=" "))}" is not a declaration like "color: #333"'
                )
            name.append(tok)
            self.pos += 1
        if tok is None:
            raise self.fail("a block is not closed: a closing brace } is missing", first.line)
        self.pos += 1
        value: list[_Token] = []
        while (tok := self.peek()) is not None and tok.kind not in (";", "}"):
            if tok.kind in ("{", "at"):
                # Nested rules inside declarations (CSS nesting) are not supported.
                raise self.fail(f'unexpected "{tok.text}" in the value of "{_shorten(_join(name, gap=" "))}"')
            value.append(tok)
            self.pos += 1
        if tok is None:
            raise self.fail("a block is not closed: a closing brace } is missing", first.line)
        return _Declaration(name, value, first.line)


def _join(tokens: list[_Token], *, gap: str) -> str:
    """Source text of `tokens`, each comment replaced by `gap`."""
    return "".join(gap if t.kind == "comment" else t.text for t in tokens)


# --------------------------------------------------------------------------- rules


def _check_node(node: _Rule | _AtRule) -> None:
    if isinstance(node, _AtRule):
        condition = _join(node.prelude, gap=" ").lower()
        if not _AT_PRELUDE.fullmatch(condition) or any(
            word in condition for word in ("url", "expression", "javascript")
        ):
            raise BadRequest(f'the condition "{_shorten(condition)}" of "@{node.name}" is not allowed')
        for child in node.children:  # every nested rule, not just the first
            _check_node(child)
        return
    _check_rule(node)


def _check_rule(rule: _Rule) -> None:
    # A comment is a gap between selector parts, so ".a/**/div" is ".a div".
    selector_text = _join(rule.prelude, gap=" ")
    if any(t.kind == "string" for t in rule.prelude):
        raise BadRequest(
            f'selector "{_shorten(selector_text)}" is not allowed: only class selectors like .banner__root are'
        )
    selectors = [s.strip(_WHITESPACE) for s in selector_text.split(",")]
    for selector in selectors:
        if not selector:
            raise BadRequest(f'the selector list "{_shorten(selector_text)}" has an empty entry')
        if not _SELECTOR.fullmatch(selector):
            if _CLASS_WITH_PSEUDO.fullmatch(selector):
                raise BadRequest(
                    f'selector "{_shorten(selector)}" is not allowed: only the pseudo classes :hover, :active'
                    " and :focus are"
                )
            raise BadRequest(
                f'selector "{_shorten(selector)}" is not allowed: only class selectors like .banner__root are'
            )
    for declaration in rule.declarations:
        _check_declaration(declaration, selectors)


def _check_declaration(declaration: _Declaration, selectors: list[str]) -> None:
    where = ", ".join(selectors)
    raw_name = _join(declaration.tokens, gap=" ").strip()
    # Property names are case-insensitive in browsers: OPACITY works like opacity.
    prop = raw_name.lower()
    if not _PROPERTY_NAME.fullmatch(prop):
        raise BadRequest(f'"{_shorten(raw_name)}" in "{_shorten(where)}" is not a property name')
    for suffix in _FORBIDDEN_PROPERTY_SUFFIXES:
        if prop.endswith(suffix):
            raise BadRequest(
                f'property "{prop}" in "{_shorten(where)}" is not allowed: properties ending in '
                "opacity, content, filter, behavior, width, cursor or pointer-events cannot be set"
            )
    if prop in _EXTRA_FORBIDDEN_PROPERTIES:
        hint = " (use font-size and font-family)" if prop == "font" else ""
        raise BadRequest(
            f'property "{prop}" in "{_shorten(where)}" is not allowed: it could shrink or hide the banner{hint}'
        )

    # No gap for comments here: "u/**/rl(" must be checked as "url(".
    value = _join(declaration.value, gap="").strip()
    lowered = value.lower()
    shown = _shorten(_join(declaration.value, gap=" ").strip())
    if not value:
        raise BadRequest(f'property "{prop}" in "{_shorten(where)}" has no value')
    for word in _FORBIDDEN_VALUE_WORDS:
        if word in lowered:
            reason = "negative numbers and hyphenated words" if word == "-" else f'"{word}"'
            raise BadRequest(
                f'value "{shown}" of "{prop}" in "{_shorten(where)}" is not allowed: it contains {reason}'
            )

    words = " ".join(lowered.replace("!", " !").split())
    if prop == "display" and "none" in words.split():
        raise BadRequest(
            f'"display: none" in "{_shorten(where)}" is not allowed: the banner must stay visible'
        )
    if prop == "visibility" and ({"hidden", "collapse"} & set(words.split())):
        raise BadRequest(
            f'"visibility: {words}" in "{_shorten(where)}" is not allowed: the banner must stay visible'
        )
    if prop == "font-size":
        if selectors != [_FONT_SIZE_SELECTOR]:
            raise BadRequest(
                f'"font-size" in "{_shorten(where)}" is not allowed: it may only be set on the single '
                f"selector {_FONT_SIZE_SELECTOR}"
            )
        size = words.removesuffix(" !important")
        match = _FONT_SIZE.fullmatch(size)
        if not match or not _FONT_SIZE_MIN <= int(match.group(1)) <= _FONT_SIZE_MAX:
            raise BadRequest(
                f'font-size "{shown}" is not allowed: use a size in pixels between '
                f"{_FONT_SIZE_MIN}px and {_FONT_SIZE_MAX}px"
            )
