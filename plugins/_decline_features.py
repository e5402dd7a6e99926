"""Activity-shape features for ``clv-decline``: how steadily a customer bought in the last weeks.

Computed only from spend windows that end at the cutoff (the engine's ``window_spends``), so they
work on every engine and use no data at or after the cutoff: the ``WEEKS`` windows of 7 days
before the cutoff. A week that starts before the data's first transaction is not observed and is
left out, so the features mean the same at an early training cutoff and at a later scoring date.

``active_weeks``
    share of the observed weeks with positive net spend (a week of returns counts as none)
``week_concentration``
    the largest week's share of those weeks' positive spend: one big order (1) or steady buying
    (1 / number of weeks)

Both are missing when no week is observed; ``week_concentration`` also without spend.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

WEEKS = 13


def activity_windows(cutoff: pd.Timestamp) -> dict[str, tuple[pd.Timestamp, pd.Timestamp]]:
    """The weekly windows before ``cutoff`` (newest first), by name."""
    week = pd.Timedelta(days=7)
    return {f"week_{k}": (cutoff - (k + 1) * week, cutoff - k * week) for k in range(WEEKS)}


def activity_shape(spends: dict[str, np.ndarray], observed_days: float = np.inf) -> dict[str, np.ndarray]:
    """The activity-shape features from the :func:`activity_windows` sums in ``spends``, using
    the weeks that start at most ``observed_days`` (cutoff − first transaction) before the cutoff."""
    n_weeks = int(min(WEEKS, observed_days // 7))
    weeks = np.column_stack([np.asarray(spends[f"week_{k}"], dtype="float64") for k in range(n_weeks)]
                            ) if n_weeks else np.zeros((len(spends["week_0"]), 0))
    weeks = weeks.clip(min=0)
    total = weeks.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        active = (weeks > 0).mean(axis=1) if n_weeks else np.full(len(weeks), np.nan)
        concentration = np.where(total > 0, weeks.max(axis=1, initial=0.0) / total, np.nan)
    return {"active_weeks": active, "week_concentration": concentration}
