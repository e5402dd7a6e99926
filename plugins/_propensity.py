"""Response propensity learners (logistic regression, LightGBM, their blend), chosen by validation
inside the training rows only.

On rows in time order the choice also covers two time-aware settings: recency weights (a
half-life in rows, as a share of the rows fitted) and whether the calendar-position columns
(a day of the month, a month or weekday name, …) are used — on a time split they tell the model
which calendar dates responded, which need not carry to a later window.
"""
from __future__ import annotations

import warnings
from typing import Any, Callable

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import (FunctionTransformer, KBinsDiscretizer, OneHotEncoder, SplineTransformer,
                                   StandardScaler)

from microseg import progress
from microseg.lgbm import classifier
from microseg.plugins._lgbm import prepare


#: recency half-lives tried on time-ordered rows, as a share of the rows fitted (None: equal weights)
HALF_LIVES = (None, 1 / 2, 1 / 4, 1 / 8)
#: inverse regularisation strengths of the spline logistic regression tried after the first (1.0)
OTHER_CS = (0.1, 10.0)
#: column names (lower case, without "_", "-" or spaces) that are a position in the calendar
CALENDAR_NAMES = frozenset({"day", "dayofmonth", "dom", "month", "monthname", "weekday", "dayofweek", "dow",
                            "week", "weekofyear", "quarter", "year", "hour"})
#: text values that are calendar positions (month and weekday names, English, full or abbreviated)
CALENDAR_VALUES = frozenset(
    {m for full in ("january", "february", "march", "april", "may", "june", "july", "august", "september",
                    "october", "november", "december") for m in (full, full[:3])}
    | {d for full in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
       for d in (full, full[:3])} | {"sept", "tues", "thur", "thurs"})


def calendar_columns(x: pd.DataFrame) -> list[str]:
    """Columns that are a position in the calendar: named like one (``day``, ``month``,
    ``day_of_week``, …) or whose text values are all month or weekday names."""
    found = []
    for col in x.columns:
        name = "".join(ch for ch in str(col).lower() if ch not in "_- ")
        if name in CALENDAR_NAMES:
            found.append(col)
        elif not pd.api.types.is_numeric_dtype(x[col]):
            values = x[col].dropna().astype(str).str.strip().str.lower().unique()
            if len(values) and set(values) <= CALENDAR_VALUES:
                found.append(col)
    return found


def recency_weights(n: int, half_life: float | None) -> np.ndarray | None:
    """Weights of ``n`` rows in time order (the last is the latest): halved every ``half_life × n``
    rows back, scaled to mean 1 (so the regularisation keeps its strength); None without a half-life."""
    if half_life is None:
        return None
    w = 0.5 ** ((n - 1 - np.arange(n)) / (half_life * n))
    return w / w.mean()


def _spline_logistic(x: pd.DataFrame, c: float = 1.0):
    """Logistic regression on scaled numbers, cubic splines of the many-valued numbers (knots at
    quantiles of their signed log: smooth non-linear effects such as a U-shaped age), and one-hot
    categories."""
    num = [col for col in x.columns if pd.api.types.is_numeric_dtype(x[col])]
    cat = [col for col in x.columns if col not in num]
    many = [col for col in num if x[col].nunique() > 8]
    parts = [("num", make_pipeline(FunctionTransformer(_signed_log), StandardScaler()), num),
             ("cat", make_pipeline(CategoryCodes(), OneHotEncoder(handle_unknown="ignore", min_frequency=20)), cat)]
    if many:
        parts.append(("splines", make_pipeline(FunctionTransformer(_signed_log),
                                               SplineTransformer(n_knots=5, knots="quantile",
                                                                 extrapolation="constant")), many))
    return Pipeline([("design", ColumnTransformer(parts)), ("logisticregression", _WidthSolver(C=c, max_iter=3000))])


#: design widths up to which the spline logistic regression takes exact Newton steps (a few passes
#: over the rows, converged tightly: 0.5 s against lbfgs's 0.7–1.3 s, not converged as far, on 29k
#: Bank Marketing rows × 89 columns); wider designs use lbfgs
NEWTON_MAX_COLUMNS = 256


