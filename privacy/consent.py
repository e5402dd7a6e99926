"""Consent per purpose: who may be profiled (features, training, scoring) and who released.

``[privacy] consent = { profiling = "consent_profiling", marketing = "consent_marketing" }``
Customers without profiling consent are removed before any feature is computed, so they never
reach a model; customers without marketing consent are removed from every released segment.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from microseg.errors import ConfigError
from microseg.privacy.policy import PrivacyPolicy

_TRUE = {"1", "true", "yes", "y", "t", "opt-in", "opted-in", "granted"}


@dataclass
class ConsentMasks:
    profiling: np.ndarray   # bool per customer (customers frame order)
    marketing: np.ndarray

    def summary(self) -> dict[str, int]:
        return {"profiling_excluded": int((~self.profiling).sum()),
                "marketing_excluded": int((~self.marketing).sum())}


def _granted(values: pd.Series, missing: str) -> np.ndarray:
    if pd.api.types.is_bool_dtype(values):
        out = values.to_numpy(dtype=bool)
    elif pd.api.types.is_numeric_dtype(values):
        out = values.fillna(0).to_numpy() != 0
    else:
        out = values.astype(str).str.strip().str.lower().isin(_TRUE).to_numpy()
    if missing == "include":
        out = out | values.isna().to_numpy()
    return out


def consent_masks(customers: pd.DataFrame | None, n: int, policy: PrivacyPolicy) -> ConsentMasks:
    """Masks for the configured purposes; everyone consents to a purpose with no column."""
    masks = {}
    for purpose in ("profiling", "marketing"):
        col = policy.consent.get(purpose)
        if col is None:
            masks[purpose] = np.ones(n, dtype=bool)
            continue
        if customers is None or col not in customers.columns:
            raise ConfigError(f"consent column {col!r} is not a column of the customers table",
                              key=f"privacy.consent.{purpose}")
        masks[purpose] = _granted(customers[col], policy.consent_missing)
    return ConsentMasks(**masks)
