"""Response propensity learners (logistic regression, LightGBM, their blend), chosen by validation
inside the training rows only."""
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
