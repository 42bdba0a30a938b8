"""Domain: recording a visitor's encrypted events, their own view, and purging.

The server never sees an event in plaintext: `payload` is a versioned AES-GCM
ciphertext made in the visitor's browser. Visitors are known only by the
SHA-256 hash of their random id with each account's salt; the raw id exists
only in their `user` cookie.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from appliance import keys
from appliance.accounts import ActiveAccounts
from appliance.errors import BadRequest, UnknownSecret
from appliance.store import Store
from appliance.sync import add_checkpoint, check_since

# The vault sends about 400 bytes of ciphertext per pageview; anything much
# larger is not an event this product makes, and refusing it early keeps one
# visitor from filling the disk.
MAX_PAYLOAD_LENGTH = 16_384


def record_event(
    store: Store, accounts: ActiveAccounts, user_id: str, account_id: str, payload: object, now: datetime
) -> None:
    """Store one encrypted event for a visitor who holds a secret for the account (POST /api/events)."""
    if not isinstance(account_id, str) or not account_id:
        raise BadRequest("accountId must be a non-empty string")
    if not isinstance(payload, str) or not payload:
        raise BadRequest("payload must be a non-empty string")
    if len(payload) > MAX_PAYLOAD_LENGTH:
        raise BadRequest(f"payload must be at most {MAX_PAYLOAD_LENGTH} characters long")
    account = accounts.get(account_id)
    secret_id = keys.hash_visitor_id(user_id, account.user_salt)
    if store.insert_event_for_secret(account.account_id, secret_id, payload, now) is None:
        raise UnknownSecret()


def _secret_ids_by_account(accounts: ActiveAccounts, user_id: str) -> dict[str, str]:
    # A visitor id is hashed with every account's salt, retired accounts
    # included: visitors keep access to what was collected about them.
    return {
        keys.hash_visitor_id(user_id, account.user_salt): account.account_id
        for account in accounts.all_accounts()
    }


def visitor_view(
    store: Store, accounts: ActiveAccounts, user_id: str, since: str | None, retention: str
) -> dict[str, Any]:
    """A visitor's own encrypted events across all accounts (GET /api/events)."""
    since = check_since(since)
    by_secret = _secret_ids_by_account(accounts, user_id)
    events = store.find_events_for_secrets(by_secret.keys(), since=since)
    grouped: dict[str, list[dict[str, str]]] = {}
    for event in events:
        # secretId is never returned to visitors (Offen 1.4 behaviour).
        grouped.setdefault(event.account_id, []).append(
            {"accountId": event.account_id, "eventId": event.event_id, "payload": event.payload}
        )
    result: dict[str, Any] = {"events": grouped, "retentionPeriod": retention}
    tombstones = (
        store.find_tombstones_for_secrets(by_secret.keys(), since=since) if since is not None else None
    )
    return add_checkpoint(result, events, tombstones, always_list_deleted=False)


def purge_visitor(store: Store, accounts: ActiveAccounts, user_id: str, now: datetime) -> int:
    """Delete all of a visitor's events in every account, leaving tombstones (POST /api/purge)."""
    return store.delete_events_for_secrets(_secret_ids_by_account(accounts, user_id).keys(), now)
