"""appliance.keys against independent vectors (tests/fixtures/vectors/, made by
make_vectors.py without keys.py), plus round trips, tampering and signing."""

from __future__ import annotations

import base64
import hmac
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from appliance import keys
from appliance.errors import CryptoError
from tests.keypool import rsa_keypair, x25519_keypair

VECTORS = Path(__file__).parent / "fixtures" / "vectors"
KEYS = Path(__file__).parent / "fixtures" / "keys"
NOW = datetime(2024, 5, 1, 10, 0, 0, 123000, tzinfo=UTC)


def load(name: str):
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


AES = load("aes_gcm.json")
ARGON = load("argon2.json")
RSA = load("rsa_oaep.json")
X25519 = load("x25519.json")
VISITORS = load("visitor_ids.json")
VERSIONED = load("versioned.json")


@pytest.fixture(autouse=True)
def pooled_account_keys() -> None:
    """Overrides the conftest fixture of the same name: this module tests the real key generator."""


# --------------------------------------------------------------------------- encodings


def test_random_bytes_length_and_variety():
    assert len(keys.random_bytes(0)) == 0
    assert len(keys.random_bytes(33)) == 33
    assert keys.random_bytes(16) != keys.random_bytes(16)
    with pytest.raises(ValueError):
        keys.random_bytes(-1)


@pytest.mark.parametrize("data", [b"", b"a", b"ab", b"abc", bytes(range(256))])
def test_base64_round_trips(data):
    assert keys.b64encode(data) == base64.b64encode(data).decode()
    assert keys.b64decode(keys.b64encode(data)) == data
    assert "=" not in keys.b64url_encode(data)
    assert keys.b64url_decode(keys.b64url_encode(data)) == data
    assert keys.b64url_decode(base64.urlsafe_b64encode(data).decode()) == data


def test_base64_is_lenient_about_padding_only():
    assert keys.b64decode("YWI") == b"ab"
    assert keys.b64decode("YWI=") == b"ab"
    assert keys.b64url_decode("-_8") == b"\xfb\xff"
    for junk in ["Y", "YW*j", "YW=j", "a b", "-_8="]:
        with pytest.raises(CryptoError):
            keys.b64decode(junk)
    for junk in ["+/8", "Y", "ab cd"]:
        with pytest.raises(CryptoError):
            keys.b64url_decode(junk)


# --------------------------------------------------------------------------- versioned strings


@pytest.mark.parametrize("case", VERSIONED["good"], ids=lambda c: c["value"])
def test_parse_versioned_vectors(case):
    algo, key_version, chunks = keys.parse_versioned(case["value"])
    assert algo == case["algo"]
    assert key_version == case["key_version"]
    assert [c.hex() for c in chunks] == case["chunks_hex"]


@pytest.mark.parametrize("value", VERSIONED["bad"], ids=repr)
def test_parse_versioned_rejects(value):
    with pytest.raises(CryptoError):
        keys.parse_versioned(value)


def test_serialize_versioned_round_trip_and_exact_text():
    assert keys.serialize_versioned(1, b"abc") == "{1,} YWJj"
    assert keys.serialize_versioned(2, b"abc", b"xyz", key_version="3") == "{2,3} YWJj eHl6"
    assert keys.parse_versioned(keys.serialize_versioned(7, b"\x00", b"\xff" * 40)) == (
        7,
        "",
        [b"\x00", b"\xff" * 40],
    )


@pytest.mark.parametrize(
    "args,kwargs",
    [((1,), {}), ((1, b""), {}), ((-1, b"a"), {}), ((True, b"a"), {}), ((1, b"a"), {"key_version": "x"})],
)
def test_serialize_versioned_refuses_what_cannot_be_parsed(args, kwargs):
    with pytest.raises(ValueError):
        keys.serialize_versioned(*args, **kwargs)


# --------------------------------------------------------------------------- AES-GCM


@pytest.mark.parametrize("case", AES["good"], ids=lambda c: c["name"])
def test_decrypt_symmetric_vectors(case):
    key = bytes.fromhex(case["key_hex"])
    assert keys.decrypt_symmetric(key, case["cipher"]) == case["plaintext"].encode()
    assert keys.key_from_symmetric_jwk(case["jwk"]) == key
    assert keys.symmetric_jwk(key) == case["jwk"]


@pytest.mark.parametrize("case", AES["bad_for_key_of_first"], ids=lambda c: c["why"])
def test_decrypt_symmetric_detects_tampering(case):
    key = bytes.fromhex(AES["good"][0]["key_hex"])
    with pytest.raises(CryptoError):
        keys.decrypt_symmetric(key, case["cipher"])


