"""Accounts, account users and their relationships (Offen's three login tables).

Rows are read leniently because they may have been written by Offen: NULL
where Offen's later migrations added a column, `retired` as 0/1 or text,
`created` in Go's timestamp format. Rows are written the way Offen 1.4 writes
them, so the database stays readable by Offen.
"""

from __future__ import annotations

from dataclasses import fields as dataclass_fields
from typing import Any

from sqlalchemy import func, select

from appliance.errors import StoreError
from appliance.records import Account, AccountUser, Relationship
from appliance.store.db import (
    Database,
    as_bool,
    format_timestamp,
    parse_timestamp,
    require_fields,
    text_or_empty,
)
from appliance.store.schema import account_users, accounts, relationships

_ACCOUNT_FIELDS = tuple(f.name for f in dataclass_fields(Account))
_USER_FIELDS = tuple(f.name for f in dataclass_fields(AccountUser))
_RELATIONSHIP_FIELDS = tuple(f.name for f in dataclass_fields(Relationship))


def _account(row: Any) -> Account:
    return Account(
        account_id=row.account_id,
        name=text_or_empty(row.name),
        public_key=text_or_empty(row.public_key),
        encrypted_private_key=text_or_empty(row.encrypted_private_key),
        user_salt=text_or_empty(row.user_salt),
        retired=as_bool(row.retired),
        account_styles=text_or_empty(row.account_styles),
        created=parse_timestamp(row.created),
    )


def _account_values(values: dict[str, Any]) -> dict[str, Any]:
    out = dict(values)
    if "retired" in out:
        out["retired"] = 1 if out["retired"] else 0
    if "created" in out:
        out["created"] = format_timestamp(out["created"])
    return out


def _user(row: Any) -> AccountUser:
    return AccountUser(
        account_user_id=row.account_user_id,
        hashed_email=text_or_empty(row.hashed_email),
        hashed_password=text_or_empty(row.hashed_password),
        salt=text_or_empty(row.salt),
        admin_level=int(row.admin_level or 0),
        email_lookup=row.email_lookup or None,
    )


def _relationship(row: Any) -> Relationship:
    return Relationship(
        relationship_id=row.relationship_id,
        account_user_id=text_or_empty(row.account_user_id),
        account_id=text_or_empty(row.account_id),
        password_encrypted_key_encryption_key=text_or_empty(row.password_encrypted_key_encryption_key),
        email_encrypted_key_encryption_key=text_or_empty(row.email_encrypted_key_encryption_key),
        one_time_encrypted_key_encryption_key=text_or_empty(row.one_time_encrypted_key_encryption_key),
    )


def _as_row(record: object, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(record, name) for name in names}


