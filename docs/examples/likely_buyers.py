"""A method that trains a classifier through the engine, so it runs on every engine.

``likely-buyers``: will a customer buy in the next ``horizon_days``? Trained out of time: the
features as of ``as_of − horizon_days`` and whether the customer spent in the following
``horizon_days`` (both from ``data``), fitted with ``data.fit_classifier`` (LightGBM in
process on the pandas engine, on the cluster on the Dask engine); customers are then scored on
their features as of ``as_of``. Load it with ``--plugin docs/examples/likely_buyers.py``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

import microseg
from microseg.engine import Engine

LIKELY, UNLIKELY = "likely buyer", "unlikely buyer"


class LikelyBuyers(microseg.SegmentationMethod):
    name = "likely-buyers"
    summary = "Likely to buy in the next N days (LightGBM through the run's engine)"

    def __init__(self, *, horizon_days: int = 90, threshold: float = 0.5, n_estimators: int = 50,
                 random_state: int = 0) -> None:
        self.horizon_days = horizon_days
        self.threshold = threshold
        self.n_estimators = n_estimators
        self.random_state = random_state

    def _x(self, data: Engine, as_of: pd.Timestamp) -> pd.DataFrame:
        frame = data.features(as_of)
        return frame[[c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]].astype("float64")

    def fit(self, customers: pd.DataFrame, *, data: Engine) -> "LikelyBuyers":
        cutoff = data.as_of - pd.Timedelta(days=self.horizon_days)
        x = self._x(data, cutoff).reindex(customers.index)
        y = (data.window_spend(customers.index, cutoff, data.as_of) > 0).astype(int)
        params = {"num_leaves": 7, "learning_rate": 0.1, "n_jobs": 1, "random_state": self.random_state}
        self.model_ = data.fit_classifier(params, x, y, n_estimators=self.n_estimators)
        self.columns_ = list(x.columns)
        self.base_rate_ = float(np.mean(y))
        return self

    def scores(self, customers: pd.DataFrame, *, data: Engine) -> pd.DataFrame:
        x = self._x(data, data.as_of).reindex(index=customers.index, columns=self.columns_)
        return pd.DataFrame({"buy_probability": self.model_.predict_proba(x)[:, 1]}, index=customers.index)

    def assign(self, customers: pd.DataFrame, *, data: Engine) -> pd.Series:
        p = self.scores(customers, data=data)["buy_probability"].to_numpy()
        return pd.Series(np.where(p >= self.threshold, LIKELY, UNLIKELY), index=customers.index)

    def describe(self, label: str) -> str:
        word = "at least" if label == LIKELY else "below"
        return f"probability {word} {self.threshold:.0%} of buying in the next {self.horizon_days} days"

    def report(self) -> dict:
        return {"base_rate": round(self.base_rate_, 4), "features": len(self.columns_)}


@microseg.hookimpl
def register_methods(register):
    register(LikelyBuyers)