def test_decrypt_symmetric_wrong_key():
    case = AES["good"][0]
    with pytest.raises(CryptoError):
        keys.decrypt_symmetric(bytes(16), case["cipher"])


@pytest.mark.parametrize("size", [16, 24, 32])
def test_encrypt_symmetric_round_trip(size):
    key = keys.random_bytes(size)
    cipher = keys.encrypt_symmetric(key, b"payload \x00\xff")
    algo, _kv, (sealed, nonce) = keys.parse_versioned(cipher)
    assert algo == 1 and len(nonce) == 12 and len(sealed) == len(b"payload \x00\xff") + 16
    assert keys.decrypt_symmetric(key, cipher) == b"payload \x00\xff"
    assert keys.encrypt_symmetric(key, b"same") != keys.encrypt_symmetric(key, b"same")


@pytest.mark.parametrize("key", [b"", bytes(15), bytes(33)])
def test_bad_aes_key_sizes(key):
    with pytest.raises(CryptoError):
        keys.encrypt_symmetric(key, b"x")
    with pytest.raises(CryptoError):
        keys.symmetric_jwk(key)


@pytest.mark.parametrize(
    "jwk",
    [
        None,
        {},
        {"kty": "RSA", "k": "AAAA"},
        {"kty": "oct"},
        {"kty": "oct", "k": 5},
        {"kty": "oct", "k": "AAAA"},
    ],
)
def test_key_from_symmetric_jwk_rejects(jwk):
    with pytest.raises(CryptoError):
        keys.key_from_symmetric_jwk(jwk)


def test_key_from_symmetric_jwk_accepts_webcrypto_export():
    raw = keys.random_bytes(16)
    exported = {
        "alg": "A128GCM",
        "ext": True,
        "k": keys.b64url_encode(raw),
        "key_ops": ["encrypt"],
        "kty": "oct",
    }
    assert keys.key_from_symmetric_jwk(exported) == raw


# --------------------------------------------------------------------------- account keys


def test_account_key_type():
    assert keys.account_key_type(rsa_keypair()[0]) == keys.KEY_TYPE_RSA
    assert keys.account_key_type(x25519_keypair()[1]) == keys.KEY_TYPE_X25519
    for bad in [None, {}, {"kty": "EC", "crv": "P-256"}, {"kty": "OKP", "crv": "Ed25519"}, {"kty": "oct"}]:
        with pytest.raises(CryptoError):
            keys.account_key_type(bad)


def test_fixture_keys_have_the_documented_shape():
    for index in (1, 2):
        public, private = rsa_keypair(index)
        assert set(public) == {"kty", "n", "e"} and public["e"] == "AQAB"
        assert len(keys.b64url_decode(public["n"])) == 512
        assert set(private) == {"kty", "n", "e", "d", "p", "q", "dp", "dq", "qi"}
        public, private = x25519_keypair(index)
        assert set(public) == {"kty", "crv", "x"} and set(private) == {"kty", "crv", "x", "d"}
    assert rsa_keypair(1)[0] != rsa_keypair(2)[0]


def test_rsa_vector_unwraps():
    private = json.loads((KEYS / RSA["key_file"]).read_text())["private"]
    assert keys.unwrap_with_account_key(private, RSA["cipher"]) == RSA["plaintext"].encode()


@pytest.mark.parametrize("case", RSA["bad"], ids=lambda c: c["why"])
def test_rsa_rejects(case):
    private = json.loads((KEYS / RSA["key_file"]).read_text())["private"]
    with pytest.raises(CryptoError):
        keys.unwrap_with_account_key(private, case["cipher"])


def test_rsa_wrong_key_fails():
    with pytest.raises(CryptoError):
        keys.unwrap_with_account_key(rsa_keypair(2)[1], RSA["cipher"])


def test_rsa_wrap_is_readable_by_plain_oaep_sha256():
    public, private = rsa_keypair()
    cipher = keys.wrap_for_account(public, b'{"kty":"oct","k":"abc"}')
    algo, _kv, chunks = keys.parse_versioned(cipher)
    assert algo == 1 and len(chunks) == 1 and len(chunks[0]) == 512
    ints = {m: int.from_bytes(keys.b64url_decode(private[m]), "big") for m in private if m != "kty"}
    independent = rsa.RSAPrivateNumbers(
        ints["p"],
        ints["q"],
        ints["d"],
        ints["dp"],
        ints["dq"],
        ints["qi"],
        rsa.RSAPublicNumbers(ints["e"], ints["n"]),
    ).private_key()
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    assert independent.decrypt(chunks[0], oaep) == b'{"kty":"oct","k":"abc"}'
    assert keys.unwrap_with_account_key(private, cipher) == b'{"kty":"oct","k":"abc"}'