class AccountsMixin:
    """Store methods for accounts, account users and relationships (mixed into `Store`)."""

    _db: Database

    # -- accounts --------------------------------------------------------------------

    def get_account(self, account_id: str) -> Account | None:
        with self._db.read():
            row = self._db.conn.execute(select(accounts).where(accounts.c.account_id == account_id)).first()
        return _account(row) if row is not None else None

    def all_accounts(self) -> list[Account]:
        """Every account, retired ones included, oldest first."""
        with self._db.read():
            found = [_account(row) for row in self._db.conn.execute(select(accounts))]
        return sorted(found, key=lambda account: (account.created, account.name, account.account_id))

    def find_account_by_name(self, name: str) -> Account | None:
        """The oldest account with exactly this name (Offen never enforced uniqueness everywhere)."""
        with self._db.read():
            found = [
                _account(row)
                for row in self._db.conn.execute(select(accounts).where(accounts.c.name == name))
            ]
        found.sort(key=lambda account: (account.created, account.account_id))
        return found[0] if found else None

    def insert_account(self, account: Account) -> None:
        with self._db.write():
            self._db.conn.execute(accounts.insert(), _account_values(_as_row(account, _ACCOUNT_FIELDS)))

    def update_account(self, account_id: str, **fields: Any) -> None:
        """Change some columns of one account, e.g. `retired=True` or `account_styles=...`."""
        require_fields(_ACCOUNT_FIELDS[1:], fields)
        if not fields:
            return
        with self._db.write():
            self._db.conn.execute(
                accounts.update().where(accounts.c.account_id == account_id), _account_values(fields)
            )

    # -- account users ---------------------------------------------------------------

    def get_account_user(self, account_user_id: str) -> AccountUser | None:
        with self._db.read():
            row = self._db.conn.execute(
                select(account_users).where(account_users.c.account_user_id == account_user_id)
            ).first()
        return _user(row) if row is not None else None

    def find_account_users_by_lookup(self, email_lookup: str) -> list[AccountUser]:
        with self._db.read():
            rows = self._db.conn.execute(
                select(account_users)
                .where(account_users.c.email_lookup == email_lookup)
                .order_by(account_users.c.account_user_id)
            )
            return [_user(row) for row in rows]

    def find_account_users_without_lookup(self) -> list[AccountUser]:
        """Users whose lookup is unknown (written by Offen, or after the lookup key changed)."""
        with self._db.read():
            rows = self._db.conn.execute(
                select(account_users)
                .where((account_users.c.email_lookup.is_(None)) | (account_users.c.email_lookup == ""))
                .order_by(account_users.c.account_user_id)
            )
            return [_user(row) for row in rows]

    def count_account_users(self) -> int:
        with self._db.read():
            return int(self._db.conn.execute(select(func.count()).select_from(account_users)).scalar_one())

    def insert_account_user(self, user: AccountUser) -> None:
        with self._db.write():
            self._db.conn.execute(account_users.insert(), _as_row(user, _USER_FIELDS))

    def update_account_user(self, account_user_id: str, **fields: Any) -> None:
        require_fields(_USER_FIELDS[1:], fields)
        if not fields:
            return
        with self._db.write():
            self._db.conn.execute(
                account_users.update().where(account_users.c.account_user_id == account_user_id), fields
            )

    def clear_email_lookups(self) -> int:
        """Forget every email lookup (the lookup key changed); returns how many were set."""
        with self._db.write():
            result = self._db.conn.execute(
                account_users.update().where(account_users.c.email_lookup.is_not(None)),
                {"email_lookup": None},
            )
            return int(result.rowcount)

    # -- relationships ---------------------------------------------------------------

    def find_relationships_for_user(
        self, account_user_id: str, include_invitations: bool = False
    ) -> list[Relationship]:
        """A user's relationships; pending invitations (empty password wrap) only when asked for."""
        query = select(relationships).where(relationships.c.account_user_id == account_user_id)
        if not include_invitations:
            wrap = relationships.c.password_encrypted_key_encryption_key
            query = query.where(wrap.is_not(None) & (wrap != ""))
        query = query.order_by(relationships.c.account_id, relationships.c.relationship_id)
        with self._db.read():
            return [_relationship(row) for row in self._db.conn.execute(query)]

    def find_relationships_for_account(self, account_id: str) -> list[Relationship]:
        """Every relationship to an account, pending invitations included."""
        query = (
            select(relationships)
            .where(relationships.c.account_id == account_id)
            .order_by(relationships.c.account_user_id, relationships.c.relationship_id)
        )
        with self._db.read():
            return [_relationship(row) for row in self._db.conn.execute(query)]

    def insert_relationship(self, rel: Relationship) -> None:
        with self._db.write():
            self._db.conn.execute(relationships.insert(), _as_row(rel, _RELATIONSHIP_FIELDS))

    def update_relationship(self, relationship_id: str, **fields: Any) -> None:
        require_fields(_RELATIONSHIP_FIELDS[1:], fields)
        if not fields:
            return
        for name, value in fields.items():
            # Offen writes absent wraps as empty strings, never NULL.
            if value is None and name.endswith("_key_encryption_key"):
                raise StoreError(f"{name} must be a string (empty when absent)")
        with self._db.write():
            self._db.conn.execute(
                relationships.update().where(relationships.c.relationship_id == relationship_id), fields
            )

    def delete_relationships_for_account(self, account_id: str) -> int:
        with self._db.write():
            result = self._db.conn.execute(
                relationships.delete().where(relationships.c.account_id == account_id)
            )
            return int(result.rowcount)
