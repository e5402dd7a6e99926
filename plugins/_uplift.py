"""Uplift learners (T-learner, class transformation, transformed outcome, doubly robust learner),
chosen by cross-validation inside the training rows only.

Every learner works on :class:`Rows`: the rows' label-free encodings (a numeric design for the
linear models, LightGBM's prepared frame), built once and sliced for each fit, so the learner
choice's folds share the text handling and the encoding instead of redoing it per fit.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from microseg import progress
from microseg.lgbm import classifier
from microseg.plugins._lgbm import prepare
from microseg.plugins._metrics import qini_auc_score, uplift_at_k

#: uplift is a small difference between two response rates: its trees are coarser than a response
#: model's — stumps (2 leaves: an additive model, no interactions), ≥ 400 rows a leaf when there are
#: 20 × that many, 150 trees. Stumps against 3 leaves, Hillstrom's training rows (3 × 3 folds of the
#: 70 %; bench/uplift_dev.py): class transformation Womens Qini 0.060 vs 0.050 (uplift@30 0.079 vs
#: 0.074), Mens 0.009 vs 0.008; T-learner Womens 0.054 vs 0.053, Mens 0.0125 vs 0.018 (Mens is won by
#: logistic learners either way); 300 stumps or 1,000-row leaves did no better; cheaper per tree
UPLIFT_TREES = {"num_leaves": 2, "min_child_samples": 400, "n_estimators": 150}
#: the logistic base models' inverse L2 penalty (scikit-learn's C). 0.02 against 0.5 on the design
#: without bins (3 × 3 training folds, Qini / uplift@30): class transformation Womens 0.059 / 0.078 vs
#: 0.057 / 0.078, demo 0.057 / 0.092 vs 0.054 / 0.089; T-learner Mens 0.026 / 0.093 vs 0.023 / 0.093,
#: demo 0.054 / 0.089 vs 0.039 / 0.083; R-learner within 0.001. C 0.005 and 0.002 split (better on
#: Womens, worse on Mens and the demo for the class transformation).
LOGISTIC_C = 0.02


class Design:
    """A label-free numeric design for the linear models: numbers as signed logs (standardised;
    ``signed_log=False``: as they are), with ``n_bins`` quantile-bin indicators each if asked, text
    as level indicators (levels seen ≥ ``min_count`` times; other and missing values: none of them).

    No bins by default: with 8 bins per number every logistic learner scored lower on the training
    folds of Hillstrom Womens and the demo's contact rows (3 × 3 folds, Qini / uplift@30: class
    transformation Womens 0.043 / 0.066 with bins, 0.057 / 0.078 without; demo 0.002 / 0.061 vs
    0.054 / 0.089; R-learner demo 0.037 / 0.073 vs 0.040 / 0.078); on Mens Qini a little lower
    without (T-learner 0.028 vs 0.023 at C 0.5) at the same uplift@30 (0.092 vs 0.093). Fewer
    columns also make each Newton step several times cheaper.

    float32: the logistic fits' Newton steps (X'WX, n × p²) take about half the CPU of float64's
    (demo's rows: 3 fits 0.95 → 0.47 s), coefficients equal to ~1e-6 relative."""

    def __init__(self, n_bins: int = 0, min_count: int = 20, signed_log: bool = True) -> None:
        self.n_bins, self.min_count, self.signed_log = n_bins, min_count, signed_log

    def fit(self, x: pd.DataFrame) -> "Design":
        self.center_: dict[str, float] = {}
        self.scale_: dict[str, float] = {}
        self.edges_: dict[str, np.ndarray] = {}
        self.levels_: dict[str, list] = {}
        for col in x.columns:
            s = x[col]
            if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
                v = self._scale(s.to_numpy(dtype="float64", na_value=np.nan))
                ok = v[~np.isnan(v)]
                self.center_[col] = float(ok.mean()) if len(ok) else 0.0
                self.scale_[col] = float(ok.std()) if len(ok) and ok.std() > 0 else 1.0
                if self.n_bins and len(np.unique(ok)) > self.n_bins:
                    self.edges_[col] = np.unique(np.quantile(ok, np.linspace(0, 1, self.n_bins + 1)[1:-1]))
            elif not pd.api.types.is_datetime64_any_dtype(s):
                counts = s.astype("string").value_counts()
                kept = counts.index[counts >= self.min_count].tolist()
                if kept:
                    self.levels_[col] = kept
        return self

    def transform(self, x: pd.DataFrame) -> np.ndarray:
        parts = []
        for col, center in self.center_.items():
            v = self._scale(x[col].to_numpy(dtype="float64", na_value=np.nan))
            v = np.where(np.isnan(v), center, v)
            parts.append(((v - center) / self.scale_[col]).astype("float32")[:, None])
            if col in self.edges_:
                b = np.searchsorted(self.edges_[col], v, side="right")
                parts.append((b[:, None] == np.arange(len(self.edges_[col]) + 1)).astype("float32"))
        for col, levels in self.levels_.items():
            codes = level_codes(x[col], levels)
            parts.append((codes[:, None] == np.arange(len(levels))).astype("float32"))
        return np.hstack(parts) if parts else np.zeros((len(x), 1), dtype="float32")

    def _scale(self, v: np.ndarray) -> np.ndarray:
        return _signed_log(v) if self.signed_log else v


def level_codes(values: pd.Series, levels: list[str]) -> np.ndarray:
    """Each value's position in ``levels`` as text (-1: none, missing) — ``pd.Index(levels).get_indexer(
    values.astype("string"))`` through Arrow's hash lookup (~5x faster on the demo's contact rows)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    text = pa.array(values.astype("string").array)
    found = pc.index_in(text, value_set=pa.array(levels, type=text.type))
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def _signed_log(v: np.ndarray) -> np.ndarray:
    return np.sign(v) * np.log1p(np.abs(v))


class Rows:
    """Rows encoded once for every model: ``z`` (the linear design) and ``gx`` (LightGBM's frame).
    The encoders are fitted on the rows given unless ``like`` (fitted rows) is passed."""

    def __init__(self, x: pd.DataFrame, like: "Rows | None" = None, kinds: tuple[str, ...] = ("logistic", "lgbm"),
                 design: Design | None = None) -> None:
        self.kinds = like.kinds if like is not None else kinds
        self.design = like.design if like is not None else (
            (design or Design()).fit(x) if "logistic" in self.kinds else None)
        self.z = self.design.transform(x) if self.design is not None else None
        if "lgbm" in self.kinds:
            self.gx, self.cats = prepare(x, like.cats if like is not None else None)
        else:
            self.gx, self.cats = None, None

    def take(self, rows: np.ndarray) -> "Rows":
        out = object.__new__(Rows)
        out.kinds, out.design, out.cats = self.kinds, self.design, self.cats
        out.z = None if self.z is None else self.z[rows]
        out.gx = None if self.gx is None else self.gx.iloc[rows]
        return out

    def __len__(self) -> int:
        return len(self.z) if self.z is not None else len(self.gx)


def uplift_trees(lgbm_params: dict, n: int) -> dict:
    """The method's LightGBM settings with :data:`UPLIFT_TREES` (leaf size capped at n / 20)."""
    params = {**lgbm_params, **UPLIFT_TREES}
    params["min_child_samples"] = max(int(lgbm_params.get("min_child_samples", 20)),
                                      min(UPLIFT_TREES["min_child_samples"], n // 20))
    return params


class Base:
    """A response classifier on :class:`Rows`: L2 logistic regression on the design (C:
    :data:`LOGISTIC_C`;
    Newton steps: about 5 iterations, ~5x less CPU than L-BFGS's ~75 on the demo's rows) or
    coarse LightGBM (:func:`uplift_trees`)."""

    def __init__(self, kind: str, lgbm_params: dict) -> None:
        self.kind, self.lgbm_params = kind, lgbm_params

    def fit(self, r: Rows, y: np.ndarray, sample_weight: np.ndarray | None = None) -> "Base":
        if len(np.unique(y)) < 2:
            self.constant_ = float(np.mean(y)) if len(y) else 0.0
            return self
        if self.kind == "logistic":
            from sklearn.linear_model import LogisticRegression
            self.model_ = LogisticRegression(C=LOGISTIC_C, solver="newton-cholesky", max_iter=200).fit(
                r.z, y, sample_weight=sample_weight)
        else:
            params = uplift_trees(self.lgbm_params, len(y))
            self.model_ = classifier(params, params.pop("n_estimators")).fit(r.gx, y, sample_weight=sample_weight)
        return self

    def predict(self, r: Rows) -> np.ndarray:
        if hasattr(self, "constant_"):
            return np.full(len(r), self.constant_)
        return self.model_.predict_proba(r.z if self.kind == "logistic" else r.gx)[:, 1]


class Learner:
    """Common calls: ``fit(x, y, t, control)``, ``uplift(x)``, ``predict(x)`` → (uplift, control
    propensity), on data frames; the ``*_rows`` versions take encoded :class:`Rows`."""

    def __init__(self, kind: str, lgbm_params: dict) -> None:
        self.kind, self.lgbm_params = kind, lgbm_params

    def fit(self, x: pd.DataFrame, y: np.ndarray, t: np.ndarray, control: bool = True) -> "Learner":
        """With ``control=False`` no control-response model is fitted unless the uplift needs one
        (:meth:`uplift` works, :meth:`predict` may not)."""
        self.rows_ = Rows(x, kinds=(self.kind, "logistic"))
        return self.fit_rows(self.rows_, np.asarray(y), np.asarray(t), control)

    def uplift(self, x: pd.DataFrame) -> np.ndarray:
        return self.uplift_rows(Rows(x, like=self.rows_))

    def predict(self, x: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        r = Rows(x, like=self.rows_)
        return self.uplift_rows(r), self.control_.predict(r)

    def fit_rows(self, r: Rows, y: np.ndarray, t: np.ndarray, control: bool = True) -> "Learner":
        raise NotImplementedError

    def uplift_rows(self, r: Rows) -> np.ndarray:
        raise NotImplementedError


class TLearner(Learner):
    """Two response models, treated and control; uplift = difference."""

    def fit_rows(self, r: Rows, y: np.ndarray, t: np.ndarray, control: bool = True) -> "TLearner":
        on, off = np.flatnonzero(t == 1), np.flatnonzero(t == 0)
        self.treated_ = Base(self.kind, self.lgbm_params).fit(r.take(on), y[on])
        self.control_ = Base(self.kind, self.lgbm_params).fit(r.take(off), y[off])
        return self

    def uplift_rows(self, r: Rows) -> np.ndarray:
        return self.treated_.predict(r) - self.control_.predict(r)


class ClassTransformation(Learner):
    """Jaskowski–Jaroszewicz: z = 1 when (treated and responded) or (control and not);
    uplift = 2 P(z) − 1 (treatment share rebalanced by sample weights)."""

    def fit_rows(self, r: Rows, y: np.ndarray, t: np.ndarray, control: bool = True) -> "ClassTransformation":
        z = ((y == 1) & (t == 1)) | ((y == 0) & (t == 0))
        share = float(np.mean(t))
        weight = np.where(t == 1, 0.5 / share, 0.5 / (1 - share))   # as if treatment were 50/50
        self.model_ = Base(self.kind, self.lgbm_params).fit(r, z.astype(int), sample_weight=weight)
        if control:
            off = np.flatnonzero(t == 0)
            self.control_ = Base("logistic", {}).fit(r.take(off), y[off])
        return self

    def uplift_rows(self, r: Rows) -> np.ndarray:
        return 2 * self.model_.predict(r) - 1


class _RegressionLearner(Learner):
    """A learner whose uplift is one regression model on the rows (``model_``), with the control
    group's response model fitted when asked."""

    def _fit_control(self, r: Rows, y: np.ndarray, t: np.ndarray, control: bool) -> "_RegressionLearner":
        if control:
            off = np.flatnonzero(t == 0)
            self.control_ = Base("logistic", {}).fit(r.take(off), y[off])
        return self

    def uplift_rows(self, r: Rows) -> np.ndarray:
        return self.model_.predict(r.z if self.kind == "logistic" else r.gx)


def _halves(n: int) -> np.ndarray:
    """Each row's half (0 or 1) for cross-fitting: seeded, so the same for the same number of rows."""
    half = np.arange(n) % 2
    return half[np.random.default_rng(0).permutation(n)]


class DRLearner(_RegressionLearner):
    """Doubly robust learner (Kennedy): response models per arm (logistic), cross-fitted over two
    halves; the pseudo-outcome μ1 − μ0 + t(y − μ1)/e − (1 − t)(y − μ0)/(1 − e) (e: the treatment
    share) is regressed on the rows by ridge regression (``kind`` logistic) or coarse LightGBM."""

    def fit_rows(self, r: Rows, y: np.ndarray, t: np.ndarray, control: bool = True) -> "DRLearner":
        e = float(np.mean(t))
        mu = np.zeros((len(y), 2))
        half = _halves(len(y))
        for h in (0, 1):
            out = np.flatnonzero(half == h)
            for arm in (0, 1):
                rows = np.flatnonzero((half != h) & (t == arm))
                mu[out, arm] = Base("logistic", {}).fit(r.take(rows), y[rows]).predict(r.take(out))
        pseudo = mu[:, 1] - mu[:, 0] + t * (y - mu[:, 1]) / e - (1 - t) * (y - mu[:, 0]) / (1 - e)
        self.model_ = _regression(self.kind, self.lgbm_params, r, pseudo)
        return self._fit_control(r, y, t, control)


class XLearner(Learner):
    """X-learner (Künzel et al.): response models per arm (``kind``), each arm's imputed effects
    (treated: y − μ0; control: μ1 − y) regressed on its rows; uplift = e·τ0 + (1 − e)·τ1 (e: the
    treatment share)."""

    def fit_rows(self, r: Rows, y: np.ndarray, t: np.ndarray, control: bool = True) -> "XLearner":
        on, off = np.flatnonzero(t == 1), np.flatnonzero(t == 0)
        self.e_ = float(np.mean(t))
        r1, r0 = r.take(on), r.take(off)
        self.treated_ = Base(self.kind, self.lgbm_params).fit(r1, y[on])
        self.control_ = Base(self.kind, self.lgbm_params).fit(r0, y[off])
        self.tau1_ = _regression(self.kind, self.lgbm_params, r1, y[on] - self.control_.predict(r1))
        self.tau0_ = _regression(self.kind, self.lgbm_params, r0, self.treated_.predict(r0) - y[off])
        return self

    def uplift_rows(self, r: Rows) -> np.ndarray:
        x = r.z if self.kind == "logistic" else r.gx
        return self.e_ * self.tau0_.predict(x) + (1 - self.e_) * self.tau1_.predict(x)


class RLearner(_RegressionLearner):
    """R-learner (Nie–Wager) with the known treatment share e: the response m(x) = E[y | x]
    (logistic, cross-fitted over two halves); (y − m)/(t − e) regressed on the rows with weights
    (t − e)²."""

    def fit_rows(self, r: Rows, y: np.ndarray, t: np.ndarray, control: bool = True) -> "RLearner":
        e = float(np.mean(t))
        m = np.zeros(len(y))
        half = _halves(len(y))
        for h in (0, 1):
            out, rows = np.flatnonzero(half == h), np.flatnonzero(half != h)
            m[out] = Base("logistic", {}).fit(r.take(rows), y[rows]).predict(r.take(out))
        resid = t - e
        self.model_ = _regression(self.kind, self.lgbm_params, r, (y - m) / resid, resid ** 2)
        return self._fit_control(r, y, t, control)


class TransformedOutcome(_RegressionLearner):
    """Ridge regression (``kind`` logistic) or coarse LightGBM regression of the transformed
    outcome y·(t − e)/(e(1 − e)) (e: the treatment share), whose expectation given x is the uplift."""

    def fit_rows(self, r: Rows, y: np.ndarray, t: np.ndarray, control: bool = True) -> "TransformedOutcome":
        e = float(np.mean(t))
        self.model_ = _regression(self.kind, self.lgbm_params, r, y * (t - e) / (e * (1 - e)))
        return self._fit_control(r, y, t, control)


def _regression(kind: str, lgbm_params: dict, r: Rows, target: np.ndarray,
                sample_weight: np.ndarray | None = None) -> Any:
    """Ridge regression on the design (penalty n / 20: the noisy pseudo-outcomes need a strong
    one) or coarse LightGBM regression."""
    if kind == "logistic":
        from sklearn.linear_model import Ridge
        return Ridge(alpha=len(target) / 20).fit(r.z, target, sample_weight=sample_weight)
    from lightgbm import LGBMRegressor
    return LGBMRegressor(verbose=-1, **uplift_trees(lgbm_params, len(target))).fit(r.gx, target,
                                                                                   sample_weight=sample_weight)


LEARNERS: dict[str, type[Learner]] = {"t-learner": TLearner, "class-transformation": ClassTransformation,
                                      "transformed-outcome": TransformedOutcome, "dr-learner": DRLearner,
                                      "x-learner": XLearner, "r-learner": RLearner}
#: the candidates (learner, base) the choice compares, settled on Hillstrom's training rows only
#: (3 × 3 folds of the 70 %, Qini / uplift@30 %; bench/uplift_dev.py) and the demo's contact rows.
#: The class transformation on logistic regression is back on the design without bins (Womens
#: 0.059 / 0.078, Mens 0.021 / 0.091, demo 0.057 / 0.092: best on the demo) in place of the
#: T-learner on LightGBM (below the class transformation everywhere: Womens 0.054 / 0.071, Mens
#: 0.013 / 0.086, demo 0.029 / 0.076). Left out: the X-learner (logistic and LightGBM: Womens
#: 0.059 / 0.075 and Mens 0.027 / 0.091 at best, four fits each); DR-learner and transformed
#: outcome on LightGBM (never in the top two); ensembles of the top 2 or 3 and LightGBM learners
#: bagged over 5 seeds (Womens class transformation 0.061 / 0.077 vs 0.060 / 0.079 single).
CANDIDATES = (("t-learner", "logistic"), ("transformed-outcome", "logistic"), ("dr-learner", "logistic"),
              ("r-learner", "logistic"), ("class-transformation", "logistic"), ("class-transformation", "lgbm"))


def _folds(y: np.ndarray, t: np.ndarray, folds: int, rng: np.random.Generator,
           groups: np.ndarray | None = None) -> np.ndarray:
    """Each row's fold: stratified by treatment × outcome, or with ``groups`` (a customer's
    contacts) whole groups at random."""
    if groups is not None:
        keys, inverse = np.unique(groups, return_inverse=True)
        return (rng.permutation(len(keys)) % folds)[inverse]
    strata = t * 2 + y
    fold = np.empty(len(y), dtype=int)
    for s in np.unique(strata):
        idx = np.flatnonzero(strata == s)
        fold[rng.permutation(idx)] = np.arange(len(idx)) % folds
    return fold


def choose_uplift(x: pd.DataFrame, y: np.ndarray, t: np.ndarray, lgbm_params: dict, seed: int | None,
                  folds: int = 3, repeats: int = 1, groups: np.ndarray | None = None
                  ) -> tuple[tuple[str, str], dict[str, dict[str, float]]]:
    """Pick (learner, base model) among :data:`CANDIDATES` on ``repeats`` × ``folds`` stratified
    folds of the training rows: the best mean of its two ranks, by mean Qini AUC (the quality
    gate's metric) and by mean uplift@30 % (ties: the better Qini). With ``groups`` (e.g. the
    customer of each contact row) a group's rows stay in one fold, as in the held-out evaluation.

    The rows are encoded once (:class:`Rows`) and every fold's fit slices them. The rule and one
    repeat were scored as a whole on outer folds of the training rows (``bench/uplift_dev.py
    --nested``: 2 × 3 outer folds, the choice on each outer training part, uplift@30 of what it
    picked): this rule 0.072 / 0.096 / 0.082 (Womens / Mens / demo); by uplift@30 alone 0.076 /
    0.094 / 0.074; 3 repeats 0.072 / 0.094 / 0.074 at three times the cost; the average of the top
    two 0.076 / 0.094 / 0.081 — none better on all three."""
    y, t = np.asarray(y), np.asarray(t)
    rng = np.random.default_rng(seed)
    r = Rows(x)
    qini: dict[str, list[float]] = {}
    at30: dict[str, list[float]] = {}
    with progress.task("choosing the uplift learner", total=len(CANDIDATES) * folds * repeats) as fits:
        for _ in range(repeats):
            fold = _folds(y, t, folds, rng, groups)
            for f in range(folds):
                tr, va = np.flatnonzero(fold != f), np.flatnonzero(fold == f)
                rt, rv = r.take(tr), r.take(va)
                for learner, kind in CANDIDATES:
                    u = LEARNERS[learner](kind, lgbm_params).fit_rows(rt, y[tr], t[tr], control=False).uplift_rows(rv)
                    qini.setdefault(f"{learner}/{kind}", []).append(qini_auc_score(y[va], u, t[va]))
                    at30.setdefault(f"{learner}/{kind}", []).append(uplift_at_k(y[va], u, t[va], 0.3))
                    fits.advance()
    scores = {"qini": {n: float(np.mean(v)) for n, v in qini.items()},
              "uplift_at_30": {n: float(np.mean(v)) for n, v in at30.items()}}
    learner, kind = best_of(scores).split("/")
    return (learner, kind), scores


def best_of(scores: dict[str, dict[str, float]]) -> str:
    """The candidate with the best mean rank over the metrics (rank 1 = highest; ties: the
    higher Qini)."""
    def rank(name: str) -> float:
        return float(np.mean([1 + sum(v > by[name] for v in by.values()) for by in scores.values()]))
    return min(scores["qini"], key=lambda n: (rank(n), -scores["qini"][n]))
