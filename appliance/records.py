"""Plain records that cross the layers: one dataclass per stored row.

Field names follow Offen 1.4's column names (reference §4.1) so that a row
read from an Offen database maps one to one. Records hold ciphertext and
hashes only; nothing here is ever a plaintext key or usage datum.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Account:
    account_id: str
    name: str
    public_key: str  # JSON of the public JWK (RSA `{kty,n,e}` or X25519 `{kty:OKP,crv,x}`)
    encrypted_private_key: str  # versioned AES-GCM ciphertext under the account KEK
    user_salt: str  # versioned `{1,} <16 bytes>`
    retired: bool
    account_styles: str
    created: datetime


@dataclass(frozen=True)
class AccountUser:
    account_user_id: str
    hashed_email: str
    hashed_password: str  # empty for invitees who have not joined yet
    salt: str  # versioned `{3,} <8 bytes>` KDF salt
    admin_level: int  # 1 = super admin, 0 = none
    # Keyed lookup of the normalised email (HMAC, never the email itself).
    # None for users written by Offen that have not logged in here yet.
    email_lookup: str | None = None


@dataclass(frozen=True)
class Relationship:
    relationship_id: str
    account_user_id: str
    account_id: str
    password_encrypted_key_encryption_key: str
    email_encrypted_key_encryption_key: str
    one_time_encrypted_key_encryption_key: str


@dataclass(frozen=True)
class Secret:
    secret_id: str
    encrypted_secret: str


@dataclass(frozen=True)
class Event:
    event_id: str
    sequence: str
    account_id: str
    secret_id: str | None
    payload: str


@dataclass(frozen=True)
class Tombstone:
    event_id: str
    account_id: str
    secret_id: str | None
    sequence: str
