"""The vault template, static files, the extra script path and their headers, in-process over real SQLite.

Each test builds the app over its own copy of a small `ui/` tree, so the
placeholders of the vault template are tested independently of the real
vault page (which another part of the project writes).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import webtest

from appliance.config import LOCALES, ConfigError, find_setting, load_config, parse_value
from appliance.web import WebContext, build_services, build_wsgi
from appliance.web.assets import VAULT_CONTENT_SECURITY_POLICY, VAULT_LOCALES, style_element_text
from tests.conftest import Harness, make_config, seeded_harness

REPO = Path(__file__).resolve().parent.parent
TEMPLATE = (
    '<!DOCTYPE html><html lang="{{lang}}"><head><meta charset="utf-8"><title>Offen Vault</title>'
    '<script type="module" src="/vault/index.js"></script><style>{{accountStyles}}</style></head>'
    '<body><script type="x">const x = {a: "{{ not a placeholder }}"}</script></body></html>'
)


def make_ui(root: Path) -> Path:
    ui = root / "resources" / "ui"
    (ui / "vault").mkdir(parents=True)
    (ui / "vault" / "index.html").write_text(TEMPLATE, encoding="utf-8")
    (ui / "vault" / "index.js").write_text("export const vault = 1\n", encoding="utf-8")
    (ui / "vault" / "tests").mkdir()
    (ui / "vault" / "tests" / "x.test.js").write_text("secret test\n", encoding="utf-8")
    (ui / "shared" / "locales").mkdir(parents=True)
    (ui / "shared" / "stats.mjs").write_text("export const n = 2\n", encoding="utf-8")
    (ui / "shared" / "locales" / "de.json").write_text('{"a": "b"}', encoding="utf-8")
    (ui / "vendor").mkdir()
    (ui / "vendor" / "lib-1.0.0.js").write_text("var lib = 1\n", encoding="utf-8")
    (ui / "vendor" / "lib-1.0.0.LICENSE.txt").write_text("MIT\n", encoding="utf-8")
    (ui / "vendor" / "notes.md").write_text("not served\n", encoding="utf-8")
    (ui / "auditorium").mkdir()
    (ui / "auditorium" / "index.js").write_text("import '/shared/stats.mjs'\n", encoding="utf-8")
    (ui / "script").mkdir()
    shutil.copy(REPO / "ui" / "script" / "script.js", ui / "script" / "script.js")
    (ui / "index.html").write_text("<!DOCTYPE html><title>shell</title>", encoding="utf-8")
    (ui / "README.md").write_text("not served\n", encoding="utf-8")
    return ui.parent


def with_ui(harness: Harness, resources: Path, **overrides: str) -> Harness:
    """The same database and clock, served over the test's own ui/ tree (and config overrides)."""
    config = make_config(Path(harness.ctx.config.app_datadir), **overrides)
    ctx = WebContext(
        config=config,
        store=harness.store,
        mailer=harness.mailer,
        clock=harness.clock,
        monotonic=harness.clock.monotonic,
        sleep=harness.clock.sleep,
        resources=resources,
    )
    services = build_services(ctx)
    fresh = Harness(ctx, services, harness.mailer, harness.clock)
    fresh.app = webtest.TestApp(build_wsgi(ctx, services), extra_environ={"HTTP_HOST": "offen.example.test"})
    fresh.account_id = harness.account_id
    return fresh


@pytest.fixture
def site(tmp_path, clock, seeded_template) -> Iterator[Harness]:
    base = seeded_harness(tmp_path, clock, seeded_template)
    yield with_ui(base, make_ui(tmp_path))
    base.store.close()


def set_styles(harness: Harness, css: str) -> None:
    # Straight into the database: stored styles may predate today's rules (or come from Offen).
    harness.store.update_account(harness.account_id, account_styles=css)


def vault(harness: Harness, **query: str):
    return harness.app.get("/vault", {"accountId": harness.account_id, **query})


# ------------------------------------------------------------------------- the vault page


def test_vault_renders_lang_and_valid_styles(site):
    set_styles(site, ".banner__root { background: #fffdf4; }")
    page = vault(site, locale="de")
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert '<html lang="de">' in page.text
    assert "<style>.banner__root { background: #fffdf4; }</style>" in page.text
    # Only the two placeholders are replaced; other braces are left alone.
    assert "{{ not a placeholder }}" in page.text and "{{" not in page.text.replace("{{ not a", "")


def test_vault_locales_are_the_configurable_locales():
    assert VAULT_LOCALES == LOCALES


@pytest.mark.parametrize("locale", ["", "xx", "DE", "de-DE", '"><script>', "en;"])
def test_vault_lang_falls_back_to_the_configured_locale(tmp_path, clock, seeded_template, locale):
    base = seeded_harness(tmp_path, clock, seeded_template)
    try:
        harness = with_ui(base, make_ui(tmp_path), OFFEN_APP_LOCALE="fr")
        page = vault(harness, locale=locale)
        assert '<html lang="fr">' in page.text and "<script>" not in page.text.split("<body>")[0][:60]
    finally:
        base.store.close()


