"""The operator's data engine (ui/operator/engine/) in real Chromium against a real `offen serve`.

The data set is made by the shared benchmark generator (`bench.dataset.build`: visitors spread over
several past days, encrypted as the vault encrypts) in a small size. The page logs in through
`POST /api/login`, keeps the login as the operator program does (contract 1), and opens the account with
`openAccount` from `/operator/engine/engine.js`. The expectations are computed independently: Python
decrypts every event through the old one-response `GET /api/accounts/:id` with `appliance.keys`, and
the page's `computeStats` of ui/shared/stats.js (the metric definitions) runs over those events.

The tests of one module share one server and go in order: a first load from the network writes the
shared cache, a reload reads the local cache, a second browser reads the shared cache, a forged roll-up
is detected, and refreshes fold in new events and deletions.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from appliance import keys
from tests.e2e.sites import LOOPBACK, OFFEN_HOST, OffenClient, _OffenProcess, free_port
from tests.protocol_client import Visitor, pageview
from tests.realserver import offen_environment

pytestmark = pytest.mark.e2e

DAYS = 6
EVENTS = 1500
VISITORS = 260
PAGE_SIZE = 137
QUERY = {"range": 14, "resolution": "days", "timeZone": "UTC"}


class EngineServer:
    """A benchmark data set served over https as offen.site.test, with an operator client."""

    def __init__(self, directory: Path, cert: Path, key: Path, spec: Any = None) -> None:
        from bench.dataset import Spec, build

        spec = spec or Spec(EVENTS, VISITORS, DAYS, seed=7)
        self.built = build(spec, directory / "set", processes=2, progress=lambda *a: None)
        self.account_id = self.built.account_id
        self.port = free_port()
        self.origin = f"https://{OFFEN_HOST}:{self.port}"
        self.db_path = self.built.data_dir / "offen.db"
        env = offen_environment(
            self.built.data_dir,
            OFFEN_SERVER_HOST=LOOPBACK,
            OFFEN_SERVER_SSLCERTIFICATE=str(cert),
            OFFEN_SERVER_SSLKEY=str(key),
            OFFEN_APP_PUBLICURL=self.origin,
        )
        logs = directory / "logs"
        logs.mkdir()
        self.process = _OffenProcess(env, self.port, logs, tls=True).start()
        self.client = OffenClient(self.port)
        self.login = self.client.post_json(
            "/api/login", {"username": self.built.email, "password": self.built.password}, status=200
        ).json

    def stop(self) -> None:
        self.process.stop()

    def sql(self, statement: str, params: tuple = ()) -> list[tuple]:
        conn = sqlite3.connect(self.db_path, timeout=10)
        try:
            rows = conn.execute(statement, params).fetchall()
            conn.commit()
            return rows
        finally:
            conn.close()

    def wait_for_events(self, count: int, timeout: float = 15.0) -> None:
        """Collection commits in groups after acknowledging: poll until the rows are there."""
        deadline = time.monotonic() + timeout
        query = "SELECT count(*) FROM events WHERE account_id = ?"
        while self.sql(query, (self.account_id,))[0][0] < count:
            assert time.monotonic() < deadline, "the collected events never reached the database"
            time.sleep(0.05)

    def decrypted_events(self) -> list[dict[str, Any]]:
        """Every event of the account, decrypted in Python from the old unpaged operator view."""
        view = self.client.get(f"/api/accounts/{self.account_id}", status=200).json
        entry = next(a for a in self.login["accounts"] if a["accountId"] == self.account_id)
        kek = keys.key_from_symmetric_jwk(entry["keyEncryptionKey"])
        private_jwk = json.loads(keys.decrypt_symmetric(kek, view["encryptedPrivateKey"]))
        secrets = {
            sid: keys.b64url_decode(json.loads(keys.unwrap_with_account_key(private_jwk, wrapped))["k"])
            for sid, wrapped in view.get("secrets", {}).items()
        }
        out = []
        for event in view.get("events", {}).get(self.account_id, []):
            payload = json.loads(keys.decrypt_symmetric(secrets[event["secretId"]], event["payload"]))
            out.append(
                {
                    "accountId": self.account_id,
                    "eventId": event["eventId"],
                    "secretId": event["secretId"],
                    "payload": payload,
                }
            )
        return out


@contextmanager
def serving(directory: Path, certificate: tuple[Path, Path], spec: Any = None) -> Iterator[EngineServer]:
    """An EngineServer over `spec` (this module's X25519 set by default), stopped afterwards."""
    srv = EngineServer(directory, *certificate, spec)
    try:
        yield srv
    finally:
        srv.stop()


def login_args(server: EngineServer) -> dict[str, str]:
    """What the page scripts need to log in and open the account."""
    return {"accountId": server.account_id, "email": server.built.email, "password": server.built.password}


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, certificate: tuple[Path, Path], playwright_instance: Any
) -> Iterator[EngineServer]:
    with serving(tmp_path_factory.mktemp("engine"), certificate) as srv:
        yield srv


