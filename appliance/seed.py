"""Domain: seeding an instance from a file (`offen setup -source`, reference §4.7).

This module owns the seed format and applying it. The format is Offen's
(experimental there too):

    accounts:
      - id: 9b63c4d8-65c0-438c-9d30-cc4b01173393
        name: My Site
    account_users:
      - email: me@example.com
        password: a long password
        admin_level: 1            # 1 = super admin, 0 = may only view
        accounts: [9b63c4d8-65c0-438c-9d30-cc4b01173393]

A file ending in `.json` is read as JSON with the same shape. Any other file
is read as YAML when PyYAML is installed; without PyYAML it must be JSON
(which is also valid YAML), so the appliance does not need a YAML parser for
its one experimental feature.

Every problem in the file is collected and reported at once, before the
database is touched: a bad seed never wipes anything. Then, in one
transaction, existing data is dropped (only with `force`) and the accounts,
users and relationships are written. Every user gets, for each listed
account, the account's key-encryption key wrapped under their password and
under their email, exactly what `offen setup` and an accepted invitation
produce, so they can log in and later reset their password.

Stricter than Offen, on purpose: account ids must be UUIDs, names and emails
must be unique, every password passes the login policy (Offen exempted its
demo user), and an account that no user is given is refused, since nobody
could ever read its data.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from appliance import accounts as accounts_domain
from appliance.credentials import Credentials, normalize_email, validate_password
from appliance.errors import BadRequest, Conflict
from appliance.records import Relationship
from appliance.store import Store

__all__ = [
    "InvalidSeed",
    "Seed",
    "SeedAccount",
    "SeedResult",
    "SeedUser",
    "apply_seed",
    "parse_seed",
    "read_seed_file",
]


class InvalidSeed(BadRequest):
    """The seed file is not valid."""

    def __init__(self, problems: list[str] | str) -> None:
        if isinstance(problems, str):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True)
class SeedAccount:
    account_id: str
    name: str


@dataclass(frozen=True, repr=False)
class SeedUser:
    email: str  # normalised (trimmed, lower case), as logins indexes it
    password: str
    admin_level: int
    account_ids: tuple[str, ...]

    def __repr__(self) -> str:
        # The password must not end up in a traceback or a log line.
        return (
            f"SeedUser(email={self.email!r}, admin_level={self.admin_level}, accounts={self.account_ids!r})"
        )


@dataclass(frozen=True)
class Seed:
    accounts: tuple[SeedAccount, ...]
    users: tuple[SeedUser, ...]


@dataclass(frozen=True)
class SeedResult:
    account_ids: tuple[str, ...]
    account_user_ids: tuple[str, ...]
    wiped: bool


# -- reading -------------------------------------------------------------------------


def read_seed_file(path: str | Path) -> Seed:
    """Read and validate a seed file (YAML, or JSON); raises InvalidSeed in plain words."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InvalidSeed(f"the seed file {path} cannot be read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InvalidSeed(f"the seed file {path} is not UTF-8 text") from None
    return parse_seed(_load(text, path))


def _load(text: str, path: Path) -> object:
    if path.suffix.lower() == ".json":
        return _load_json(text, path)
    try:
        import yaml  # optional: only this experimental feature needs it
    except ImportError:
        try:
            return json.loads(text)
        except ValueError:
            raise InvalidSeed(
                f"{path} is not JSON, and reading YAML needs PyYAML, which is not installed. "
                "Install it (pip install pyyaml) or write the seed as JSON with the same shape."
            ) from None
    try:
        # safe_load: a seed file must never be able to construct Python objects.
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "it is not valid YAML"
        raise InvalidSeed(f"{path} cannot be read{where}: {problem}") from None


def _load_json(text: str, path: Path) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidSeed(f"{path} is not valid JSON (line {exc.lineno}: {exc.msg})") from None


# -- validating ------------------------------------------------------------------------


