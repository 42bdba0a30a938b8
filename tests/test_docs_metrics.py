"""docs/metrics.md and docs/sharing-and-roles.md must keep up with the code they describe.

- Every result field of the operator perspective of `computeStats` (ui/shared/stats.js, read by running
  it in Node) is named as a code span in metrics.md.
- Every referrer bucket of stats.js is named in metrics.md, and every host the page lists under a bucket
  really lands in that bucket (`referrerBucket`, run in Node).
- Every `/api/` route that answers 401 without a login (found by calling the real app over a real SQLite
  file) is in the route table of sharing-and-roles.md, and every route that table names exists.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
METRICS = ROOT / "docs" / "metrics.md"
ROLES = ROOT / "docs" / "sharing-and-roles.md"
STATS = ROOT / "ui" / "shared" / "stats.js"
WEB = ROOT / "appliance" / "web" / "__init__.py"

NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed")

ROUTE = re.compile(r'route\(\s*"([A-Z]+)",\s*"(/api/[^"]*)",\s*(\w+)\.(\w+)')
DOC_ROUTE = re.compile(r"`(GET|POST|PUT|DELETE) (/api/[^`\s]*)`")
PLACEHOLDERS = {"<account_id>": ":id", "<period>": ":period"}
SAMPLE_ID = "9b63c4d4-d8c0-4ca4-b1b1-7b4e4c1c2e3f"
SAMPLE_PERIOD = "2024-01-01"


def _node(script: str) -> object:
    done = subprocess.run(
        [NODE, "--input-type=module", "-e", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _stats_import() -> str:
    return f"import * as stats from {json.dumps(STATS.as_uri())};"


def _code_spans(text: str) -> set[str]:
    return set(re.findall(r"`([^`\n]+)`", text))


# -- metrics.md ---------------------------------------------------------------------------------------


@needs_node
def test_every_operator_result_field_is_documented() -> None:
    keys = _node(
        _stats_import()
        + 'const r = stats.computeStats([], {perspective: "operator", now: "2024-03-10T12:00:00Z"});'
        + "console.log(JSON.stringify(Object.keys(r)));"
    )
    assert isinstance(keys, list) and "uniqueUsers" in keys and "retentionMatrix" in keys, keys
    spans = _code_spans(METRICS.read_text(encoding="utf-8"))
    missing = [key for key in keys if key not in spans]
    assert not missing, f"fields of computeStats (operator) not documented in {METRICS.name}: {missing}"


def _bucket_names() -> list[str]:
    source = STATS.read_text(encoding="utf-8")
    block = re.search(r"const REFERRER_BUCKETS = \[(.*?)\n\];", source, re.S)
    assert block, "REFERRER_BUCKETS not found in stats.js"
    return re.findall(r'^\s*\["([^"]+)",', block.group(1), re.M)


def _documented_buckets() -> dict[str, list[str]]:
    """The `| Bucket | Hosts |` table of metrics.md: bucket name -> example hosts."""
    rows: dict[str, list[str]] = {}
    inside = False
    for line in METRICS.read_text(encoding="utf-8").splitlines():
        cells = (
            [c.strip() for c in line.strip().strip("|").split("|")] if line.strip().startswith("|") else []
        )
        if cells[:2] == ["Bucket", "Hosts"]:
            inside = True
            continue
        if not inside:
            continue
        if not cells:
            break
        if set(cells[0]) <= {"-", " "}:
            continue
        hosts = [h.strip() for h in re.sub(r"\(.*?\)", "", cells[1]).split(",")]
        rows[cells[0]] = [h for h in hosts if h]
    return rows


def test_every_referrer_bucket_is_documented() -> None:
    names = _bucket_names()
    assert len(names) >= 10, names
    documented = _documented_buckets()
    assert sorted(documented) == sorted(names), "the bucket table must list exactly the buckets of stats.js"
    text = METRICS.read_text(encoding="utf-8")
    for name in names:
        assert name in text


@needs_node
def test_documented_hosts_land_in_their_bucket() -> None:
    documented = _documented_buckets()
    pairs = [[host, name] for name, hosts in documented.items() for host in hosts]
    assert len(pairs) >= len(documented)
    got = _node(
        _stats_import()
        + f"const pairs = {json.dumps(pairs)};"
        + "console.log(JSON.stringify(pairs.map(([h]) => stats.referrerBucket(h))));"
    )
    wrong = [(host, name, bucket) for (host, name), bucket in zip(pairs, got, strict=True) if bucket != name]
    assert not wrong, f"hosts documented under the wrong bucket (host, documented, actual): {wrong}"
    # And an unlisted host is shown by its own name, as the page says.
    assert _node(
        _stats_import() + 'console.log(JSON.stringify(stats.referrerBucket("Blog.Example.org")))'
    ) == ("blog.example.org")


# -- sharing-and-roles.md --------------------------------------------------------------------------------


def _operator_api_routes() -> list[tuple[str, str]]:
    routes = [
        (method, path)
        for method, path, owner, _ in ROUTE.findall(WEB.read_text(encoding="utf-8"))
        if owner == "operator"
    ]
    assert len(routes) >= 15, routes
    return routes


def _doc_form(path: str) -> str:
    for placeholder, shown in PLACEHOLDERS.items():
        path = path.replace(placeholder, shown)
    return path


def _concrete(path: str) -> str:
    return path.replace("<account_id>", SAMPLE_ID).replace("<period>", SAMPLE_PERIOD)


@pytest.fixture(scope="module")
def auth_routes(tmp_path_factory: pytest.TempPathFactory) -> set[tuple[str, str]]:
    """The operator /api/ routes that answer 401 to a request without the `auth` cookie (the real app)."""
    from tests.conftest import FakeTime, build_harness, fresh_store

    tmp = tmp_path_factory.mktemp("docs-roles")
    store = fresh_store(tmp / "offen.db")
    try:
        harness = build_harness(tmp, FakeTime(), store)
        found = set()
        for method, path in _operator_api_routes():
            response = harness.app.request(
                _concrete(path),
                method=method,
                body=b"{}" if method != "GET" else b"",
                content_type="application/json",
                expect_errors=True,
            )
            if response.status_int == 401:
                found.add((method, path))
        return found
    finally:
        store.close()


def test_login_routes_are_found(auth_routes: set[tuple[str, str]]) -> None:
    # A guard against a probe that finds nothing (or everything): known members on both sides.
    assert ("GET", "/api/login") in auth_routes
    assert ("DELETE", "/api/accounts/<account_id>/shared-cache") in auth_routes
    assert ("POST", "/api/login") not in auth_routes
    assert ("POST", "/api/join") not in auth_routes


def _table_routes() -> set[tuple[str, str]]:
    """The routes in the first cell of the route table's rows (not those merely named in the prose)."""
    found = set()
    for line in ROLES.read_text(encoding="utf-8").splitlines():
        if line.startswith("| `"):
            first = line.strip("|").split("|")[0]
            found.update(DOC_ROUTE.findall(first))
    return found


def test_every_route_that_needs_a_login_is_documented(auth_routes: set[tuple[str, str]]) -> None:
    documented = _table_routes()
    missing = sorted(
        f"{method} {_doc_form(path)}"
        for method, path in auth_routes
        if (method, _doc_form(path)) not in documented
    )
    assert not missing, f"routes that need a login but are not in {ROLES.name}: {missing}"


def test_every_documented_route_exists() -> None:
    known = {(method, _doc_form(path)) for method, path in _operator_api_routes()}
    documented = set(DOC_ROUTE.findall(ROLES.read_text(encoding="utf-8")))
    unknown = sorted(f"{m} {p}" for m, p in documented - known)
    assert not unknown, f"{ROLES.name} names routes the server does not have: {unknown}"
