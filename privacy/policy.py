"""The privacy policy: what the release gate, masking and consent enforcement do.

It is the ``[privacy]`` table of ``microseg.toml``; ``docs/config.md`` documents every key.
"""
from __future__ import annotations

import hashlib
import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

#: the actions of :data:`microseg.privacy.kinds.ACTIONS` (kept equal by tests/test_masking.py)
ColumnAction = Literal["pseudonymise", "drop", "redact", "hash", "generalise", "restrict", "keep"]

#: Default minimum released segment size. 50 is the suppression threshold of the hand-written
#: baseline and sits between AWS Clean Rooms' configurable minimum and Google Ad Manager's 100.
DEFAULT_K = 50


class DifferentialPrivacy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    epsilon: float = Field(gt=0)
    mechanism: Literal["laplace", "gaussian"] = "laplace"
    delta: float | None = None


class PrivacyPolicy(BaseModel):
    """``[privacy]``: minimum sizes, masking, consent and the pseudonymisation key."""

    model_config = ConfigDict(extra="forbid")

    min_segment_size: int = Field(DEFAULT_K, ge=2, description="k: smallest segment ever released")
    small_segments: Literal["merge", "suppress"] = "merge"
    differencing: Literal["suppress", "merge"] = "suppress"
    check_differencing: bool = True
    key_env: str = "MICROSEG_KEY"
    key_file: str | None = None
    #: retired keys (one per line), so that erasure reaches runs written under them; default: the
    #: key file's path + ``.retired`` (``microseg keygen --rotate`` writes it)
    retired_keys_file: str | None = None
    #: column → action; ``"col"`` applies to that column of every table, ``"table.col"`` to one
    columns: dict[str, ColumnAction] = Field(default_factory=dict)
    quasi_identifiers: list[str] | None = None
    sensitive: list[str] = Field(default_factory=list)
    k_anonymity: int = Field(5, ge=1)
    l_diversity: int | None = Field(None, ge=1)
    consent: dict[Literal["profiling", "marketing"], str] = Field(default_factory=dict)
    consent_missing: Literal["exclude", "include"] = "exclude"
    allow_hashed_audiences: bool = False
    dp: DifferentialPrivacy | None = None

    def digest(self) -> str:
        """Stable hash of the policy (recorded in every run and audit event)."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()
