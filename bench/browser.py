"""The browser benchmark: script size, what the vault loads, and time from page load to stored event.

Run with `python -m bench.browser` (needs Debian's /usr/bin/chromium and the
playwright package; no browser download). It starts its own `offen serve`
over https and two host sites, with the harness of the browser tests
(tests/e2e/sites.py), and measures:

1. the size of `/script.js` as served, raw and `gzip -9`;
2. the bytes the vault frame loads on a first visit, per resource, in set-up
   (a) (https host page, WebCrypto) and (b) (plain-http host page, userland
   fallback): before consent, and up to the first stored event;
3. the time from the start of a page load (the host page's
   `performance.timeOrigin`) to the event stored on the server (the time in
   its ULID event id, written at insert), over N page loads, each in a fresh
   browser context with the `consent=allow` cookie pre-set for the Offen
   origin (partitioned like the vault writes it). Every load is therefore a
   first visit of a new visitor: it includes the key exchange.

Prints a table and writes JSON to bench/results/browser-<UTC timestamp>.json.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.e2e.sites import (
    CHROMIUM,
    CHROMIUM_ARGS,
    OFFEN_HOST,
    HostSite,
    OffenServer,
    Setup,
    browser_missing_reason,
    make_certificate,
    make_setups,
)

__all__ = [
    "CROCKFORD",
    "gzip9_size",
    "percentile",
    "summarize",
    "ulid_millis",
    "render_table",
    "measure_script",
    "measure_vault_bytes",
    "measure_load_times",
    "run",
    "main",
]

RESULTS = Path(__file__).resolve().parent / "results"
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def gzip9_size(data: bytes) -> int:
    """Size of `gzip -9` output for `data` (no file name, mtime 0: the header is the fixed 10 bytes)."""
    return len(gzip.compress(data, compresslevel=9, mtime=0))


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0 < q <= 100) by nearest rank: always one of the measured values."""
    if not values:
        raise ValueError("no values")
    if not 0 < q <= 100:
        raise ValueError("q must be in (0, 100]")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def summarize(samples: Sequence[float], failures: int = 0) -> dict[str, Any]:
    if not samples:
        return {
            "n": 0,
            "failures": failures,
            "median_ms": None,
            "p90_ms": None,
            "min_ms": None,
            "max_ms": None,
        }
    return {
        "n": len(samples),
        "failures": failures,
        "median_ms": round(statistics.median(samples), 1),
        "p90_ms": round(percentile(samples, 90), 1),
        "min_ms": round(min(samples), 1),
        "max_ms": round(max(samples), 1),
    }


def ulid_millis(ulid: str) -> int:
    """The Unix time in milliseconds in the first 10 characters of a ULID (docs/protocol.md §7)."""
    value = 0
    for char in ulid[:10].upper():
        value = value * 32 + CROCKFORD.index(char)
    return value


# --------------------------------------------------------------------------- measurements


def measure_script(offen: OffenServer) -> dict[str, int]:
    """/script.js as served: raw bytes, `gzip -9` of them, and what the server sends gzip-encoded."""
    from tests.e2e.sites import OffenClient

    plain = OffenClient(offen.port).request("GET", "/script.js", headers={"Accept-Encoding": "identity"})
    encoded = OffenClient(offen.port).request("GET", "/script.js", headers={"Accept-Encoding": "gzip"})
    served_gzip = len(encoded.body) if encoded.headers.get("Content-Encoding") == "gzip" else None
    return {
        "raw_bytes": len(plain.body),
        "gzip9_bytes": gzip9_size(plain.body),
        "served_gzip_bytes": served_gzip,
    }


def _newest_event_id(offen: OffenServer, account_id: str) -> str | None:
    rows = offen._query(  # noqa: SLF001 - the harness's read-only SQLite helper
        "SELECT event_id FROM events WHERE account_id = ? ORDER BY event_id DESC LIMIT 1", (account_id,)
    )
    return rows[0][0] if rows else None