def parse_seed(data: object) -> Seed:
    """Validate the loaded document; every problem is reported in one InvalidSeed.

    Passwords are never quoted in a problem, only the position of the user.
    """
    problems: list[str] = []
    if not isinstance(data, Mapping):
        raise InvalidSeed("the seed must be a mapping with `accounts` and `account_users`")
    unknown = sorted(str(key) for key in data if key not in ("accounts", "account_users"))
    if unknown:
        problems.append(f"unknown top-level keys: {', '.join(unknown)} (expected accounts, account_users)")
    raw_accounts = data.get("accounts")
    raw_users = data.get("account_users")
    if not isinstance(raw_accounts, list) or not raw_accounts:
        problems.append("`accounts` must be a non-empty list of {id, name}")
        raw_accounts = []
    if not isinstance(raw_users, list) or not raw_users:
        problems.append(
            "`account_users` must be a non-empty list of {email, password, admin_level, accounts}"
        )
        raw_users = []

    accounts: list[SeedAccount] = []
    seen_ids: set[str] = set()
    seen_names: set[str] = set()
    for index, item in enumerate(raw_accounts):
        where = f"accounts[{index}]"
        if not isinstance(item, Mapping):
            problems.append(f"{where} must be a mapping with id and name")
            continue
        _unknown_keys(item, ("id", "name"), where, problems)
        account_id = _uuid(item.get("id"), f"{where}.id", problems)
        try:
            name = accounts_domain.clean_account_name(item.get("name"))
        except BadRequest as exc:
            problems.append(f"{where}.name: {exc}")
            name = None
        if account_id is not None:
            if account_id in seen_ids:
                problems.append(f"{where}.id {account_id} is listed twice")
            seen_ids.add(account_id)
        if name is not None:
            if name.casefold() in seen_names:
                problems.append(f"{where}.name {name!r} is used by another account")
            seen_names.add(name.casefold())
        if account_id is not None and name is not None:
            accounts.append(SeedAccount(account_id, name))

    users: list[SeedUser] = []
    seen_emails: set[str] = set()
    granted: set[str] = set()
    for index, item in enumerate(raw_users):
        where = f"account_users[{index}]"
        if not isinstance(item, Mapping):
            problems.append(f"{where} must be a mapping with email, password, admin_level and accounts")
            continue
        _unknown_keys(item, ("email", "password", "admin_level", "accounts"), where, problems)
        email: str | None
        try:
            email = normalize_email(item.get("email"))
        except BadRequest as exc:
            problems.append(f"{where}.email: {exc}")
            email = None
        if email is not None:
            if email in seen_emails:
                problems.append(f"{where}.email {email} is listed twice")
            seen_emails.add(email)
        password = item.get("password")
        if not isinstance(password, str):
            # YAML turns an unquoted 12345678 into a number; say how to fix it.
            problems.append(f"{where}.password must be text (quote it in YAML)")
            password = None
        else:
            try:
                validate_password(password)
            except BadRequest as exc:
                problems.append(f"{where}.password: {exc}")
                password = None
        level = item.get("admin_level", 0)
        if isinstance(level, bool) or level not in (0, 1):
            problems.append(f"{where}.admin_level must be 1 (super admin) or 0 (view only)")
            level = None
        listed = item.get("accounts", [])
        account_ids: list[str] = []
        if not isinstance(listed, list):
            problems.append(f"{where}.accounts must be a list of account ids")
            listed = []
        for position, raw_id in enumerate(listed):
            account_id = _uuid(raw_id, f"{where}.accounts[{position}]", problems)
            if account_id is None:
                continue
            if account_id not in seen_ids:
                problems.append(f"{where}.accounts[{position}] {account_id} is not in `accounts`")
            elif account_id not in account_ids:
                account_ids.append(account_id)
        granted.update(account_ids)
        if email is not None and password is not None and level is not None:
            users.append(SeedUser(email, password, int(level), tuple(account_ids)))

    for account in accounts:
        if account.account_id not in granted:
            problems.append(
                f"account {account.account_id} ({account.name}) is given to no user, "
                "so nobody could ever read its data"
            )
    if problems:
        raise InvalidSeed(problems)
    return Seed(tuple(accounts), tuple(users))


def _unknown_keys(item: Mapping[Any, Any], allowed: tuple[str, ...], where: str, problems: list[str]) -> None:
    unknown = sorted(str(key) for key in item if key not in allowed)
    if unknown:
        problems.append(f"{where} has unknown keys: {', '.join(unknown)} (expected {', '.join(allowed)})")


def _uuid(value: object, where: str, problems: list[str]) -> str | None:
    if not isinstance(value, str):
        problems.append(f"{where} must be a UUID such as 9b63c4d8-65c0-438c-9d30-cc4b01173393")
        return None
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        problems.append(f"{where} {value!r} is not a UUID such as 9b63c4d8-65c0-438c-9d30-cc4b01173393")
        return None


# -- applying ----------------------------------------------------------------------------


def apply_seed(
    store: Store,
    seed: Seed,
    credentials: Credentials,
    now: datetime,
    *,
    account_key_type: str,
    force: bool = False,
    active_accounts: accounts_domain.ActiveAccounts | None = None,
) -> SeedResult:
    """Write the seed into `store`; with `force`, drop existing data first, in the same transaction.

    Raises Conflict when the database holds data and `force` is not given.
    Key pairs and every Argon2 derivation are computed before the write
    transaction starts, so SQLite's write lock is held only for the inserts.
    """
    wiped = not store.is_empty()
    if wiped and not force:
        raise Conflict("the database already holds data; use -force to wipe it first")
    credentials.ensure_lookup_key()
    created = {
        account.account_id: accounts_domain.new_account(
            account.name, account_key_type, now, account.account_id
        )
        for account in seed.accounts
    }
    users = []
    relationships: list[Relationship] = []
    for seed_user in seed.users:
        # The user record and the key wraps are made by Credentials itself, so the
        # keyed email lookup and the wrap format are exactly what login reads;
        # a copy here could drift from it and lock the seeded users out.
        user = credentials.new_user(seed_user.email, seed_user.admin_level, seed_user.password)
        users.append(user)
        for account_id in seed_user.account_ids:
            relationships.append(
                credentials.new_relationship(
                    user,
                    account_id,
                    created[account_id].key_encryption_key,
                    seed_user.password,
                    seed_user.email,
                )
            )
    with store.transaction():
        if wiped:
            store.drop_all_data()
        for new in created.values():
            store.insert_account(new.account)
        for user in users:
            store.insert_account_user(user)
        for relationship in relationships:
            store.insert_relationship(relationship)
    if active_accounts is not None:
        active_accounts.forget()
    return SeedResult(
        account_ids=tuple(account.account_id for account in seed.accounts),
        account_user_ids=tuple(user.account_user_id for user in users),
        wiped=wiped,
    )
