"""The RSA work of the operator's data engine survives a closed tab and is shared with another browser.

An RSA ("migrated Offen") account wraps each visitor secret with RSA-OAEP-4096, so a first load costs one
RSA private-key decryption per visitor in the browser (about 6 ms each in Chromium). The data worker
re-wraps each unwrapped secret under the account's wrapped-secrets key and posts them to the server in
batches *while the load runs* (`secretsBatch`, docs/dashboard-engine.md, "Write-back").

Browser A logs in and starts `openAccount` with a small batch, one decryption worker and small pages, and
its tab is closed in the middle of the load, once the server holds some but not all re-wrapped secrets.
Browser B (a fresh context: no IndexedDB cache of its own) then opens the account in full and must:

- take every secret that A stored from the shared cache (`secretsFromShared`), unwrapping with RSA only the
  visitors A did not finish (`secretsUnwrapped`), with no forged record;
- compute the same dashboard as the independent Python decryption (`check_against_python`);
- leave a wrapped secret on the server for every visitor after its write-back.

The data set is the benchmark generator's (`bench.dataset.build`) with `key_type="rsa"`, served by a real
`offen serve` over TLS, as in test_operator_engine.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_operator_engine import (
    LOGIN_STEP,
    OPEN_SCRIPT,
    QUERY,
    EngineServer,
    check_against_python,
    login_args,
    serving,
)

pytestmark = pytest.mark.e2e

DAYS = 6
EVENTS = 2400
VISITORS = 600
PAGE_SIZE = 50  # events per request: A folds (and may post a batch) every page
SECRETS_BATCH = 20  # fresh re-wraps posted at a time while A's load runs
CLOSE_AT = VISITORS // 4  # A's tab closes once the server holds at least this many re-wraps

WRAPPED_COUNT = "SELECT count(*) FROM offen_wrapped_secrets WHERE account_id = ?"
ROLLUP_COUNT = "SELECT count(*) FROM offen_rollups WHERE account_id = ?"


def wrapped_count(server: EngineServer) -> int:
    return server.sql(WRAPPED_COUNT, (server.account_id,))[0][0]


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, certificate: tuple[Path, Path], playwright_instance: Any
) -> Iterator[EngineServer]:
    from bench.dataset import Spec

    spec = Spec(EVENTS, VISITORS, DAYS, key_type="rsa", seed=11)
    with serving(tmp_path_factory.mktemp("engine-rsa"), certificate, spec) as srv:
        yield srv


# Logs in and starts the load without awaiting it: the evaluation returns while the engine works.
START_SCRIPT = (
    """
async ({accountId, email, password, pageSize, secretsBatch}) => {"""
    + LOGIN_STEP
    + """
  const {openAccount} = await import('/operator/engine/engine.js');
  window.__state = 'loading';
  // One decryption worker: the RSA rate (and so the time A has before its tab closes) does not grow
  // with the machine's cores.
  window.__loading = openAccount({accountId, pageSize, secretsBatch, workers: 1}).then(
    (engine) => { window.__state = 'opened'; return engine; },
    (error) => { window.__state = 'failed: ' + error.message; },
  );
  return window.__state;
}
"""
)


def settled_count(server: EngineServer, timeout: float = 5.0) -> int:
    """The wrapped-secret rows once no upload of the closed tab is still landing (unchanged for 0.5 s)."""
    deadline = time.monotonic() + timeout
    count = wrapped_count(server)
    stable_since = time.monotonic()
    while time.monotonic() - stable_since < 0.5:
        assert time.monotonic() < deadline, "the wrapped secrets kept changing after the tab closed"
        time.sleep(0.05)
        now = wrapped_count(server)
        if now != count:
            count, stable_since = now, time.monotonic()
    return count


def test_rsa_work_survives_a_closed_tab_and_is_shared(server: EngineServer, browser: Any) -> None:
    events = server.decrypted_events()
    assert len(events) == EVENTS
    assert len({e["secretId"] for e in events}) == VISITORS
    assert wrapped_count(server) == 0

    # Browser A: the load starts, and the tab closes part-way through the RSA work.
    ctx_a = browser.new_context(ignore_https_errors=True)
    ctx_a.set_default_timeout(30_000)
    try:
        page = ctx_a.new_page()
        page.goto(server.origin + "/healthz")
        started = page.evaluate(
            START_SCRIPT,
            {
                **login_args(server),
                "pageSize": PAGE_SIZE,
                "secretsBatch": SECRETS_BATCH,
            },
        )
        assert started == "loading"
        deadline = time.monotonic() + 30
        while True:
            rows = wrapped_count(server)
            state = page.evaluate("() => window.__state")
            assert state == "loading", (
                f"browser A's load ended ({state}) before its tab could be closed mid-way "
                f"({rows} of {VISITORS} secrets stored): the data set is too small for this machine"
            )
            if rows >= CLOSE_AT:
                break
            assert time.monotonic() < deadline, f"only {rows} re-wrapped secrets stored after 30 s"
            time.sleep(0.02)
    finally:
        ctx_a.close()
    rows_at_close = rows
    assert SECRETS_BATCH <= rows_at_close < VISITORS
    # Uploads already on the wire when the tab closed may still land: B starts from what is stored.
    rows_before_b = settled_count(server)
    assert rows_at_close <= rows_before_b < VISITORS
    # A never reached its write-back: the re-wrapped secrets are all that is shared.
    assert server.sql(ROLLUP_COUNT, (server.account_id,))[0][0] == 0

    # Browser B: a fresh context (no local cache), the whole load and its write-back.
    ctx_b = browser.new_context(ignore_https_errors=True)
    ctx_b.set_default_timeout(60_000)
    try:
        page = ctx_b.new_page()
        page.goto(server.origin + "/healthz")
        outcome = page.evaluate(
            OPEN_SCRIPT,
            {
                **login_args(server),
                "query": QUERY,
                "events": events,
                "login": True,
                "pageSize": PAGE_SIZE * 4,
                "stepDays": 2,
                "recycleKeys": None,
            },
        )
    finally:
        ctx_b.close()
    timings = outcome["timings"]
    counts = timings["counts"]
    assert timings["source"] == "network"
    assert counts["forgedSecrets"] == 0
    assert counts["badSecrets"] == 0
    # Every visitor A finished came from the shared cache; RSA ran only for the others.
    assert counts["secretsFromShared"] >= rows_at_close
    assert counts["secretsFromShared"] == rows_before_b
    assert counts["secretsUnwrapped"] <= VISITORS - rows_at_close
    assert counts["secretsUnwrapped"] + counts["secretsFromShared"] == VISITORS
    assert counts["events"] == EVENTS
    check_against_python(outcome, events)
    # B's write-back completed the shared cache: a wrapped secret for every visitor.
    assert not outcome["flush"]["rollups"]["rejected"], outcome["reports"]
    assert wrapped_count(server) == VISITORS
    stored = {
        row[0]
        for row in server.sql(
            "SELECT secret_id FROM offen_wrapped_secrets WHERE account_id = ?", (server.account_id,)
        )
    }
    assert stored == {e["secretId"] for e in events}
