"""Domain: accounts, the visitor key exchange and the operator's view of an account.

An account is one website's data set. Its key pair is made here at creation
time; the private key never leaves this module unencrypted (it is wrapped under
the account's key-encryption key at once) and the server never sees it again.
"""

from __future__ import annotations

import html
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from appliance import ids, keys
from appliance.errors import BadRequest, Conflict, NotFound, UnknownAccount
from appliance.records import Account, Secret
from appliance.store import Store
from appliance.sync import add_checkpoint, check_since

# Offen ran account names through an HTML sanitiser that stripped every tag,
# then unescaped entities (reference §3.3). A name is shown in the dashboard,
# so markup never belongs in it.
_TAG = re.compile(r"<[^>]*>")


def clean_account_name(name: object) -> str:
    """Strip markup and surrounding space from an account name; refuse empty names."""
    if not isinstance(name, str):
        raise BadRequest("accountName must be a string")
    cleaned = html.unescape(_TAG.sub("", name)).strip()
    if not cleaned:
        raise BadRequest("the account name must not be empty")
    if len(cleaned) > 200:
        raise BadRequest("the account name must be at most 200 characters long")
    return cleaned


def format_created(moment: datetime) -> str:
    """Render a timestamp the way Offen's JSON did (RFC 3339, UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class ActiveAccounts:
    """A short-lived cache of which accounts accept events.

    Event collection is the hot path; looking the account up on every request
    would double its database work. Retiring an account reaches every node
    within `ttl` seconds (several nodes share one database later on), and this
    node's own retirements are applied at once through `forget`.
    """

    def __init__(self, store: Store, *, ttl: float = 5.0, monotonic: Callable[[], float] = time.monotonic):
        self._store = store
        self._ttl = ttl
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, Account | None]] = {}
        self._all: tuple[float, list[Account]] | None = None

    def get(self, account_id: str) -> Account:
        """The active account with this id, or UnknownAccount."""
        now = self._monotonic()
        with self._lock:
            hit = self._entries.get(account_id)
        if hit is None or now - hit[0] > self._ttl:
            account = self._store.get_account(account_id) if _looks_like_id(account_id) else None
            with self._lock:
                if len(self._entries) > 10_000:
                    self._entries.clear()
                self._entries[account_id] = (now, account)
        else:
            account = hit[1]
        if account is None or account.retired:
            raise UnknownAccount()
        return account

    def all_accounts(self) -> list[Account]:
        """Every account, retired ones included (visitors keep access to their data)."""
        now = self._monotonic()
        with self._lock:
            cached = self._all
        if cached is not None and now - cached[0] <= self._ttl:
            return cached[1]
        accounts = self._store.all_accounts()
        with self._lock:
            self._all = (now, accounts)
        return accounts

    def forget(self, account_id: str | None = None) -> None:
        with self._lock:
            if account_id is None:
                self._entries.clear()
            else:
                self._entries.pop(account_id, None)
            self._all = None


def _looks_like_id(value: str) -> bool:
    return 0 < len(value) <= 64


def public_key_view(accounts: ActiveAccounts, account_id: str) -> dict[str, Any]:
    """What a visitor's vault needs to wrap a secret for this account (GET /api/exchange)."""
    if not account_id:
        raise BadRequest("no accountId given")
    account = accounts.get(account_id)
    return {
        "accountId": account.account_id,
        "name": account.name,
        "publicKey": json.loads(account.public_key),
        "created": format_created(account.created),
    }


def associate_visitor_secret(
    store: Store,
    accounts: ActiveAccounts,
    account_id: str,
    user_id: str,
    encrypted_secret: str,
    now: datetime,
) -> None:
    """Store a visitor's wrapped secret under the hash of their id (POST /api/exchange).

    When the visitor already had a secret for this account (they lost their
    local keys but kept the cookie), the old secret and its events are parked
    under a fresh random id: the operator keeps the data, the visitor can no
    longer read events they have no key for (reference §2.6).
    """
    if not isinstance(encrypted_secret, str) or not encrypted_secret.strip():
        raise BadRequest("encryptedSecret must be a non-empty string")
    if len(encrypted_secret) > 16_384:
        raise BadRequest("encryptedSecret is too long")
    try:
        keys.parse_versioned(encrypted_secret)
    except Exception as err:
        raise BadRequest("encryptedSecret is not a versioned cipher") from err
    account = accounts.get(account_id)
    secret_id = keys.hash_visitor_id(user_id, account.user_salt)
    with store.transaction():
        if store.secret_exists(secret_id):
            parked_id = keys.hash_visitor_id(ids.new_uuid(), account.user_salt)
            store.park_secret(secret_id, parked_id, now)
        store.insert_secret(Secret(secret_id=secret_id, encrypted_secret=encrypted_secret))


