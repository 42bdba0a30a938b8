"""axe-core in the browser tests: inject the pinned axe-core into a page and fail on any violation.

axe-core comes from npm, pinned in tests/e2e/package.json and installed with
`npm ci --prefix tests/e2e` (into tests/e2e/node_modules, never committed).
The script is evaluated through Playwright (the DevTools protocol), not added
as a `<script>` element, so the operator pages' strict CSP (script-src 'self')
does not block it and the pages need no exception for it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

AXE_PATH = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
INSTALL_HINT = "npm ci --prefix tests/e2e"


def axe_source() -> str:
    if not AXE_PATH.is_file():
        raise AssertionError(f"axe-core is not installed ({AXE_PATH} missing); run: {INSTALL_HINT}")
    return AXE_PATH.read_text(encoding="utf-8")


def run_axe(page: Any, context: str | None = None) -> dict[str, Any]:
    """axe.run on the page (or on the `context` selector) with axe's default rule set."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # Playwright's own injection (not a <script src>), so the page's CSP does not apply to it.
        page.evaluate(axe_source() + "\n;void 0")
    return page.evaluate(
        """async (context) => {
            const results = await window.axe.run(context ? document.querySelector(context) : document,
                {resultTypes: ['violations']});
            return {violations: results.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({target: n.target, summary: n.failureSummary})),
            }))};
        }""",
        context,
    )


def format_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:5]:
            lines.append(f"    {json.dumps(node['target'])}: {(node['summary'] or '').splitlines()[-1:]}")
    return "\n".join(lines)


def assert_no_axe_violations(page: Any, context: str | None = None) -> None:
    """Fail with the list of axe-core violations on `page` (optionally only inside `context`, a selector)."""
    result = run_axe(page, context)
    violations = result["violations"]
    assert not violations, f"axe-core violations on {page.url}:\n{format_violations(violations)}"