def test_rsa_private_key_without_crt_members_still_works():
    public, private = rsa_keypair()
    minimal = {m: private[m] for m in ("kty", "n", "e", "d")}
    assert keys.unwrap_with_account_key(minimal, keys.wrap_for_account(public, b"x")) == b"x"


def test_rsa_too_long_and_broken_keys():
    public, private = rsa_keypair()
    with pytest.raises(CryptoError):
        keys.wrap_for_account(public, bytes(500))
    with pytest.raises(CryptoError):
        keys.wrap_for_account({"kty": "RSA", "n": "AQAB"}, b"x")
    broken = dict(private, d="AQAB")
    with pytest.raises(CryptoError):
        keys.unwrap_with_account_key(broken, RSA["cipher"])


@pytest.mark.parametrize("case", X25519["good"], ids=lambda c: c["name"])
def test_x25519_vectors(case):
    assert (
        keys.unwrap_with_account_key(case["recipient_private_jwk"], case["cipher"])
        == case["plaintext"].encode()
    )
    # The deterministic core reproduces the vector byte for byte.
    made = keys._wrap_x25519(
        bytes.fromhex(case["recipient_public_hex"]),
        case["plaintext"].encode(),
        bytes.fromhex(case["ephemeral_private_hex"]),
        bytes.fromhex(case["nonce_hex"]),
    )
    assert made == case["cipher"]


def test_x25519_vector_uses_the_committed_key():
    case = X25519["good"][1]
    public, private = x25519_keypair(1)
    assert case["recipient_public_jwk"] == public
    assert case["recipient_private_jwk"] == private


@pytest.mark.parametrize("case", X25519["bad_for_first"], ids=lambda c: c["why"])
def test_x25519_rejects(case):
    private = X25519["good"][0]["recipient_private_jwk"]
    with pytest.raises(CryptoError):
        keys.unwrap_with_account_key(private, case["cipher"])


def test_x25519_round_trip_and_wrong_key():
    public, private = x25519_keypair(1)
    cipher = keys.wrap_for_account(public, b"user secret")
    algo, _kv, (sealed, nonce, eph) = keys.parse_versioned(cipher)
    assert algo == 2 and len(nonce) == 12 and len(eph) == 32 and len(sealed) == len(b"user secret") + 16
    assert keys.unwrap_with_account_key(private, cipher) == b"user secret"
    assert keys.wrap_for_account(public, b"user secret") != cipher
    with pytest.raises(CryptoError):
        keys.unwrap_with_account_key(x25519_keypair(2)[1], cipher)
    with pytest.raises(CryptoError):
        keys.unwrap_with_account_key(rsa_keypair()[1], cipher)


def test_x25519_refuses_inconsistent_or_low_order_keys():
    public, private = x25519_keypair(1)
    cipher = keys.wrap_for_account(public, b"x")
    with pytest.raises(CryptoError):
        keys.unwrap_with_account_key(dict(private, x=x25519_keypair(2)[0]["x"]), cipher)
    with pytest.raises(CryptoError):
        keys.wrap_for_account({"kty": "OKP", "crv": "X25519", "x": keys.b64url_encode(bytes(32))}, b"x")
    with pytest.raises(CryptoError):
        keys.wrap_for_account({"kty": "OKP", "crv": "X25519", "x": keys.b64url_encode(bytes(31))}, b"x")


def test_generate_x25519_keypair():
    public, private = keys.generate_account_keypair(keys.KEY_TYPE_X25519)
    assert public == {k: private[k] for k in ("kty", "crv", "x")}
    assert keys.unwrap_with_account_key(private, keys.wrap_for_account(public, b"hello")) == b"hello"
    assert keys.generate_account_keypair("x25519")[1]["d"] != private["d"]
    with pytest.raises(ValueError):
        keys.generate_account_keypair("dsa")


@pytest.mark.slow
def test_generate_rsa_keypair():
    public, private = keys.generate_account_keypair(keys.KEY_TYPE_RSA)
    assert public["kty"] == "RSA" and public["e"] == "AQAB"
    assert len(keys.b64url_decode(public["n"])) == 512
    assert all(re.fullmatch(r"[A-Za-z0-9_-]+", v) for k, v in private.items() if k != "kty")
    assert keys.unwrap_with_account_key(private, keys.wrap_for_account(public, b"hello")) == b"hello"


# --------------------------------------------------------------------------- Argon2id


