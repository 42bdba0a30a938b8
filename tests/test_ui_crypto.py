"""Interop of the browser crypto (ui/vault/crypto.js, crypto-fallback.js) with appliance/keys.py.

Drives both JavaScript implementations through ui/tests/interop-cli.mjs in a real Node process:
what the browser writes, the server reads, and the other way round, for RSA and X25519 accounts.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from appliance import keys
from appliance.errors import CryptoError

ROOT = Path(__file__).resolve().parent.parent
CLI = ROOT / "ui" / "tests" / "interop-cli.mjs"
KEYS = Path(__file__).parent / "fixtures" / "keys"
NODE = shutil.which("node")
IMPLS = ("webcrypto", "fallback")
KEY_FILES = {"rsa": "rsa-1.json", "x25519": "x25519-1.json"}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(NODE is None, reason="node is not installed (make deps installs nodejs)"),
]


def account(key_type: str) -> dict:
    return json.loads((KEYS / KEY_FILES[key_type]).read_text(encoding="utf-8"))


def run_js(ops: list[dict]) -> list[dict]:
    """Run a batch of operations in one Node process; one result (value or error) per op."""
    proc = subprocess.run(
        [NODE, str(CLI)],
        input=json.dumps({"ops": ops}),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)["results"]
    assert len(results) == len(ops)
    return results


def values(results: list[dict]) -> list:
    errors = [r["error"] for r in results if "error" in r]
    assert not errors, errors
    return [r["value"] for r in results]


# --------------------------------------------------------------------------- (a) JS writes, Python reads


@pytest.mark.parametrize("key_type", sorted(KEY_FILES))
def test_js_wraps_and_encrypts_python_reads(key_type):
    pair = account(key_type)
    secrets = values(run_js([{"op": "createUserSecret", "impl": impl} for impl in IMPLS]))
    assert secrets[0]["alg"] == "A128GCM" and set(secrets[1]) == {"kty", "k"}
    event = {"type": "PAGEVIEW", "href": "https://www.site.test/ä?x=1", "referrer": "", "pageload": 12}
    ops = []
    for impl, secret in zip(IMPLS, secrets, strict=True):
        ops.append({"op": "wrap", "impl": impl, "publicJwk": pair["public"], "secretJwk": secret})
        ops.append({"op": "encrypt", "impl": impl, "key": secret, "value": event})
    out = values(run_js(ops))
    for i, secret in enumerate(secrets):
        wrapped, cipher = out[2 * i], out[2 * i + 1]
        algo, _, chunks = keys.parse_versioned(wrapped)
        assert algo == (1 if key_type == "rsa" else 2)
        unwrapped = json.loads(keys.unwrap_with_account_key(pair["private"], wrapped))
        assert unwrapped == secret
        raw = keys.key_from_symmetric_jwk(unwrapped)
        assert len(raw) == 16
        assert len(keys.parse_versioned(cipher)[2][1]) == 12
        assert json.loads(keys.decrypt_symmetric(raw, cipher)) == event


def test_js_tampered_output_is_refused_by_python():
    pair = account("x25519")
    secret = {"kty": "oct", "k": keys.b64url_encode(keys.random_bytes(16))}
    ops = []
    for impl in IMPLS:
        ops.append({"op": "wrap", "impl": impl, "publicJwk": pair["public"], "secretJwk": secret})
        ops.append({"op": "encrypt", "impl": impl, "key": secret, "value": {"a": 1}})
    out = values(run_js(ops))
    for cipher in out:
        algo, version, chunks = keys.parse_versioned(cipher)
        flipped = bytearray(chunks[0])
        flipped[0] ^= 0x80
        tampered = keys.serialize_versioned(algo, bytes(flipped), *chunks[1:], key_version=version)
        with pytest.raises(CryptoError):
            if algo == 2:
                keys.unwrap_with_account_key(pair["private"], tampered)
            else:
                keys.decrypt_symmetric(keys.key_from_symmetric_jwk(secret), tampered)


# --------------------------------------------------------------------------- (b) Python writes, JS reads


@pytest.mark.parametrize("key_type", sorted(KEY_FILES))
def test_python_wraps_and_encrypts_js_reads(key_type):
    pair = account(key_type)
    raw = keys.random_bytes(16)
    # Both shapes a visitor secret has had: WebCrypto's export and forge's.
    shapes = [
        {
            "alg": "A128GCM",
            "ext": True,
            "k": keys.b64url_encode(raw),
            "key_ops": ["encrypt", "decrypt"],
            "kty": "oct",
        },
        keys.symmetric_jwk(raw),
    ]
    event = {"type": "PAGEVIEW", "href": "/from-python", "title": "Grüße"}
    kek = keys.random_bytes(32)
    private_blob = json.dumps(pair["private"]).encode()
    ops = []
    for impl in IMPLS:
        for shape in shapes:
            wrapped = keys.wrap_for_account(pair["public"], json.dumps(shape).encode())
            ops.append({"op": "unwrap", "impl": impl, "privateJwk": pair["private"], "cipher": wrapped})
        ops.append(
            {
                "op": "decrypt",
                "impl": impl,
                "key": shapes[0],
                "cipher": keys.encrypt_symmetric(raw, json.dumps(event).encode()),
            }
        )
        # The login flow: the account private key sealed with the KEK, opened with decryptBytes.
        ops.append(
            {
                "op": "decryptBytes",
                "impl": impl,
                "key": keys.symmetric_jwk(kek),
                "cipher": keys.encrypt_symmetric(kek, private_blob),
            }
        )
    out = values(run_js(ops))
    per_impl = len(out) // len(IMPLS)
    for i in range(len(IMPLS)):
        unwrapped_a, unwrapped_b, decrypted, private_hex = out[i * per_impl : (i + 1) * per_impl]
        assert unwrapped_a == shapes[0]
        assert unwrapped_b == shapes[1]
        assert decrypted == event
        assert bytes.fromhex(private_hex) == private_blob


def test_js_refuses_python_output_for_another_key():
    raw = keys.random_bytes(16)
    other = json.loads((KEYS / "x25519-2.json").read_text(encoding="utf-8"))
    wrapped = keys.wrap_for_account(account("x25519")["public"], json.dumps(keys.symmetric_jwk(raw)).encode())
    cipher = keys.encrypt_symmetric(raw, b'{"a":1}')
    wrong = keys.symmetric_jwk(keys.random_bytes(16))
    ops = []
    for impl in IMPLS:
        ops.append({"op": "unwrap", "impl": impl, "privateJwk": other["private"], "cipher": wrapped})
        ops.append({"op": "decrypt", "impl": impl, "key": wrong, "cipher": cipher})
    for result in run_js(ops):
        assert result.get("error", "").startswith("CryptoError"), result


# --------------------------------------------------------------------------- (c) forge-style 16-byte nonces


def test_fallback_16_byte_nonces_decrypt_in_python_and_webcrypto():
    raw = keys.random_bytes(16)
    secret = keys.symmetric_jwk(raw)
    event = {"type": "PAGEVIEW", "href": "/forge-nonce"}
    (cipher,) = values(
        run_js([{"op": "encrypt", "impl": "fallback", "nonceLength": 16, "key": secret, "value": event}])
    )
    assert len(keys.parse_versioned(cipher)[2][1]) == 16
    assert json.loads(keys.decrypt_symmetric(raw, cipher)) == event
    read_back = values(
        run_js([{"op": "decrypt", "impl": impl, "key": secret, "cipher": cipher} for impl in IMPLS])
    )
    assert read_back == [event, event]
