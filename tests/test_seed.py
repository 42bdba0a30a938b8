"""`appliance.seed`: the `setup -source` file format and applying it to a real SQLite store."""

from __future__ import annotations

import base64
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from appliance import keys
from appliance.accounts import ActiveAccounts
from appliance.errors import BadCredentials, Conflict
from appliance.logins import Logins, build_logins
from appliance.seed import InvalidSeed, Seed, apply_seed, parse_seed, read_seed_file

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
SITE = "9b63c4d8-65c0-438c-9d30-cc4b01173393"
BLOG = "5d4b4bd5-1a4e-4e3e-9a8b-2b1d1f7c0a11"
ADMIN_PASSWORD = "a long admin password"
VIEWER_PASSWORD = "viewer password 123"

YAML_SEED = f"""\
# the shape of Offen's bootstrap.yml
accounts:
  - id: {SITE}
    name: My Site
  - id: {BLOG}
    name: My Blog
account_users:
  - email: Admin@Example.test
    password: "{ADMIN_PASSWORD}"
    admin_level: 1
    accounts:
      - {SITE}
      - {BLOG}
  - email: viewer@example.test
    password: "{VIEWER_PASSWORD}"
    admin_level: 0
    accounts: [{BLOG}]
"""


def seed_document() -> dict:
    return {
        "accounts": [{"id": SITE, "name": "My Site"}, {"id": BLOG, "name": "My Blog"}],
        "account_users": [
            {
                "email": "Admin@Example.test",
                "password": ADMIN_PASSWORD,
                "admin_level": 1,
                "accounts": [SITE, BLOG],
            },
            {
                "email": "viewer@example.test",
                "password": VIEWER_PASSWORD,
                "admin_level": 0,
                "accounts": [BLOG],
            },
        ],
    }


def make_logins(store, secret: bytes = b"0123456789abcdef") -> Logins:
    return build_logins(
        store,
        secret=secret,
        account_key_type="x25519",
        active_accounts=ActiveAccounts(store),
    )


# -- reading and validating ---------------------------------------------------------------


def test_yaml_and_json_files_give_the_same_seed(tmp_path: Path):
    pytest.importorskip("yaml")
    yaml_file = tmp_path / "seed.yml"
    yaml_file.write_text(YAML_SEED, encoding="utf-8")
    json_file = tmp_path / "seed.json"
    json_file.write_text(json.dumps(seed_document()), encoding="utf-8")
    from_yaml, from_json = read_seed_file(yaml_file), read_seed_file(json_file)
    assert from_yaml == from_json
    assert [a.account_id for a in from_yaml.accounts] == [SITE, BLOG]
    admin, viewer = from_yaml.users
    assert admin.email == "admin@example.test"  # normalised as logins indexes it
    assert (admin.admin_level, admin.account_ids) == (1, (SITE, BLOG))
    assert (viewer.admin_level, viewer.account_ids) == (0, (BLOG,))


def test_the_password_is_not_in_the_repr():
    seed = parse_seed(seed_document())
    assert ADMIN_PASSWORD not in repr(seed)


def test_without_pyyaml_json_is_read_and_yaml_is_a_readable_error(tmp_path: Path, monkeypatch):
    monkeypatch.setitem(sys.modules, "yaml", None)  # makes `import yaml` raise ImportError
    as_json = tmp_path / "seed.yml"
    as_json.write_text(json.dumps(seed_document()), encoding="utf-8")
    assert len(read_seed_file(as_json).accounts) == 2
    as_yaml = tmp_path / "other.yml"
    as_yaml.write_text(YAML_SEED, encoding="utf-8")
    with pytest.raises(InvalidSeed) as caught:
        read_seed_file(as_yaml)
    assert "PyYAML" in str(caught.value) and "JSON" in str(caught.value)