@pytest.fixture(scope="module")
def tab(browser: Any) -> Iterator[Any]:
    """One browser tab for the module: its IndexedDB is the local cache that a reload reads, and its
    sessionStorage keeps the login across reloads (as the operator program's pages do)."""
    ctx = browser.new_context(ignore_https_errors=True)
    ctx.set_default_timeout(60_000)
    try:
        yield ctx.new_page()
    finally:
        ctx.close()


# Page-script lines that log in (`email`, `password` in scope) and keep the login as the operator pages do.
LOGIN_STEP = """
    const response = await fetch('/api/login', {
      method: 'POST', headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({username: email, password}),
    });
    if (!response.ok) throw new Error('login failed: ' + response.status);
    sessionStorage.setItem('offen.operator.login', JSON.stringify(await response.json()));
"""

OPEN_SCRIPT = (
    """
async ({accountId, email, password, query, events, login, pageSize, stepDays, recycleKeys}) => {
  if (login) {"""
    + LOGIN_STEP
    + """  }
  const {openAccount} = await import('/operator/engine/engine.js');
  const {computeStats} = await import('/shared/stats.js');
  const progress = [];
  const reports = [];
  const engine = await openAccount({
    accountId, pageSize, stepDays, recycleKeys, onProgress: (p) => progress.push(p), onReport: (r) => reports.push(r),
  });
  const now = Date.now();
  const result = await engine.query({...query, now});
  const flush = await engine.writeBack;
  const stats = await engine.stats();
  window.__engine = engine;
  const expected = events ? computeStats(events, {...query, now, perspective: 'operator'}) : null;
  return {timings: engine.timings, result, expected, progress, reports, flush, stats, now};
}
"""
)


def open_engine(page: Any, server: EngineServer, events: list[dict] | None, *, login: bool) -> dict[str, Any]:
    # Small pages, so every load walks many keyset pages (and a head scan cannot swallow the whole set).
    return page.evaluate(
        OPEN_SCRIPT,
        {
            **login_args(server),
            "query": QUERY,
            "events": events,
            "login": login,
            "pageSize": PAGE_SIZE,
            # Two days per step: reloads and write-backs walk several steps, as at 180 days.
            "stepDays": 2,
            # Decryption workers replaced every few visitors: the handover of their keys is exercised.
            "recycleKeys": 30,
        },
    )


def comparable(result: dict[str, Any]) -> dict[str, Any]:
    out = dict(result)
    out.pop("account", None)
    return out


def day_of(event_id: str) -> str:
    from bench.dataset import CROCKFORD

    ms = 0
    for ch in event_id[:10]:
        ms = ms * 32 + CROCKFORD.index(ch)
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d")


def check_against_python(outcome: dict[str, Any], events: list[dict[str, Any]]) -> None:
    result = outcome["result"]
    assert comparable(result) == outcome["expected"]
    lower = datetime.fromisoformat(result["lower"].replace("Z", "+00:00"))
    in_range = [
        e for e in events if datetime.fromisoformat(day_of(e["eventId"]) + "T00:00:00+00:00") >= lower
    ]
    assert sum(bucket["pageviews"] for bucket in result["pageviews"]) == len(in_range)
    assert result["uniqueUsers"] == len({e["secretId"] for e in in_range})
    assert result["uniqueSessions"] == len({e["payload"]["sessionId"] for e in in_range})


