"""Domain: the operators' shared cache — who may read and write it, what is accepted, limits.

Operators' browsers store back two kinds of opaque ciphertext (issue 4,
docs/protocol.md §9): visitor secrets re-wrapped under a key derived from the
account KEK, so the costly RSA / X25519 work is done once per instance; and
encrypted roll-ups of one UTC day each, so a second browser does not decrypt
every event again. The server cannot read either; it checks shapes and sizes,
binds each record to its account and period by where it is stored (the
browser's AES-GCM additional data binds them cryptographically), and refuses
stale roll-ups so that deleted events never come back through a summary.

Role rules: every operator with access to an account may read and write both
(the RSA work must be doable by any of them); only admins (adminLevel 1) may
clear the cache.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from contextlib import closing
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from appliance.errors import BadRequest, Conflict, Forbidden, NotFound
from appliance.records import Account
from appliance.store import Store

if TYPE_CHECKING:
    from appliance.logins import Session

WRAPPED_PAGE_DEFAULT = 5000
WRAPPED_PAGE_MAX = 20000
WRAPPED_WRITE_MAX = 5000
WRAPPED_SECRET_MAX_CHARS = 2048
ROLLUP_PAGE_DEFAULT = 200
ROLLUP_PAGE_MAX = 400
ROLLUP_PAYLOAD_MAX_CHARS = 16 * 1024 * 1024
# A page of roll-ups ends early once its payloads reach this size, so one
# answer never holds hundreds of megabytes (400 days x up to 16 MiB).
ROLLUP_PAGE_MAX_BYTES = 32 * 1024 * 1024
# The request body of a roll-up: its payload plus room for the JSON around it.
ROLLUP_BODY_MAX_BYTES = ROLLUP_PAYLOAD_MAX_CHARS + 64 * 1024
# The request body of a wrapped-secrets write: 5000 x (64 + 2048 + quoting).
WRAPPED_BODY_MAX_BYTES = WRAPPED_WRITE_MAX * (WRAPPED_SECRET_MAX_CHARS + 80) + 1024

_SECRET_ID = re.compile(r"[0-9a-f]{64}")
_PERIOD = re.compile(r"\d{4}-\d{2}-\d{2}")
# Sequences are ULIDs as this server writes them: upper-case Crockford base32.
_CHECKPOINT = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}")


class StaleRollup(Conflict):
    """A newer roll-up of this day is stored, or events of this day were deleted after its checkpoint."""


# -- access -------------------------------------------------------------------------------


def active_account(store: Store, account_id: str) -> Account:
    """The account, or NotFound when it is unknown or retired."""
    account = store.get_account(account_id) if 0 < len(account_id) <= 64 else None
    if account is None or account.retired:
        raise NotFound("account not found or retired")
    return account


def authorize(store: Store, session: Session, account_id: str, *, admin: bool = False) -> Account:
    """The account if this operator may use its shared cache (NotFound, Forbidden otherwise).

    Unknown and retired accounts answer 404 before access is checked: account
    ids are not secret (every embed code holds one, /api/exchange confirms
    them), and a dashboard left open on a retired account learns why it
    stopped.
    """
    account = active_account(store, account_id)
    if not session.can_access(account_id):
        raise Forbidden("you do not have access to this account")
    if admin and not session.is_super_admin:
        raise Forbidden("only admins can do this")
    return account


# -- parameters ---------------------------------------------------------------------------


def parse_limit(value: str | None, *, default: int | None, maximum: int, name: str = "limit") -> int:
    """A page size from the query string: digits only, 0..maximum."""
    if value is None or value == "":
        if default is None:
            raise BadRequest(f"{name} is required")
        return default
    if not value.isdigit() or len(value) > 6:
        raise BadRequest(f"{name} must be a whole number from 0 to {maximum}")
    number = int(value)
    if number > maximum:
        raise BadRequest(f"{name} must be a whole number from 0 to {maximum}")
    return number


def check_secret_id(value: object, name: str = "secret id") -> str:
    if not isinstance(value, str) or not _SECRET_ID.fullmatch(value):
        raise BadRequest(f"{name} must be 64 lowercase hex characters")
    return value


def check_period(value: object) -> str:
    """A UTC day written YYYY-MM-DD that exists in the calendar."""
    if not isinstance(value, str) or not _PERIOD.fullmatch(value):
        raise BadRequest("the period must be a UTC day written YYYY-MM-DD")
    try:
        datetime.strptime(value, "%Y-%m-%d")
    except ValueError as err:
        raise BadRequest("the period is not a calendar day") from err
    return value


def check_checkpoint(value: object) -> str:
    if not isinstance(value, str) or not _CHECKPOINT.fullmatch(value):
        raise BadRequest("checkpoint must be a 26-character sequence returned by the events call")
    return value


def retention_days(now: datetime, retention: timedelta) -> tuple[str, str]:
    """(first, last) UTC day a roll-up may be stored for: the day of the expiry deadline
    (partly inside the window) up to tomorrow (a browser ahead of UTC may close its day)."""
    now = now.astimezone(UTC)
    first = (now - retention).date().isoformat()
    last = (now + timedelta(days=1)).date().isoformat()
    return first, last


# -- wrapped secrets ----------------------------------------------------------------------


def list_wrapped_secrets(store: Store, account_id: str, after: str | None, limit: int) -> dict[str, Any]:
    """GET …/wrapped-secrets: one keyset page by secret id."""
    if after is not None and after != "":
        check_secret_id(after, "after")
    rows = store.find_wrapped_secrets(account_id, after or None, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "wrappedSecrets": dict(rows),
        "more": more,
        "next": rows[-1][0] if rows else None,
    }


def store_wrapped_secrets(store: Store, account_id: str, body: Mapping[str, Any], now: datetime) -> dict:
    """POST …/wrapped-secrets: keep the entries the account does not have yet (first write wins)."""
    items = body.get("wrappedSecrets")
    if not isinstance(items, dict):
        raise BadRequest("wrappedSecrets must be an object of secretId: wrapped secret")
    if len(items) > WRAPPED_WRITE_MAX:
        raise BadRequest(f"at most {WRAPPED_WRITE_MAX} wrapped secrets per request")
    for secret_id, wrapped in items.items():
        check_secret_id(secret_id, "each secretId")
        if not isinstance(wrapped, str) or not wrapped:
            raise BadRequest("each wrapped secret must be a non-empty string")
        if len(wrapped) > WRAPPED_SECRET_MAX_CHARS:
            raise BadRequest(f"a wrapped secret must be at most {WRAPPED_SECRET_MAX_CHARS} characters long")
    stored, skipped = store.insert_wrapped_secrets(account_id, items, now) if items else (0, 0)
    return {"stored": stored, "skipped": skipped}


# -- roll-ups -----------------------------------------------------------------------------


def list_rollups(store: Store, account_id: str, after: str | None, limit: int) -> dict[str, Any]:
    """GET …/rollups: one keyset page by period (ends early past ROLLUP_PAGE_MAX_BYTES)."""
    if after is not None and after != "":
        check_period(after)
    found: list[dict[str, str]] = []
    more = False
    size = 0
    with closing(store.iter_rollups(account_id, after or None, limit + 1)) as rows:
        for rollup in rows:
            if len(found) >= limit or (found and size + len(rollup.payload) > ROLLUP_PAGE_MAX_BYTES):
                more = True
                break
            found.append(
                {"period": rollup.period, "checkpoint": rollup.checkpoint, "payload": rollup.payload}
            )
            size += len(rollup.payload)
    return {"rollups": found, "more": more, "next": found[-1]["period"] if found else None}


def put_rollup(
    store: Store,
    account_id: str,
    period: str,
    body: Mapping[str, Any],
    now: datetime,
    retention: timedelta,
) -> None:
    """PUT …/rollups/<period>: store one day's roll-up unless it is stale (StaleRollup -> 409)."""
    check_period(period)
    first, last = retention_days(now, retention)
    if not first <= period <= last:
        raise BadRequest(f"the period must be a day from {first} to {last} (the retention window)")
    checkpoint = check_checkpoint(body.get("checkpoint"))
    payload = body.get("payload")
    if not isinstance(payload, str) or not payload:
        raise BadRequest("payload must be a non-empty string")
    if len(payload) > ROLLUP_PAYLOAD_MAX_CHARS:
        raise BadRequest("payload must be at most 16 MiB")
    highest = store.max_sequence()
    if highest is None or checkpoint > highest:
        # A checkpoint no event or deletion has reached yet would claim events
        # that do not exist, and lock out honest writers until it is passed.
        raise BadRequest("checkpoint is beyond the latest sequence of this instance")
    written = store.put_rollup(account_id, period, checkpoint, payload, now)
    if not written.stored:
        if written.reason == "stale":
            raise StaleRollup("a roll-up of this day with a later checkpoint is stored already")
        raise StaleRollup("events of this day were deleted after the checkpoint; fetch and compute again")


def clear_shared_cache(store: Store, account_id: str) -> int:
    """DELETE …/shared-cache: an admin starts the account's shared cache afresh."""
    return store.clear_shared_cache(account_id)
