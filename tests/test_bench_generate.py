"""Tests for bench/generate.py: event shape, determinism, real AES-GCM ciphertexts of the right size."""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bench.generate import cipher_sizes, encrypt_payload, make_bodies, make_payloads, new_user_secret

CIPHER = re.compile(r"^\{1,\} ([A-Za-z0-9+/=]+) ([A-Za-z0-9+/=]+)$")
FIELDS = ["type", "href", "rawHref", "referrer", "pageload", "isMobile", "timestamp", "sessionId", "geo"]


def decrypt(key: bytes, cipher: str) -> dict:
    match = CIPHER.match(cipher)
    assert match, cipher
    sealed, nonce = base64.b64decode(match.group(1)), base64.b64decode(match.group(2))
    assert len(nonce) == 12
    return json.loads(AESGCM(key).decrypt(nonce, sealed, None))


def test_payload_shape_follows_the_vault_schema():
    payloads = make_payloads(300, seed=7)
    assert len(payloads) == 300
    for p in payloads:
        assert list(p) == FIELDS
        assert p["type"] == "PAGEVIEW"
        assert urlsplit(p["href"]).scheme == "https" and len(p["href"]) <= 2000
        assert p["rawHref"] is None or p["rawHref"].startswith(p["href"] + "?")
        assert p["referrer"] == "" or (urlsplit(p["referrer"]).scheme == "https" and "?" not in p["referrer"])
        assert p["pageload"] is None or (isinstance(p["pageload"], int) and p["pageload"] > 0)
        assert isinstance(p["isMobile"], bool)
        assert len(p["timestamp"]) <= 36 and p["timestamp"].endswith("Z")
        datetime.fromisoformat(p["timestamp"].replace("Z", "+00:00"))
        assert p["geo"] is None or re.fullmatch(r"[A-Z]{2}", p["geo"])


def test_sessions_and_referrer_mix_are_realistic():
    payloads = make_payloads(2000, seed=3)
    sessions = {p["sessionId"] for p in payloads}
    assert 200 < len(sessions) < 1900  # sessions of several pageviews
    firsts = [p for p in payloads if p["pageload"] is not None]
    hosts = {urlsplit(p["referrer"]).hostname for p in firsts if p["referrer"]}
    assert {"www.google.com", "duckduckgo.com"} <= hosts
    assert any(p["referrer"] == "" for p in firsts)
    assert any(p["rawHref"] for p in payloads)
    assert 0.2 < sum(p["isMobile"] for p in payloads) / len(payloads) < 0.6


def test_deterministic_for_a_seed():
    assert make_payloads(50, seed=11) == make_payloads(50, seed=11)
    assert make_payloads(50, seed=11) != make_payloads(50, seed=12)
    assert make_payloads(0, seed=1) == []


def test_encrypt_payload_round_trips_with_fresh_nonces():
    key = new_user_secret()
    assert len(key) == 16
    payload = make_payloads(1, seed=5)[0]
    first, second = encrypt_payload(key, payload), encrypt_payload(key, payload)
    assert first != second
    assert decrypt(key, first) == payload == decrypt(key, second)


def test_sizes_typical_about_400_bytes_and_stress_about_1500():
    typical = cipher_sizes(400, seed=1)
    stress = cipher_sizes(400, seed=1, stress=True)
    assert 330 <= typical["median"] <= 480
    assert 1350 <= stress["median"] <= 1650
    assert typical["max"] < 2000 * 2 and stress["p95"] >= stress["median"]


def test_make_bodies_one_distinct_visitor_each():
    bodies = make_bodies(20, seed=2, account_id="9b63c4d8-0000-4000-8000-000000000001")
    assert len({secret for secret, _ in bodies}) == 20
    for secret, body in bodies:
        data = json.loads(body)
        assert data["accountId"] == "9b63c4d8-0000-4000-8000-000000000001"
        assert decrypt(secret, data["payload"])["type"] == "PAGEVIEW"
