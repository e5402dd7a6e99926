"""``[privacy] release_scope``: which earlier releases a new run is checked together with.

``{ runs = 12 }`` (the default: this run and the 11 before it — a year of monthly runs),
``{ days = 365 }`` (runs created in the last 365 days), ``{ all = true }``, or ``{ runs = 1 }``
(this run alone: no check across runs). ``hold = true`` (default) lets a customer whose new
value would stand out keep the value an earlier release gave them.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ReleaseScope(BaseModel):
    model_config = ConfigDict(extra="forbid")

    runs: int | None = Field(None, ge=1)
    days: int | None = Field(None, ge=0)
    all: bool = False
    hold: bool = True

    @model_validator(mode="after")
    def _one(self) -> "ReleaseScope":
        given = sum([self.runs is not None, self.days is not None, self.all])
        if given == 0:
            self.runs = 12
        elif given > 1:
            raise ValueError("give one of runs = N, days = D or all = true")
        return self

    @property
    def across_runs(self) -> bool:
        return self.all or self.days is not None or (self.runs or 1) > 1

    def describe(self) -> str:
        if self.all:
            return "all earlier runs of the store"
        if self.days is not None:
            return f"runs of the last {self.days} days"
        return "this run alone" if self.runs == 1 else f"this run and the {self.runs - 1} before it"

    def select(self, earlier: list[tuple[int, str]], now: datetime | None = None) -> list[int]:
        """Ids of the earlier runs in scope, from ``(run id, created_at ISO text)`` (any order)."""
        ordered = sorted(earlier)
        if self.all:
            return [r for r, _ in ordered]
        if self.days is not None:
            since = (now or datetime.now(timezone.utc)) - timedelta(days=self.days)
            return [r for r, ts in ordered if datetime.fromisoformat(ts) >= since]
        keep = (self.runs or 1) - 1
        return [r for r, _ in ordered][-keep:] if keep else []