def measure_vault_bytes(browser: Any, setup: Setup, offen: OffenServer, account_id: str) -> dict[str, Any]:
    """Bytes of every response the vault frame loads on a first visit, before and after consent."""
    from tests.e2e.browsing import allow, vault_frame

    context = browser.new_context(ignore_https_errors=True)
    context.set_default_timeout(15_000)
    records: list[dict[str, Any]] = []
    phase = {"name": "before-consent"}

    def on_finished(request: Any) -> None:
        frame_url = request.frame.url if request.frame else ""
        if not request.url.startswith(setup.offen_origin) or not frame_url.startswith(setup.offen_origin):
            return  # /script.js belongs to the host page; only the vault frame's own loads count
        response = request.response()
        try:
            body = len(response.body()) if response else 0
        except Exception:  # noqa: BLE001 - bodies of redirects and 204s are not available
            body = 0
        sizes = request.sizes()
        path = request.url[len(setup.offen_origin) :].split("?", 1)[0]
        records.append(
            {
                "phase": phase["name"],
                "path": path,
                "body_bytes": body,
                "transfer_bytes": sizes["responseBodySize"],
            }
        )

    context.on("requestfinished", on_finished)
    try:
        page = context.new_page()
        page.goto(setup.page_url(account_id, "bench-bytes"))
        frame = vault_frame(page, setup.offen_origin)
        webcrypto = frame.evaluate("!!(self.crypto && crypto.subtle)")
        page.wait_for_load_state("networkidle")
        phase["name"] = "after-consent"
        before = offen.count_events(account_id)
        allow(page)
        stored = offen.wait_for_events(account_id, before + 1, timeout=15) > before
        page.wait_for_load_state("networkidle")
    finally:
        context.close()

    def total(which: str, key: str) -> int:
        return sum(r[key] for r in records if r["phase"] == which)

    by_resource: dict[str, dict[str, int]] = {}
    for r in records:
        entry = by_resource.setdefault(r["path"], {"body_bytes": 0, "transfer_bytes": 0, "requests": 0})
        entry["body_bytes"] += r["body_bytes"]
        entry["transfer_bytes"] += r["transfer_bytes"]
        entry["requests"] += 1
    return {
        "setup": setup.name,
        "webcrypto": webcrypto,
        "event_stored": stored,
        "before_consent": {
            "body_bytes": total("before-consent", "body_bytes"),
            "transfer_bytes": total("before-consent", "transfer_bytes"),
        },
        "through_first_event": {
            "body_bytes": sum(r["body_bytes"] for r in records),
            "transfer_bytes": sum(r["transfer_bytes"] for r in records),
        },
        "resources": dict(sorted(by_resource.items())),
    }


def _consent_cookie(setup: Setup) -> dict[str, Any]:
    # What the vault itself writes over https: SameSite=None; Secure; Partitioned (keyed by the top-level site).
    return {
        "name": "consent",
        "value": "allow",
        "domain": OFFEN_HOST,
        "path": "/",
        "expires": time.time() + 86400,
        "secure": True,
        "sameSite": "None",
        "partitionKey": setup.top_level_site,
        # Chromium keys partitioned cookies also by whether the frame has a cross-site ancestor.
        "_crHasCrossSiteAncestor": setup.name != "same-site",
    }


def measure_load_times(
    browser: Any, setup: Setup, offen: OffenServer, account_id: str, loads: int = 20, timeout: float = 15.0
) -> dict[str, Any]:
    """Time from page-load start to the stored event over `loads` fresh contexts with consent pre-set."""
    samples: list[float] = []
    failures: list[str] = []
    for i in range(loads):
        if len(failures) >= 2 and not samples:
            failures.append(f"gave up after {i} loads: no event was ever stored")
            break
        context = browser.new_context(ignore_https_errors=True)
        context.set_default_timeout(int(timeout * 1000))
        try:
            context.add_cookies([_consent_cookie(setup)])
            before = offen.count_events(account_id)
            page = context.new_page()
            page.goto(setup.page_url(account_id, f"bench-{i}"))
            origin_ms = page.evaluate("performance.timeOrigin")
            if offen.wait_for_events(account_id, before + 1, timeout=timeout) <= before:
                failures.append(f"load {i}: no event within {timeout:.0f} s")
                continue
            event_id = _newest_event_id(offen, account_id)
            assert event_id is not None
            samples.append(ulid_millis(event_id) - origin_ms)
        finally:
            context.close()
    result = summarize(samples, failures=len(failures))
    result.update({"setup": setup.name, "samples_ms": [round(s, 1) for s in samples], "problems": failures})
    return result


