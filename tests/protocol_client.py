"""A test client that speaks Offen's protocol as the vault does.

It wraps a visitor secret for an account, encrypts events with AES-GCM,
and, as an operator, decrypts the account's private key, the visitor
secrets and the events with the key-encryption key from login. It works over
any "app" with WebTest's interface, and over real HTTP through `HttpApp`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from appliance import keys


@dataclass
class Visitor:
    """One browser: its cookies live in the app's cookie jar, its secrets here."""

    secrets: dict[str, bytes] = field(default_factory=dict)

    def exchange(self, app, account_id: str) -> None:
        info = app.get("/api/exchange", {"accountId": account_id}).json
        user_secret = keys.random_bytes(16)
        jwk = {
            "alg": "A128GCM",
            "ext": True,
            "k": keys.b64url_encode(user_secret),
            "key_ops": ["encrypt", "decrypt"],
            "kty": "oct",
        }
        wrapped = keys.wrap_for_account(info["publicKey"], json.dumps(jwk).encode())
        app.post(
            "/api/exchange", json.dumps({"accountId": account_id, "encryptedSecret": wrapped}), status=204
        )
        self.secrets[account_id] = user_secret

    def send(self, app, account_id: str, event: dict, status: int = 201):
        payload = keys.encrypt_symmetric(self.secrets[account_id], json.dumps(event).encode())
        return app.post(
            "/api/events", json.dumps({"accountId": account_id, "payload": payload}), status=status
        )


def pageview(href: str, referrer: str = "") -> dict:
    return {
        "type": "PAGEVIEW",
        "href": href,
        "rawHref": None,
        "referrer": referrer,
        "pageload": 120,
        "isMobile": False,
        "timestamp": "2026-11-01T12:00:00.000Z",
        "sessionId": "s-1",
        "geo": "DE",
    }


def decrypt_operator_view(login_result: dict, view: dict) -> list[dict]:
    """Decrypt every event of an operator's account view, as the vault would."""
    account_id = view["accountId"]
    entry = next(a for a in login_result["accounts"] if a["accountId"] == account_id)
    kek = keys.key_from_symmetric_jwk(entry["keyEncryptionKey"])
    private_jwk = json.loads(keys.decrypt_symmetric(kek, view["encryptedPrivateKey"]))
    secrets = {}
    for secret_id, wrapped in view.get("secrets", {}).items():
        jwk = json.loads(keys.unwrap_with_account_key(private_jwk, wrapped))
        secrets[secret_id] = keys.b64url_decode(jwk["k"])
    out = []
    for event in view.get("events", {}).get(account_id, []):
        if "secretId" not in event:
            continue  # a legacy anonymous event: nobody holds a key for it
        plain = keys.decrypt_symmetric(secrets[event["secretId"]], event["payload"])
        out.append(json.loads(plain))
    return out
