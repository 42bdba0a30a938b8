"""Domain: operator sessions — first run, login, the signed session, credential changes, new accounts.

Login hands the browser each account's key-encryption key (KEK) as an `oct`
JWK, unwrapped with the key derived from the password: the server sees the
KEK for the length of the request, as in Offen (reference §2.5); it never
stores it unwrapped. Finding users and re-wrapping keys is `credentials.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from appliance import accounts as accounts_domain
from appliance import keys
from appliance.credentials import (
    EMAIL_WRAP,
    PASSWORD_WRAP,
    Credentials,
    normalize_email,
    rewrap,
    validate_password,
)
from appliance.errors import BadRequest, CryptoError, Forbidden, NotAuthenticated
from appliance.records import AccountUser, Relationship
from appliance.store import Store

AUTH_MAX_AGE = timedelta(hours=24)


@dataclass(frozen=True)
class Session:
    """Who is logged in, as carried by the signed `auth` cookie."""

    account_user_id: str
    admin_level: int
    account_ids: tuple[str, ...]

    def can_access(self, account_id: str) -> bool:
        return account_id in self.account_ids

    @property
    def is_super_admin(self) -> bool:
        return self.admin_level == 1

    def as_json(self) -> dict[str, Any]:
        # GET /api/login answers with the session only: no names, no keys.
        return {
            "accountUserId": self.account_user_id,
            "adminLevel": self.admin_level,
            "accounts": [
                {
                    "accountId": account_id,
                    "accountName": "",
                    "keyEncryptionKey": None,
                    "created": "0001-01-01T00:00:00Z",
                }
                for account_id in self.account_ids
            ],
        }


def verify_requester(
    credentials: Credentials, session: Session, email: object, password: object
) -> tuple[AccountUser, str]:
    """Check that the re-entered email and password are those of the logged-in operator."""
    user, normalized = credentials.verify(email, password)
    if user.account_user_id != session.account_user_id:
        raise BadRequest("the credentials given are not yours")
    return user, normalized


class Logins:
    """Operator sessions and credential changes, bound to one store and OFFEN_SECRET."""

    def __init__(
        self,
        store: Store,
        credentials: Credentials,
        *,
        secret: bytes,
        account_key_type: str,
        active_accounts: accounts_domain.ActiveAccounts,
    ) -> None:
        self._store = store
        self.credentials = credentials
        self._secret = secret
        self.account_key_type = account_key_type
        self._active_accounts = active_accounts

    def ensure_lookup_key(self) -> int:
        return self.credentials.ensure_lookup_key()

    # -- first run ----------------------------------------------------------

    def setup(
        self,
        account_name: object,
        email: object,
        password: object,
        now: datetime,
        account_id: str | None = None,
    ) -> tuple[str, str]:
        """Create the first account and its super admin on an empty instance (POST /api/setup, `offen setup`)."""
        name = accounts_domain.clean_account_name(account_name)
        normalized = normalize_email(email)
        password = validate_password(password)
        if not self._store.is_empty():
            raise Forbidden("this instance is already set up")
        created = accounts_domain.new_account(name, self.account_key_type, now, account_id)
        user = self.credentials.new_user(normalized, admin_level=1, password=password)
        with self._store.transaction():
            self._store.insert_account(created.account)
            self._store.insert_account_user(user)
            self._store.insert_relationship(
                self.credentials.new_relationship(
                    user, created.account.account_id, created.key_encryption_key, password, normalized
                )
            )
        self._active_accounts.forget()
        return created.account.account_id, user.account_user_id

    # -- login and sessions ---------------------------------------------------

    def login(self, email: object, password: object, now: datetime) -> tuple[dict[str, Any], str]:
        """Verify credentials and unwrap every account's KEK (POST /api/login).

        Returns the login result and the signed value of the `auth` cookie.
        """
        user, normalized = self.credentials.verify(email, password)
        password_key = self.credentials.derive(password, user.salt)  # type: ignore[arg-type]
        relationships = self._accept_pending_invitations(user, password_key, normalized)
        accounts_by_id = {account.account_id: account for account in self._store.all_accounts()}
        result_accounts = []
        for relationship in relationships:
            account = accounts_by_id.get(relationship.account_id)
            if account is None or account.retired:
                continue
            kek = keys.decrypt_symmetric(password_key, relationship.password_encrypted_key_encryption_key)
            result_accounts.append(
                {
                    "accountName": account.name,
                    "accountId": account.account_id,
                    "keyEncryptionKey": keys.symmetric_jwk(kek),
                    "created": accounts_domain.format_created(account.created),
                }
            )
        result = {
            "accountUserId": user.account_user_id,
            "adminLevel": user.admin_level,
            "accounts": result_accounts,
        }
        return result, self.sign_session(user.account_user_id, now)

    def _accept_pending_invitations(
        self, user: AccountUser, password_key: bytes, normalized_email: str
    ) -> list[Relationship]:
        """Invitations for an existing user are accepted at their next login (reference §2.5 step 4)."""
        relationships = self._store.find_relationships_for_user(
            user.account_user_id, include_invitations=True
        )
        accepted = [r for r in relationships if r.password_encrypted_key_encryption_key]
        pending = [r for r in relationships if not r.password_encrypted_key_encryption_key]
        if not pending:
            return accepted
        # After upgrade_user every email wrap is under the normalised spelling.
        with self._store.transaction():
            accepted += rewrap(
                self._store,
                pending,
                source=EMAIL_WRAP,
                unwrap_keys=[self.credentials.derive(normalized_email, user.salt)],
                target=PASSWORD_WRAP,
                wrap_key=password_key,
            )
        return accepted

    def sign_session(self, account_user_id: str, now: datetime) -> str:
        return keys.sign("auth", {"accountUserId": account_user_id}, self._secret, now)

    def session(self, cookie_value: str | None, now: datetime) -> Session:
        """The session behind an `auth` cookie, or NotAuthenticated."""
        if not cookie_value:
            raise NotAuthenticated()
        try:
            value = keys.unsign("auth", cookie_value, self._secret, AUTH_MAX_AGE, now)
        except CryptoError as err:
            raise NotAuthenticated("your session is invalid or has expired, please log in again") from err
        account_user_id = value.get("accountUserId") if isinstance(value, dict) else None
        user = self._store.get_account_user(account_user_id) if isinstance(account_user_id, str) else None
        if user is None:
            raise NotAuthenticated("your session is no longer valid, please log in again")
        relationships = self._store.find_relationships_for_user(user.account_user_id)
        active = {account.account_id for account in self._store.all_accounts() if not account.retired}
        return Session(
            account_user_id=user.account_user_id,
            admin_level=user.admin_level,
            account_ids=tuple(r.account_id for r in relationships if r.account_id in active),
        )

    # -- credentials of a logged-in operator -----------------------------------

    def change_password(self, session: Session, current: object, changed: object) -> None:
        """Re-wrap every KEK under the new password (POST /api/change-password)."""
        user = self._store.get_account_user(session.account_user_id)
        if user is None:
            raise NotAuthenticated()
        if not isinstance(current, str):
            raise BadRequest("currentPassword must be given")
        self.credentials.check_password(user, current)
        changed = validate_password(changed)
        with self._store.transaction():
            rewrap(
                self._store,
                self._store.find_relationships_for_user(user.account_user_id),
                source=PASSWORD_WRAP,
                unwrap_keys=[self.credentials.derive(current, user.salt)],
                target=PASSWORD_WRAP,
                wrap_key=self.credentials.derive(changed, user.salt),
            )
            self._store.update_account_user(user.account_user_id, hashed_password=keys.hash_secret(changed))

    def change_email(
        self, session: Session, current_email: object, new_email: object, password: object
    ) -> None:
        """Re-hash the email and re-wrap the email-wrapped KEKs (POST /api/change-email)."""
        user, old_normalized = verify_requester(self.credentials, session, current_email, password)
        new_normalized = normalize_email(new_email)
        if self.credentials.email_in_use(new_normalized, exclude_user_id=user.account_user_id):
            raise BadRequest("this email address is already in use")
        with self._store.transaction():
            rewrap(
                self._store,
                self._store.find_relationships_for_user(user.account_user_id, include_invitations=True),
                source=EMAIL_WRAP,
                unwrap_keys=[self.credentials.derive(old_normalized, user.salt)],
                target=EMAIL_WRAP,
                wrap_key=self.credentials.derive(new_normalized, user.salt),
            )
            self._store.update_account_user(
                user.account_user_id,
                hashed_email=keys.hash_secret(new_normalized),
                email_lookup=self.credentials.lookup(new_normalized),
            )

    # -- accounts created by an operator -------------------------------------------

    def create_account(
        self, session: Session, name: object, email: object, password: object, now: datetime
    ) -> str:
        """A new account for the requesting admin only (POST /api/accounts)."""
        cleaned = accounts_domain.clean_account_name(name)
        user, normalized = verify_requester(self.credentials, session, email, password)
        if user.admin_level != 1:
            raise Forbidden("only admins can create accounts")
        accounts_domain.ensure_unique_name(self._store, cleaned)
        created = accounts_domain.new_account(cleaned, self.account_key_type, now)
        with self._store.transaction():
            self._store.insert_account(created.account)
            self._store.insert_relationship(
                self.credentials.new_relationship(
                    user,
                    created.account.account_id,
                    created.key_encryption_key,
                    password,
                    normalized,  # type: ignore[arg-type]
                )
            )
        self._active_accounts.forget()
        return created.account.account_id


def build_logins(
    store: Store,
    *,
    secret: bytes,
    account_key_type: str,
    active_accounts: accounts_domain.ActiveAccounts,
    v2_threads: int | None = None,
) -> Logins:
    """Logins with their own Credentials: the usual way to make one."""
    credentials = Credentials(store, secret=secret, v2_threads=v2_threads)
    return Logins(
        store, credentials, secret=secret, account_key_type=account_key_type, active_accounts=active_accounts
    )
