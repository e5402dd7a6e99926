"""Keyed pseudonyms: HMAC-SHA256 with a secret from an environment variable or a key file.

Never a bare or unsalted hash (a customer id space is small enough to enumerate), and no
default key in code: without a key, runs stop with a clear error.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import Iterable

import numpy as np

from microseg.errors import ConfigError
from microseg.privacy.policy import PrivacyPolicy

PSEUDONYM_HEX = 24  # 96 bits: collisions are negligible for any customer base


def load_key(policy: PrivacyPolicy, base_dir: Path = Path(".")) -> bytes:
    """The pseudonymisation secret: ``$<key_env>`` first, then ``key_file``."""
    value = os.environ.get(policy.key_env)
    if value:
        if len(value) < 16:
            raise ConfigError(f"the key in ${policy.key_env} is shorter than 16 characters", key="privacy.key_env")
        return value.encode()
    if policy.key_file:
        path = Path(policy.key_file).expanduser()
        path = path if path.is_absolute() else base_dir / path
        if not path.is_file():
            raise ConfigError(f"key file not found: {path} (create one with `microseg init` or `microseg keygen`)",
                              key="privacy.key_file")
        key = path.read_bytes().strip()
        if len(key) < 16:
            raise ConfigError(f"key file {path} holds fewer than 16 bytes", key="privacy.key_file")
        return key
    raise ConfigError(f"no pseudonymisation key: set ${policy.key_env} or privacy.key_file "
                      "(`microseg keygen PATH` writes a random one)", key="privacy")


def write_new_key(path: Path) -> Path:
    """Write a fresh random key (0600). Refuses to overwrite an existing one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(32) + "\n")
    return path


def _hmac_states(key: bytes) -> tuple["hashlib._Hash", "hashlib._Hash"]:
    """HMAC-SHA256's inner and outer hash states for ``key`` (RFC 2104), computed once per call
    of :func:`pseudonymise` instead of once per value."""
    block = 64
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\0")
    return (hashlib.sha256(bytes(b ^ 0x36 for b in key)), hashlib.sha256(bytes(b ^ 0x5C for b in key)))


def pseudonymise(values: Iterable[object], key: bytes) -> np.ndarray:
    """HMAC-SHA256 of each value's text form, hex-truncated to ``PSEUDONYM_HEX`` characters."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "iu":
        values = values.tolist()               # Python ints: same text, much faster to format
    inner, outer = _hmac_states(key)
    out = []
    for v in values:
        h = inner.copy()
        h.update(str(v).encode())
        o = outer.copy()
        o.update(h.digest())
        out.append(o.hexdigest()[:PSEUDONYM_HEX])
    return np.array(out, dtype=object)


def pseudonymise_one(value: object, key: bytes) -> str:
    return hmac.new(key, str(value).encode(), hashlib.sha256).hexdigest()[:PSEUDONYM_HEX]