def test_first_load_from_the_network_writes_the_shared_cache(server: EngineServer, tab: Any) -> None:
    events = server.decrypted_events()
    assert len(events) == EVENTS
    page = tab
    page.goto(server.origin + "/healthz")
    outcome = open_engine(page, server, events, login=True)
    check_against_python(outcome, events)
    timings = outcome["timings"]
    assert timings["source"] == "network"
    assert set(timings) >= {"download", "keyAgreement", "decryption", "aggregation", "storage", "total"}
    assert timings["counts"]["secretsUnwrapped"] == VISITORS
    assert timings["counts"]["events"] == EVENTS
    assert timings["counts"]["workersRecycled"] >= 1
    stages = {p["stage"] for p in outcome["progress"]}
    assert stages == {"download", "keyAgreement", "decryption", "aggregation", "storage"}
    assert not [r for r in outcome["reports"] if r["kind"] != "rollup"], outcome["reports"]
    # Write-back: every visitor secret re-wrapped, a roll-up for each closed day of the data.
    wrapped = server.sql(
        "SELECT count(*) FROM offen_wrapped_secrets WHERE account_id = ?", (server.account_id,)
    )[0][0]
    assert wrapped == VISITORS
    periods = {
        row[0]
        for row in server.sql("SELECT period FROM offen_rollups WHERE account_id = ?", (server.account_id,))
    }
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    event_days = {day_of(e["eventId"]) for e in events}
    assert event_days - {today} <= periods, (outcome["flush"], outcome["reports"][:3])
    assert today not in periods
    # The server holds no plaintext: roll-ups are {3,} strings bound to their period.
    for (payload,) in server.sql(
        "SELECT payload FROM offen_rollups WHERE account_id = ?", (server.account_id,)
    ):
        assert payload.startswith("{3,} ") and "http" not in payload


def test_a_stolen_database_holds_no_plaintext_and_no_usable_keys(server: EngineServer) -> None:
    """After a dashboard has written the shared cache back: the raw database files (WAL included)
    contain no usage data, no visitor key and no account key in any readable form."""
    events = server.decrypted_events()
    entry = next(a for a in server.login["accounts"] if a["accountId"] == server.account_id)
    view = server.client.get(f"/api/accounts/{server.account_id}", status=200).json
    private_jwk = json.loads(
        keys.decrypt_symmetric(
            keys.key_from_symmetric_jwk(entry["keyEncryptionKey"]), view["encryptedPrivateKey"]
        )
    )
    visitor_keys = [
        json.loads(keys.unwrap_with_account_key(private_jwk, wrapped))["k"]
        for wrapped in list(view["secrets"].values())[:50]
    ]
    needles = {
        "the account's key-encryption key": entry["keyEncryptionKey"]["k"],
        "the account's private key": private_jwk["d"],
    }
    for n, key in enumerate(visitor_keys):
        needles[f"visitor key {n}"] = key
    for event in events[:200]:
        payload = event["payload"]
        needles[f"href of {event['eventId']}"] = payload["href"]
        if payload.get("sessionId"):
            needles[f"session of {event['eventId']}"] = payload["sessionId"]
    raw = b"".join(
        path.read_bytes()
        for path in (server.db_path, server.db_path.with_name(server.db_path.name + "-wal"))
        if path.exists()
    )
    assert server.sql("SELECT count(*) FROM offen_rollups WHERE account_id = ?", (server.account_id,))[0][0]
    found = [name for name, value in needles.items() if value.encode() in raw]
    assert found == []


def test_reload_reads_the_local_cache(server: EngineServer, tab: Any) -> None:
    events = server.decrypted_events()
    page = tab
    page.reload()
    outcome = open_engine(page, server, events, login=False)
    assert outcome["timings"]["source"] == "cache"
    assert outcome["timings"]["counts"]["secretsUnwrapped"] == 0
    check_against_python(outcome, events)


def test_second_browser_uses_the_shared_cache(server: EngineServer, browser: Any) -> None:
    events = server.decrypted_events()
    ctx = browser.new_context(ignore_https_errors=True)
    ctx.set_default_timeout(60_000)
    try:
        page = ctx.new_page()
        page.goto(server.origin + "/healthz")
        outcome = open_engine(page, server, events, login=True)
        assert outcome["timings"]["source"] == "shared"
        # No expensive unwrap at all: every secret this load needed came re-wrapped.
        assert outcome["timings"]["counts"]["secretsUnwrapped"] == 0
        check_against_python(outcome, events)
    finally:
        ctx.close()


