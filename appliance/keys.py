"""Pure cryptography: every byte format the appliance reads or writes.

This module owns the wire formats shared with the browser (versioned cipher
strings, AES-GCM, RSA-OAEP, the X25519 ``{2,}`` visitor-secret format, JWKs),
the Argon2id password/email hashing and key derivation of Offen (versions 1-3),
visitor-id hashing, and the appliance's own keyed lookups and signed tokens.
`docs/protocol.md` describes every format byte by byte.

It does no I/O and reads no configuration: keys, salts and the clock are passed
in. Anything that fails to parse, decrypt or verify raises
:class:`appliance.errors.CryptoError`; programming errors (wrong argument
types, unsupported key types asked for by code) raise ``ValueError``/``TypeError``.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
from datetime import UTC, datetime, timedelta

from argon2.exceptions import HashingError
from argon2.low_level import ARGON2_VERSION, Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from appliance.errors import CryptoError

# Each Argon2id run takes 16-64 MiB. Two at a time keep both cores busy on the
# small machines this runs on while bounding memory however many logins arrive
# together; the rest wait their turn (the login throttles bound how many wait).
_ARGON2_SLOTS = threading.BoundedSemaphore(2)

__all__ = [
    "KEY_TYPE_RSA",
    "KEY_TYPE_X25519",
    "account_key_type",
    "b64decode",
    "b64encode",
    "b64url_decode",
    "b64url_encode",
    "compare_hash",
    "constant_time_equals",
    "decrypt_symmetric",
    "derive_key",
    "derive_subkey",
    "encrypt_symmetric",
    "generate_account_keypair",
    "hash_secret",
    "hash_visitor_id",
    "key_from_symmetric_jwk",
    "keyed_digest",
    "needs_rehash",
    "new_kdf_salt",
    "new_user_salt",
    "parse_versioned",
    "random_bytes",
    "serialize_versioned",
    "sign",
    "symmetric_jwk",
    "unsign",
    "unwrap_with_account_key",
    "wrap_for_account",
]

KEY_TYPE_RSA = "rsa"
KEY_TYPE_X25519 = "x25519"

# Algo versions of versioned cipher strings (reference §2.2). The meaning of
# the number depends on the field the string is stored in.
_ALGO_AES_GCM = 1
_ALGO_RSA_OAEP = 1
_ALGO_X25519 = 2
_ALGO_SHA256_SALT = 1

_GCM_NONCE = 12
# Offen's forge fallback (plain-http host pages) always makes 16-byte nonces;
# those ciphertexts must stay readable.
_GCM_NONCES_ACCEPTED = (12, 16)
_GCM_TAG = 16

_RSA_BITS = 4096
_RSA_EXPONENT = 65537

# HKDF info of the {2,} X25519 visitor-secret format; part of the wire format.
_X25519_INFO = b"offen/visitor-secret/v2"
_X25519_LEN = 32

_HASH_LEN = 32
_HASH_SALT_LEN = 16
_KDF_SALT_LEN = 8
_USER_SALT_LEN = 16
_CURRENT_ARGON = 3
# (time_cost, memory_cost KiB, parallelism); parallelism None = the v2 thread count.
_ARGON_PARAMS: dict[int, tuple[int, int, int | None]] = {
    1: (1, 65536, 4),
    2: (4, 16384, None),
    3: (4, 16384, 4),
}

_SIGN_FUTURE_SKEW = timedelta(minutes=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_VERSIONED = re.compile(r"\{(\d+),(\d*)\}\s(.+)")
_B64_STD = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_B64_URL = re.compile(r"[A-Za-z0-9_-]*={0,2}")


# --------------------------------------------------------------------------- encodings


def random_bytes(n: int) -> bytes:
    """Return `n` bytes from the operating system's CSPRNG."""
    if n < 0:
        raise ValueError("n must not be negative")
    return secrets.token_bytes(n)


def b64encode(data: bytes) -> str:
    """Standard base64 with padding, as in the chunks of versioned strings."""
    return base64.b64encode(data).decode("ascii")