@pytest.mark.parametrize(
    "case", ARGON["hashes"], ids=lambda c: f"v{c['version']}-p{c['threads']}-{c['value'][:8]}"
)
def test_compare_hash_vectors(case):
    threads = case["threads"] if case["version"] == 2 else None
    assert keys.compare_hash(case["value"], case["hashed"], v2_threads=threads)
    assert keys.compare_hash(case["value"].encode(), case["hashed"], v2_threads=threads)
    assert not keys.compare_hash(case["value"] + " ", case["hashed"], v2_threads=threads)
    assert keys.needs_rehash(case["hashed"]) is (case["version"] != 3)


def test_v2_hashes_depend_on_the_thread_count():
    case = next(c for c in ARGON["hashes"] if c["version"] == 2 and c["threads"] == 2)
    assert keys.compare_hash(case["value"], case["hashed"], v2_threads=2)
    assert not keys.compare_hash(case["value"], case["hashed"], v2_threads=1)


@pytest.mark.parametrize("case", ARGON["derive"], ids=lambda c: f"v{c['version']}-p{c['threads']}")
def test_derive_key_vectors(case):
    threads = case["threads"] if case["version"] == 2 else None
    assert keys.derive_key(case["value"], case["salt"], v2_threads=threads).hex() == case["key_hex"]


def test_hash_secret_is_v3_salted_and_verifiable():
    hashed = keys.hash_secret("s3cret-Password")
    assert re.fullmatch(r"\{3,\} \S+ \S+", hashed)
    _algo, _kv, (digest, salt) = keys.parse_versioned(hashed)
    assert len(digest) == 32 and len(salt) == 16
    assert keys.compare_hash("s3cret-Password", hashed)
    assert not keys.compare_hash("s3cret-password", hashed)
    assert not keys.needs_rehash(hashed)
    assert keys.hash_secret("s3cret-Password") != hashed


def test_kdf_salt_and_derive_key():
    salt = keys.new_kdf_salt()
    algo, _kv, (raw,) = keys.parse_versioned(salt)
    assert algo == 3 and len(raw) == 8
    key = keys.derive_key("pw", salt)
    assert len(key) == 32 and key == keys.derive_key(b"pw", salt)
    assert key != keys.derive_key("pw", keys.new_kdf_salt())


def test_hash_edge_cases():
    assert keys.compare_hash("anything", "") is False
    for bad in ["nonsense", "{3,} AAAA", "{9,} AAAAAAAAAAA= AAAAAAAAAAAAAAAAAAAAAA==", "{3,} AAAA AAAA"]:
        with pytest.raises(CryptoError):
            keys.compare_hash("x", bad)
    with pytest.raises(CryptoError):
        keys.derive_key("x", "{3,} AAAAAAAAAAA= AAAA")
    with pytest.raises(CryptoError):
        keys.derive_key("x", "{4,} AAAAAAAAAAA=")
    with pytest.raises(CryptoError):
        keys.needs_rehash("")


def test_secret_comparisons_are_constant_time(monkeypatch):
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    case = next(c for c in ARGON["hashes"] if c["version"] == 3)
    assert keys.compare_hash(case["value"], case["hashed"])
    assert len(calls) == 1
    assert keys.constant_time_equals("abc", b"abc") and not keys.constant_time_equals("abc", "abd")
    assert len(calls) == 3
    keys.unsign("ns", keys.sign("ns", 1, b"k" * 16, NOW), b"k" * 16, timedelta(hours=1), NOW)
    assert len(calls) == 4


# --------------------------------------------------------------------------- visitor ids


@pytest.mark.parametrize(
    "case", VISITORS, ids=lambda c: f"{c['user_id']}-{'legacy' if c.get('legacy') else 'v1'}"
)
def test_hash_visitor_id_vectors(case):
    assert keys.hash_visitor_id(case["user_id"], case["salt"]) == case["secret_id"]


def test_user_salt_and_visitor_hash():
    salt = keys.new_user_salt()
    algo, _kv, (raw,) = keys.parse_versioned(salt)
    assert algo == 1 and len(raw) == 16
    first = keys.hash_visitor_id("visitor", salt)
    assert re.fullmatch(r"[0-9a-f]{64}", first)
    assert first != keys.hash_visitor_id("visitor", keys.new_user_salt())
    for bad in ["{2,} AAAA", "{1,} AAAA AAAA", "", "***"]:
        with pytest.raises(CryptoError):
            keys.hash_visitor_id("visitor", bad)


# --------------------------------------------------------------------------- keyed lookups


