"""Response propensity: who is likely to respond, from a customer-level outcome.

The learner (spline logistic regression and its C, LightGBM or their blend; on rows in time
order also recency weights and whether the calendar columns are used) is chosen by validation
inside the training rows (:func:`~microseg.plugins._propensity.choose_propensity`); the figures are
on the held-out rows; the final model is refitted on every row with the chosen settings (its
LightGBM part through the run's engine, ``fit_gbm``, when unweighted).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd

from microseg.plugins.campaign_response.inputs import Split
from microseg.plugins.comparison import ModelComparison

LIKELY, POSSIBLE, UNLIKELY = "Likely responders", "Possible responders", "Unlikely responders"
DESCRIPTIONS = {LIKELY: "top 20% response propensity", POSSIBLE: "above-median response propensity",
                UNLIKELY: "below-median response propensity"}


class ResponsePropensity:
    """Fitted by :meth:`fit`; then :meth:`predict` and :meth:`labels` (tiers at the median and
    the 80th percentile of the fitted rows' propensity)."""

    def __init__(self, lgbm_params: dict[str, Any], split: Split) -> None:
        self.lgbm_params, self.split = lgbm_params, split

    def fit(self, x: pd.DataFrame, y: np.ndarray, fit_gbm: Callable[..., Any] | None = None) -> "ResponsePropensity":
        # scikit-learn on use, not at plugin registration (fast CLI)
        from microseg.plugins._metrics import classification_report
        from microseg.plugins._propensity import Propensity, choose_propensity, describe
        from microseg.plugins.curves import classifier_curves
        tr, te = self.split(len(y), y)
        chosen, val = choose_propensity(x.iloc[tr], y[tr], self.lgbm_params, self.split.kind == "ordered",
                                        self.split.random_state)
        held = Propensity(**chosen, lgbm_params=self.lgbm_params).fit(x.iloc[tr], y[tr]).predict(x.iloc[te])
        self.evaluation_ = {"protocol": f"{self.split.kind} split, {len(te)} held-out rows",
                            "model": describe(chosen), "validation_auc": val} | classification_report(y[te], held)
        self.curves_ = classifier_curves(y[te], held)
        self.comparison_ = ModelComparison(
            model="response model", kind="classifier", metric="roc_auc", baseline="the base rate",
            y=y[te], score=held, baseline_score=np.full(len(te), y[tr].mean()),
            score_columns=("response_propensity",), protocol=f"{self.split.kind} split")
        self.model_ = Propensity(**chosen, lgbm_params=self.lgbm_params, fit_gbm=fit_gbm).fit(x, y)
        self.bounds_ = tuple(np.quantile(self.model_.predict(x), [0.5, 0.8]))
        return self

    def predict(self, x: pd.DataFrame) -> np.ndarray:
        return self.model_.predict(x)

    def labels(self, x: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
        """Per customer: the tier, and the score ``response_propensity``."""
        p = self.predict(x)
        lo, hi = self.bounds_
        labels = pd.Series(np.where(p >= hi, LIKELY, np.where(p >= lo, POSSIBLE, UNLIKELY)), index=x.index)
        return labels, pd.DataFrame({"response_propensity": p}, index=x.index)

    @staticmethod
    def describe(label: str) -> str | None:
        return DESCRIPTIONS.get(label)
