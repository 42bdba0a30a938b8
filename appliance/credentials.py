"""Domain: operators' credentials — finding a user by email, verifying, deriving and re-wrapping keys.

Key hierarchy (reference §2.3): each account's key-encryption key (KEK) is
stored wrapped under keys derived (Argon2id) from the operator's password and
from their email address, and, while a reset is pending, under a one-time key.
The KEK exists in memory only for the duration of one request.

Fixes over Offen 1.4, protocol unchanged: emails are trimmed and matched
case-insensitively through a keyed lookup column (HMAC under a key derived
from OFFEN_SECRET), so finding a user is one indexed query instead of an
Argon2 comparison per operator; users written by Offen keep their exact
original spelling until their first login here, which re-hashes, re-wraps and
indexes them (`upgrade_user`).
"""

from __future__ import annotations

import functools
import random
from collections.abc import Iterable
from dataclasses import replace

from appliance import ids, keys
from appliance.errors import BadCredentials, BadRequest, CryptoError
from appliance.records import AccountUser, Relationship
from appliance.store import Store

MIN_PASSWORD_BYTES = 8
MAX_PASSWORD_BYTES = 64
_LOOKUP_META = "email_lookup_key_id"

PASSWORD_WRAP = "password_encrypted_key_encryption_key"
EMAIL_WRAP = "email_encrypted_key_encryption_key"
ONE_TIME_WRAP = "one_time_encrypted_key_encryption_key"


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


def first_unwrap(candidate_keys: Iterable[bytes], wrapped: str) -> bytes | None:
    """The KEK inside `wrapped`, opened with the first key that fits, or None."""
    if not wrapped:
        return None
    for key in candidate_keys:
        try:
            return keys.decrypt_symmetric(key, wrapped)
        except CryptoError:
            continue
    return None


def rewrap(
    store: Store,
    relationships: Iterable[Relationship],
    *,
    source: str,
    unwrap_keys: list[bytes],
    target: str,
    wrap_key: bytes,
    clear_source: bool = False,
) -> list[Relationship]:
    """Wrap each relationship's KEK, opened from its `source` wrap, under `wrap_key` into `target`.

    Relationships whose source wrap is absent or does not open are left
    alone. Call inside a transaction; returns the updated relationships.
    """
    updated = []
    for relationship in relationships:
        kek = first_unwrap(unwrap_keys, getattr(relationship, source))
        if kek is None:
            continue
        changes = {target: keys.encrypt_symmetric(wrap_key, kek)}
        if clear_source:
            changes[source] = ""
        store.update_relationship(relationship.relationship_id, **changes)
        updated.append(replace(relationship, **changes))
    return updated