def test_derive_subkey_matches_rfc5869_case_3():
    okm = keys.derive_subkey(bytes.fromhex("0b" * 22), "", 42)
    assert okm.hex() == (
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"
    )
    assert keys.derive_subkey(b"root", "email") != keys.derive_subkey(b"root", "throttle")
    assert len(keys.derive_subkey(b"root", "x", 16)) == 16


def test_keyed_digest_matches_rfc4231_case_2():
    digest = keys.keyed_digest(b"Jefe", "what do ya want for nothing?")
    assert digest == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    assert keys.keyed_digest(b"other", "what do ya want for nothing?") != digest


# --------------------------------------------------------------------------- signing


KEY = b"0123456789abcdef"


@pytest.mark.parametrize(
    "value", [None, 1, "text", {"token": "abc", "email": "Ä@example.com"}, [1, 2, {"a": None}], True]
)
def test_sign_round_trip(value):
    token = keys.sign("auth", value, KEY, NOW)
    assert re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", token)
    assert keys.unsign("auth", token, KEY, timedelta(days=1), NOW) == value


def test_unsign_expiry_and_clock_skew():
    token = keys.sign("reset", {"e": "a@b"}, KEY, NOW)
    day = timedelta(hours=24)
    assert keys.unsign("reset", token, KEY, day, NOW + day) == {"e": "a@b"}
    with pytest.raises(CryptoError):
        keys.unsign("reset", token, KEY, day, NOW + day + timedelta(milliseconds=1))
    assert keys.unsign("reset", token, KEY, day, NOW - timedelta(seconds=59)) == {"e": "a@b"}
    with pytest.raises(CryptoError):
        keys.unsign("reset", token, KEY, day, NOW - timedelta(seconds=61))


def test_unsign_rejects_forgeries():
    token = keys.sign("auth", {"user": "a"}, KEY, NOW)
    age = timedelta(hours=1)
    with pytest.raises(CryptoError):
        keys.unsign("invite", token, KEY, age, NOW)
    with pytest.raises(CryptoError):
        keys.unsign("auth", token, b"another key!!!!!", age, NOW)
    body, mac = token.split(".")
    forged_body = keys.b64url_encode(json.dumps({"t": 0, "v": {"user": "admin"}}).encode())
    for bad in [
        f"{forged_body}.{mac}",
        f"{body}.{mac[:-2]}AA",
        f"{body}.{keys.b64url_encode(bytes(32))}",
        body,
        f"{body}.{mac}.x",
        "",
        f"{body}.***",
    ]:
        with pytest.raises(CryptoError):
            keys.unsign("auth", bad, KEY, age, NOW)


def test_unsign_rejects_validly_signed_junk():
    sub = keys.derive_subkey(KEY, "offen/sign/auth")
    for body in [b"not json", b"[1,2]", b'{"v":1}', b'{"t":"1","v":1}']:
        encoded = keys.b64url_encode(body)
        mac = hmac.new(sub, encoded.encode(), "sha256").digest()
        with pytest.raises(CryptoError):
            keys.unsign("auth", f"{encoded}.{keys.b64url_encode(mac)}", KEY, timedelta(days=1), NOW)


def test_sign_refuses_unserialisable_values_and_empty_keys():
    with pytest.raises(TypeError):
        keys.sign("auth", object(), KEY, NOW)
    with pytest.raises(ValueError):
        keys.sign("auth", 1, b"", NOW)


# --------------------------------------------------------------------------- docs


def test_protocol_doc_quotes_the_vectors():
    doc = (Path(__file__).parent.parent / "docs" / "protocol.md").read_text(encoding="utf-8")
    example = X25519["good"][0]
    sealed = bytes.fromhex(example["ciphertext_and_tag_hex"])
    quoted = [
        example["recipient_private_hex"],
        example["recipient_public_hex"],
        example["recipient_private_jwk"]["d"],
        example["recipient_public_jwk"]["x"],
        example["ephemeral_private_hex"],
        example["ephemeral_public_hex"],
        example["shared_secret_hex"],
        example["hkdf_prk_hex"],
        example["aes_key_hex"],
        example["nonce_hex"],
        example["plaintext"],
        sealed[:-16].hex(),
        sealed[-16:].hex(),
        example["cipher"],
        AES["good"][0]["cipher"],
        AES["good"][0]["key_hex"],
        next(c for c in ARGON["hashes"] if c["version"] == 3)["hashed"],
        next(c for c in ARGON["derive"] if c["version"] == 3)["key_hex"],
        VISITORS[0]["secret_id"],
    ]
    missing = [value for value in quoted if value not in doc]
    assert not missing
