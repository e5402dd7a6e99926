"""Uplift learners (T-learner, class transformation, their ensemble), chosen by cross-validation
inside the training rows only."""
from __future__ import annotations

import numpy as np
import pandas as pd

from microseg import progress
from microseg.plugins._metrics import qini_auc_score
from microseg.plugins._propensity import Propensity


class TLearner:
    """Two response models, treated and control; uplift = difference."""

    def __init__(self, kind: str, lgbm_params: dict) -> None:
        self.kind, self.lgbm_params = kind, lgbm_params

    def fit(self, x: pd.DataFrame, y: np.ndarray, t: np.ndarray, control: bool = True) -> "TLearner":
        """(``control`` is for the learners' common signature: the control model is part of the uplift here.)"""
        self.treated_ = Propensity(self.kind, dict(self.lgbm_params)).fit(x[t == 1], y[t == 1])
        self.control_ = Propensity(self.kind, dict(self.lgbm_params)).fit(x[t == 0], y[t == 0])
        return self

    def uplift(self, x: pd.DataFrame) -> np.ndarray:
        return self.predict(x)[0]

    def predict(self, x: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(uplift, control propensity)."""
        pc = self.control_.predict(x)
        return self.treated_.predict(x) - pc, pc


class ClassTransformation:
    """Jaskowski–Jaroszewicz: z = 1 when (treated and responded) or (control and not);
    uplift = 2 P(z) − 1 (treatment share rebalanced by sample weights)."""

    def __init__(self, kind: str, lgbm_params: dict) -> None:
        self.kind, self.lgbm_params = kind, lgbm_params

    def fit(self, x: pd.DataFrame, y: np.ndarray, t: np.ndarray, control: bool = True) -> "ClassTransformation":
        """With ``control=False`` only the uplift model is fitted (:meth:`uplift`, not :meth:`predict`)."""
        z = ((y == 1) & (t == 1)) | ((y == 0) & (t == 0))
        share = float(np.mean(t))
        weight = np.where(t == 1, 0.5 / share, 0.5 / (1 - share))   # as if treatment were 50/50
        self.model_ = Propensity(self.kind, dict(self.lgbm_params)).fit(x, z.astype(int), sample_weight=weight)
        if control:
            self.control_ = Propensity("logistic", {}).fit(x[t == 0], y[t == 0])
        return self

    def uplift(self, x: pd.DataFrame) -> np.ndarray:
        return 2 * self.model_.predict(x) - 1

    def predict(self, x: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        return self.uplift(x), self.control_.predict(x)


class Ensemble:
    """Average of the T-learner and the class transformation (rank-averaged uplift): lower
    variance than either alone."""

    def __init__(self, kind: str, lgbm_params: dict) -> None:
        self.kind, self.lgbm_params = kind, lgbm_params

    def fit(self, x: pd.DataFrame, y: np.ndarray, t: np.ndarray, control: bool = True) -> "Ensemble":
        """(The control propensity is the T-learner's: the class transformation fits no control model.)"""
        self.members_ = [TLearner(self.kind, dict(self.lgbm_params)).fit(x, y, t),
                         ClassTransformation(self.kind, dict(self.lgbm_params)).fit(x, y, t, control=False)]
        return self

    def predict(self, x: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        tl, ct = self.members_
        u_t, pc = tl.predict(x)
        # average on the T-learner's scale: mean uplift, ranked jointly
        return np.mean([u_t, ct.uplift(x)], axis=0), pc

    def uplift(self, x: pd.DataFrame) -> np.ndarray:
        return self.predict(x)[0]


LEARNERS = {"t-learner": TLearner, "class-transformation": ClassTransformation, "ensemble": Ensemble}


def choose_uplift(x: pd.DataFrame, y: np.ndarray, t: np.ndarray, lgbm_params: dict, seed: int | None,
                  folds: int = 3) -> tuple[tuple[str, str], dict[str, float]]:
    """Pick (learner, base model) by mean Qini AUC over stratified folds of the training rows.

    The ensemble's fold score comes from its members' predictions on the fold (the same
    average :class:`Ensemble` takes), so it costs no extra fit."""
    rng = np.random.default_rng(seed)
    strata = t * 2 + y
    fold = np.empty(len(y), dtype=int)
    for s in np.unique(strata):
        idx = np.flatnonzero(strata == s)
        fold[rng.permutation(idx)] = np.arange(len(idx)) % folds
    vals: dict[str, list[float]] = {}
    with progress.task("choosing the uplift learner", total=2 * 2 * folds) as fits:
        for kind in ("logistic", "lgbm"):
            for f in range(folds):
                tr, va = fold != f, fold == f
                preds = {}
                tl = TLearner(kind, dict(lgbm_params)).fit(x[tr], y[tr], t[tr])
                preds["t-learner"] = tl.predict(x[va])[0]
                fits.advance()
                # only the uplift is scored here: no control-response model
                ct = ClassTransformation(kind, dict(lgbm_params)).fit(x[tr], y[tr], t[tr], control=False)
                preds["class-transformation"] = ct.uplift(x[va])
                fits.advance()
                preds["ensemble"] = np.mean([preds["t-learner"], preds["class-transformation"]], axis=0)
                for learner, u in preds.items():
                    vals.setdefault(f"{learner}/{kind}", []).append(qini_auc_score(y[va], u, t[va]))
    scores = {name: float(np.mean(v)) for name, v in vals.items()}
    best = max(scores, key=scores.get)
    learner, kind = best.split("/")
    return (learner, kind), scores
