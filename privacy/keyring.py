"""The pseudonymisation key and the retired keys kept so that erasure reaches older runs.

Every run records the **key id** of the key it was written with (an HMAC of a fixed text under
the key: it names the key without revealing it). ``microseg keygen --rotate KEYFILE`` appends the
current key to the retired-keys file (``KEYFILE.retired`` unless ``[privacy] retired_keys_file``
says otherwise; one key per line, mode 0600) and writes a new key. ``microseg forget`` computes
a customer's pseudonyms under the current and every retired key, so it reaches runs written under
any of them; a run written under a key that is in neither is reported.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from microseg.errors import ConfigError
from microseg.privacy.policy import PrivacyPolicy
from microseg.privacy.pseudonym import load_key
from microseg.privacy.subkeys import key_id

RETIRED_SUFFIX = ".retired"




@dataclass(frozen=True)
class Keyring:
    current: bytes
    retired: tuple[bytes, ...] = ()

    @property
    def current_id(self) -> str:
        return key_id(self.current)

    def by_id(self) -> dict[str, bytes]:
        """Key id → key, the current key first."""
        out = {key_id(k): k for k in self.retired}
        return {self.current_id: self.current, **{i: k for i, k in out.items() if i != self.current_id}}


def retired_keys_path(policy: PrivacyPolicy, base_dir: Path = Path(".")) -> Path | None:
    """Where the retired keys are: ``retired_keys_file``, else the key file's path + ``.retired``."""
    name = policy.retired_keys_file or (policy.key_file + RETIRED_SUFFIX if policy.key_file else None)
    if name is None:
        return None
    path = Path(name).expanduser()
    return path if path.is_absolute() else base_dir / path


def read_retired(path: Path | None) -> tuple[bytes, ...]:
    if path is None or not path.is_file():
        return ()
    keys = [line.strip().encode() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.lstrip().startswith("#")]
    short = [i for i, k in enumerate(keys, start=1) if len(k) < 16]
    if short:
        raise ConfigError(f"retired keys file {path}: line {short[0]} holds fewer than 16 characters",
                          key="privacy.retired_keys_file")
    return tuple(keys)


def load_keyring(policy: PrivacyPolicy, base_dir: Path = Path(".")) -> Keyring:
    """The current key (``$<key_env>`` or ``key_file``) and the retired ones."""
    return Keyring(current=load_key(policy, base_dir), retired=read_retired(retired_keys_path(policy, base_dir)))


def rotate_key(key_path: Path, retired_path: Path | None = None) -> tuple[str, str, Path]:
    """Retire the key in ``key_path`` (appended to ``retired_path``, default ``key_path.retired``)
    and write a new one; returns (old key id, new key id, retired keys file)."""
    if not key_path.is_file():
        raise ConfigError(f"key file not found: {key_path}")
    old = key_path.read_bytes().strip()
    retired_path = retired_path or key_path.with_name(key_path.name + RETIRED_SUFFIX)
    retired_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(retired_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a") as fh:
        fh.write(old.decode() + "\n")
    new = secrets.token_hex(32)
    tmp = key_path.with_name(f".{key_path.name}.new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(new + "\n")
    os.replace(tmp, key_path)
    return key_id(old), key_id(new.encode()), retired_path