class Credentials:
    """Operator lookup and key derivation, bound to one store and OFFEN_SECRET."""

    def __init__(self, store: Store, *, secret: bytes, v2_threads: int | None = None) -> None:
        self._store = store
        self._lookup_key = keys.derive_subkey(secret, "offen/email-lookup")
        self._v2_threads = v2_threads

    # -- the keyed lookup of normalised emails -----------------------------------

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

    def lookup(self, normalized_email: str) -> str:
        return keys.keyed_digest(self._lookup_key, normalized_email)

    def find_user(self, email: str) -> tuple[AccountUser, str] | None:
        """The account user for an email and the spelling their key wraps were made with."""
        normalized = normalize_email(email)
        for user in self._store.find_account_users_by_lookup(self.lookup(normalized)):
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

    def email_in_use(self, normalized: str, exclude_user_id: str) -> bool:
        others = [
            user
            for user in self._store.find_account_users_by_lookup(self.lookup(normalized))
            if user.account_user_id != exclude_user_id
        ]
        return bool(others) or any(
            keys.compare_hash(normalized, user.hashed_email, v2_threads=self._v2_threads)
            for user in self._store.find_account_users_without_lookup()
            if user.account_user_id != exclude_user_id
        )

    # -- verifying and deriving ----------------------------------------------------

    def derive(self, value: str, salt: str) -> bytes:
        return keys.derive_key(value, salt, v2_threads=self._v2_threads)

    def check_password(self, user: AccountUser, password: str) -> None:
        if not user.hashed_password or not keys.compare_hash(
            password, user.hashed_password, v2_threads=self._v2_threads
        ):
            raise BadCredentials()

    def spend_password_check_time(self, password: str) -> None:
        """Take as long as a password check, so failures do not tell which emails exist."""
        keys.compare_hash(password, _dummy_hash())

    def verify(self, email: object, password: object) -> tuple[AccountUser, str]:
        """The user these credentials belong to, brought up to date, and their normalised email."""
        if not isinstance(email, str) or not email or not isinstance(password, str) or not password:
            raise BadRequest("an email address and a password must be given")
        found = self.find_user(email)
        if found is None:
            self.spend_password_check_time(password)
            raise BadCredentials()
        user, spelling = found
        self.check_password(user, password)
        return self.upgrade_user(user, spelling, password), normalize_email(spelling)

    # -- new users and their key wraps ------------------------------------------------

    def new_user(self, email: str, admin_level: int, password: str | None = None) -> AccountUser:
        normalized = normalize_email(email)
        return AccountUser(
            account_user_id=ids.new_uuid(),
            hashed_email=keys.hash_secret(normalized),
            hashed_password=keys.hash_secret(password) if password else "",
            salt=keys.new_kdf_salt(),
            admin_level=admin_level,
            email_lookup=self.lookup(normalized),
        )

    def new_relationship(
        self, user: AccountUser, account_id: str, kek: bytes, password: str | None, email: str
    ) -> Relationship:
        """The user's access to an account: the KEK wrapped under their email key (and password key)."""
        return Relationship(
            relationship_id=ids.new_uuid(),
            account_user_id=user.account_user_id,
            account_id=account_id,
            password_encrypted_key_encryption_key=(
                keys.encrypt_symmetric(self.derive(password, user.salt), kek) if password else ""
            ),
            email_encrypted_key_encryption_key=keys.encrypt_symmetric(self.derive(email, user.salt), kek),
            one_time_encrypted_key_encryption_key="",
        )

    def upgrade_user(self, user: AccountUser, spelling: str, password: str) -> AccountUser:
        """Bring a user written by Offen (or hashed with an old Argon2 version) up to date.

        Re-hashes email and password with the current Argon2 version, moves
        the KDF salt to the current version and re-wraps every KEK under keys
        derived from the normalised email and the password; then indexes the
        user by the keyed lookup of their normalised email.
        """
        normalized = normalize_email(spelling)
        lookup = self.lookup(normalized)
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
        old_email_keys = [
            self.derive(candidate, user.salt) for candidate in dict.fromkeys([spelling, normalized])
        ]
        with self._store.transaction():
            relationships = self._store.find_relationships_for_user(
                user.account_user_id, include_invitations=True
            )
            rewrap(
                self._store,
                relationships,
                source=PASSWORD_WRAP,
                unwrap_keys=[self.derive(password, user.salt)],
                target=PASSWORD_WRAP,
                wrap_key=self.derive(password, new_salt),
            )
            rewrap(
                self._store,
                relationships,
                source=EMAIL_WRAP,
                unwrap_keys=old_email_keys,
                target=EMAIL_WRAP,
                wrap_key=self.derive(normalized, new_salt),
            )
            fields = {
                "hashed_email": keys.hash_secret(normalized),
                "hashed_password": keys.hash_secret(password),
                "salt": new_salt,
                "email_lookup": lookup,
            }
            self._store.update_account_user(user.account_user_id, **fields)
        return replace(user, **fields)


@functools.cache
def _dummy_hash() -> str:
    return keys.hash_secret(keys.random_bytes(16))
