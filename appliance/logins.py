"""Domain: operators — setup, login, sessions, credentials, reset, invitations, sharing.

Key hierarchy (reference §2.3): each account's key-encryption key (KEK) is
stored wrapped under keys derived from the operator's password and from their
email address, and, while a reset is pending, under a one-time key. Nothing
here stores a KEK or a password in the clear; the KEK exists in memory only
for the duration of one request.

Fixes over Offen 1.4, protocol unchanged:
- emails are trimmed and matched case-insensitively, through a keyed lookup
  column (HMAC under a key derived from OFFEN_SECRET), so login does one
  indexed query instead of an Argon2 comparison per operator; users written
  by Offen keep their exact original spelling until their first login here,
  which re-hashes, re-wraps and indexes them;
- reset and invitation links are built from the instance's own public URL,
  never from a host the client sent;
- an existing admin who is invited again is never demoted.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from appliance import accounts as accounts_domain
from appliance import ids, keys
from appliance.errors import (
    BadCredentials,
    BadRequest,
    Conflict,
    CryptoError,
    Forbidden,
    InvalidToken,
    NotAuthenticated,
    OffenError,
)
from appliance.mailer import Mailer
from appliance.records import AccountUser, Relationship
from appliance.store import Store

AUTH_MAX_AGE = timedelta(hours=24)
RESET_MAX_AGE = timedelta(hours=24)
INVITE_MAX_AGE = timedelta(days=7)
MIN_PASSWORD_BYTES = 8
MAX_PASSWORD_BYTES = 64
_LOOKUP_META = "email_lookup_key_id"


class NoPublicURL(OffenError):
    """This instance has no public URL (OFFEN_APP_PUBLICURL), so it cannot build links for emails."""


def normalize_email(email: object) -> str:
    if not isinstance(email, str):
        raise BadRequest("the email address must be a string")
    normalized = email.strip().lower()
    if not normalized or "@" not in normalized or len(normalized) > 320:
        raise BadRequest("this is not a valid email address")
    return normalized


def validate_password(password: object) -> str:
    if not isinstance(password, str):
        raise BadRequest("the password must be a string")
    size = len(password.encode("utf-8"))
    if size < MIN_PASSWORD_BYTES:
        raise BadRequest(f"the password must be at least {MIN_PASSWORD_BYTES} characters long")
    if size > MAX_PASSWORD_BYTES:
        raise BadRequest(f"the password must be at most {MAX_PASSWORD_BYTES} bytes long")
    return password


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


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


class Logins:
    """Operator credentials and key unwrapping, bound to one store and secret."""

    def __init__(
        self,
        store: Store,
        *,
        secret: bytes,
        mailer: Mailer,
        public_url: str | None,
        account_key_type: str,
        active_accounts: accounts_domain.ActiveAccounts,
        v2_threads: int | None = None,
    ) -> None:
        self._store = store
        self._secret = secret
        self._lookup_key = keys.derive_subkey(secret, "offen/email-lookup")
        self._mailer = mailer
        self._public_url = public_url.rstrip("/") if public_url else None
        self._account_key_type = account_key_type
        self._active_accounts = active_accounts
        self._v2_threads = v2_threads

    # -- email lookup -----------------------------------------------------

    def lookup_key_id(self) -> str:
        return keys.keyed_digest(self._lookup_key, "offen/email-lookup/key-id")[:16]

    def ensure_lookup_key(self) -> int:
        """Forget lookups made under another OFFEN_SECRET; returns how many were cleared.

        Those users fall back to the legacy match by exact spelling until
        their next login, which indexes them again under the current key.
        """
        current = self.lookup_key_id()
        stored = self._store.get_meta(_LOOKUP_META)
        cleared = 0
        if stored != current:
            if stored is not None:
                cleared = self._store.clear_email_lookups()
            self._store.set_meta(_LOOKUP_META, current)
        return cleared

    def _lookup(self, normalized_email: str) -> str:
        return keys.keyed_digest(self._lookup_key, normalized_email)

    def _find_user(self, email: str) -> tuple[AccountUser, str] | None:
        """The account user for an email and the spelling their key wraps were made with."""
        normalized = normalize_email(email)
        for user in self._store.find_account_users_by_lookup(self._lookup(normalized)):
            return user, normalized
        # Users written by Offen (or before the lookup key changed) are found
        # the way Offen found them: Argon2 against each remaining hash, by the
        # exact spelling they signed up with. Shuffled so that the position of
        # a user does not show in the timing. Only these legacy users are
        # scanned, and each is indexed at their first login here.
        legacy = self._store.find_account_users_without_lookup()
        random.shuffle(legacy)
        spellings = list(dict.fromkeys([email, email.strip(), normalized]))
        for user in legacy:
            for spelling in spellings:
                if keys.compare_hash(spelling, user.hashed_email, v2_threads=self._v2_threads):
                    return user, spelling
        return None

    def _derive(self, value: str, salt: str) -> bytes:
        return keys.derive_key(value, salt, v2_threads=self._v2_threads)

    def _check_password(self, user: AccountUser, password: str) -> None:
        if not user.hashed_password or not keys.compare_hash(
            password, user.hashed_password, v2_threads=self._v2_threads
        ):
            raise BadCredentials()

    def _new_user(self, email: str, admin_level: int, password: str | None = None) -> AccountUser:
        normalized = normalize_email(email)
        return AccountUser(
            account_user_id=ids.new_uuid(),
            hashed_email=keys.hash_secret(normalized),
            hashed_password=keys.hash_secret(password) if password else "",
            salt=keys.new_kdf_salt(),
            admin_level=admin_level,
            email_lookup=self._lookup(normalized),
        )

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
        created = accounts_domain.new_account(name, self._account_key_type, now, account_id)
        user = self._new_user(normalized, admin_level=1, password=password)
        with self._store.transaction():
            self._store.insert_account(created.account)
            self._store.insert_account_user(user)
            self._store.insert_relationship(
                self._relationship(
                    user, created.account.account_id, created.key_encryption_key, password, normalized
                )
            )
        self._active_accounts.forget()
        return created.account.account_id, user.account_user_id

    def _relationship(
        self, user: AccountUser, account_id: str, kek: bytes, password: str | None, email: str
    ) -> Relationship:
        return Relationship(
            relationship_id=ids.new_uuid(),
            account_user_id=user.account_user_id,
            account_id=account_id,
            password_encrypted_key_encryption_key=(
                keys.encrypt_symmetric(self._derive(password, user.salt), kek) if password else ""
            ),
            email_encrypted_key_encryption_key=keys.encrypt_symmetric(self._derive(email, user.salt), kek),
            one_time_encrypted_key_encryption_key="",
        )

    # -- login and sessions ---------------------------------------------------

    def login(self, email: object, password: object, now: datetime) -> tuple[dict[str, Any], str]:
        """Verify credentials and unwrap every account's KEK (POST /api/login).

        Returns the login result and the signed value of the `auth` cookie.
        """
        if not isinstance(email, str) or not isinstance(password, str) or not email or not password:
            raise BadRequest("username and password must be given")
        found = self._find_user(email)
        if found is None:
            # Spend the time a password check would take, so the answer does
            # not tell which emails have accounts here.
            keys.compare_hash(password, _dummy_hash())
            raise BadCredentials()
        user, spelling = found
        self._check_password(user, password)
        user = self._upgrade_user(user, spelling, password)
        password_key = self._derive(password, user.salt)
        relationships = self._accept_pending_invitations(user, password_key, normalize_email(spelling))
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

    def _upgrade_user(self, user: AccountUser, spelling: str, password: str) -> AccountUser:
        """Bring a user written by Offen (or hashed with an old Argon2 version) up to date.

        Re-hashes email and password with the current Argon2 version, moves
        the KDF salt to the current version and re-wraps every KEK under keys
        derived from the normalised email and the password; then indexes the
        user by the keyed lookup of their normalised email.
        """
        normalized = normalize_email(spelling)
        lookup = self._lookup(normalized)
        salt_outdated = keys.parse_versioned(user.salt)[0] != 3
        if (
            user.email_lookup == lookup
            and not salt_outdated
            and spelling == normalized
            and not keys.needs_rehash(user.hashed_password)
            and not keys.needs_rehash(user.hashed_email)
        ):
            return user
        new_salt = keys.new_kdf_salt() if salt_outdated else user.salt
        old_password_key = self._derive(password, user.salt)
        new_password_key = self._derive(password, new_salt)
        old_email_keys = [
            self._derive(candidate, user.salt) for candidate in dict.fromkeys([spelling, normalized])
        ]
        new_email_key = self._derive(normalized, new_salt)
        with self._store.transaction():
            for relationship in self._store.find_relationships_for_user(
                user.account_user_id, include_invitations=True
            ):
                changes: dict[str, str] = {}
                if relationship.password_encrypted_key_encryption_key:
                    kek = keys.decrypt_symmetric(
                        old_password_key, relationship.password_encrypted_key_encryption_key
                    )
                    changes["password_encrypted_key_encryption_key"] = keys.encrypt_symmetric(
                        new_password_key, kek
                    )
                if relationship.email_encrypted_key_encryption_key:
                    kek = _first_unwrap(old_email_keys, relationship.email_encrypted_key_encryption_key)
                    if kek is not None:
                        changes["email_encrypted_key_encryption_key"] = keys.encrypt_symmetric(
                            new_email_key, kek
                        )
                if changes:
                    self._store.update_relationship(relationship.relationship_id, **changes)
            fields = {
                "hashed_email": keys.hash_secret(normalized),
                "hashed_password": keys.hash_secret(password),
                "salt": new_salt,
                "email_lookup": lookup,
            }
            self._store.update_account_user(user.account_user_id, **fields)
        return replace(user, **fields)

    def _accept_pending_invitations(
        self, user: AccountUser, password_key: bytes, normalized_email: str
    ) -> list[Relationship]:
        """Invitations for an existing user are accepted at their next login (reference §2.5 step 4)."""
        relationships = self._store.find_relationships_for_user(
            user.account_user_id, include_invitations=True
        )
        pending = [r for r in relationships if not r.password_encrypted_key_encryption_key]
        if not pending:
            return relationships
        # After _upgrade_user every email wrap is under the normalised spelling.
        email_key = self._derive(normalized_email, user.salt)
        accepted = []
        with self._store.transaction():
            for relationship in relationships:
                if relationship.password_encrypted_key_encryption_key:
                    accepted.append(relationship)
                    continue
                kek = _first_unwrap([email_key], relationship.email_encrypted_key_encryption_key)
                if kek is None:
                    continue
                wrap = keys.encrypt_symmetric(password_key, kek)
                self._store.update_relationship(
                    relationship.relationship_id, password_encrypted_key_encryption_key=wrap
                )
                accepted.append(replace(relationship, password_encrypted_key_encryption_key=wrap))
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

    def _verify_requester(self, session: Session, email: object, password: object) -> tuple[AccountUser, str]:
        """Check that email and password are those of the logged-in operator (re-entered to confirm)."""
        if not isinstance(password, str) or not password:
            raise BadRequest("your password must be given to confirm")
        found = self._find_user(email if isinstance(email, str) else "")
        if found is None:
            raise BadCredentials()
        user, spelling = found
        if user.account_user_id != session.account_user_id:
            raise BadRequest("the credentials given are not yours")
        self._check_password(user, password)
        upgraded = self._upgrade_user(user, spelling, password)
        return upgraded, normalize_email(spelling)

    def change_password(self, session: Session, current: object, changed: object) -> None:
        """Re-wrap every KEK under the new password (POST /api/change-password)."""
        user = self._store.get_account_user(session.account_user_id)
        if user is None:
            raise NotAuthenticated()
        if not isinstance(current, str):
            raise BadRequest("currentPassword must be given")
        self._check_password(user, current)
        changed = validate_password(changed)
        old_key = self._derive(current, user.salt)
        new_key = self._derive(changed, user.salt)
        with self._store.transaction():
            for relationship in self._store.find_relationships_for_user(user.account_user_id):
                kek = keys.decrypt_symmetric(old_key, relationship.password_encrypted_key_encryption_key)
                self._store.update_relationship(
                    relationship.relationship_id,
                    password_encrypted_key_encryption_key=keys.encrypt_symmetric(new_key, kek),
                )
            self._store.update_account_user(user.account_user_id, hashed_password=keys.hash_secret(changed))

    def change_email(
        self, session: Session, current_email: object, new_email: object, password: object
    ) -> None:
        """Re-hash the email and re-wrap the email-wrapped KEKs (POST /api/change-email)."""
        user, old_normalized = self._verify_requester(session, current_email, password)
        new_normalized = normalize_email(new_email)
        new_lookup = self._lookup(new_normalized)
        others = [
            u
            for u in self._store.find_account_users_by_lookup(new_lookup)
            if u.account_user_id != user.account_user_id
        ]
        if others or self._legacy_match(new_normalized, exclude=user.account_user_id):
            raise BadRequest("this email address is already in use")
        old_key = self._derive(old_normalized, user.salt)
        new_key = self._derive(new_normalized, user.salt)
        with self._store.transaction():
            for relationship in self._store.find_relationships_for_user(
                user.account_user_id, include_invitations=True
            ):
                kek = _first_unwrap([old_key], relationship.email_encrypted_key_encryption_key)
                if kek is None:
                    continue
                self._store.update_relationship(
                    relationship.relationship_id,
                    email_encrypted_key_encryption_key=keys.encrypt_symmetric(new_key, kek),
                )
            self._store.update_account_user(
                user.account_user_id, hashed_email=keys.hash_secret(new_normalized), email_lookup=new_lookup
            )

    def _legacy_match(self, normalized: str, exclude: str) -> bool:
        return any(
            keys.compare_hash(normalized, user.hashed_email, v2_threads=self._v2_threads)
            for user in self._store.find_account_users_without_lookup()
            if user.account_user_id != exclude
        )

    # -- links sent by email -----------------------------------------------------

    def _link(self, kind: str, token: str) -> str:
        if not self._public_url:
            raise NoPublicURL()
        return f"{self._public_url}/{kind}/{token}/"

    def forgot_password(self, email: object, now: datetime) -> Mail | None:
        """Add one-time wraps of every KEK and mail a reset link (POST /api/forgot-password).

        Unknown emails get no mail and the same answer, so the route does not
        tell who has an account here.
        """
        if not self._public_url:
            raise NoPublicURL()
        normalized = normalize_email(email)
        found = self._find_user(email)  # type: ignore[arg-type]
        if found is None:
            return None
        user, spelling = found
        email_key = self._derive(spelling, user.salt)
        one_time_key = keys.random_bytes(32)
        relationships = self._store.find_relationships_for_user(user.account_user_id)
        with self._store.transaction():
            for relationship in relationships:
                kek = _first_unwrap([email_key], relationship.email_encrypted_key_encryption_key)
                if kek is None:
                    continue
                self._store.update_relationship(
                    relationship.relationship_id,
                    one_time_encrypted_key_encryption_key=keys.encrypt_symmetric(one_time_key, kek),
                )
        token = keys.sign(
            "reset-password",
            {
                "token": keys.b64url_encode(one_time_key),
                "email": normalized,
                "accountUserId": user.account_user_id,
            },
            self._secret,
            now,
        )
        mail = Mail(
            to=normalized,
            subject="Reset your password",
            body=(
                "Someone (hopefully you) asked to reset the password of your Offen operator login.\n\n"
                f"Open this link within 24 hours to choose a new password:\n{self._link('reset-password', token)}\n\n"
                "If you did not ask for this, you can ignore this email.\n"
            ),
        )
        self._mailer.send(mail.to, mail.subject, mail.body)
        return mail

    def reset_password(self, email: object, password: object, token: object, now: datetime) -> None:
        """Wrap every KEK under the new password, from the one-time wraps (POST /api/reset-password)."""
        value = self._read_token("reset-password", token, RESET_MAX_AGE, now)
        normalized = normalize_email(email)
        if not keys.constant_time_equals(str(value.get("email", "")), normalized):
            raise InvalidToken("this link was sent to another email address")
        password = validate_password(password)
        user = self._store.get_account_user(str(value.get("accountUserId", "")))
        if user is None:
            raise InvalidToken()
        one_time_key = keys.b64url_decode(str(value.get("token", "")))
        password_key = self._derive(password, user.salt)
        with self._store.transaction():
            for relationship in self._store.find_relationships_for_user(
                user.account_user_id, include_invitations=True
            ):
                kek = _first_unwrap([one_time_key], relationship.one_time_encrypted_key_encryption_key)
                if kek is None:
                    continue
                self._store.update_relationship(
                    relationship.relationship_id,
                    password_encrypted_key_encryption_key=keys.encrypt_symmetric(password_key, kek),
                    one_time_encrypted_key_encryption_key="",
                )
            self._store.update_account_user(user.account_user_id, hashed_password=keys.hash_secret(password))

    def _read_token(self, namespace: str, token: object, max_age: timedelta, now: datetime) -> dict[str, Any]:
        if not isinstance(token, str) or not token:
            raise InvalidToken()
        try:
            value = keys.unsign(namespace, token, self._secret, max_age, now)
        except CryptoError as err:
            raise InvalidToken() from err
        if not isinstance(value, dict):
            raise InvalidToken()
        return value

    # -- sharing and invitations -----------------------------------------------

    def share_account(
        self,
        session: Session,
        *,
        invitee: object,
        email: object,
        password: object,
        grant_admin: bool,
        account_id: str | None,
        now: datetime,
    ) -> Mail:
        """Give another operator access to one or all of the requester's accounts (POST /api/share-account)."""
        provider, _ = self._verify_requester(session, email, password)
        if provider.admin_level != 1:
            raise BadRequest("only admins can share accounts")
        invitee_email = normalize_email(invitee)
        if self._public_url is None:
            raise NoPublicURL()
        provider_key = self._derive(password, provider.salt)  # type: ignore[arg-type]
        provided = [
            r
            for r in self._store.find_relationships_for_user(provider.account_user_id)
            if account_id is None or r.account_id == account_id
        ]
        if account_id is not None and not provided:
            raise Forbidden("you do not have access to this account")
        found = self._find_user(invitee_email)
        level = 1 if grant_admin else 0
        with self._store.transaction():
            if found is None:
                invitee_user = self._new_user(invitee_email, admin_level=level)
                self._store.insert_account_user(invitee_user)
                invitee_spelling = invitee_email
            else:
                invitee_user, invitee_spelling = found
                if invitee_user.account_user_id == provider.account_user_id:
                    raise BadRequest("you cannot invite yourself")
                # Offen set the level outright, demoting an admin invited
                # without the checkbox; an invitation only ever adds rights.
                if level > invitee_user.admin_level:
                    self._store.update_account_user(invitee_user.account_user_id, admin_level=level)
            existing = {
                r.account_id
                for r in self._store.find_relationships_for_user(
                    invitee_user.account_user_id, include_invitations=True
                )
            }
            invitee_key = self._derive(invitee_spelling, invitee_user.salt)
            added = []
            for relationship in provided:
                if relationship.account_id in existing:
                    continue
                kek = keys.decrypt_symmetric(provider_key, relationship.password_encrypted_key_encryption_key)
                self._store.insert_relationship(
                    Relationship(
                        relationship_id=ids.new_uuid(),
                        account_user_id=invitee_user.account_user_id,
                        account_id=relationship.account_id,
                        password_encrypted_key_encryption_key="",
                        email_encrypted_key_encryption_key=keys.encrypt_symmetric(invitee_key, kek),
                        one_time_encrypted_key_encryption_key="",
                    )
                )
                added.append(relationship.account_id)
            if not added:
                raise Conflict("user already has access to all requested accounts")
        names = sorted(a.name for a in self._store.all_accounts() if a.account_id in set(added))
        if found is not None and found[0].hashed_password:
            mail = Mail(
                to=invitee_email,
                subject="You have been added to additional accounts on Offen",
                body=(
                    "You have been given access to the following accounts:\n\n"
                    + "".join(f"- {name}\n" for name in names)
                    + f"\nLog in to see them: {self._public_url}/login/\n"
                ),
            )
        else:
            token = keys.sign("join", {"email": invitee_email}, self._secret, now)
            mail = Mail(
                to=invitee_email,
                subject="You have been invited to join Offen",
                body=(
                    "You have been invited to view the usage data of these accounts:\n\n"
                    + "".join(f"- {name}\n" for name in names)
                    + f"\nOpen this link within 7 days to accept and choose a password:\n{self._link('join', token)}\n"
                ),
            )
        self._mailer.send(mail.to, mail.subject, mail.body)
        return mail

    def join(self, email: object, password: object, token: object, now: datetime) -> None:
        """Accept an invitation: set a password and wrap every KEK under it (POST /api/join)."""
        value = self._read_token("join", token, INVITE_MAX_AGE, now)
        normalized = normalize_email(email)
        if not keys.constant_time_equals(str(value.get("email", "")), normalized):
            raise InvalidToken("this invitation was sent to another email address")
        password = validate_password(password)
        found = self._find_user(normalized)
        if found is None:
            raise InvalidToken("this invitation is no longer valid")
        user, spelling = found
        if user.hashed_password:
            raise BadRequest("this invitation has already been accepted; log in instead")
        email_key = self._derive(spelling, user.salt)
        password_key = self._derive(password, user.salt)
        with self._store.transaction():
            for relationship in self._store.find_relationships_for_user(
                user.account_user_id, include_invitations=True
            ):
                kek = _first_unwrap([email_key], relationship.email_encrypted_key_encryption_key)
                if kek is None:
                    continue
                self._store.update_relationship(
                    relationship.relationship_id,
                    password_encrypted_key_encryption_key=keys.encrypt_symmetric(password_key, kek),
                )
            self._store.update_account_user(user.account_user_id, hashed_password=keys.hash_secret(password))

    # -- accounts created by an operator -------------------------------------------

    def create_account(
        self, session: Session, name: object, email: object, password: object, now: datetime
    ) -> str:
        """A new account for the requesting admin only (POST /api/accounts)."""
        cleaned = accounts_domain.clean_account_name(name)
        user, normalized = self._verify_requester(session, email, password)
        if user.admin_level != 1:
            raise Forbidden("only admins can create accounts")
        accounts_domain.ensure_unique_name(self._store, cleaned)
        created = accounts_domain.new_account(cleaned, self._account_key_type, now)
        with self._store.transaction():
            self._store.insert_account(created.account)
            self._store.insert_relationship(
                self._relationship(
                    user, created.account.account_id, created.key_encryption_key, password, normalized
                )  # type: ignore[arg-type]
            )
        self._active_accounts.forget()
        return created.account.account_id


def _first_unwrap(candidate_keys: Iterable[bytes], wrapped: str) -> bytes | None:
    if not wrapped:
        return None
    for key in candidate_keys:
        try:
            return keys.decrypt_symmetric(key, wrapped)
        except CryptoError:
            continue
    return None


@functools.cache
def _dummy_hash() -> str:
    return keys.hash_secret(keys.random_bytes(16))


__all__ = ["Logins", "Session", "Mail", "NoPublicURL", "normalize_email", "validate_password", "Callable"]
