"""Cross-sectional rank features for ``clv-decline``: where a customer stands among the eligible
customers of the same cutoff.

Training stacks several cutoffs, and levels such as spend drift between them (a shop grows, a
season comes): an absolute 500 means something else at each. A level's percentile among the
cutoff's eligible customers (net spend in the last H days > 0) does not drift, so the model can
use "top 10 % spender" alike at every cutoff and at the scoring date. Only the cutoff's own
features are used, so nothing at or after it.

``<level>_rank``
    the level's percentile among the eligible customers with a value (ties share their mean
    rank, the largest value is 1); missing for customers who are not eligible or have no value

The levels (:func:`ranked_columns`): spend, purchase counts, basket sizes, recency, tenure and the
usual gap — not ratios, shares or trends, which are scale-free already.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from microseg.feature_words import RANK_SUFFIX

LEVELS = frozenset({"monetary", "frequency", "avg_basket", "recency_days", "tenure_days", "interpurchase_days",
                    "spend_prev_window", "spend_per_tenure_day", "lines_per_invoice", "units_per_invoice"})
#: spend windows (clv-decline's and the behaviour frame's) and the frame's purchase counts
LEVEL_PATTERN = re.compile(r"^(?:spend_last_\d+d|spend_\d+d|spend_prev_\d+d|purchases_\d+d)$")


def ranked_columns(names: Iterable[str]) -> list[str]:
    """The level columns among ``names`` (in their order) that get a rank."""
    return [c for c in names if c in LEVELS or LEVEL_PATTERN.match(c)]


def cutoff_ranks(columns: dict[str, np.ndarray], eligible: np.ndarray) -> dict[str, np.ndarray]:
    """``<name>_rank`` for each of :func:`ranked_columns` in ``columns``: its percentile among the
    ``eligible`` rows with a value (NaN elsewhere)."""
    eligible = np.asarray(eligible, dtype=bool)
    out = {}
    for name in ranked_columns(columns):
        rank = np.full(len(eligible), np.nan)
        rank[eligible] = pd.Series(np.asarray(columns[name], dtype="float64")[eligible]).rank(pct=True).to_numpy()
        out[name + RANK_SUFFIX] = rank
    return out