# --------------------------------------------------------------------------- report


def render_table(results: dict[str, Any]) -> str:
    lines = []
    script = results["script"]
    lines.append("script.js")
    lines.append(
        f"  raw {script['raw_bytes']} B   gzip -9 {script['gzip9_bytes']} B   served gzip {script['served_gzip_bytes']} B"
    )
    lines.append("")
    lines.append(f"{'vault, first visit':<34}{'before consent':>16}{'to 1st event':>16}{'(transfer)':>12}")
    for v in results["vault_bytes"]:
        label = f"{v['setup']} ({'WebCrypto' if v['webcrypto'] else 'fallback'})"
        lines.append(
            f"  {label:<32}{v['before_consent']['body_bytes']:>14} B{v['through_first_event']['body_bytes']:>14} B"
            f"{v['through_first_event']['transfer_bytes']:>10} B"
        )
        for path, r in v["resources"].items():
            lines.append(
                f"    {path:<44}{r['body_bytes']:>10} B{r['transfer_bytes']:>10} B  x{r['requests']}"
            )
    lines.append("")
    lines.append(
        f"{'page load -> stored event':<34}{'n':>4}{'fail':>6}{'median':>10}{'p90':>10}{'min':>10}{'max':>10}"
    )
    for t in results["load_times"]:
        fmt = lambda x: "-" if x is None else f"{x:.0f} ms"  # noqa: E731
        lines.append(
            f"  {t['setup']:<32}{t['n']:>4}{t['failures']:>6}{fmt(t['median_ms']):>10}{fmt(t['p90_ms']):>10}"
            f"{fmt(t['min_ms']):>10}{fmt(t['max_ms']):>10}"
        )
        for problem in t["problems"][:3]:
            lines.append(f"    ! {problem}")
    return "\n".join(lines)


def run(loads: int = 20, setups: Sequence[str] = ("same-site", "plain-http")) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="bench-browser-") as tmp:
        directory = Path(tmp)
        cert = make_certificate(directory / "tls")
        offen = OffenServer(directory, *cert, accounts=2 * len(setups) + 1).start()
        https_site = HostSite(offen.origin, cert=cert).start()
        http_site = HostSite(offen.origin, cert=None).start()
        try:
            by_name = make_setups(offen.origin, https_site, http_site)
            results: dict[str, Any] = {
                "when": datetime.now(UTC).isoformat(timespec="seconds"),
                "method": "fresh context per load; consent=allow cookie pre-set (partitioned); "
                "time = ULID time of the stored event - performance.timeOrigin of the host page",
                "script": measure_script(offen),
                "vault_bytes": [],
                "load_times": [],
            }
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
                )
                try:
                    for name in setups:
                        setup = by_name[name]
                        results["vault_bytes"].append(
                            measure_vault_bytes(browser, setup, offen, offen.take_account())
                        )
                        results["load_times"].append(
                            measure_load_times(browser, setup, offen, offen.take_account(), loads=loads)
                        )
                finally:
                    browser.close()
        finally:
            https_site.stop()
            http_site.stop()
            offen.stop()
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.browser", description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=20, help="page loads per set-up (default 20)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the JSON result")
    parser.add_argument(
        "--setups",
        default="same-site,plain-http",
        help="comma-separated: same-site (WebCrypto), plain-http (fallback)",
    )
    args = parser.parse_args(argv)
    reason = browser_missing_reason()
    if reason is not None:
        print(f"bench.browser: cannot run: {reason}", file=sys.stderr)
        return 2
    results = run(
        loads=args.loads, setups=tuple(name.strip() for name in args.setups.split(",") if name.strip())
    )
    print(render_table(results))
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"browser-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
