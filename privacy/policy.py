"""The privacy policy: what the release gate, masking and consent enforcement do.

It is the ``[privacy]`` table of ``microseg.toml``; ``docs/config.md`` documents every key.
"""
from __future__ import annotations

import hashlib
import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from microseg.privacy.scope import ReleaseScope

#: the actions of :data:`microseg.privacy.kinds.ACTIONS` (kept equal by tests/test_masking.py)
ColumnAction = Literal["pseudonymise", "drop", "redact", "hash", "generalise", "restrict", "keep"]

#: Default minimum released segment size. 50 is the suppression threshold of the hand-written
#: baseline and sits between AWS Clean Rooms' configurable minimum and Google Ad Manager's 100.
DEFAULT_K = 50


#: keys of earlier versions, and why they went (the release invariant, docs/privacy.md)
REMOVED = {
    "small_segments": "every released value is now checked cell by cell and coarsened (a microsegment merges "
                      "into its parent) until every cell holds 0 or ≥ min_segment_size customers",
    "differencing": "differences of released segments are unions of cells, all ≥ min_segment_size",
    "check_differencing": "the release invariant is always enforced",
    "k_anonymity": "released attributes are part of every customer's released values, checked at "
                   "min_segment_size",
    "l_diversity": "released attributes are part of the released values; a column that is not released "
                   "cannot be disclosed by the export",
    "sensitive": "see l_diversity",
    "quasi_identifiers": "every released attribute is treated as a quasi-identifier",
}


class DifferentialPrivacy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    epsilon: float = Field(gt=0)
    mechanism: Literal["laplace", "gaussian"] = "laplace"
    delta: float | None = None


class PrivacyPolicy(BaseModel):
    """``[privacy]``: minimum sizes, masking, consent and the pseudonymisation key."""

    model_config = ConfigDict(extra="forbid")

    min_segment_size: int = Field(DEFAULT_K, ge=2, description="k: smallest cell ever released")
    release_scope: ReleaseScope = Field(default_factory=ReleaseScope)
    key_env: str = "MICROSEG_KEY"
    key_file: str | None = None
    #: retired keys (one per line), so that erasure reaches runs written under them; default: the
    #: key file's path + ``.retired`` (``microseg keygen --rotate`` writes it)
    retired_keys_file: str | None = None
    #: column → action; ``"col"`` applies to that column of every table, ``"table.col"`` to one
    columns: dict[str, ColumnAction] = Field(default_factory=dict)
    consent: dict[Literal["profiling", "marketing"], str] = Field(default_factory=dict)
    consent_missing: Literal["exclude", "include"] = "exclude"
    allow_hashed_audiences: bool = False
    dp: DifferentialPrivacy | None = None

    @model_validator(mode="before")
    @classmethod
    def _removed(cls, data: object) -> object:
        if isinstance(data, dict):
            for name in REMOVED:
                if name in data:
                    raise ValueError(f"privacy.{name} was removed: {REMOVED[name]}; delete this line")
        return data

    def digest(self) -> str:
        """Stable hash of the policy (recorded in every run and audit event)."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()
