"""Response propensity and uplift learners, chosen by validation inside the training rows only."""
from __future__ import annotations

import warnings
from typing import Any, Callable

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, KBinsDiscretizer, OneHotEncoder, StandardScaler

from microseg import progress
from microseg.lgbm import classifier
from microseg.plugins._lgbm import prepare
from microseg.plugins._metrics import qini_auc_score


def _logistic(x: pd.DataFrame, c: float = 0.5):
    """Logistic regression on scaled numbers, their quantile bins (non-linear effects such as a
    U-shaped age), and one-hot categories."""
    num = [col for col in x.columns if pd.api.types.is_numeric_dtype(x[col])]
    cat = [col for col in x.columns if col not in num]
    binned = [col for col in num if x[col].nunique() > 8]
    parts = [("num", make_pipeline(FunctionTransformer(_signed_log), StandardScaler()), num),
             ("cat", make_pipeline(CategoryCodes(), OneHotEncoder(handle_unknown="ignore", min_frequency=20)), cat)]
    if binned:
        parts.append(("bins", KBinsDiscretizer(n_bins=8, encode="onehot", strategy="quantile",
                                               quantile_method="averaged_inverted_cdf"), binned))
    return make_pipeline(ColumnTransformer(parts), LogisticRegression(C=c, max_iter=3000))


class CategoryCodes(TransformerMixin, BaseEstimator):
    """Text columns as integer codes of the levels seen in ``fit`` (unseen: −1, which the
    one-hot encoder then ignores): one-hot encoding integers is ~50× faster than Python objects."""

    def fit(self, x: pd.DataFrame, y: Any = None) -> "CategoryCodes":
        frame = pd.DataFrame(x)
        self.levels_ = [frame.iloc[:, j].dropna().unique() for j in range(frame.shape[1])]
        return self

    def transform(self, x: pd.DataFrame) -> np.ndarray:
        frame = pd.DataFrame(x)
        columns = [frame.iloc[:, j] for j in range(frame.shape[1])]
        return np.column_stack([_codes(col, levels) for col, levels in zip(columns, self.levels_)]).astype(np.int64)


def _codes(col: pd.Series, levels: Any) -> np.ndarray:
    """Position of each value among ``levels``; unseen and missing values: -1."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        return pd.Categorical(col.where(col.isin(levels)), categories=levels).codes
    return pd.Index(levels).get_indexer(col)       # (isin on Arrow strings builds a scalar per level)


def _signed_log(x):
    return np.sign(x) * np.log1p(np.abs(x))


def _numeric_fill(x: pd.DataFrame) -> pd.DataFrame:
    out = x.copy()
    for col in out.columns:
        if pd.api.types.is_numeric_dtype(out[col]):
            out[col] = out[col].astype("float64").fillna(out[col].median() if out[col].notna().any() else 0)
        else:
            out[col] = out[col].astype("string").fillna("missing")
    return out


class Propensity:
    """Probability of responding: logistic regression, regularised LightGBM, or their average."""

    def __init__(self, kind: str, lgbm_params: dict, fit_gbm: Callable[..., Any] | None = None) -> None:
        """``fit_gbm(params, x, y, n_estimators=...)`` trains the LightGBM part (the run's
        :meth:`microseg.engine.Engine.fit_classifier`); by default it is fitted in process."""
        self.kind, self.lgbm_params, self.fit_gbm = kind, lgbm_params, fit_gbm

    def fit(self, x: pd.DataFrame, y: np.ndarray, sample_weight: np.ndarray | None = None) -> "Propensity":
        if self.kind in ("logistic", "blend"):
            with warnings.catch_warnings():   # heavy ties merge quantile bins: expected
                warnings.filterwarnings("ignore", message="Bins whose width are too small")
                self.lr_ = _logistic(x).fit(_numeric_fill(x), y, logisticregression__sample_weight=sample_weight)
        if self.kind in ("lgbm", "blend"):
            xp, self.cats_ = prepare(x)
            params = dict(self.lgbm_params)
            n_trees = params.pop("n_estimators", 300)
            if self.fit_gbm is not None and sample_weight is None:
                self.gbm_ = self.fit_gbm(params, xp, y, n_estimators=n_trees)
            else:
                self.gbm_ = classifier(params, n_trees).fit(xp, y, sample_weight=sample_weight)
        return self

    def predict(self, x: pd.DataFrame) -> np.ndarray:
        parts = []
        if self.kind in ("logistic", "blend"):
            parts.append(self.lr_.predict_proba(_numeric_fill(x))[:, 1])
        if self.kind in ("lgbm", "blend"):
            parts.append(self.gbm_.predict_proba(prepare(x, self.cats_)[0])[:, 1])
        return np.mean(parts, axis=0)


def choose_propensity(x: pd.DataFrame, y: np.ndarray, lgbm_params: dict, ordered: bool,
                      seed: int | None) -> tuple[str, dict[str, float]]:
    """Pick the learner by AUC on a validation slice of the training rows (the latest 20% when
    rows are in time order)."""
    n = len(y)
    if ordered:
        cut = int(n * 0.8)
        tr, va = np.arange(cut), np.arange(cut, n)
    else:
        rng = np.random.default_rng(seed)
        perm = rng.permutation(n)
        tr, va = perm[: int(n * 0.8)], perm[int(n * 0.8):]
    scores = {}
    for kind in progress.track(("logistic", "lgbm", "blend"), "choosing the propensity model"):
        if len(np.unique(y[tr])) < 2 or len(np.unique(y[va])) < 2:
            return "logistic", {}
        model = Propensity(kind, dict(lgbm_params)).fit(x.iloc[tr], y[tr])
        scores[kind] = float(roc_auc_score(y[va], model.predict(x.iloc[va])))
    return max(scores, key=scores.get), scores


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