@dataclass(frozen=True)
class NewAccountKeys:
    """An account's key material as it is handed to the creator's wraps."""

    account: Account
    key_encryption_key: bytes


def new_account(name: str, key_type: str, now: datetime, account_id: str | None = None) -> NewAccountKeys:
    """Make an account record: a fresh key pair, its private half wrapped under a new KEK."""
    public_jwk, private_jwk = keys.generate_account_keypair(key_type)
    kek = keys.random_bytes(32)
    account = Account(
        account_id=account_id or ids.new_uuid(),
        name=name,
        public_key=json.dumps(public_jwk, separators=(",", ":")),
        encrypted_private_key=keys.encrypt_symmetric(kek, json.dumps(private_jwk).encode()),
        user_salt=keys.new_user_salt(),
        retired=False,
        account_styles="",
        created=now,
    )
    return NewAccountKeys(account=account, key_encryption_key=kek)


def operator_view(store: Store, account_id: str, since: str | None, retention: str) -> dict[str, Any]:
    """Everything an operator's vault needs for one account (GET /api/accounts/:id).

    `since` is compared with each event's `sequence` (Offen compared event ids,
    which skips events whose id is older than the checkpoint, reference §4.3).
    """
    account = store.get_account(account_id)
    if account is None:
        raise NotFound("account not found")
    since = check_since(since)
    events = store.find_events_for_account(account_id, since=since)
    result = _account_fields(account, retention)
    if events:
        result["events"] = {
            account_id: [
                {"secretId": event.secret_id, "eventId": event.event_id, "payload": event.payload}
                if event.secret_id
                else {"eventId": event.event_id, "payload": event.payload}
                for event in events
            ]
        }
        secret_ids = {event.secret_id for event in events if event.secret_id}
        secrets = store.find_secrets(secret_ids)
        if secrets:
            result["secrets"] = {secret.secret_id: secret.encrypted_secret for secret in secrets}
    tombstones = store.find_tombstones_for_account(account_id, since=since) if since is not None else None
    return add_checkpoint(result, events, tombstones, always_list_deleted=True)


# The paged operator view (issue 4): a page of 10000 events is about 4 MB of
# JSON, the most one answer should hold.
EVENTS_PAGE_MAX = 10_000


def operator_page(
    store: Store, account_id: str, *, limit: int, after: str | None, new_secrets: bool, retention: str
) -> dict[str, Any]:
    """One keyset page of an account for an operator (GET /api/accounts/:id?limit=N[&after=S]).

    The fields of `operator_view`, plus `more`; `events`, `secrets` and
    `deletedEvents` are always present. Without `after` the answer holds no
    tombstones: a client starting from nothing holds no event that could have
    been deleted, and tombstones are never removed, so listing all of them
    would grow every first load with the account's whole history.
    """
    account = store.get_account(account_id)
    if account is None or account.retired:
        raise NotFound("account not found or retired")
    after = check_since(after)
    page = store.find_events_page(
        account_id, after, limit, new_secrets_only=new_secrets, with_tombstones=after is not None
    )
    result = _account_fields(account, retention)
    result |= {
        "events": {
            account_id: [
                {
                    "eventId": event.event_id,
                    "secretId": event.secret_id,
                    "payload": event.payload,
                    "sequence": event.sequence,
                }
                if event.secret_id
                else {"eventId": event.event_id, "payload": event.payload, "sequence": event.sequence}
                for event in page.events
            ]
        },
        "secrets": {secret.secret_id: secret.encrypted_secret for secret in page.secrets},
        "more": page.more,
    }
    return add_checkpoint(result, page.events, page.tombstones, always_list_deleted=True)


def _account_fields(account: Account, retention: str) -> dict[str, Any]:
    """The account's own fields of both operator views (Offen's order; `accountStyles` only when set)."""
    result: dict[str, Any] = {
        "accountId": account.account_id,
        "name": account.name,
        "publicKey": json.loads(account.public_key),
        "encryptedPrivateKey": account.encrypted_private_key,
        "created": format_created(account.created),
        "retentionPeriod": retention,
    }
    if account.account_styles:
        result["accountStyles"] = account.account_styles
    return result


def retire_account(store: Store, accounts: ActiveAccounts, account_id: str) -> None:
    """Retire an account: nobody can view it or collect for it any more; data expires normally.

    The shared cache (wrapped secrets, roll-ups) goes at once: nobody can
    read it any more, and summaries should not outlive the account's use.
    """
    account = store.get_account(account_id)
    if account is None or account.retired:
        raise NotFound("account not found or already retired")
    with store.transaction():
        store.update_account(account_id, retired=True)
        store.delete_relationships_for_account(account_id)
        store.clear_shared_cache(account_id)
    accounts.forget(account_id)


def ensure_unique_name(store: Store, name: str) -> None:
    if store.find_account_by_name(name) is not None:
        raise Conflict(f'an account named "{name}" already exists')