def test_vault_without_account_has_no_styles(site):
    set_styles(site, ".banner__root { color: #333; }")
    page = site.app.get("/vault")
    assert "<style></style>" in page.text and '<html lang="en">' in page.text


def test_stored_styles_that_no_longer_validate_are_dropped(site):
    # Offen accepted this (it only validated the first rule in @media); today's rules refuse it.
    set_styles(site, "@media screen { .a { color: red; } .banner__root { opacity: 0; } }")
    page = vault(site)
    assert "<style></style>" in page.text and "opacity" not in page.text


def test_style_text_is_escaped_for_a_style_element_even_if_validation_let_a_lt_through():
    assert style_element_text(".a { color: red; }") == ".a { color: red; }"
    escaped = style_element_text(".a{}</style><script>alert(1)</script>")
    assert "<" not in escaped and "\\3c /style>" in escaped


def test_a_closing_style_tag_in_stored_styles_never_reaches_the_page(site):
    set_styles(site, '.a { font-family: "</style><script>alert(1)</script>"; }')
    page = vault(site)
    assert "alert" not in page.text and page.text.count("</style>") == 1


def test_styles_are_cached_per_account_and_a_change_is_seen(site, monkeypatch):
    import appliance.web.assets as assets

    calls: list[str] = []
    real = assets.sanitize_stored_css

    def counting(css: str) -> str:
        calls.append(css)
        return real(css)

    monkeypatch.setattr(assets, "sanitize_stored_css", counting)
    set_styles(site, ".banner__root { color: #111; }")
    first = vault(site)
    vault(site)
    assert len(calls) == 1, "the second render re-validated the same styles"
    site.clock.advance(assets.STYLES_TTL + 1)
    vault(site)
    assert len(calls) == 2, "the cache outlived its lifetime"
    # A new stored value is shown once the account cache (5 s) has expired, without waiting 5 minutes.
    set_styles(site, ".banner__root { color: #222; }")
    site.clock.advance(6)
    second = vault(site)
    assert "#222" in second.text and first.headers["ETag"] != second.headers["ETag"]


def test_development_mode_caches_styles_for_one_second(tmp_path, clock, seeded_template, monkeypatch):
    import appliance.web.assets as assets

    calls: list[str] = []
    real = assets.sanitize_stored_css
    monkeypatch.setattr(assets, "sanitize_stored_css", lambda css: calls.append(css) or real(css))
    base = seeded_harness(tmp_path, clock, seeded_template)
    try:
        harness = with_ui(base, make_ui(tmp_path), OFFEN_APP_DEVELOPMENT="true")
        set_styles(harness, ".banner__root { color: #111; }")
        vault(harness)
        harness.clock.advance(0.5)
        vault(harness)
        harness.clock.advance(1.0)
        vault(harness)
        assert len(calls) == 2
    finally:
        base.store.close()


def test_vault_headers_etag_and_frameable(site):
    page = vault(site)
    assert page.headers["Cache-Control"] == "no-cache"
    csp = page.headers["Content-Security-Policy"]
    assert csp == VAULT_CONTENT_SECURITY_POLICY
    directives = {part.split()[0]: part.split()[1:] for part in csp.split("; ")}
    assert directives["script-src"] == ["'self'"], "the vault holds keys: no inline or foreign script"
    assert directives["connect-src"] == ["'self'"]
    # Every operator's site must be able to frame the vault.
    assert "frame-ancestors" not in csp and "X-Frame-Options" not in page.headers
    etag = page.headers["ETag"]
    site.app.get("/vault", {"accountId": site.account_id}, headers={"If-None-Match": etag}, status=304)
    # The ETag is over the rendered page: another language is another body.
    assert vault(site, locale="vi").headers["ETag"] != etag


def test_unknown_account_still_gets_the_400_page(site):
    site.app.get("/vault", {"accountId": "nobody"}, status=400)


# ------------------------------------------------------------------------- static files


@pytest.mark.parametrize(
    ("path", "content_type", "text"),
    [
        ("/vault/index.js", "text/javascript; charset=utf-8", "export const vault"),
        ("/shared/stats.mjs", "text/javascript; charset=utf-8", "export const n"),
        ("/shared/locales/de.json", "application/json; charset=utf-8", '"a"'),
        ("/vendor/lib-1.0.0.js", "text/javascript; charset=utf-8", "var lib"),
        ("/vendor/lib-1.0.0.LICENSE.txt", "text/plain; charset=utf-8", "MIT"),
        ("/auditorium/index.js", "text/javascript; charset=utf-8", "import"),
    ],
)
def test_static_files_with_types_and_etags(site, path, content_type, text):
    response = site.app.get(path)
    assert response.headers["Content-Type"] == content_type and text in response.text
    assert response.headers["Cache-Control"] == "no-cache"
    etag = response.headers["ETag"]
    assert etag.startswith('"') and len(etag) == 34
    site.app.get(path, headers={"If-None-Match": etag}, status=304)


