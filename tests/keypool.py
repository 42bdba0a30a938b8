"""Pre-made account key pairs for the test suite, so no test generates RSA keys.

The JSON files in tests/fixtures/keys/ were made once with
`appliance.keys.generate_account_keypair` and committed. They are test keys
only. Each call returns fresh dict copies, so a test may mutate what it gets.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path

KEY_DIR = Path(__file__).parent / "fixtures" / "keys"


@functools.cache
def _load(name: str) -> tuple[dict, dict]:
    data = json.loads((KEY_DIR / f"{name}.json").read_text(encoding="utf-8"))
    return data["public"], data["private"]


def _pair(name: str) -> tuple[dict, dict]:
    public, private = _load(name)
    return copy.deepcopy(public), copy.deepcopy(private)


def rsa_keypair(index: int = 1) -> tuple[dict, dict]:
    """(public JWK, private JWK) of the committed RSA-4096 test key 1 or 2."""
    return _pair(f"rsa-{index}")


def x25519_keypair(index: int = 1) -> tuple[dict, dict]:
    """(public JWK, private JWK) of the committed X25519 test key 1 or 2."""
    return _pair(f"x25519-{index}")
