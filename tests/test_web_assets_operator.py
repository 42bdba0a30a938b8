"""The operator program's serving: its shell at the page paths, its files under /operator/, the widgets.

In-process (WebTest) over a real SQLite file and a copy of the real `ui/operator/` folder, plus widget
files made by the test (another part of the project draws the real ones).
"""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.web.assets import CONTENT_SECURITY_POLICY, OPERATOR_CONTENT_SECURITY_POLICY
from tests.conftest import Harness, seeded_harness
from tests.test_web_assets import make_ui, with_ui

REPO = Path(__file__).resolve().parent.parent
ACCOUNT = "3f1c2a9e-1111-4222-8333-444455556666"
TOKEN = "eyJlbWFpbCI6ImEifQ.aBc-d_E.f0o"
WIDGET = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><title>{}</title></svg>'


@pytest.fixture
def site(tmp_path: Path, clock, seeded_template) -> Iterator[Harness]:
    base = seeded_harness(tmp_path, clock, seeded_template)
    resources = make_ui(tmp_path)
    operator = resources / "ui" / "operator"
    shutil.copytree(REPO / "ui" / "operator", operator, ignore=shutil.ignore_patterns("node_modules"))
    widgets = operator / "widgets"
    shutil.rmtree(widgets, ignore_errors=True)  # the real drawings are tested by their owner
    widgets.mkdir()
    for style in ("bar", "box", "circle"):
        (widgets / f"user-access-widget-{style}-de.svg").write_text(WIDGET.format(style), encoding="utf-8")
    yield with_ui(base, resources)
    base.store.close()


OPERATOR_PAGES = [
    "/login/",
    "/login",
    "/setup/",
    "/console/",
    "/console",
    "/forgot-password/",
    f"/reset-password/{TOKEN}/",
    f"/reset-password/{TOKEN}",
    f"/join/{TOKEN}/",
    f"/auditorium/{ACCOUNT}/",
    f"/auditorium/{ACCOUNT}",
    f"/auditorium/{ACCOUNT.upper()}/",
]


@pytest.mark.parametrize("path", OPERATOR_PAGES)
def test_operator_pages_get_the_operator_shell_with_its_strict_csp(site, path):
    page = site.app.get(path, status=200)
    shell = (REPO / "ui" / "operator" / "index.html").read_bytes()
    assert page.body == shell
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert page.headers["Cache-Control"] == "no-cache"
    assert re.fullmatch(r'"[0-9a-f]{32}"', page.headers["ETag"])
    csp = page.headers["Content-Security-Policy"]
    assert csp == OPERATOR_CONTENT_SECURITY_POLICY
    directives = {part.split()[0]: part.split()[1:] for part in csp.split("; ")}
    # No inline or foreign script where key-encryption keys live; nobody else may frame the forms.
    assert directives["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in directives["script-src"] and "'unsafe-eval'" not in csp
    assert directives["frame-ancestors"] == ["'self'"] and directives["object-src"] == ["'none'"]
    # The shell itself has no inline script (the CSP would block it).
    assert not re.search(rb"<script(?![^>]*\bsrc=)[^>]*>", page.body)


def test_operator_shell_answers_304_to_its_etag(site):
    first = site.app.get("/login/")
    again = site.app.get("/console/", headers={"If-None-Match": first.headers["ETag"]}, status=304)
    assert again.body == b"" and again.headers["ETag"] == first.headers["ETag"]


@pytest.mark.parametrize(
    "path", ["/auditorium/", "/auditorium", "/", "/auditorium/not-a-uuid/", "/somewhere/else"]
)
def test_visitor_pages_keep_the_visitor_shell(site, path):
    page = site.app.get(path, status=200)
    assert page.body == b"<!DOCTYPE html><title>shell</title>"
    assert page.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


def test_operator_files_are_served_with_types_and_etags(site):
    script = site.app.get("/operator/app.js", status=200)
    assert script.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert script.body == (REPO / "ui" / "operator" / "app.js").read_bytes()
    assert script.headers["Cache-Control"] == "no-cache"
    site.app.get("/operator/app.js", headers={"If-None-Match": script.headers["ETag"]}, status=304)
    page_module = site.app.get("/operator/pages/login.js", status=200)
    assert b"mountLogin" in page_module.body
    catalogue = site.app.get("/operator/locales/en.json", status=200)
    assert catalogue.headers["Content-Type"] == "application/json; charset=utf-8"
    assert catalogue.json["login.title"]
    css = site.app.get("/operator/operator.css", status=200)
    assert css.headers["Content-Type"] == "text/css; charset=utf-8"


def test_missing_operator_files_are_404_not_the_shell(site):
    # A missing module must fail as missing, not be parsed as an HTML page.
    response = site.app.get("/operator/dashboard/not-there.js", status=404)
    assert response.json == {"error": "not found", "status": 404}
    site.app.get("/operator/index.html", status=404)  # the shell only at its page paths
    site.app.get("/operator/README.md", status=404)


def test_widgets_are_served_from_the_operator_folder(site):
    for style in ("bar", "box", "circle"):
        svg = site.app.get(f"/user-access-widget-{style}-de.svg", status=200)
        assert svg.headers["Content-Type"] == "image/svg+xml"
        assert svg.text == WIDGET.format(style)
        assert "ETag" in svg.headers
    # A widget that was not drawn (yet) is a 404, never an HTML page where an image is expected.
    site.app.get("/user-access-widget-bar-en.svg", status=404)
    # Names outside the fixed pattern are not widgets (and fall back to the visitor shell).
    other = site.app.get("/user-access-widget-star-de.svg", status=200)
    assert other.headers["Content-Type"].startswith("text/html")


def test_api_paths_are_not_pages(site):
    site.app.get("/api/login/", status=301)  # the trailing-slash redirect of a real route still works
    response = site.app.get("/api/nothing-here", status=404)
    assert response.json["status"] == 404


def test_real_tree_serves_the_real_operator_shell(seeded_app):
    """The default resources (the repository's ui/) serve the operator shell too."""
    page = seeded_app.app.get(f"/auditorium/{uuid.uuid4()}/", status=200)
    assert b"/operator/app.js" in page.body and b"data-operator-app" in page.body