def test_a_changed_static_file_gets_a_new_etag(site):
    first = site.app.get("/vault/index.js").headers["ETag"]
    target = site.ctx.resources / "ui" / "vault" / "index.js"
    target.write_text("export const vault = 2 // changed\n", encoding="utf-8")
    second = site.app.get("/vault/index.js")
    assert "changed" in second.text and second.headers["ETag"] != first


@pytest.mark.parametrize(
    "path",
    [
        "/README.md",
        "/vendor/notes.md",
        "/vault/tests/x.test.js",
        "/vault/index.html",
        "/script/script.js",
        "/vault/../README.md",
        "/shared/%2e%2e/README.md",
    ],
)
def test_other_files_are_not_served(site, path):
    response = site.app.get(path)
    assert "<title>shell</title>" in response.text, path


def test_script_is_javascript_and_not_cached_blindly(site):
    response = site.app.get("/script.js")
    assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-cache" and response.headers["ETag"]
    assert "Content-Security-Policy" not in response.headers
    assert response.body == (REPO / "ui" / "script" / "script.js").read_bytes()


# ------------------------------------------------------------------------- OFFEN_APP_SCRIPTPATH


def test_extra_script_path_serves_the_same_script(tmp_path, clock, seeded_template):
    base = seeded_harness(tmp_path, clock, seeded_template)
    try:
        harness = with_ui(base, make_ui(tmp_path), OFFEN_APP_SCRIPTPATH="/o.js")
        main = harness.app.get("/script.js")
        extra = harness.app.get("/o.js")
        assert extra.body == main.body and extra.headers["ETag"] == main.headers["ETag"]
        assert extra.headers["Content-Type"] == "text/javascript; charset=utf-8"
        harness.app.head("/o.js", status=200)
        harness.app.post("/o.js", status=405)
        # Only the exact path.
        assert "<title>shell</title>" in harness.app.get("/o.js/x").text
    finally:
        base.store.close()


def test_without_the_setting_the_extra_path_is_the_shell(site):
    assert "<title>shell</title>" in site.app.get("/o.js").text


@pytest.mark.parametrize("value", ["/o.js", "/static/a-1.js", "/x", "/assets/v2/t.js", " /o.js "])
def test_script_path_accepts(value):
    assert parse_value(find_setting("OFFEN_APP_SCRIPTPATH"), value) == value.strip()


@pytest.mark.parametrize(
    "value",
    [
        "o.js",
        "/",
        "/o.js/",
        "/o.js?x=1",
        "/o.js#a",
        "//evil.test/o.js",
        "/a/../o.js",
        "/a/./o.js",
        "/o js",
        "/api",
        "/api/o.js",
        "/API/o.js",
        "/vault",
        "/vault/o.js",
        "/script.js",
        "/healthz",
        "/versionz",
        "/auditorium/o.js",
        "/login",
        "/shared/o.js",
        "/vendor/o.js",
        "/" + "a" * 250,
    ],
)
def test_script_path_refuses(value):
    with pytest.raises(ConfigError) as info:
        parse_value(find_setting("OFFEN_APP_SCRIPTPATH"), value)
    assert "OFFEN_APP_SCRIPTPATH" in str(info.value)


def test_script_path_is_storable_and_defaults_to_unset(tmp_path):
    setting = find_setting("app_scriptpath")
    assert setting is not None and setting.stored_ok and not setting.bootstrap and not setting.secret
    config = load_config(
        {"OFFEN_APP_DATADIR": str(tmp_path)}, stored={"OFFEN_APP_SCRIPTPATH": "/o.js"}, is_root=False
    )
    assert config.app_scriptpath == "/o.js" and config.sources["OFFEN_APP_SCRIPTPATH"] == "database"
    assert load_config({"OFFEN_APP_DATADIR": str(tmp_path)}, is_root=False).app_scriptpath is None


# ------------------------------------------------------------------------- docs/banner.md


def _css_blocks(section: str) -> list[str]:
    text = (REPO / "docs" / "banner.md").read_text(encoding="utf-8")
    part = text.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    return [
        block.split("\n", 1)[1] for block in part.split("```css")[1:] for block in [block.split("```")[0]]
    ]


def test_banner_doc_examples_that_pass_do_pass():
    from appliance.bannercss import validate_banner_css

    blocks = _css_blocks("Examples that pass")
    assert len(blocks) == 2
    for css in blocks:
        validate_banner_css(css)


def test_banner_doc_examples_that_are_refused_are_refused():
    from appliance.bannercss import validate_banner_css
    from appliance.errors import BadRequest

    lines = [line for line in _css_blocks("Examples that are refused")[0].splitlines() if line.strip()]
    assert len(lines) == 8
    for line in lines:
        with pytest.raises(BadRequest):
            validate_banner_css(line.split("/*")[0])
