"""GET /api/accounts/:id?limit=N[&after=S][&secrets=new] in-process over real SQLite (issue 4)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from appliance.records import Secret
from tests.conftest import seeded_harness


@pytest.fixture
def app(tmp_path, clock, seeded_template):
    harness = seeded_harness(tmp_path, clock, seeded_template)
    yield harness
    harness.store.close()


def _visitors(harness, count: int) -> list[str]:
    out = []
    for i in range(count):
        secret_id = hashlib.sha256(f"visitor-{i}".encode()).hexdigest()
        harness.store.insert_secret(Secret(secret_id, f"{{1,}} c2VjcmV0{i}"))
        out.append(secret_id)
    return out


def _events(harness, secrets: list[str], count: int, start: int = 0) -> list:
    made = []
    for i in range(start, start + count):
        moment = harness.clock.now - timedelta(days=(i % 9), minutes=i)
        made.append(
            harness.store.insert_event(harness.account_id, secrets[i % len(secrets)], f"p{i}", moment)
        )
    return made


def walk(harness, limit: int, after: str | None = None, new_secrets: bool = True):
    """Fetch pages until `more` is false; returns (events, secrets by id, deleted ids, checkpoint, pages)."""
    events, secrets, deleted, pages = [], {}, [], 0
    checkpoint = after
    while True:
        params = {"limit": str(limit)}
        if checkpoint:
            params["after"] = checkpoint
        if new_secrets:
            params["secrets"] = "new"
        page = harness.app.get(f"/api/accounts/{harness.account_id}", params).json
        pages += 1
        assert set(page) >= {"accountId", "name", "publicKey", "encryptedPrivateKey", "created", "more"}
        batch = page["events"][harness.account_id]
        assert len(batch) <= limit or not limit
        for secret_id in page["secrets"]:
            assert secret_id not in secrets or not new_secrets, "secrets=new sent a secret twice"
        secrets.update(page["secrets"])
        events += batch
        deleted += page["deletedEvents"]
        if "sequence" in page:
            assert checkpoint is None or page["sequence"] > checkpoint
            checkpoint = page["sequence"]
        if not page["more"]:
            return events, secrets, deleted, checkpoint, pages


@pytest.mark.parametrize("limit", [1, 7, 50, 10000])
def test_a_walk_finds_every_event_exactly_once(app, limit):
    app.login()
    secrets = _visitors(app, 13)
    made = _events(app, secrets, 60)
    events, got_secrets, _deleted, checkpoint, pages = walk(app, limit)
    assert sorted(e["eventId"] for e in events) == sorted(e.event_id for e in made)
    assert len({e["eventId"] for e in events}) == len(events)
    assert [e["sequence"] for e in events] == sorted(e["sequence"] for e in events)
    assert set(got_secrets) == set(secrets)
    assert checkpoint == max(e.sequence for e in made)
    assert pages == -(-60 // limit)  # the last page says `more: false` itself
    by_id = {e.event_id: e for e in made}
    for event in events:
        assert event["secretId"] == by_id[event["eventId"]].secret_id
        assert event["payload"] == by_id[event["eventId"]].payload


def test_events_inserted_between_pages_and_tombstones_are_found(app):
    app.login()
    secrets = _visitors(app, 5)
    first = _events(app, secrets, 20)
    page = app.app.get(f"/api/accounts/{app.account_id}", {"limit": "8"}).json
    assert page["more"] and len(page["events"][app.account_id]) == 8
    assert page["deletedEvents"] == []  # no `after`: nothing the client holds can be gone
    checkpoint = page["sequence"]
    # Between two fetches: new events arrive and one visitor is purged.
    later = _events(app, secrets, 6, start=100)
    app.store.delete_events_for_secrets([secrets[0]], app.clock.now)
    events, _secrets, deleted, final, _pages = walk(app, 8, after=checkpoint, new_secrets=False)
    gone = {e.event_id for e in first + later if e.secret_id == secrets[0]}
    seen = {e["eventId"] for e in page["events"][app.account_id]} | {e["eventId"] for e in events}
    assert seen == {e.event_id for e in first + later} - ({e.event_id for e in first[8:] + later} & gone)
    # Every tombstone of a deleted event with sequence after the checkpoint is listed once.
    assert sorted(deleted) == sorted(gone)
    # Nothing changed: a refresh from the final checkpoint is empty and keeps it.
    refresh = app.app.get(f"/api/accounts/{app.account_id}", {"limit": "100", "after": final}).json
    assert refresh["events"][app.account_id] == [] and refresh["deletedEvents"] == []
    assert not refresh["more"] and "sequence" not in refresh


def test_tombstones_of_a_page_stop_at_its_last_event_when_more_follows(app):
    app.login()
    secrets = _visitors(app, 2)
    early = _events(app, secrets, 4)
    app.store.delete_events_for_secrets([secrets[1]], app.clock.now)
    _events(app, secrets, 4, start=10)
    page = app.app.get(f"/api/accounts/{app.account_id}", {"limit": "1", "after": early[0].sequence}).json
    # The tombstone batch came after the first remaining event: not yet in this page.
    assert page["more"] and page["deletedEvents"] == []
    events, _s, deleted, _c, _p = walk(app, 1, after=early[0].sequence, new_secrets=False)
    assert sorted(deleted) == sorted(e.event_id for e in early if e.secret_id == secrets[1])


def test_secrets_new_sends_each_secret_once_over_a_walk(app):
    app.login()
    secrets = _visitors(app, 9)
    _events(app, secrets, 45)
    _events_, got, _d, _c, pages = walk(app, 4, new_secrets=True)
    assert pages > 5 and set(got) == set(secrets)
    # Without secrets=new each page repeats the secrets of its events.
    repeated = 0
    after = None
    while True:
        params = {"limit": "4", **({"after": after} if after else {})}
        page = app.app.get(f"/api/accounts/{app.account_id}", params).json
        repeated += len(page["secrets"])
        assert set(page["secrets"]) == {e["secretId"] for e in page["events"][app.account_id]}
        after = page.get("sequence", after)
        if not page["more"]:
            break
    assert repeated > len(secrets)


def test_limit_zero_and_the_old_call_unchanged(app):
    app.login()
    secrets = _visitors(app, 2)
    _events(app, secrets, 3)
    head = app.app.get(f"/api/accounts/{app.account_id}", {"limit": "0"}).json
    assert head["events"] == {app.account_id: []} and head["secrets"] == {} and head["more"] is True
    assert "sequence" not in head
    old = app.app.get(f"/api/accounts/{app.account_id}").json
    assert "more" not in old and len(old["events"][app.account_id]) == 3
    assert all("sequence" not in e for e in old["events"][app.account_id])


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "-1"},
        {"limit": "10001"},
        {"limit": "abc"},
        {"limit": ""},
        {"limit": "10", "since": "0"},
        {"limit": "10", "after": "'; drop"},
        {"limit": "10", "secrets": "all"},
        {"after": "01ARZ3NDEKTSV4RRFFQ69G5FAV"},
    ],
)
def test_bad_parameters_are_a_clear_400(app, params):
    app.login()
    answer = app.app.get(f"/api/accounts/{app.account_id}", params, status=400).json
    assert answer["status"] == 400 and answer["error"]


def test_statuses_401_403_404(app):
    url = f"/api/accounts/{app.account_id}"
    app.app.get(url, {"limit": "5"}, status=401)
    app.login()
    app.app.get("/api/accounts/00000000-0000-4000-8000-000000000000", {"limit": "5"}, status=404)
    # An account that exists but is someone else's.
    from appliance import accounts as accounts_domain

    other = accounts_domain.new_account("Other", "x25519", app.clock.now).account
    app.store.insert_account(other)
    app.app.get(f"/api/accounts/{other.account_id}", {"limit": "5"}, status=403)
    app.app.delete(url, status=204)
    app.app.get(url, {"limit": "5"}, status=404)
