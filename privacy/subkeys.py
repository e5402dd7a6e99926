"""Keys derived from the pseudonymisation secret, one per purpose (HMAC-SHA256 key derivation).

The secret itself is used only for pseudonyms; the audit trail's head is signed with
:func:`audit_key`, and runs record :func:`key_id` so that a store can tell which key wrote it
without holding it.
"""
from __future__ import annotations

import hashlib
import hmac


def derive(secret: bytes, purpose: str) -> bytes:
    return hmac.new(secret, b"microseg/" + purpose.encode(), hashlib.sha256).digest()


def key_id(secret: bytes) -> str:
    """A public fingerprint of the secret (16 hex digits); reveals nothing about it."""
    return derive(secret, "key-id").hex()[:16]


def audit_key(secret: bytes) -> bytes:
    return derive(secret, "audit-chain")


def mac(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
