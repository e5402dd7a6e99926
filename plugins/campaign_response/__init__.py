"""``campaign-response``: preferred channel, referrers, response propensity and uplift.

One method, four strategies, each a unit of its own module:

* :mod:`~microseg.plugins.campaign_response.channel` — channel preference from campaign contacts;
* :mod:`~microseg.plugins.campaign_response.referrals` — "Referrers" (with channel preference);
* :mod:`~microseg.plugins.campaign_response.propensity` — response-propensity tiers;
* :mod:`~microseg.plugins.campaign_response.uplift` — uplift segments (customer-level treatment
  flag or contact rows with a treatment flag).

``segments`` picks the labels (``auto``: uplift when there is a treatment flag, else channel
preference with campaign events, else propensity tiers); models are evaluated on held-out rows
and their learner is chosen by validation inside the training rows only.
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from typing import Any

import pandas as pd

import microseg
from microseg.errors import ConfigError
from microseg.fit_memo import FitMemo, memo_for
from microseg.threads import limited_threads
from microseg.plugins.campaign_response import uplift as uplift_unit
from microseg.plugins.campaign_response.channel import ChannelPreference, channel_response
from microseg.plugins.campaign_response.inputs import Split, model_features, outcome, treatment
from microseg.plugins.campaign_response.propensity import ResponsePropensity
from microseg.plugins.campaign_response.referrals import Referrals
from microseg.plugins.campaign_response.uplift import ContactUplift, CustomerUplift

SEGMENTS = ("channel", "uplift", "propensity")
#: the libraries whose thread pools ``n_jobs`` limits (loaded before the limit is set)
SKLEARN = ("sklearn.linear_model", "sklearn.preprocessing", "scipy.linalg")


class CampaignResponse(microseg.SegmentationMethod):
    """Campaign response segments.

    Parameters
    ----------
    segments : "auto" | "channel" | "uplift" | "propensity"
        What the labels are (auto: uplift with a control group, else channel with events, else
        propensity tiers).
    prior_strength, min_contacts, min_lift : channel-preference smoothing and evidence rules
    enrollment_column, referrals_column, referrer_min : customer attributes; customers with at
        least ``referrer_min`` referrals are labelled "Referrers" (channel mode)
    outcome_column : customer-level outcome (e.g. Bank Marketing ``y``); else event responses
    treatment_column, treatment_value, control_value : customer-level treatment flag (Hillstrom)
    split : "stratified" (70/30 by treatment × outcome) or "ordered" (first rows train)
    test_size : held-out share; drop_columns : columns never used as features
    n_jobs : threads for LightGBM and for scikit-learn / BLAS (1 by default: much faster when the
        cores are shared)
    """

    name = "campaign-response"
    summary = "Preferred channel, referrers, response propensity and uplift (persuadables ...)"

    def __init__(self, *, segments: str = "auto", prior_strength: float = 20.0, min_contacts: int = 3,
                 min_lift: float = 1.25, enrollment_column: str | None = None, referrals_column: str | None = None,
                 referrer_min: int = 2, outcome_column: str | None = None, treatment_column: str | None = None,
                 treatment_value: str | None = None, control_value: str | None = None, split: str = "stratified",
                 test_size: float | None = None, drop_columns: list[str] | None = None,
                 n_estimators: int = 300, learning_rate: float = 0.03, num_leaves: int = 7,
                 min_child_samples: int = 100, n_jobs: int = 1, random_state: int | None = 42) -> None:
        self.segments = segments
        self.prior_strength = prior_strength
        self.min_contacts = min_contacts
        self.min_lift = min_lift
        self.enrollment_column = enrollment_column
        self.referrals_column = referrals_column
        self.referrer_min = referrer_min
        self.outcome_column = outcome_column
        self.treatment_column = treatment_column
        self.treatment_value = treatment_value
        self.control_value = control_value
        self.split = split
        self.test_size = test_size
        self.drop_columns = drop_columns
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.n_jobs = n_jobs
        self.random_state = random_state

    def check_columns(self, columns: Collection[str]) -> list[str]:
        """Parameter values and the columns they name, before any data is read (``microseg check``)."""
        problems = []
        if self.segments not in ("auto", *SEGMENTS):
            problems.append("campaign-response: segments must be auto, channel, uplift or propensity, "
                            f"not {self.segments!r}")
        if self.split not in ("stratified", "ordered"):
            problems.append(f"campaign-response: split must be 'stratified' or 'ordered', not {self.split!r}")
        for param in ("enrollment_column", "referrals_column", "outcome_column", "treatment_column"):
            column = getattr(self, param)
            if column and column not in columns:
                problems.append(f"campaign-response: {param} {column!r} is not a column")
        return problems

    # ------------------------------------------------------------------ the strategies' settings
    def _lgbm(self) -> dict:
        return {"n_estimators": self.n_estimators, "learning_rate": self.learning_rate,
                "num_leaves": self.num_leaves, "min_child_samples": self.min_child_samples,
                "subsample": 0.8, "subsample_freq": 1, "colsample_bytree": 0.7, "reg_lambda": 5.0,
                "n_jobs": self.n_jobs, "random_state": self.random_state}

    def _split(self) -> Split:
        return Split(self.split, self.test_size, self.random_state)

    def _channel(self) -> ChannelPreference:
        return ChannelPreference(self.prior_strength, self.min_contacts, self.min_lift)

    def _referrals(self) -> Referrals:
        return Referrals(self.referrals_column or "", self.referrer_min)

    def _features(self, customers: pd.DataFrame) -> pd.DataFrame:
        return model_features(customers, [*(self.drop_columns or []), self.outcome_column, self.treatment_column])

    def _mode(self, customers: pd.DataFrame, events_t: pd.DataFrame | None) -> str:
        if self.segments != "auto":
            if self.segments not in SEGMENTS:
                raise ConfigError("campaign-response: segments must be auto, channel, uplift or propensity")
            return self.segments
        if self.treatment_column or events_t is not None:
            return "uplift"
        if any(str(c).startswith("contacts_") for c in customers.columns):
            return "channel"
        if self.outcome_column:
            return "propensity"
        raise ConfigError("campaign-response needs campaign events, an outcome_column, or a treatment_column")

    @staticmethod
    def _event_treatment(data: Any) -> pd.DataFrame | None:
        """Campaign contacts with a treatment flag and an outcome, before as_of (or None)."""
        if data is None or not {"treatment", "responded"} <= set(data.event_columns):
            return None
        ev = data.event_rows(before=data.as_of, columns=["customer_id", "ts", "channel", "responded", "treatment"])
        return ev if ev["treatment"].nunique() == 2 else None

    # ------------------------------------------------------------------ estimator API
    def fit(self, customers: pd.DataFrame, *, data: Any = None) -> "CampaignResponse":
        self._segmented = None
        with limited_threads(self.n_jobs, *SKLEARN):      # scikit-learn / BLAS threads as LightGBM's
            self._fit(customers, data)
            # the fitted customers' labels and scores, computed once here: assign and scores reuse
            # them for this very frame (they change no state, as the method contract requires)
            self._segmented = FitMemo(self._segment_anew(customers), customers)
        return self

    def _fit(self, customers: pd.DataFrame, data: Any) -> "CampaignResponse":
        t = treatment(customers, self.treatment_column, self.treatment_value, self.control_value)
        events_t = self._event_treatment(data) if t is None else None     # collected once (Dask)
        mode = self._mode(customers, events_t)
        x = self._features(customers)
        y = outcome(customers, self.outcome_column)
        uplift: CustomerUplift | ContactUplift | None = None
        propensity: ResponsePropensity | None = None
        if mode == "uplift" and events_t is not None:
            uplift = ContactUplift(self._lgbm(), self._split()).fit(x, events_t)
        elif mode == "uplift" or (mode == "channel" and t is not None and y is not None):
            if t is None or y is None:
                raise ConfigError("campaign-response: uplift needs outcome_column and treatment_column")
            uplift = CustomerUplift(self._lgbm(), self._split()).fit(x, y, t)
        elif y is not None:
            fit_gbm = data.fit_classifier if data is not None else None        # on the run's engine
            propensity = ResponsePropensity(self._lgbm(), self._split()).fit(x, y, fit_gbm)
        if mode == "uplift" and uplift is None:
            raise ConfigError("campaign-response: no control group (no row matches control_value), uplift "
                              "is not possible; use segments = 'channel' or 'propensity'")
        if mode == "propensity" and propensity is None:
            raise ConfigError("campaign-response: propensity segments need an outcome_column")
        self.mode_ = mode
        self.uplift_, self.propensity_ = uplift, propensity
        self.evaluation_: dict[str, Any] = {name: unit.evaluation_ for name, unit in
                                            (("uplift", uplift), ("propensity", propensity)) if unit is not None}
        fitted = uplift if uplift is not None else propensity
        self.curves_: dict[str, Any] = fitted.curves_ if fitted is not None else {}
        self.channel_response_ = channel_response(customers, events_t)
        return self

    def _segment(self, customers: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
        """Labels and scores of the fitted strategy, plus the customer attributes shown as scores
        (for the frame ``fit`` was given: computed there once)."""
        cached = memo_for(self, "_segmented", customers)
        if cached is not None:
            return cached
        with limited_threads(self.n_jobs, *SKLEARN):
            return self._segment_anew(customers)

    def _segment_anew(self, customers: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
        if self.mode_ == "channel":
            labels, scores = self._channel().labels(customers)
            if self.referrals_column:
                labels = self._referrals().mark(customers, labels)
        else:
            unit = self.uplift_ if self.mode_ == "uplift" else self.propensity_
            labels, scores = unit.labels(self._features(customers))
        if self.enrollment_column and self.enrollment_column in customers.columns:
            scores["enrollment_channel"] = customers[self.enrollment_column].astype(str).to_numpy()
        if self.referrals_column and self.referrals_column in customers.columns:
            scores["referrals"] = customers[self.referrals_column].to_numpy()
        if self.propensity_ is not None and "response_propensity" not in scores:
            scores["response_propensity"] = self.propensity_.predict(self._features(customers))
        return labels, scores

    def assign(self, customers: pd.DataFrame, *, data: Any = None) -> pd.Series:
        return self._segment(customers)[0]

    def scores(self, customers: pd.DataFrame, *, data: Any = None) -> pd.DataFrame:
        return self._segment(customers)[1]

    def describe(self, label: str) -> str:
        for describe in (uplift_unit.describe, self._channel().describe, self._referrals().describe,
                         ResponsePropensity.describe):
            text = describe(label)
            if text is not None:
                return text
        return str(label)

    def quality_checks(self) -> list[Any]:
        """The held-out propensity / uplift model against the base rate / random targeting; the
        labels come from the model of the method's mode."""
        units = (("uplift", getattr(self, "uplift_", None)), ("propensity", getattr(self, "propensity_", None)))
        return [replace(unit.comparison_, segments=self.mode_ == mode) for mode, unit in units if unit is not None]

    def report(self) -> dict[str, Any]:
        return {"mode": getattr(self, "mode_", None), "evaluation": getattr(self, "evaluation_", {}),
                "channels": getattr(self, "channel_response_", {}), "curves": getattr(self, "curves_", {})}


@microseg.hookimpl
def register_methods(register):
    register(CampaignResponse)
