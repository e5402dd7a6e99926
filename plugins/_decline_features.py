"""Activity-shape features for ``clv-decline``: how regular and how steady a customer's spend has been.

Computed only from spend windows that end at the cutoff (the engine's ``window_spends``), so they
work on every engine and use no data at or after the cutoff. Every window is a fixed number of
days: ``MONTHS`` windows of ``MONTH_DAYS`` days and ``WEEKS`` windows of 7 days before the cutoff.

Features (per customer):

``active_months_6`` / ``active_months_12``
    months (of the last 6 / 12) with positive net spend: regularity of purchasing
``active_weeks``
    weeks of the last ``WEEKS`` with positive net spend
``monthly_spend_cv``
    coefficient of variation of the last 12 months' spend (negative months as 0): steadiness
``slope_6`` / ``slope_12``
    least-squares slope per month of log(1 + spend) over the last 6 / 12 months (positive: growing)
``last_month_vs_mean``
    last month's spend ÷ the mean month of the last 12 (log scale)
"""
from __future__ import annotations

import numpy as np
import pandas as pd

MONTH_DAYS = 30
MONTHS = 12
WEEKS = 13


def activity_windows(cutoff: pd.Timestamp) -> dict[str, tuple[pd.Timestamp, pd.Timestamp]]:
    """The monthly and weekly windows before ``cutoff`` (newest first), by name."""
    day = pd.Timedelta(days=1)
    out = {f"month_{k}": (cutoff - (k + 1) * MONTH_DAYS * day, cutoff - k * MONTH_DAYS * day) for k in range(MONTHS)}
    out |= {f"week_{k}": (cutoff - (k + 1) * 7 * day, cutoff - k * 7 * day) for k in range(WEEKS)}
    return out


def _slope(logs: np.ndarray) -> np.ndarray:
    """Least-squares slope of each row of ``logs`` (columns newest first) per step forward in time."""
    t = -np.arange(logs.shape[1], dtype="float64")          # newest month at t = 0, older ones negative
    t = t - t.mean()
    return (logs - logs.mean(axis=1, keepdims=True)) @ t / float(t @ t)


def activity_shape(spends: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The activity-shape features from the :func:`activity_windows` sums in ``spends``."""
    months = np.column_stack([np.asarray(spends[f"month_{k}"], dtype="float64") for k in range(MONTHS)]).clip(min=0)
    weeks = np.column_stack([np.asarray(spends[f"week_{k}"], dtype="float64") for k in range(WEEKS)])
    logs = np.log1p(months)
    mean = months.mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = np.where(mean > 0, months.std(axis=1) / mean, np.nan)
    return {"active_months_6": (months[:, :6] > 0).sum(axis=1).astype("float64"),
            "active_months_12": (months > 0).sum(axis=1).astype("float64"),
            "active_weeks": (weeks > 0).sum(axis=1).astype("float64"),
            "monthly_spend_cv": cv,
            "slope_6": _slope(logs[:, :6]), "slope_12": _slope(logs),
            "last_month_vs_mean": logs[:, 0] - np.log1p(mean)}
