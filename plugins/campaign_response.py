"""``campaign-response``: preferred channel, referrers, response propensity and uplift.

Channel preference: per customer and channel, the response rate is smoothed toward the
channel's population rate with ``prior_strength`` pseudo-contacts (one lucky response does not
make a preference). The preferred channel is the one with the highest smoothed rate when it
beats the customer's next-best channel by ``min_lift`` and rests on at least ``min_contacts``
contacts; customers contacted at least 2 × ``min_contacts`` times whose smoothed overall rate is below
two thirds of the population's are "Unresponsive"; the rest are "No evidence".

Propensity (when an outcome exists) and uplift (when a treatment/control flag exists) are
evaluated on held-out rows; the learner is chosen by validation inside the training rows only.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd

import microseg
from microseg.errors import ConfigError
from microseg.plugins._bootstrap import ModelComparison
from microseg.plugins._metrics import classification_report, qini_auc_score, uplift_at_k
from microseg.plugins._uplift import LEARNERS, Propensity, choose_propensity, choose_uplift

UPLIFT_LABELS = ("Persuadables", "Sure things", "Lost causes", "Sleeping dogs")
EVENT_FEATURES = ("contacts", "responses", "response_rate")


def _truthy(values: pd.Series) -> np.ndarray:
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return values.fillna(0).to_numpy() != 0
    return values.astype(str).str.strip().str.lower().isin({"1", "true", "yes", "y", "t"}).to_numpy()


def _cluster_fitter(data: Any) -> Callable[..., Any] | None:
    """On the Dask engine, LightGBM's Dask interface for the final model; else None (in process)."""
    if getattr(data, "client", None) is None:
        return None
    from microseg.dask_engine import fit_lgbm
    return lambda params, n_trees, x, y: fit_lgbm(data, params, n_trees, x, y)


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

    # ------------------------------------------------------------------ helpers
    def _lgbm(self) -> dict:
        return {"n_estimators": self.n_estimators, "learning_rate": self.learning_rate,
                "num_leaves": self.num_leaves, "min_child_samples": self.min_child_samples,
                "subsample": 0.8, "subsample_freq": 1, "colsample_bytree": 0.7, "reg_lambda": 5.0,
                "n_jobs": self.n_jobs, "random_state": self.random_state}

    def _features(self, customers: pd.DataFrame) -> pd.DataFrame:
        skip = set(self.drop_columns or []) | {self.outcome_column, self.treatment_column} | set(EVENT_FEATURES)
        skip |= {c for c in customers.columns if str(c).startswith(("contacts_", "responses_"))}
        cols = [c for c in customers.columns if c not in skip and c is not None
                and not pd.api.types.is_datetime64_any_dtype(customers[c])]
        return customers[cols]

    def _treatment(self, customers: pd.DataFrame) -> np.ndarray | None:
        """1 treated, 0 control, -1 neither (customer-level flag)."""
        if not self.treatment_column:
            return None
        if self.treatment_column not in customers.columns:
            raise ConfigError(f"campaign-response: treatment_column {self.treatment_column!r} is not a column")
        v = customers[self.treatment_column].astype(str).str.strip()
        if self.treatment_value is None and self.control_value is None:
            return _truthy(customers[self.treatment_column]).astype(int)
        treated = (v == str(self.treatment_value)) if self.treatment_value is not None else (v != str(self.control_value))
        control = (v == str(self.control_value)) if self.control_value is not None else ~treated
        return np.where(treated, 1, np.where(control, 0, -1))

    def _outcome(self, customers: pd.DataFrame) -> np.ndarray | None:
        if not self.outcome_column:
            return None
        if self.outcome_column not in customers.columns:
            raise ConfigError(f"campaign-response: outcome_column {self.outcome_column!r} is not a column")
        return _truthy(customers[self.outcome_column]).astype(int)

    def _split(self, n: int, strata: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.split == "ordered":
            cut = int(n * (1 - (self.test_size or 0.2)))
            return np.arange(cut), np.arange(cut, n)
        if self.split != "stratified":
            raise ConfigError("campaign-response: split must be 'stratified' or 'ordered'")
        from sklearn.model_selection import train_test_split
        idx = np.arange(n)
        return train_test_split(idx, test_size=self.test_size or 0.3, random_state=self.random_state, stratify=strata)

    # ------------------------------------------------------------------ channel preference
    def _channels(self, customers: pd.DataFrame) -> pd.DataFrame | None:
        chans = sorted(c.removeprefix("contacts_") for c in customers.columns if str(c).startswith("contacts_"))
        if not chans:
            return None
        sent = customers[[f"contacts_{c}" for c in chans]].to_numpy(dtype=float)
        resp = customers[[f"responses_{c}" for c in chans]].to_numpy(dtype=float)
        pop = resp.sum(axis=0) / np.maximum(sent.sum(axis=0), 1)
        smoothed = (resp + self.prior_strength * pop) / (sent + self.prior_strength)
        return pd.DataFrame(smoothed, index=customers.index, columns=chans), pop, sent

    def _channel_labels(self, customers: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
        got = self._channels(customers)
        if got is None:
            raise ConfigError("campaign-response: channel segments need campaign events (a [sources.events] "
                              "table with a channel column)")
        rates, pop, sent = got
        r = rates.to_numpy()
        order = np.argsort(-r, axis=1)
        best, second = order[:, 0], order[:, 1] if r.shape[1] > 1 else order[:, 0]
        rows = np.arange(len(r))
        best_rate = r[rows, best]
        next_rate = r[rows, second] if r.shape[1] > 1 else np.full(len(r), 0.0)
        enough = sent[rows, best] >= self.min_contacts
        lift_ok = best_rate >= self.min_lift * np.maximum(next_rate, 1e-9) if r.shape[1] > 1 else \
            best_rate >= self.min_lift * pop[0]
        total = sent.sum(axis=1)
        got = customers[[f"responses_{c}" for c in rates.columns]].to_numpy(dtype=float).sum(axis=1)
        pop_all = got.sum() / max(total.sum(), 1)
        overall = (got + self.prior_strength * pop_all) / (total + self.prior_strength)
        unresponsive = (total >= 2 * self.min_contacts) & (overall < 2 / 3 * pop_all)
        chans = np.array(rates.columns, dtype=object)
        names = np.array([f"Responds to {'SMS' if c == 'sms' else c}" for c in chans], dtype=object)
        labels = np.where(enough & lift_ok, names[best], np.where(unresponsive, "Unresponsive", "No evidence"))
        if self.referrals_column:
            if self.referrals_column not in customers.columns:
                raise ConfigError(f"campaign-response: referrals_column {self.referrals_column!r} is not a column")
            referrals = customers[self.referrals_column].fillna(0).to_numpy()
            labels = np.where(referrals >= self.referrer_min, "Referrers", labels)
        scores = rates.add_prefix("rate_")
        scores["preferred_channel"] = np.where(enough & lift_ok, chans[best], None)
        return pd.Series(labels, index=customers.index), scores

    # ------------------------------------------------------------------ fit
    def _mode(self, customers: pd.DataFrame, events_t: pd.DataFrame | None) -> str:
        if self.segments != "auto":
            if self.segments not in ("channel", "uplift", "propensity"):
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
        events = getattr(data, "events", None)
        if events is None or not {"treatment", "responded"} <= set(events.columns):
            return None
        ev = data.event_rows(before=getattr(data, "as_of", None),     # pandas rows on every engine
                             columns=["customer_id", "ts", "channel", "responded", "treatment"])
        return ev if ev["treatment"].nunique() == 2 else None

    def _contact_rows(self, customers: pd.DataFrame, ev: pd.DataFrame, channel: np.ndarray | None = None):
        x = self._features(customers).reindex(ev["customer_id"].to_numpy()).reset_index(drop=True)
        if channel is not None:
            x["contact_channel"] = channel
        elif "channel" in ev.columns:
            x["contact_channel"] = ev["channel"].to_numpy()
        return x

    def _fit_event_uplift(self, customers: pd.DataFrame, ev: pd.DataFrame) -> None:
        ev = ev.loc[ev["customer_id"].isin(customers.index)].reset_index(drop=True)
        x = self._contact_rows(customers, ev)
        y = ev["responded"].to_numpy(dtype=int)
        t = ev["treatment"].to_numpy(dtype=int)
        rng = np.random.default_rng(self.random_state)
        ids = pd.unique(ev["customer_id"])
        held = set(rng.choice(ids, int(len(ids) * (self.test_size or 0.3)), replace=False).tolist())
        te = ev["customer_id"].isin(held).to_numpy()
        tr_idx = np.flatnonzero(~te)
        # contact rows are many and alike: choose the learner on 20k of them, fit on at most 60k
        sel = tr_idx if len(tr_idx) <= 20_000 else rng.choice(tr_idx, 20_000, replace=False)
        (learner, kind), cv = choose_uplift(x.iloc[sel], y[sel], t[sel], self._lgbm(), self.random_state)
        fit_idx = tr_idx if len(tr_idx) <= 60_000 else rng.choice(tr_idx, 60_000, replace=False)
        model = LEARNERS[learner](kind, self._lgbm()).fit(x.iloc[fit_idx], y[fit_idx], t[fit_idx])
        u, _ = model.predict(x.loc[te])
        self.comparisons_.append(self._uplift_comparison(y[te], u, t[te], ev["customer_id"].to_numpy()[te],
                                                         "contact rows, customers held out whole"))
        self.evaluation_["uplift"] = {
            "protocol": f"contact rows; {len(held)} customers held out ({int(te.sum())} contacts)",
            "learner": f"{learner}/{kind}", "cv_qini_train": cv,
            "uplift_at_30": uplift_at_k(y[te], u, t[te], 0.3), "qini_auc": qini_auc_score(y[te], u, t[te]),
            "treated_rows": int((t == 1).sum()), "control_rows": int((t == 0).sum())}
        everything = np.arange(len(y)) if len(y) <= 60_000 else rng.choice(len(y), 60_000, replace=False)
        self.uplift_model_ = LEARNERS[learner](kind, self._lgbm()).fit(x.iloc[everything], y[everything],
                                                                      t[everything])
        self.channels_ = sorted(ev["channel"].unique()) if "channel" in ev.columns else None
        u_all, pc = self._customer_uplift(customers)
        self.uplift_bounds_ = (float(np.quantile(u_all, 0.7)), float(np.median(pc)))

    def _customer_uplift(self, customers: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Per customer: uplift and control propensity, averaged over the contact channels."""
        if getattr(self, "channels_", None) is None and not self.treatment_column:
            x = self._features(customers)
            return self.uplift_model_.predict(x)
        if self.treatment_column:
            return self.uplift_model_.predict(self._features(customers))
        fake = pd.DataFrame({"customer_id": customers.index})
        parts = [self.uplift_model_.predict(self._contact_rows(customers, fake, np.full(len(fake), ch)))
                 for ch in self.channels_]
        return np.mean([p[0] for p in parts], axis=0), np.mean([p[1] for p in parts], axis=0)

    def fit(self, customers: pd.DataFrame, *, data: Any = None) -> "CampaignResponse":
        t = self._treatment(customers)
        events_t = self._event_treatment(data) if t is None else None     # collected once (Dask)
        self.mode_ = self._mode(customers, events_t)
        self.evaluation_: dict[str, Any] = {}
        self.comparisons_: list[ModelComparison] = []
        x = self._features(customers)
        y = self._outcome(customers)
        if self.mode_ == "uplift" and events_t is not None:
            self._fit_event_uplift(customers, events_t)
        elif self.mode_ == "uplift" or (t is not None and y is not None):
            if t is None or y is None:
                raise ConfigError("campaign-response: uplift needs outcome_column and treatment_column")
            self._fit_uplift(x, y, t)
        elif y is not None:
            self._fit_propensity(x, y, data)
        if self.mode_ == "uplift" and not hasattr(self, "uplift_model_"):
            raise ConfigError("campaign-response: no control group (no row matches control_value), uplift "
                              "is not possible; use segments = 'channel' or 'propensity'")
        return self

    def _fit_propensity(self, x: pd.DataFrame, y: np.ndarray, data: Any = None) -> None:
        tr, te = self._split(len(y), y)
        kind, val = choose_propensity(x.iloc[tr], y[tr], self._lgbm(), self.split == "ordered", self.random_state)
        model = Propensity(kind, self._lgbm()).fit(x.iloc[tr], y[tr])
        p = model.predict(x.iloc[te])
        self.comparisons_.append(ModelComparison(
            model="response model", kind="classifier", metric="roc_auc", baseline="the base rate (everyone alike)",
            y=y[te], score=p, baseline_score=np.full(len(te), y[tr].mean()), segments=self.mode_ == "propensity",
            score_columns=("response_propensity",), protocol=f"{self.split} split"))
        self.evaluation_["propensity"] = {"protocol": f"{self.split} split, {len(te)} held-out rows",
                                          "model": kind, "validation_auc": val} | classification_report(y[te], p)
        self.propensity_model_ = Propensity(kind, self._lgbm(), fit_gbm=_cluster_fitter(data)).fit(x, y)
        self.propensity_bounds_ = tuple(np.quantile(self.propensity_model_.predict(x), [0.5, 0.8]))

    def _fit_uplift(self, x: pd.DataFrame, y: np.ndarray, t: np.ndarray) -> None:
        rows = np.flatnonzero(t >= 0)
        if (t[rows] == 0).sum() == 0 or (t[rows] == 1).sum() == 0:
            return
        xs, ys, ts = x.iloc[rows], y[rows], t[rows]
        tr, te = self._split(len(rows), ts * 2 + ys)
        (learner, kind), cv = choose_uplift(xs.iloc[tr], ys[tr], ts[tr], self._lgbm(), self.random_state)
        model = LEARNERS[learner](kind, self._lgbm()).fit(xs.iloc[tr], ys[tr], ts[tr])
        u, _ = model.predict(xs.iloc[te])
        self.comparisons_.append(self._uplift_comparison(ys[te], u, ts[te], None, f"{self.split} split"))
        self.evaluation_["uplift"] = {
            "protocol": f"{self.split} split by treatment × outcome, {len(te)} held-out rows",
            "learner": f"{learner}/{kind}", "cv_qini_train": cv,
            "uplift_at_30": uplift_at_k(ys[te], u, ts[te], 0.3), "qini_auc": qini_auc_score(ys[te], u, ts[te]),
            "treated_rows": int((ts == 1).sum()), "control_rows": int((ts == 0).sum())}
        self.uplift_model_ = LEARNERS[learner](kind, self._lgbm()).fit(xs, ys, ts)
        u_all, pc = self.uplift_model_.predict(xs)
        self.uplift_bounds_ = (float(np.quantile(u_all, 0.7)), float(np.median(pc)))

    def _uplift_comparison(self, y: np.ndarray, u: np.ndarray, t: np.ndarray, groups: np.ndarray | None,
                           protocol: str) -> ModelComparison:
        return ModelComparison(model="uplift model", kind="uplift", metric="qini_auc", baseline="random targeting",
                               y=y, score=u, treatment=t, groups=groups, segments=self.mode_ == "uplift",
                               score_columns=("uplift", "control_propensity"), protocol=protocol)

    def quality_checks(self) -> list[ModelComparison]:
        """The held-out propensity / uplift models against the base rate / random targeting."""
        return list(getattr(self, "comparisons_", []))

    # ------------------------------------------------------------------ apply
    def assign(self, customers: pd.DataFrame, *, data: Any = None) -> pd.Series:
        if self.mode_ == "channel":
            labels, self.scores_ = self._channel_labels(customers)
        elif self.mode_ == "uplift":
            u, pc = self._customer_uplift(customers)
            hi, base = self.uplift_bounds_
            lab = np.where(u < 0, "Sleeping dogs", np.where((u >= hi) & (u > 0), "Persuadables",
                                                            np.where(pc >= base, "Sure things", "Lost causes")))
            labels = pd.Series(lab, index=customers.index)
            self.scores_ = pd.DataFrame({"uplift": u, "control_propensity": pc}, index=customers.index)
        else:
            if not hasattr(self, "propensity_model_"):
                raise ConfigError("campaign-response: propensity segments need an outcome_column")
            p = self.propensity_model_.predict(self._features(customers))
            lo, hi = self.propensity_bounds_
            labels = pd.Series(np.where(p >= hi, "Likely responders", np.where(p >= lo, "Possible responders",
                                                                              "Unlikely responders")),
                               index=customers.index)
            self.scores_ = pd.DataFrame({"response_propensity": p}, index=customers.index)
        if self.enrollment_column and self.enrollment_column in customers.columns:
            self.scores_["enrollment_channel"] = customers[self.enrollment_column].astype(str).to_numpy()
        if self.referrals_column and self.referrals_column in customers.columns:
            self.scores_["referrals"] = customers[self.referrals_column].to_numpy()
        if hasattr(self, "propensity_model_") and "response_propensity" not in self.scores_:
            self.scores_["response_propensity"] = self.propensity_model_.predict(self._features(customers))
        self.sizes_ = labels.value_counts().to_dict()
        return labels

    def scores(self, customers: pd.DataFrame, *, data: Any = None) -> pd.DataFrame:
        return self.scores_.reindex(customers.index)

    def describe(self, label: str) -> str:
        fixed = {
            "Persuadables": "respond more when contacted than when not (positive uplift): target them",
            "Sure things": "respond whether contacted or not: contact spend is wasted",
            "Lost causes": "unlikely to respond either way",
            "Sleeping dogs": "respond less when contacted (negative uplift): do not contact",
            "Unresponsive": f"contacted at least {2 * self.min_contacts} times; responds well below the average rate",
            "No evidence": "too few contacts or no clear difference between channels",
            "Referrers": f"referred at least {self.referrer_min} new members",
            "Likely responders": "top 20% response propensity", "Possible responders": "above-median response propensity",
            "Unlikely responders": "below-median response propensity",
        }
        if label in fixed:
            return fixed[label]
        if label.startswith("Responds to "):
            return f"prefers {label.removeprefix('Responds to ')}: clearly the best smoothed response rate"
        return str(label)

    def report(self) -> dict[str, Any]:
        return {"mode": getattr(self, "mode_", None), "evaluation": getattr(self, "evaluation_", {}),
                "segment_sizes": {str(k): int(v) for k, v in getattr(self, "sizes_", {}).items()}}


@microseg.hookimpl
def register_methods(register):
    register(CampaignResponse)
