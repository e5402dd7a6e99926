"""Referrers: customers with at least ``minimum`` referrals (a customer attribute)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from microseg.errors import ConfigError

REFERRERS = "Referrers"


@dataclass(frozen=True)
class Referrals:
    """Relabels customers with at least ``minimum`` referrals in ``column`` as "Referrers"."""

    column: str
    minimum: int = 2

    def mark(self, customers: pd.DataFrame, labels: pd.Series) -> pd.Series:
        if self.column not in customers.columns:
            raise ConfigError(f"campaign-response: referrals_column {self.column!r} is not a column")
        referrals = customers[self.column].fillna(0).to_numpy()
        return pd.Series(np.where(referrals >= self.minimum, REFERRERS, labels.to_numpy()), index=labels.index)

    def describe(self, label: str) -> str | None:
        return f"referred at least {self.minimum} new members" if label == REFERRERS else None
