"""Activity-shape features for ``clv-decline``: how regular and how steady a customer's spend has been.

Computed only from spend windows that end at the cutoff (the engine's ``window_spends``), so they
work on every engine and use no data at or after the cutoff. The windows are ``MONTHS`` windows of
``MONTH_DAYS`` days and ``WEEKS`` windows of 7 days before the cutoff. A window that starts before
the first transaction of the data is not observed: the features use the observed (most recent)
windows only, so they mean the same at an early training cutoff and at a later scoring date.

Features (per customer; missing where too few windows are observed):

``active_months_6`` / ``active_months_12``
    share of the last 6 / 12 observed months with positive net spend: regularity of purchasing
``active_weeks``
    share of the last ``WEEKS`` observed weeks with positive net spend
``week_concentration``
    the largest week's share of those weeks' spend (one big order vs steady buying)
``monthly_spend_cv``
    coefficient of variation of the observed months' spend (a month of returns counts as 0)
``slope_6`` / ``slope_12``
    least-squares slope per month of log(1 + spend) over the last 6 / 12 observed months
    (positive: growing)
``last_month_vs_mean``
    last month's log(1 + spend) minus log(1 + the observed months' mean)
"""
from __future__ import annotations

import numpy as np
import pandas as pd

MONTH_DAYS = 30
MONTHS = 12
WEEKS = 13
MIN_SLOPE_MONTHS = 3


def activity_windows(cutoff: pd.Timestamp) -> dict[str, tuple[pd.Timestamp, pd.Timestamp]]:
    """The monthly and weekly windows before ``cutoff`` (newest first), by name."""
    day = pd.Timedelta(days=1)
    out = {f"month_{k}": (cutoff - (k + 1) * MONTH_DAYS * day, cutoff - k * MONTH_DAYS * day) for k in range(MONTHS)}
    out |= {f"week_{k}": (cutoff - (k + 1) * 7 * day, cutoff - k * 7 * day) for k in range(WEEKS)}
    return out


def _slope(logs: np.ndarray) -> np.ndarray:
    """Least-squares slope of each row of ``logs`` (columns newest first) per step forward in time."""
    if logs.shape[1] < MIN_SLOPE_MONTHS:
        return np.full(len(logs), np.nan)
    t = -np.arange(logs.shape[1], dtype="float64")          # newest month at t = 0, older ones negative
    t = t - t.mean()
    return (logs - logs.mean(axis=1, keepdims=True)) @ t / float(t @ t)


def _share_active(spend: np.ndarray) -> np.ndarray:
    return (spend > 0).mean(axis=1) if spend.shape[1] else np.full(len(spend), np.nan)


def activity_shape(spends: dict[str, np.ndarray], observed_days: float = np.inf) -> dict[str, np.ndarray]:
    """The activity-shape features from the :func:`activity_windows` sums in ``spends``, using the
    windows that end at most ``observed_days`` before the cutoff's (cutoff − first transaction)."""
    n_months = int(min(MONTHS, observed_days // MONTH_DAYS))
    n_weeks = int(min(WEEKS, observed_days // 7))
    months = np.column_stack([np.asarray(spends[f"month_{k}"], dtype="float64") for k in range(MONTHS)]).clip(min=0)
    weeks = np.column_stack([np.asarray(spends[f"week_{k}"], dtype="float64") for k in range(WEEKS)]).clip(min=0)
    months, weeks = months[:, :n_months], weeks[:, :n_weeks]
    logs = np.log1p(months)
    n = len(months)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = months.mean(axis=1) if n_months else np.full(n, np.nan)
        cv = np.where(mean > 0, months.std(axis=1) / mean, np.nan) if n_months else mean
        total = weeks.sum(axis=1)
        concentration = np.where(total > 0, weeks.max(axis=1, initial=0.0) / total, np.nan)
    return {"active_months_6": _share_active(months[:, :6]), "active_months_12": _share_active(months),
            "active_weeks": _share_active(weeks), "week_concentration": concentration,
            "monthly_spend_cv": cv, "slope_6": _slope(logs[:, :6]), "slope_12": _slope(logs),
            "last_month_vs_mean": logs[:, 0] - np.log1p(mean) if n_months else np.full(n, np.nan)}