def _b64_decode(text: str, pattern: re.Pattern[str], altchars: bytes | None) -> bytes:
    if not isinstance(text, str) or not pattern.fullmatch(text):
        raise CryptoError("The value is not valid base64.")
    stripped = text.rstrip("=")
    # Lenient about padding: Offen's forge code and some JWK producers drop it.
    padded = stripped + "=" * (-len(stripped) % 4)
    try:
        return base64.b64decode(padded, altchars=altchars, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CryptoError("The value is not valid base64.") from exc


def b64decode(text: str) -> bytes:
    """Decode standard base64; missing padding is tolerated, other junk is not."""
    return _b64_decode(text, _B64_STD, None)


def b64url_encode(data: bytes) -> str:
    """Base64url without padding (JWK members, RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def b64url_decode(text: str) -> bytes:
    """Decode base64url, with or without padding."""
    return _b64_decode(text, _B64_URL, b"-_")


# --------------------------------------------------------------------------- versioned strings


def serialize_versioned(algo: int, *chunks: bytes, key_version: str = "") -> str:
    """Build ``{algo,key_version} <b64> <b64> ...`` (reference §2.2)."""
    if isinstance(algo, bool) or not isinstance(algo, int) or algo < 0:
        raise ValueError("algo must be a non-negative integer")
    if not re.fullmatch(r"\d*", key_version):
        raise ValueError("key_version must be digits or empty")
    if not chunks or any(not chunk for chunk in chunks):
        # An empty chunk would serialise to a double space, which no Offen
        # client produces and parse_versioned rejects.
        raise ValueError("at least one chunk, none of them empty")
    return f"{{{algo},{key_version}}} " + " ".join(b64encode(chunk) for chunk in chunks)


def parse_versioned(value: str) -> tuple[int, str, list[bytes]]:
    """Split a versioned string into (algo, key_version, decoded chunks).

    Follows Offen's regex ``^{(\\d+?),(\\d*?)}\\s(.+)`` but matches the whole
    value (no trailing newline or garbage) and rejects empty chunks.
    """
    if not isinstance(value, str):
        raise CryptoError("The value is not a versioned cipher string.")
    match = _VERSIONED.fullmatch(value)
    if not match:
        raise CryptoError("The value is not a versioned cipher string.")
    parts = match.group(3).split(" ")
    if any(not part for part in parts):
        raise CryptoError("The versioned cipher string has an empty chunk.")
    return int(match.group(1)), match.group(2), [b64decode(part) for part in parts]


def _expect(value: str, algo: int, count: int) -> list[bytes]:
    found, _key_version, chunks = parse_versioned(value)
    if found != algo:
        raise CryptoError(f"Unsupported algorithm version {found}.")
    if len(chunks) != count:
        raise CryptoError("The versioned cipher string has the wrong number of chunks.")
    return chunks


# --------------------------------------------------------------------------- AES-GCM


def _aesgcm(key: bytes) -> AESGCM:
    if not isinstance(key, bytes | bytearray) or len(key) not in (16, 24, 32):
        raise CryptoError("An AES key must be 16, 24 or 32 bytes long.")
    return AESGCM(bytes(key))


def encrypt_symmetric(key: bytes, plaintext: bytes) -> str:
    """AES-GCM with a fresh 12-byte nonce, no AAD: ``{1,} <ct+tag> <nonce>``."""
    nonce = random_bytes(_GCM_NONCE)
    return serialize_versioned(_ALGO_AES_GCM, _aesgcm(key).encrypt(nonce, bytes(plaintext), None), nonce)


def decrypt_symmetric(key: bytes, cipher: str) -> bytes:
    """Open ``{1,} <ct+tag> <nonce>``; 12- and 16-byte nonces are accepted."""
    aead = _aesgcm(key)
    sealed, nonce = _expect(cipher, _ALGO_AES_GCM, 2)
    if len(nonce) not in _GCM_NONCES_ACCEPTED or len(sealed) < _GCM_TAG:
        raise CryptoError("The ciphertext is malformed.")
    try:
        return aead.decrypt(nonce, sealed, None)
    except InvalidTag as exc:
        raise CryptoError() from exc


def symmetric_jwk(key: bytes) -> dict:
    """The ``{"kty": "oct", "k": ...}`` JWK the browser imports (login's keyEncryptionKey)."""
    _aesgcm(key)
    return {"kty": "oct", "k": b64url_encode(bytes(key))}


def key_from_symmetric_jwk(jwk: dict) -> bytes:
    """Raw key bytes of an ``oct`` JWK (also WebCrypto's exported user secrets)."""
    if not isinstance(jwk, dict) or jwk.get("kty") != "oct" or not isinstance(jwk.get("k"), str):
        raise CryptoError("The value is not a symmetric JWK.")
    key = b64url_decode(jwk["k"])
    _aesgcm(key)
    return key


# --------------------------------------------------------------------------- account key pairs


def _int_to_b64url(value: int, length: int | None = None) -> str:
    size = length if length is not None else max(1, (value.bit_length() + 7) // 8)
    return b64url_encode(value.to_bytes(size, "big"))


def _b64url_to_int(jwk: dict, member: str) -> int:
    text = jwk.get(member)
    if not isinstance(text, str) or not text:
        raise CryptoError(f"The key lacks the member {member!r}.")
    return int.from_bytes(b64url_decode(text), "big")


def generate_account_keypair(key_type: str) -> tuple[dict, dict]:
    """Make a new account key pair as (public JWK, private JWK).

    rsa: RSA-4096, e=65537 (what Offen's clients speak); x25519: RFC 8037 OKP.
    """
    if key_type == KEY_TYPE_RSA:
        key = rsa.generate_private_key(public_exponent=_RSA_EXPONENT, key_size=_RSA_BITS)
        priv = key.private_numbers()
        pub = priv.public_numbers
        size = (key.key_size + 7) // 8
        public = {"kty": "RSA", "n": _int_to_b64url(pub.n, size), "e": _int_to_b64url(pub.e)}
        private = dict(public)
        private.update(
            d=_int_to_b64url(priv.d),
            p=_int_to_b64url(priv.p),
            q=_int_to_b64url(priv.q),
            dp=_int_to_b64url(priv.dmp1),
            dq=_int_to_b64url(priv.dmq1),
            qi=_int_to_b64url(priv.iqmp),
        )
        return public, private
    if key_type == KEY_TYPE_X25519:
        secret = X25519PrivateKey.generate()
        raw_priv = secret.private_bytes_raw()
        raw_pub = secret.public_key().public_bytes_raw()
        public = {"kty": "OKP", "crv": "X25519", "x": b64url_encode(raw_pub)}
        private = dict(public, d=b64url_encode(raw_priv))
        return public, private
    raise ValueError(f"unknown account key type {key_type!r}")


def account_key_type(jwk: dict) -> str:
    """``"rsa"`` or ``"x25519"`` from a JWK's kty/crv; CryptoError for anything else."""
    if isinstance(jwk, dict):
        if jwk.get("kty") == "RSA":
            return KEY_TYPE_RSA
        if jwk.get("kty") == "OKP" and jwk.get("crv") == "X25519":
            return KEY_TYPE_X25519
    raise CryptoError("The value is not a supported account key.")


def _oaep() -> padding.OAEP:
    return padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def _rsa_public(jwk: dict) -> rsa.RSAPublicKey:
    try:
        return rsa.RSAPublicNumbers(_b64url_to_int(jwk, "e"), _b64url_to_int(jwk, "n")).public_key()
    except ValueError as exc:
        raise CryptoError("The RSA public key is invalid.") from exc


@functools.lru_cache(maxsize=8)
def _rsa_private_cached(members: tuple[tuple[str, str], ...]) -> rsa.RSAPrivateKey:
    # Validating an RSA-4096 private key costs ~0.25 s; operators' keys are
    # loaded repeatedly (demo data, tests), so the checked key object is cached
    # by its exact JWK members.
    jwk = dict(members)
    n, e, d = (_b64url_to_int(jwk, m) for m in ("n", "e", "d"))
    try:
        if "p" in jwk and "q" in jwk:
            p, q = _b64url_to_int(jwk, "p"), _b64url_to_int(jwk, "q")
        else:
            p, q = rsa.rsa_recover_prime_factors(n, e, d)
        dp = _b64url_to_int(jwk, "dp") if "dp" in jwk else rsa.rsa_crt_dmp1(d, p)
        dq = _b64url_to_int(jwk, "dq") if "dq" in jwk else rsa.rsa_crt_dmq1(d, q)
        qi = _b64url_to_int(jwk, "qi") if "qi" in jwk else rsa.rsa_crt_iqmp(p, q)
        numbers = rsa.RSAPrivateNumbers(p, q, d, dp, dq, qi, rsa.RSAPublicNumbers(e, n))
        return numbers.private_key()
    except ValueError as exc:
        raise CryptoError("The RSA private key is invalid.") from exc


def _rsa_private(jwk: dict) -> rsa.RSAPrivateKey:
    members = ("n", "e", "d", "p", "q", "dp", "dq", "qi")
    values = tuple((m, jwk[m]) for m in members if m in jwk)
    if any(not isinstance(v, str) for _, v in values):
        raise CryptoError("The RSA private key is invalid.")
    return _rsa_private_cached(values)


def _x25519_raw(jwk: dict, member: str) -> bytes:
    text = jwk.get(member)
    raw = b64url_decode(text) if isinstance(text, str) else b""
    if len(raw) != _X25519_LEN:
        raise CryptoError(f"The X25519 key member {member!r} must be 32 bytes.")
    return raw


def _x25519_key(shared: bytes, eph_pub: bytes, recipient_pub: bytes) -> bytes:
    # Both public keys go into the HKDF salt so the AES key is bound to this
    # exact pair (no key-compromise games with substituted public keys).
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=eph_pub + recipient_pub, info=_X25519_INFO).derive(
        shared
    )


def _x25519_exchange(private: X25519PrivateKey, public_raw: bytes) -> bytes:
    try:
        shared = private.exchange(X25519PublicKey.from_public_bytes(public_raw))
    except ValueError as exc:
        # cryptography refuses all-zero results (low-order public points).
        raise CryptoError("The X25519 public key is not usable.") from exc
    if not any(shared):
        raise CryptoError("The X25519 public key is not usable.")
    return shared


def _wrap_x25519(recipient_pub: bytes, plaintext: bytes, eph_private: bytes, nonce: bytes) -> str:
    """Deterministic core of the {2,} format; the randomness is passed in (test vectors)."""
    eph = X25519PrivateKey.from_private_bytes(eph_private)
    eph_pub = eph.public_key().public_bytes_raw()
    key = _x25519_key(_x25519_exchange(eph, recipient_pub), eph_pub, recipient_pub)
    sealed = AESGCM(key).encrypt(nonce, plaintext, None)
    return serialize_versioned(_ALGO_X25519, sealed, nonce, eph_pub)


def _unwrap_x25519(private_jwk: dict, cipher: str) -> bytes:
    sealed, nonce, eph_pub = _expect(cipher, _ALGO_X25519, 3)
    if len(nonce) != _GCM_NONCE or len(eph_pub) != _X25519_LEN or len(sealed) < _GCM_TAG:
        raise CryptoError("The ciphertext is malformed.")
    private = X25519PrivateKey.from_private_bytes(_x25519_raw(private_jwk, "d"))
    recipient_pub = private.public_key().public_bytes_raw()
    if "x" in private_jwk and not hmac.compare_digest(_x25519_raw(private_jwk, "x"), recipient_pub):
        raise CryptoError("The X25519 private key does not match its public part.")
    key = _x25519_key(_x25519_exchange(private, eph_pub), eph_pub, recipient_pub)
    try:
        return AESGCM(key).decrypt(nonce, sealed, None)
    except InvalidTag as exc:
        raise CryptoError() from exc


def wrap_for_account(public_jwk: dict, plaintext: bytes) -> str:
    """Encrypt a visitor secret (or any short value) to an account's public key.

    RSA keys give ``{1,} <RSA-OAEP-SHA256 ct>``; X25519 keys give
    ``{2,} <ct+tag> <nonce> <ephemeral public key>`` (docs/protocol.md).
    """
    key_type = account_key_type(public_jwk)
    if key_type == KEY_TYPE_RSA:
        try:
            sealed = _rsa_public(public_jwk).encrypt(bytes(plaintext), _oaep())
        except ValueError as exc:
            raise CryptoError("The value is too long for this key.") from exc
        return serialize_versioned(_ALGO_RSA_OAEP, sealed)
    return _wrap_x25519(
        _x25519_raw(public_jwk, "x"), bytes(plaintext), random_bytes(_X25519_LEN), random_bytes(_GCM_NONCE)
    )


def unwrap_with_account_key(private_jwk: dict, cipher: str) -> bytes:
    """Decrypt what wrap_for_account made, dispatching on algo version and key type."""
    key_type = account_key_type(private_jwk)
    if key_type == KEY_TYPE_RSA:
        (sealed,) = _expect(cipher, _ALGO_RSA_OAEP, 1)
        try:
            return _rsa_private(private_jwk).decrypt(sealed, _oaep())
        except ValueError as exc:
            raise CryptoError() from exc
    return _unwrap_x25519(private_jwk, cipher)


# --------------------------------------------------------------------------- Argon2id


def _as_bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def _argon2(value: str | bytes, salt: bytes, version: int, v2_threads: int | None) -> bytes:
    if version not in _ARGON_PARAMS:
        raise CryptoError(f"Unsupported hash version {version}.")
    time_cost, memory_cost, parallelism = _ARGON_PARAMS[version]
    if parallelism is None:
        # Version 2 used the server's CPU count, so its hashes only verify with
        # the same count (Offen issue #506); OFFEN_ARGONNUMCPUOVERRIDE maps here.
        parallelism = v2_threads if v2_threads is not None else (os.cpu_count() or 1)
    try:
        with _ARGON2_SLOTS:
            return hash_secret_raw(
                _as_bytes(value),
                salt,
                time_cost=time_cost,
                memory_cost=memory_cost,
                parallelism=parallelism,
                hash_len=_HASH_LEN,
                type=Type.ID,
                version=ARGON2_VERSION,
            )
    except HashingError as exc:
        raise CryptoError("The value could not be hashed.") from exc


def hash_secret(value: str | bytes) -> str:
    """Argon2id v3 hash of a password or email: ``{3,} <32-byte hash> <16-byte salt>``."""
    salt = random_bytes(_HASH_SALT_LEN)
    return serialize_versioned(_CURRENT_ARGON, _argon2(value, salt, _CURRENT_ARGON, None), salt)


def compare_hash(value: str | bytes, hashed: str, *, v2_threads: int | None = None) -> bool:
    """True when `value` matches a stored ``{v,} <hash> <salt>``; compared in constant time.

    An empty `hashed` (an invitee who has not chosen a password yet) never
    matches; a malformed one raises CryptoError.
    """
    if hashed == "":
        return False
    version, _key_version, chunks = parse_versioned(hashed)
    if len(chunks) != 2:
        raise CryptoError("The stored hash is malformed.")
    expected, salt = chunks
    return hmac.compare_digest(_argon2(value, salt, version, v2_threads), expected)


def needs_rehash(hashed: str) -> bool:
    """True unless the stored hash already uses the current version (3)."""
    version, _key_version, _chunks = parse_versioned(hashed)
    return version != _CURRENT_ARGON


def new_kdf_salt() -> str:
    """A new account user's key-derivation salt: ``{3,} <8 bytes>``."""
    return serialize_versioned(_CURRENT_ARGON, random_bytes(_KDF_SALT_LEN))


def derive_key(value: str | bytes, salt: str, *, v2_threads: int | None = None) -> bytes:
    """32-byte AES key from a password/email with Argon2id at the salt's version."""
    version, _key_version, chunks = parse_versioned(salt)
    if len(chunks) != 1:
        raise CryptoError("The salt is malformed.")
    return _argon2(value, chunks[0], version, v2_threads)


# --------------------------------------------------------------------------- visitor ids


def new_user_salt() -> str:
    """A new account's visitor-id salt: ``{1,} <16 bytes>``."""
    return serialize_versioned(_ALGO_SHA256_SALT, random_bytes(_USER_SALT_LEN))


def hash_visitor_id(user_id: str, user_salt: str) -> str:
    """Secret id of a visitor: hex SHA-256 of the id's bytes followed by the account salt.

    Byte-identical to Offen's HashFast so stored secret ids stay valid. Salts
    written before Offen's migration 003 are plain base64 without ``{1,}``.
    """
    return hashlib.sha256(user_id.encode("utf-8") + _account_salt(user_salt)).hexdigest()


@functools.lru_cache(maxsize=4096)
def _account_salt(user_salt: str) -> bytes:
    # Decoded once per account: every collected event hashes a visitor id with it.
    if user_salt.startswith("{"):
        (salt,) = _expect(user_salt, _ALGO_SHA256_SALT, 1)
    else:
        salt = b64decode(user_salt)
    if not salt:
        raise CryptoError("The account salt is empty.")
    return salt


# --------------------------------------------------------------------------- keyed lookups, signing


def derive_subkey(secret: bytes, purpose: str, length: int = 32) -> bytes:
    """HKDF-SHA256 (no salt, info = purpose) so one root secret serves many uses."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=purpose.encode("utf-8")).derive(
        bytes(secret)
    )


def keyed_digest(key: bytes, value: str) -> str:
    """HMAC-SHA256 hex of `value`: deterministic lookup keys that reveal nothing without `key`."""
    return hmac.new(bytes(key), value.encode("utf-8"), hashlib.sha256).hexdigest()


def constant_time_equals(a: str | bytes, b: str | bytes) -> bool:
    """Compare secrets without leaking the position of the first difference."""
    return hmac.compare_digest(_as_bytes(a), _as_bytes(b))


def _epoch_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        # The app's clock is aware UTC; naive values can only be UTC here.
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def _sign_key(namespace: str, key: bytes) -> bytes:
    if not key:
        raise ValueError("the signing key must not be empty")
    # A key per namespace: a token made for one purpose (say a reset link)
    # never verifies as another (say an auth cookie).
    return derive_subkey(key, "offen/sign/" + namespace)


def sign(namespace: str, value: object, key: bytes, now: datetime) -> str:
    """A URL-safe token ``<b64url(JSON)>.<b64url(HMAC-SHA256)>`` carrying `value` and `now`.

    The value is readable by anyone holding the token (signed, not encrypted).
    """
    body = json.dumps({"t": _epoch_ms(now), "v": value}, separators=(",", ":"), sort_keys=True)
    encoded = b64url_encode(body.encode("utf-8"))
    mac = hmac.new(_sign_key(namespace, key), encoded.encode("ascii"), hashlib.sha256).digest()
    return f"{encoded}.{b64url_encode(mac)}"


def unsign(namespace: str, token: str, key: bytes, max_age: timedelta, now: datetime) -> object:
    """The value of a token from sign(); CryptoError when forged, for another
    namespace, older than `max_age` or more than a minute in the future."""
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 2:
        raise CryptoError("The token is malformed.")
    encoded, mac_text = parts
    expected = hmac.new(
        _sign_key(namespace, key), encoded.encode("ascii", "replace"), hashlib.sha256
    ).digest()
    if not hmac.compare_digest(b64url_decode(mac_text), expected):
        raise CryptoError("The token signature is not valid.")
    try:
        body = json.loads(b64url_decode(encoded))
    except (ValueError, UnicodeDecodeError) as exc:
        raise CryptoError("The token is malformed.") from exc
    if not isinstance(body, dict) or not isinstance(body.get("t"), int) or "v" not in body:
        raise CryptoError("The token is malformed.")
    age_ms = _epoch_ms(now) - body["t"]
    if age_ms > max_age // timedelta(milliseconds=1):
        raise CryptoError("The token has expired.")
    if -age_ms > _SIGN_FUTURE_SKEW // timedelta(milliseconds=1):
        raise CryptoError("The token is from the future.")
    return body["v"]
