"""``rfm``: recency / frequency / monetary scores 1–5 and the named RFM segments.

Scores are quintiles of the *average rank* among customers with at least one purchase before
``as_of``, so equal values always get equal scores (heavy ties such as ``frequency = 1`` share a
score). Recency is reversed: the most recent buyers score 5. Segments come from the R score and
FM = round((F + M) / 2) through the grid in ``docs/methods-rfm-clusters.md``.
"""
from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd

import microseg
from microseg.errors import ConfigError

NO_PURCHASE = "No purchases"

# GRID[r - 1][fm - 1]
GRID = [
    ["Lost", "Hibernating", "At risk", "At risk", "Can't lose them"],                          # R = 1
    ["Hibernating", "Hibernating", "At risk", "At risk", "Can't lose them"],                   # R = 2
    ["About to sleep", "About to sleep", "Need attention", "Loyal", "Loyal"],                  # R = 3
    ["Promising", "Potential loyalist", "Potential loyalist", "Loyal", "Loyal"],               # R = 4
    ["New", "Potential loyalist", "Potential loyalist", "Champions", "Champions"],             # R = 5
]

DESCRIPTIONS = {
    "Champions": "bought very recently, buy often and spend the most",
    "Loyal": "buy regularly and spend well; not always the most recent",
    "Potential loyalist": "recent customers with average frequency and spend",
    "New": "bought very recently for the first time or rarely; low spend so far",
    "Promising": "recent buyers who have not bought much yet",
    "Need attention": "middling recency, frequency and spend",
    "About to sleep": "below-average recency and low frequency and spend",
    "At risk": "used to buy often and spend well, but not for a while",
    "Can't lose them": "were among the best customers, and have not come back for a long time",
    "Hibernating": "last purchase long ago, low frequency and spend",
    "Lost": "lowest recency, frequency and spend",
    NO_PURCHASE: "no purchase before the reference date",
}


def quintile_scores(values: pd.Series, higher_is_better: bool = True) -> pd.Series:
    """1–5 from the average-rank percentile; ties share a score."""
    x = values if higher_is_better else -values
    pct = x.rank(method="average", pct=True)
    return np.clip(np.ceil(pct * 5), 1, 5).astype("int64")


class RFM(microseg.SegmentationMethod):
    """RFM scores and named segments.

    Examples
    --------
    >>> f = pd.DataFrame({"recency_days": [1, 200, 30], "frequency": [9, 1, 3], "monetary": [900, 20, 100]})
    >>> RFM().fit(f).assign(f).tolist()
    ['Champions', 'Hibernating', 'Loyal']
    """

    name = "rfm"
    summary = "Recency/frequency/monetary scores 1-5 and the named RFM segments"

    def __init__(self, *, recency: str = "recency_days", frequency: str = "frequency",
                 monetary: str = "monetary") -> None:
        self.recency = recency
        self.frequency = frequency
        self.monetary = monetary

    def check_columns(self, columns: Collection[str]) -> list[str]:
        missing = [c for c in (self.recency, self.frequency, self.monetary) if c not in columns]
        return [f"rfm needs the column(s) {missing}: give a transactions source (see docs/customer-frame.md)"] \
            if missing else []

    def _check(self, customers: pd.DataFrame) -> None:
        problems = self.check_columns(customers.columns)
        if problems:
            raise ConfigError(problems[0])

    def fit(self, customers: pd.DataFrame) -> "RFM":
        self._check(customers)
        active = customers[self.frequency].fillna(0) > 0
        self.n_active_ = int(active.sum())
        return self

    def scores(self, customers: pd.DataFrame) -> pd.DataFrame:
        self._check(customers)
        active = (customers[self.frequency].fillna(0) > 0) & customers[self.recency].notna()
        sub = customers.loc[active]
        out = pd.DataFrame(index=customers.index, columns=["r_score", "f_score", "m_score"], dtype="Int64")
        if len(sub):
            out.loc[active, "r_score"] = quintile_scores(sub[self.recency], higher_is_better=False).to_numpy()
            out.loc[active, "f_score"] = quintile_scores(sub[self.frequency]).to_numpy()
            out.loc[active, "m_score"] = quintile_scores(sub[self.monetary]).to_numpy()
        out["rfm_score"] = (out["r_score"].astype("string") + out["f_score"].astype("string")
                            + out["m_score"].astype("string"))
        return out

    def assign(self, customers: pd.DataFrame) -> pd.Series:
        s = self.scores(customers)
        labels = np.full(len(s), NO_PURCHASE, dtype=object)
        ok = s["r_score"].notna().to_numpy()
        r = s["r_score"].to_numpy(dtype="float64", na_value=np.nan)[ok].astype(int)
        fm = np.floor((s["f_score"].to_numpy(dtype="float64", na_value=np.nan)[ok]
                       + s["m_score"].to_numpy(dtype="float64", na_value=np.nan)[ok]) / 2 + 0.5).astype(int)
        grid = np.array(GRID, dtype=object)
        labels[ok] = grid[r - 1, fm - 1]
        return pd.Series(labels, index=customers.index)

    def describe(self, label: str) -> str:
        return DESCRIPTIONS.get(label, str(label))

@microseg.hookimpl
def register_methods(register):
    register(RFM)
