"""Uplift: who responds *because* they are contacted, from treated and control customers.

Two sources of treatment: a customer-level flag (:class:`CustomerUplift`, e.g. Hillstrom's
e-mail vs no e-mail) or campaign contacts with a treatment flag (:class:`ContactUplift`,
trained on contact rows with the contact's channel as a feature and averaged over channels per
customer). The learner is chosen by cross-validated Qini inside the training rows; the figures
are on held-out rows (customers).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from microseg.plugins.campaign_response.inputs import Split, members
from microseg.plugins.comparison import ModelComparison

PERSUADABLES, SURE_THINGS, LOST_CAUSES, SLEEPING_DOGS = "Persuadables", "Sure things", "Lost causes", "Sleeping dogs"
DESCRIPTIONS = {
    PERSUADABLES: "respond more when contacted than when not (positive uplift): target them",
    SURE_THINGS: "respond whether contacted or not: contact spend is wasted",
    LOST_CAUSES: "unlikely to respond either way",
    SLEEPING_DOGS: "respond less when contacted (negative uplift): do not contact",
}
#: contact rows are many and alike: the learner is chosen on at most this many, fitted on at most
#: (halved from 20k / 60k: the demo's uplift fit 32 -> 13 s CPU, held-out Qini 0.020 -> 0.021)
CHOOSE_ROWS, FIT_ROWS = 10_000, 30_000


def uplift_labels(u: np.ndarray, pc: np.ndarray, bounds: tuple[float, float], index: pd.Index
                  ) -> tuple[pd.Series, pd.DataFrame]:
    """Persuadables (uplift in the top 30 % and positive), Sleeping dogs (negative), else Sure
    things / Lost causes by control propensity against its median; scores ``uplift`` and
    ``control_propensity``."""
    hi, base = bounds
    lab = np.where(u < 0, SLEEPING_DOGS, np.where((u >= hi) & (u > 0), PERSUADABLES,
                                                  np.where(pc >= base, SURE_THINGS, LOST_CAUSES)))
    return pd.Series(lab, index=index), pd.DataFrame({"uplift": u, "control_propensity": pc}, index=index)


def _comparison(y: np.ndarray, u: np.ndarray, t: np.ndarray, groups: np.ndarray | None,
                protocol: str) -> ModelComparison:
    """The held-out uplift against random targeting (for the quality gate)."""
    return ModelComparison(model="uplift model", kind="uplift", metric="qini_auc", baseline="random targeting",
                           y=y, score=u, treatment=t, groups=groups, score_columns=("uplift", "control_propensity"),
                           protocol=protocol)


def _evaluation(protocol: str, learner: str, kind: str, cv: Any, y: np.ndarray, u: np.ndarray, t: np.ndarray,
                t_all: np.ndarray) -> dict[str, Any]:
    from microseg.plugins._metrics import qini_auc_score, uplift_at_k   # scikit-learn on use (fast CLI)
    return {"protocol": protocol, "learner": f"{learner}/{kind}", "cv_qini_train": cv["qini"],
            "cv_uplift_at_30_train": cv["uplift_at_30"],
            "uplift_at_30": uplift_at_k(y, u, t, 0.3), "qini_auc": qini_auc_score(y, u, t),
            "treated_rows": int((t_all == 1).sum()), "control_rows": int((t_all == 0).sum())}


class UpliftModel:
    """A fitted uplift learner and its label bounds (fitted by a subclass's ``fit``)."""

    model_: Any
    bounds_: tuple[float, float]
    evaluation_: dict[str, Any]
    curves_: dict[str, Any]      # the held-out Qini curve, for the report
    comparison_: ModelComparison  # the held-out rows against random targeting

    def __init__(self, lgbm_params: dict[str, Any], split: Split) -> None:
        self.lgbm_params, self.split = lgbm_params, split

    def predict(self, x: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(uplift, control propensity) per row of ``x``."""
        return self.model_.predict(x)

    def labels(self, x: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
        return uplift_labels(*self.predict(x), self.bounds_, x.index)


class CustomerUplift(UpliftModel):
    """Uplift from a customer-level treatment flag (1 treated, 0 control, -1 neither)."""

    def fit(self, x: pd.DataFrame, y: np.ndarray, t: np.ndarray) -> "CustomerUplift | None":
        from microseg.plugins._uplift import LEARNERS, choose_uplift
        from microseg.plugins.curves import qini_points
        """The fitted unit, or None when there is no treated or no control customer."""
        rows = np.flatnonzero(t >= 0)
        if (t[rows] == 0).sum() == 0 or (t[rows] == 1).sum() == 0:
            return None
        xs, ys, ts = x.iloc[rows], y[rows], t[rows]
        tr, te = self.split(len(rows), ts * 2 + ys)
        (learner, kind), cv = choose_uplift(xs.iloc[tr], ys[tr], ts[tr], self.lgbm_params, self.split.random_state)
        scored = LEARNERS[learner](kind, self.lgbm_params).fit(xs.iloc[tr], ys[tr], ts[tr], control=False)
        u = scored.uplift(xs.iloc[te])                       # uplift only: no control-response model
        self.evaluation_ = _evaluation(f"{self.split.kind} split by treatment × outcome, {len(te)} held-out rows",
                                       learner, kind, cv, ys[te], u, ts[te], ts)
        self.curves_ = {"qini": qini_points(ys[te], u, ts[te])}
        self.comparison_ = _comparison(ys[te], u, ts[te], None, f"{self.split.kind} split")
        self.model_ = LEARNERS[learner](kind, self.lgbm_params).fit(xs, ys, ts)
        u_all, pc = self.model_.predict(xs)
        self.bounds_ = (float(np.quantile(u_all, 0.7)), float(np.median(pc)))
        return self


class ContactUplift(UpliftModel):
    """Uplift from campaign contacts (``customer_id``, ``responded``, ``treatment``, optionally
    ``channel``): trained on contact rows; a share of the customers is held out."""

    def fit(self, x: pd.DataFrame, events: pd.DataFrame) -> "ContactUplift":
        from microseg.plugins._uplift import LEARNERS, choose_uplift
        from microseg.plugins.curves import qini_points
        ev = events.loc[members(events["customer_id"], x.index)].reset_index(drop=True)
        rows = self._contact_rows(x, ev)
        y = ev["responded"].to_numpy(dtype=int)
        t = ev["treatment"].to_numpy(dtype=int)
        seed = self.split.random_state
        rng = np.random.default_rng(seed)
        ids = pd.unique(ev["customer_id"])
        held = set(rng.choice(ids, int(len(ids) * (self.split.test_size or 0.3)), replace=False).tolist())
        te = members(ev["customer_id"], held)
        tr_idx = np.flatnonzero(~te)
        sel = tr_idx if len(tr_idx) <= CHOOSE_ROWS else rng.choice(tr_idx, CHOOSE_ROWS, replace=False)
        (learner, kind), cv = choose_uplift(rows.iloc[sel], y[sel], t[sel], self.lgbm_params, seed,
                                            groups=ev["customer_id"].to_numpy()[sel])   # customers whole
        fit_idx = tr_idx if len(tr_idx) <= FIT_ROWS else rng.choice(tr_idx, FIT_ROWS, replace=False)
        model = LEARNERS[learner](kind, self.lgbm_params).fit(rows.iloc[fit_idx], y[fit_idx], t[fit_idx],
                                                               control=False)
        u = model.uplift(rows.loc[te])                       # scored on uplift only: no control-response model
        self.evaluation_ = _evaluation(f"contact rows; {len(held)} customers held out ({int(te.sum())} contacts)",
                                       learner, kind, cv, y[te], u, t[te], t)
        self.curves_ = {"qini": qini_points(y[te], u, t[te])}
        self.comparison_ = _comparison(y[te], u, t[te], ev["customer_id"].to_numpy()[te],
                                       "contact rows, customers held out whole")
        everything = np.arange(len(y)) if len(y) <= FIT_ROWS else rng.choice(len(y), FIT_ROWS, replace=False)
        self.model_ = LEARNERS[learner](kind, self.lgbm_params).fit(rows.iloc[everything], y[everything],
                                                                   t[everything])
        self.channels_ = sorted(ev["channel"].unique()) if "channel" in ev.columns else None
        u_all, pc = self.predict(x)
        self.bounds_ = (float(np.quantile(u_all, 0.7)), float(np.median(pc)))
        return self

    @staticmethod
    def _contact_rows(x: pd.DataFrame, ev: pd.DataFrame, channel: np.ndarray | None = None) -> pd.DataFrame:
        """The customer features of each contact, plus the contact's channel."""
        rows = x.reindex(ev["customer_id"].to_numpy()).reset_index(drop=True)
        if channel is not None:
            rows["contact_channel"] = channel
        elif "channel" in ev.columns:
            rows["contact_channel"] = ev["channel"].to_numpy()
        return rows

    def predict(self, x: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Per customer: uplift and control propensity, averaged over the contact channels."""
        if self.channels_ is None:
            return self.model_.predict(x)
        fake = pd.DataFrame({"customer_id": x.index})
        parts = [self.model_.predict(self._contact_rows(x, fake, np.full(len(fake), ch))) for ch in self.channels_]
        return np.mean([p[0] for p in parts], axis=0), np.mean([p[1] for p in parts], axis=0)


def describe(label: str) -> str | None:
    return DESCRIPTIONS.get(label)