class _WidthSolver(LogisticRegression):
    """Logistic regression whose solver follows the design's width (:data:`NEWTON_MAX_COLUMNS`)."""

    def fit(self, X, y, sample_weight=None):  # noqa: N803 (scikit-learn's names)
        self.solver = "newton-cholesky" if X.shape[1] <= NEWTON_MAX_COLUMNS else "lbfgs"
        return super().fit(X, y, sample_weight=sample_weight)


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
    """Probability of responding: logistic regression (``"logistic"``: quantile bins; ``"spline"``:
    splines), regularised LightGBM (``"lgbm"``), or the average of one with the other (``"blend"``:
    logistic + LightGBM; ``"spline-blend"``: spline + LightGBM).

    ``c``: the logistic regression's inverse regularisation (None: 0.5 for ``logistic``, 1.0 for
    ``spline``); ``half_life``: recency weights for rows in time order (a share of the rows fitted,
    see :func:`recency_weights`); ``drop``: columns left out (e.g. the calendar columns).
    """

    def __init__(self, kind: str, lgbm_params: dict, fit_gbm: Callable[..., Any] | None = None, *,
                 c: float | None = None, half_life: float | None = None, drop: tuple[str, ...] = ()) -> None:
        """``fit_gbm(params, x, y, n_estimators=...)`` trains the LightGBM part (the run's
        :meth:`microseg.engine.Engine.fit_classifier`); by default it is fitted in process."""
        if kind not in KINDS:
            raise ValueError(f"propensity kind must be one of {', '.join(KINDS)}, not {kind!r}")
        self.kind, self.lgbm_params, self.fit_gbm = kind, lgbm_params, fit_gbm
        self.c, self.half_life, self.drop = c, half_life, tuple(drop)

    def _x(self, x: pd.DataFrame) -> pd.DataFrame:
        return x.drop(columns=list(self.drop)) if self.drop else x

    def fit(self, x: pd.DataFrame, y: np.ndarray, sample_weight: np.ndarray | None = None) -> "Propensity":
        x = self._x(x)
        recency = recency_weights(len(y), self.half_life)
        if recency is not None:
            sample_weight = recency if sample_weight is None else recency * np.asarray(sample_weight)
        if self.kind in ("logistic", "blend"):
            with warnings.catch_warnings():   # heavy ties merge quantile bins: expected
                warnings.filterwarnings("ignore", message="Bins whose width are too small")
                self.lr_ = _logistic(x, 0.5 if self.c is None else self.c).fit(
                    _numeric_fill(x), y, logisticregression__sample_weight=sample_weight)
        if self.kind in ("spline", "spline-blend"):
            self.lr_ = _spline_logistic(x, 1.0 if self.c is None else self.c).fit(
                _numeric_fill(x), y, logisticregression__sample_weight=sample_weight)
        if self.kind in ("lgbm", "blend", "spline-blend"):
            xp, self.cats_ = prepare(x)
            params = dict(self.lgbm_params)
            n_trees = params.pop("n_estimators", 300)
            if self.fit_gbm is not None and sample_weight is None:
                self.gbm_ = self.fit_gbm(params, xp, y, n_estimators=n_trees)
            else:
                self.gbm_ = classifier(params, n_trees).fit(xp, y, sample_weight=sample_weight)
        return self

    def predict(self, x: pd.DataFrame) -> np.ndarray:
        x = self._x(x)
        parts = []
        if self.kind != "lgbm":
            parts.append(self.lr_.predict_proba(_numeric_fill(x))[:, 1])
        if self.kind in ("lgbm", "blend", "spline-blend"):
            parts.append(self.gbm_.predict_proba(prepare(x, self.cats_)[0])[:, 1])
        return np.mean(parts, axis=0)

    def settings(self) -> dict[str, Any]:
        """The keyword arguments that rebuild this learner (without the LightGBM settings)."""
        return {"kind": self.kind, "c": self.c, "half_life": self.half_life, "drop": self.drop}


KINDS = ("logistic", "spline", "lgbm", "blend", "spline-blend")


def describe(settings: dict[str, Any]) -> str:
    """One line naming a learner's settings, e.g. ``spline C=1 half-life 1/4 without day, month``."""
    text = settings["kind"]
    if settings.get("c") is not None and settings["kind"] != "lgbm":
        text += f" C={settings['c']:g}"
    if settings.get("half_life") is not None:
        text += f" half-life 1/{1 / settings['half_life']:g}"
    if settings.get("drop"):
        text += " without " + ", ".join(map(str, settings["drop"]))
    return text