def test_broken_files_are_readable_errors(tmp_path: Path):
    missing = tmp_path / "nope.yml"
    with pytest.raises(InvalidSeed, match="cannot be read"):
        read_seed_file(missing)
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"accounts": [', encoding="utf-8")
    with pytest.raises(InvalidSeed, match="not valid JSON"):
        read_seed_file(bad_json)


def test_bad_yaml_names_the_line(tmp_path: Path):
    pytest.importorskip("yaml")
    bad = tmp_path / "bad.yml"
    bad.write_text("accounts:\n  - id: [unclosed\n", encoding="utf-8")
    with pytest.raises(InvalidSeed, match="line"):
        read_seed_file(bad)


def test_every_problem_is_reported_at_once_without_passwords():
    document = {
        "accounts": [
            {"id": "not-a-uuid", "name": "Broken"},
            {"id": SITE, "name": ""},
            {"id": BLOG, "name": "Blog", "colour": "red"},
            {"id": "0f9a3c0e-3a7b-4f43-9a5e-1d2c3b4a5f60", "name": "Orphan"},
        ],
        "account_users": [
            {"email": "a@example.test", "password": "short", "admin_level": 1, "accounts": [BLOG]},
            {"email": "A@example.test ", "password": 12345678, "admin_level": 2, "accounts": [BLOG]},
            {
                "email": "no-at-sign",
                "password": "long enough pw",
                "accounts": ["aa6f0c1e-1111-4b4b-8c8c-000000000000"],
            },
        ],
        "extra": 1,
    }
    with pytest.raises(InvalidSeed) as caught:
        parse_seed(document)
    text = "\n".join(caught.value.problems)
    for expected in (
        "unknown top-level keys: extra",
        "accounts[0].id 'not-a-uuid' is not a UUID",
        "accounts[1].name",
        "accounts[2] has unknown keys: colour",
        "Orphan) is given to no user",
        "account_users[0].password: the password must be at least 8",
        "account_users[1].email a@example.test is listed twice",
        "account_users[1].password must be text",
        "account_users[1].admin_level must be 1",
        "account_users[2].email",
        "account_users[2].accounts[0] aa6f0c1e-1111-4b4b-8c8c-000000000000 is not in `accounts`",
    ):
        assert expected in text, f"missing {expected!r} in:\n{text}"
    assert "short" not in text.replace("the password must be at least", "")
    assert "long enough pw" not in text


@pytest.mark.parametrize("document", [None, [], "accounts", {"accounts": [], "account_users": []}])
def test_empty_or_wrong_documents_are_refused(document):
    with pytest.raises(InvalidSeed):
        parse_seed(document)


def test_duplicate_account_ids_and_names_are_refused():
    document = seed_document()
    document["accounts"].append({"id": SITE, "name": "my site"})
    with pytest.raises(InvalidSeed) as caught:
        parse_seed(document)
    assert any("listed twice" in p for p in caught.value.problems)
    assert any("used by another account" in p for p in caught.value.problems)


# -- applying -------------------------------------------------------------------------


def _unwrap_all(store, user, relationship, password: str, email: str) -> bytes:
    """The KEK from the password wrap and from the email wrap; both must agree."""
    from_password = keys.decrypt_symmetric(
        keys.derive_key(password, user.salt), relationship.password_encrypted_key_encryption_key
    )
    from_email = keys.decrypt_symmetric(
        keys.derive_key(email, user.salt), relationship.email_encrypted_key_encryption_key
    )
    assert from_password == from_email
    return from_password


def test_seeded_operators_log_in_and_unlock_exactly_their_accounts(store):
    logins = make_logins(store)
    result = apply_seed(
        store, parse_seed(seed_document()), logins.credentials, NOW, account_key_type="x25519"
    )
    assert result.account_ids == (SITE, BLOG) and not result.wiped
    assert sorted(a.account_id for a in store.all_accounts()) == sorted([SITE, BLOG])
    assert {a.name for a in store.all_accounts()} == {"My Site", "My Blog"}

    admin_login, _cookie = logins.login(" ADMIN@example.test", ADMIN_PASSWORD, NOW)
    assert admin_login["adminLevel"] == 1
    assert sorted(a["accountId"] for a in admin_login["accounts"]) == sorted([SITE, BLOG])
    viewer_login, _cookie = logins.login("viewer@example.test", VIEWER_PASSWORD, NOW)
    assert viewer_login["adminLevel"] == 0
    assert [a["accountId"] for a in viewer_login["accounts"]] == [BLOG]
    with pytest.raises(BadCredentials):
        logins.login("viewer@example.test", ADMIN_PASSWORD, NOW)

    # Each user holds a password wrap and an email wrap of the same KEK, and
    # that KEK opens the account's private key (what reset and login need).
    users = {user_id: store.get_account_user(user_id) for user_id in result.account_user_ids}
    assert all(user.email_lookup for user in users.values())
    passwords = {1: (ADMIN_PASSWORD, "admin@example.test"), 0: (VIEWER_PASSWORD, "viewer@example.test")}
    for user in users.values():
        password, email = passwords[user.admin_level]
        for relationship in store.find_relationships_for_user(user.account_user_id):
            kek = _unwrap_all(store, user, relationship, password, email)
            account = store.get_account(relationship.account_id)
            private = json.loads(keys.decrypt_symmetric(kek, account.encrypted_private_key))
            assert private["kty"] in ("OKP", "RSA")
            assert relationship.one_time_encrypted_key_encryption_key == ""


def test_a_non_empty_database_needs_force_and_force_replaces_everything(store):
    logins = make_logins(store)
    logins.ensure_lookup_key()
    first_id, _ = logins.setup("Old Site", "old@example.test", "old password 1", NOW)
    seed = parse_seed(seed_document())
    with pytest.raises(Conflict):
        apply_seed(store, seed, logins.credentials, NOW, account_key_type="x25519")
    assert [a.account_id for a in store.all_accounts()] == [first_id]  # untouched

    result = apply_seed(store, seed, logins.credentials, NOW, account_key_type="x25519", force=True)
    assert result.wiped
    assert sorted(a.account_id for a in store.all_accounts()) == sorted([SITE, BLOG])
    assert store.count_account_users() == 2
    with pytest.raises(BadCredentials):
        logins.login("old@example.test", "old password 1", NOW)
    assert logins.login("admin@example.test", ADMIN_PASSWORD, NOW)[0]["adminLevel"] == 1


def test_a_failed_insert_leaves_the_old_data(store, monkeypatch):
    logins = make_logins(store)
    logins.ensure_lookup_key()
    first_id, _ = logins.setup("Old Site", "old@example.test", "old password 1", NOW)

    def broken(relationship):
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "insert_relationship", broken)
    with pytest.raises(RuntimeError):
        apply_seed(
            store, parse_seed(seed_document()), logins.credentials, NOW, account_key_type="x25519", force=True
        )
    # The wipe and the inserts are one transaction: nothing of either is left.
    assert [a.account_id for a in store.all_accounts()] == [first_id]


def test_users_seeded_under_another_secret_still_log_in(store):
    seeded = make_logins(store, secret=base64.b64decode("c2VlZGluZyBzZWNyZXQ="))
    apply_seed(store, parse_seed(seed_document()), seeded.credentials, NOW, account_key_type="x25519")
    # `serve` with a different OFFEN_SECRET re-keys the email lookups first.
    serving = make_logins(store, secret=b"another secret!!")
    assert serving.ensure_lookup_key() == 2
    assert serving.login("admin@example.test", ADMIN_PASSWORD, NOW)[0]["adminLevel"] == 1


def test_seed_is_a_plain_value():
    seed = parse_seed(seed_document())
    assert isinstance(seed, Seed) and seed == parse_seed(seed_document())