def test_a_forged_rollup_is_detected_and_not_trusted(server: EngineServer, browser: Any) -> None:
    events = server.decrypted_events()
    rows = server.sql(
        "SELECT period, payload FROM offen_rollups WHERE account_id = ? ORDER BY period", (server.account_id,)
    )
    busy = [period for period, _ in rows if any(day_of(e["eventId"]) == period for e in events)]
    assert len(busy) >= 2
    # The server (or a thief of its database) moves one day's roll-up onto another day.
    source = dict(rows)[busy[0]]
    server.sql(
        "UPDATE offen_rollups SET payload = ? WHERE account_id = ? AND period = ?",
        (source, server.account_id, busy[1]),
    )
    ctx = browser.new_context(ignore_https_errors=True)
    ctx.set_default_timeout(60_000)
    try:
        page = ctx.new_page()
        page.goto(server.origin + "/healthz")
        outcome = open_engine(page, server, events, login=True)
        forged = [r for r in outcome["reports"] if r["kind"] == "forged-rollups"]
        assert forged and busy[1] in forged[0]["detail"]["periods"]
        check_against_python(outcome, events)
        # The write-back replaced the forged record with a good one.
        assert outcome["flush"]["rollups"]["stored"] >= 1
    finally:
        ctx.close()


def test_refresh_folds_in_new_events_and_deletions(server: EngineServer, tab: Any) -> None:
    page = tab
    page.reload()
    open_engine(page, server, None, login=False)
    # New visitors through the real collection API, as the vault sends them.
    newcomers = []
    for n in range(3):
        http = OffenClient(server.port)
        http.set_cookie("consent", "allow")  # what the vault's banner sets on "allow"
        visitor = Visitor()
        visitor.exchange(http, server.account_id)
        view = pageview(f"https://fresh.example/page-{n}/", "https://duckduckgo.com/")
        view["sessionId"] = f"fresh-{n}"
        visitor.send(http, server.account_id, view)
        newcomers.append((http, visitor))
        time.sleep(0.6)  # the collection throttle allows one event per visitor and half second
    server.wait_for_events(EVENTS + 3)
    refreshed = page.evaluate("() => window.__engine.refresh()")
    assert refreshed["added"] == 3 and refreshed["removed"] == 0
    assert refreshed["ms"] < 5000
    result = page.evaluate("(q) => window.__engine.query({...q, now: Date.now()})", QUERY)
    fresh_pages = [row for row in result["pages"] if "fresh.example" in json.dumps(row)]
    assert len(fresh_pages) == 3
    # One visitor deletes their data: the refresh applies the tombstones.
    http, _visitor = newcomers[0]
    purged = http.post("/api/purge", "")
    assert purged.status in (200, 204)
    server.wait_for_events(EVENTS + 2)
    refreshed = page.evaluate("() => window.__engine.refresh()")
    assert refreshed["removed"] == 1
    events = server.decrypted_events()
    outcome = page.evaluate(
        """async ({q, events}) => {
          const {computeStats} = await import('/shared/stats.js');
          const now = Date.now();
          const result = await window.__engine.query({...q, now});
          return {result, expected: computeStats(events, {...q, now, perspective: 'operator'})};
        }""",
        {"q": QUERY, "events": events},
    )
    check_against_python(outcome, events)


def test_no_login_means_no_engine(server: EngineServer, browser: Any) -> None:
    ctx = browser.new_context(ignore_https_errors=True)
    try:
        page = ctx.new_page()
        page.goto(server.origin + "/healthz")
        message = page.evaluate(
            """async (accountId) => {
              const {openAccount} = await import('/operator/engine/engine.js');
              try { await openAccount({accountId}); return 'opened'; } catch (e) { return e.message; }
            }""",
            server.account_id,
        )
        assert "log in" in message
        # A KEK but no session: the server answers 401 and the engine reports it.
        message = page.evaluate(
            """async ({accountId, kek}) => {
              const {openAccount} = await import('/operator/engine/engine.js');
              try { await openAccount({accountId, keyEncryptionKey: kek}); return 'opened'; } catch (e) { return e.message; }
            }""",
            {
                "accountId": server.account_id,
                "kek": next(a for a in server.login["accounts"] if a["accountId"] == server.account_id)[
                    "keyEncryptionKey"
                ],
            },
        )
        assert message != "opened"
    finally:
        ctx.close()