def choose_propensity(x: pd.DataFrame, y: np.ndarray, lgbm_params: dict, ordered: bool,
                      seed: int | None) -> tuple[dict[str, Any], dict[str, float]]:
    """Choose the learner by ROC AUC on a validation slice of the training rows (the latest 20 %
    when rows are in time order, else a random 20 %); returns its settings (keyword arguments of
    :class:`Propensity`) and every candidate's validation AUC.

    The candidates are tried one setting at a time, each step keeping the best of the one before
    (ties: the first, simpler): the spline logistic regression (C = 1, equal weights) (1) with and
    without the calendar columns (:func:`calendar_columns`; rows in time order only), (2) with each
    recency half-life of :data:`HALF_LIVES` (rows in time order only), (3) with each C of
    :data:`OTHER_CS`; (4) LightGBM, and the average of the two, with the same columns and weights.
    Each candidate is fitted on the other 80 % only.
    """
    n = len(y)
    if ordered:
        cut = int(n * 0.8)
        tr, va = np.arange(cut), np.arange(cut, n)
    else:
        rng = np.random.default_rng(seed)
        perm = rng.permutation(n)
        tr, va = perm[: int(n * 0.8)], perm[int(n * 0.8):]
    if len(np.unique(y[tr])) < 2 or len(np.unique(y[va])) < 2:
        return {"kind": "spline"}, {}
    calendar = tuple(calendar_columns(x)) if ordered else ()
    drops = [()] + ([calendar] if calendar and len(calendar) < x.shape[1] else [])
    half_lives = HALF_LIVES if ordered else (None,)
    scores: dict[str, float] = {}
    preds: dict[str, np.ndarray] = {}

    def score(settings: dict[str, Any], p: np.ndarray) -> None:
        key = describe(settings)
        scores[key], preds[key] = float(roc_auc_score(y[va], p)), p

    def fit_spline(settings: dict[str, Any]) -> None:
        """The spline logistic regression on the design of its column set (built once per set)."""
        z_tr, z_va = designs[settings["drop"]]
        lr = _WidthSolver(C=settings["c"], max_iter=3000).fit(
            z_tr, y[tr], sample_weight=recency_weights(len(tr), settings["half_life"]))
        score(settings, lr.predict_proba(z_va)[:, 1])

    def first_best(candidates: list[dict[str, Any]]) -> dict[str, Any]:
        """The best by validation AUC; on a tie the first (the simpler)."""
        return max(candidates, key=lambda s: scores[describe(s)])

    with progress.task("choosing the propensity model", 4) as step:
        designs = {}
        for drop in drops:                  # (1) with or without the calendar columns (equal weights)
            xf = _numeric_fill(x.drop(columns=list(drop)))
            design = _spline_logistic(xf.iloc[tr])[:-1].fit(xf.iloc[tr])
            designs[drop] = design.transform(xf.iloc[tr]), design.transform(xf.iloc[va])
            fit_spline({"kind": "spline", "c": 1.0, "half_life": None, "drop": drop})
        best = first_best([{"kind": "spline", "c": 1.0, "half_life": None, "drop": drop} for drop in drops])
        step.advance()
        for half_life in half_lives[1:]:    # (2) recency weights, with the better column set
            fit_spline(best | {"half_life": half_life})
        best = first_best([best | {"half_life": half_life} for half_life in half_lives])
        step.advance()
        for c in OTHER_CS:                  # (3) the regularisation
            fit_spline(best | {"c": c})
        best = first_best([best | {"c": c} for c in (1.0, *OTHER_CS)])
        step.advance()
        gbm = best | {"kind": "lgbm", "c": None}   # (4) LightGBM and the average, same rows and columns
        score(gbm, Propensity(**gbm, lgbm_params=dict(lgbm_params)).fit(x.iloc[tr], y[tr]).predict(x.iloc[va]))
        blend = best | {"kind": "spline-blend"}
        score(blend, (preds[describe(best)] + preds[describe(gbm)]) / 2)
        step.advance()
    return first_best([best, gbm, blend]), scores
