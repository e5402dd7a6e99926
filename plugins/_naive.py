"""Naive baselines a marketer would use without a model, oriented on training rows only."""
from __future__ import annotations

import numpy as np
import pandas as pd

from microseg.plugins._metrics import roc_auc

#: decline rules: feature → words (a higher or lower value means "more likely to decline",
#: whichever the training rows say)
DECLINE_RULES = {"recency_days": "recency (days since the last purchase)",
                 "window_vs_prev": "last-window spend trend (vs the window before)"}


def choose_rule(x: pd.DataFrame, y: np.ndarray, rules: dict[str, str]) -> tuple[str, float, str]:
    """The rule (column, sign, words) with the best ROC AUC on the training rows ``x``, ``y``."""
    best = ("", 1.0, "", -1.0)
    for col, words in rules.items():
        if col not in x.columns or len(np.unique(y)) < 2:
            continue
        v = _filled(x[col])
        auc = roc_auc(y, v)
        sign = 1.0 if auc >= 0.5 else -1.0
        if max(auc, 1 - auc) > best[3]:
            best = (col, sign, words, max(auc, 1 - auc))
    return best[:3]


def rule_scores(x: pd.DataFrame, col: str, sign: float) -> np.ndarray:
    """The rule's score per row (constant when the column is missing)."""
    if not col or col not in x.columns:
        return np.zeros(len(x))
    return sign * _filled(x[col])


def _filled(s: pd.Series) -> np.ndarray:
    v = s.to_numpy(dtype="float64", na_value=np.nan)
    return np.where(np.isfinite(v), v, np.nanmedian(v) if np.isfinite(v).any() else 0.0)
