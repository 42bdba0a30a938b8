"""An Offen 1.4 SQLite database, built from the documented schema and formats, opens here.

The database is written with raw sqlite3 (tests/offen14.py), never by this
project's store, and its values are computed the way Offen computed them:
Argon2id v3 hashes of the exact email spelling, an RSA-4096 account, KEK wraps
under keys derived from the password and the email, a visitor secret wrapped
with RSA-OAEP, events encrypted with AES-GCM.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
import webtest

from appliance import ids, keys
from appliance.store import open_store
from tests import keypool
from tests.conftest import FakeTime, build_harness
from tests.offen14 import build_offen14_database
from tests.protocol_client import decrypt_operator_view, pageview

EMAIL = "Ops.Team@Example.test"  # Offen kept the exact spelling
PASSWORD = "offen-era password"
ACCOUNT_ID = "9b63c4d8-65c0-438c-9d30-cc4b01173393"
USER_ID = "5a0f8a4c-6c27-4a0a-9d8e-2f1b3c4d5e6f"
VISITOR_ID = "1e0c0d59-7f0c-4b9e-8a31-6f2d0a7f5b11"


def _offen_database(path: Path) -> dict:
    public_jwk, private_jwk = keypool.rsa_keypair()
    kek = keys.random_bytes(32)
    salt = keys.new_kdf_salt()
    user_salt = keys.new_user_salt()
    visitor_secret = keys.random_bytes(16)
    secret_jwk = {"kty": "oct", "k": keys.b64url_encode(visitor_secret)}
    created = datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)
    sent = [pageview(f"https://www.example.test/offen-{i}") for i in range(2)]
    secret_id = keys.hash_visitor_id(VISITOR_ID, user_salt)
    events = []
    for i, event in enumerate(sent):
        moment = datetime(2026, 10, 20 + i, tzinfo=UTC)
        events.append(
            {
                "event_id": ids.new_ulid(moment),
                "sequence": ids.new_ulid(moment),
                "account_id": ACCOUNT_ID,
                "secret_id": secret_id,
                "payload": keys.encrypt_symmetric(visitor_secret, json.dumps(event).encode()),
            }
        )
    build_offen14_database(
        path,
        accounts=[
            {
                "account_id": ACCOUNT_ID,
                "name": "Offen Era Site",
                "public_key": json.dumps(public_jwk),
                "encrypted_private_key": keys.encrypt_symmetric(kek, json.dumps(private_jwk).encode()),
                "user_salt": user_salt,
                "retired": False,
                "created": created,
            }
        ],
        users=[
            {
                "account_user_id": USER_ID,
                "hashed_email": keys.hash_secret(EMAIL),
                "hashed_password": keys.hash_secret(PASSWORD),
                "salt": salt,
                "admin_level": 1,
            }
        ],
        relationships=[
            {
                "relationship_id": ids.new_uuid(),
                "account_user_id": USER_ID,
                "account_id": ACCOUNT_ID,
                "password_encrypted_key_encryption_key": keys.encrypt_symmetric(
                    keys.derive_key(PASSWORD, salt), kek
                ),
                "email_encrypted_key_encryption_key": keys.encrypt_symmetric(
                    keys.derive_key(EMAIL, salt), kek
                ),
            }
        ],
        secrets=[
            {
                "secret_id": secret_id,
                "encrypted_secret": keys.wrap_for_account(public_jwk, json.dumps(secret_jwk).encode()),
            }
        ],
        events=events,
    )
    return {"sent": sent, "events": events}


@pytest.fixture
def offen_app(tmp_path: Path):
    path = tmp_path / "offen.db"
    made = _offen_database(path)
    store = open_store(f"sqlite:///{path}")
    assert store.is_offen_database()
    assert store.pending_migrations()
    backup = store.migrate()
    assert backup and Path(backup).exists()
    clock = FakeTime()
    harness = build_harness(tmp_path, clock, store)
    yield harness, made, path, Path(backup)
    store.close()


def test_offen_database_opens_migrates_and_its_operator_logs_in(offen_app):
    harness, made, path, backup = offen_app
    # Until the first login here, the exact original spelling is what matches.
    harness.app.post_json("/api/login", {"username": EMAIL.lower(), "password": PASSWORD}, status=401)
    harness.clock.advance(60)
    result = harness.app.post_json("/api/login", {"username": EMAIL, "password": PASSWORD}).json
    assert result["accountUserId"] == USER_ID and result["accounts"][0]["accountName"] == "Offen Era Site"
    view = harness.app.get(f"/api/accounts/{ACCOUNT_ID}").json
    assert view["created"].startswith("2024-05-01T10:00:00")
    assert decrypt_operator_view(result, view) == made["sent"]
    # After the first login the user is indexed: any spelling of the email works.
    fresh = webtest.TestApp(harness.app.app, extra_environ={"HTTP_HOST": "offen.example.test"})
    harness.clock.advance(60)
    again = fresh.post_json("/api/login", {"username": "  ops.team@EXAMPLE.test ", "password": PASSWORD}).json
    assert again["accounts"][0]["keyEncryptionKey"] == result["accounts"][0]["keyEncryptionKey"]


def test_migration_keeps_offen_tables_and_backup_is_the_original(offen_app):
    harness, made, path, backup = offen_app
    original = sqlite3.connect(backup)
    assert {r[0] for r in original.execute("select id from migrations")} >= {"007_account_customStyles"}
    assert original.execute("select count(*) from events").fetchone()[0] == len(made["events"]) + 1
    columns = {r[1] for r in original.execute("pragma table_info(account_users)")}
    assert "email_lookup" not in columns
    migrated = sqlite3.connect(path)
    # gormigrate's table is recognised, never written to.
    assert sorted(r[0] for r in migrated.execute("select id from migrations")) == sorted(
        r[0] for r in original.execute("select id from migrations")
    )
    assert "email_lookup" in {r[1] for r in migrated.execute("pragma table_info(account_users)")}


def test_new_events_after_offen_sequences_sync_incrementally(offen_app):
    harness, made, _, _ = offen_app
    result = harness.app.post_json("/api/login", {"username": EMAIL, "password": PASSWORD}).json
    checkpoint = harness.app.get(f"/api/accounts/{ACCOUNT_ID}").json["sequence"]
    assert checkpoint >= max(e["sequence"] for e in made["events"])
    harness.store.insert_event(
        ACCOUNT_ID, made["events"][0]["secret_id"], made["events"][0]["payload"], harness.clock()
    )
    harness.clock.advance(2)
    delta = harness.app.get(f"/api/accounts/{ACCOUNT_ID}", {"since": checkpoint}).json
    assert len(delta["events"][ACCOUNT_ID]) == 1 and delta["sequence"] > checkpoint
    assert decrypt_operator_view(result, delta) == [made["sent"][0]]
