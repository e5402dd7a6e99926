"""``clusters``: behavioural clustering with automatic k and plain-language profiles.

Features come from the behaviour frame (RFM, spend windows, trends, inter-purchase time,
returns, channel/category mix, campaign response). Skewed amounts are log-transformed, every
feature robust-scaled and clipped; k is chosen by silhouette on a sample (or fixed). Each
cluster is described by how its medians deviate from the population's, and stability is the mean
adjusted Rand index of bootstrap refits.
"""
from __future__ import annotations

from collections.abc import Collection
from typing import Any

import numpy as np
import pandas as pd
import microseg
from microseg import progress
from microseg.errors import ConfigError
from microseg.fit_memo import FitMemo, memo_for
from microseg.threads import limited_threads

DEFAULT_FEATURES = ("recency_days", "frequency", "monetary", "avg_basket", "interpurchase_days", "return_share",
                    "trend_90d", "spend_90d", "response_rate")
#: the libraries whose thread pools ``n_jobs`` limits (loaded before the limit is set)
SKLEARN = ("sklearn.cluster", "sklearn.metrics", "scipy.linalg")
#: rows (a seeded sample of the fitting sample when larger) on which k is chosen by silhouette and
#: stability is measured: both cost a model per candidate / refit, and the silhouette is
#: quadratic in its rows
SELECT_ROWS = 5_000
LOG_FEATURES = {"recency_days", "frequency", "monetary", "avg_basket", "interpurchase_days", "spend_90d",
                "spend_180d", "contacts", "responses", "tenure_days"}


def _phrases(col: str, ratio: float, share_cluster: float, share_pop: float) -> tuple[float, str] | None:
    """(strength, phrase) for one feature of one cluster, or None when unremarkable."""
    strength = abs(np.log(max(ratio, 1e-9))) if np.isfinite(ratio) else 0.0
    if col == "recency_days":
        if ratio <= 0.5:
            return strength, "bought recently"
        if ratio >= 2:
            return strength, f"last purchase {ratio:.1f}× longer ago than the median"
    elif col == "frequency":
        if ratio >= 1.5:
            return strength, f"buys often ({ratio:.1f}× the median)"
        if ratio <= 0.67:
            return strength, "buys rarely"
    elif col == "monetary":
        if ratio >= 1.5 or ratio <= 0.67:
            return strength, f"spends {ratio:.1f}× the median"
    elif col == "avg_basket":
        if ratio >= 1.4 or ratio <= 0.7:
            return strength, f"baskets {ratio:.1f}× the median"
    elif col == "interpurchase_days":
        if ratio <= 0.6:
            return strength, "short gaps between purchases"
        if ratio >= 1.7:
            return strength, "long gaps between purchases"
    elif col.startswith("trend_"):
        if ratio >= 1.5:
            return strength, "spending rising"
        if ratio <= 0.67:
            return strength, "spending falling"
    elif col == "return_share":
        if share_cluster - share_pop >= 0.1:
            return 1.0 + share_cluster, f"returns {share_cluster:.0%} of what they buy"
    elif col == "response_rate":
        if ratio >= 1.5:
            return strength, f"responds to campaigns ({ratio:.1f}× the median rate)"
        if ratio <= 0.5:
            return strength, "rarely responds to campaigns"
    elif col.startswith("share_"):
        name = col.removeprefix("share_cat_").removeprefix("share_").replace("_", " ")
        if share_cluster >= 0.5 and share_cluster - share_pop >= 0.15:
            via = "mostly buys" if col.startswith("share_cat_") else "mostly via"
            return 1.0 + share_cluster, f"{via} {name} ({share_cluster:.0%})"
    return None


def silhouette_scores(x: np.ndarray, labelings: list[np.ndarray], block: int = 64) -> list[float]:
    """``sklearn.metrics.silhouette_score(x, labels)`` for each labelling, the same figures to the
    last bit, from one distance matrix: scikit-learn computes the distances again for every
    labelling and sums each row's distances per cluster with a ``bincount`` (in column order).
    Here a block of rows is transposed once, its columns sorted by cluster (stably) for each
    labelling and each cluster's run summed by one vectorised reduction over the columns, in
    the same order: the same sums; the whole ~1.5x faster than a ``bincount`` per block on the
    demo's 5,000 rows and 6 labellings (scikit-learn's distances are about half of what is left)."""
    from sklearn.metrics import pairwise_distances_chunked
    if not labelings:
        return []
    encoded = [np.unique(labels, return_inverse=True)[1].ravel() for labels in labelings]
    runs = [_cluster_runs(codes) for codes in encoded]
    sums = [np.empty((len(bounds) - 1, len(x))) for _, bounds in runs]    # cluster × row
    start = 0
    for chunk in pairwise_distances_chunked(x, metric="euclidean"):   # scikit-learn's distances, its chunks
        for lo in range(0, len(chunk), block):
            columns = _transposed(chunk[lo:lo + block])
            first, width = start + lo, min(block, len(chunk) - lo)
            for (order, bounds), total in zip(runs, sums):
                total[:, first:first + width] = _run_sums(columns[order], bounds)[:, :width]
        start += len(chunk)
    return [_mean_silhouette(total, codes) for total, codes in zip(sums, encoded)]


def _cluster_runs(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows in cluster order (each cluster's rows in their own order) and where each
    cluster's run starts and ends in it."""
    return np.argsort(codes, kind="stable"), np.concatenate([[0], np.cumsum(np.bincount(codes))])


def _transposed(rows: np.ndarray) -> np.ndarray:
    """``rows.T`` as a C-ordered array of at least two columns (a zero column pads one): numpy
    sums a one-column array down the rows pairwise, not one row after the other."""
    out = np.zeros((rows.shape[1], max(len(rows), 2)))
    out[:, :len(rows)] = rows.T
    return out


def _run_sums(columns: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Row ``c``: the sum of the rows ``bounds[c]:bounds[c + 1]`` of ``columns``, each column
    summed from 0 and its first row to its last, as ``bincount`` adds its weights."""
    out = np.empty((len(bounds) - 1, columns.shape[1]))
    for c in range(len(out)):
        np.add.reduce(columns[bounds[c]:bounds[c + 1]], axis=0, out=out[c], initial=0.0)
    return out


def _mean_silhouette(total: np.ndarray, codes: np.ndarray) -> float:
    """The mean silhouette from each row's summed distances to every cluster (cluster × row),
    as scikit-learn computes it."""
    freq = np.bincount(codes)
    own = (codes, np.arange(len(codes)))
    a = total[own]
    total[own] = np.inf
    total /= freq[:, None]
    b = total.min(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        a /= (freq - 1).take(codes, mode="clip")
        s = b - a
        s /= np.maximum(a, b)
    return float(np.mean(np.nan_to_num(s)))


def distinct_rows(x: np.ndarray, cap: int, head: int = 2_000) -> int:
    """``min(cap, number of distinct rows of x rounded to 6 decimals)``, counted on the first
    ``head`` rows when they already reach ``cap`` (a sample's first rows nearly always do):
    the distinct rows of all of a 20,000-row sample cost ~30 ms."""
    found = len(np.unique(np.round(x[:head], 6), axis=0))
    if found < cap and len(x) > head:
        found = len(np.unique(np.round(x, 6), axis=0))
    return min(found, cap)


class Clusters(microseg.SegmentationMethod):
    """Behavioural clusters (MiniBatchKMeans by default, GaussianMixture as an option).

    Parameters
    ----------
    n_clusters : "auto" or int
    k_range : (min, max) tried when ``n_clusters="auto"``
    features : columns to use (default: those of ``DEFAULT_FEATURES`` and ``share_*`` present)
    algorithm : "minibatch-kmeans" or "gmm"
    sample_size : rows used for fitting when larger (k is chosen, and stability measured, on at most
        ``SELECT_ROWS`` of them)
    n_bootstrap : refits for the stability (adjusted Rand index); 0 to skip
    n_jobs : threads for scikit-learn's loops (1 by default: many times faster when the cores are
        shared; ``None`` for the library's default)
    random_state : seed
    """

    name = "clusters"
    summary = "Behavioural clusters with automatic k, plain-language profiles and stability"

    def __init__(self, *, n_clusters: int | str = "auto", k_range: tuple[int, int] | list[int] = (3, 8),
                 features: list[str] | None = None, algorithm: str = "minibatch-kmeans",
                 sample_size: int = 20_000, n_bootstrap: int = 5, n_jobs: int | None = 1,
                 random_state: int | None = 0) -> None:
        self.n_clusters = n_clusters
        self.k_range = k_range
        self.features = features
        self.algorithm = algorithm
        self.sample_size = sample_size
        self.n_bootstrap = n_bootstrap
        self.n_jobs = n_jobs
        self.random_state = random_state

    # ------------------------------------------------------------------ features
    def check_columns(self, columns: Collection[str]) -> list[str]:
        problems = []
        if self.algorithm not in ("minibatch-kmeans", "gmm"):
            problems.append(f"clusters: algorithm must be 'minibatch-kmeans' or 'gmm', not {self.algorithm!r}")
        missing = [c for c in self.features or [] if c not in columns]
        if missing:
            problems.append(f"clusters: unknown feature column(s) {missing}")
        return problems

    def _columns(self, customers: pd.DataFrame) -> list[str]:
        if self.features:
            problems = self.check_columns(customers.columns)
            if problems:
                raise ConfigError(problems[0])
            return list(self.features)
        cols = [c for c in DEFAULT_FEATURES if c in customers.columns]
        cols += [c for c in customers.columns if str(c).startswith("share_") and c not in cols]
        if not cols:
            raise ConfigError("clusters: no behaviour features; give a transactions or events source")
        return cols

    def _transformed(self, raw: pd.DataFrame) -> np.ndarray:
        """The feature columns with missing values filled and skewed amounts log-transformed
        (before scaling)."""
        x = raw.copy()
        for c in self.columns_:
            x[c] = x[c].fillna(self.fill_[c])
            if c in LOG_FEATURES:
                x[c] = np.log1p(x[c].clip(lower=0))
            elif c.startswith("trend_"):
                x[c] = np.log(x[c].clip(lower=1e-3))
        return x.to_numpy()

    def _matrix(self, customers: pd.DataFrame) -> np.ndarray:
        return np.clip(self.scaler_.transform(self._transformed(customers[self.columns_].astype("float64"))), -5, 5)

    def _model(self, k: int, seed: int | None):
        # scikit-learn loads when a model is built, not at plugin registration (keeps the CLI fast); the
        # mixture module only for "gmm"
        if self.algorithm == "gmm":
            from sklearn.mixture import GaussianMixture
            return GaussianMixture(n_components=k, covariance_type="diag", random_state=seed, reg_covar=1e-4)
        if self.algorithm != "minibatch-kmeans":
            raise ConfigError(f"clusters: algorithm must be 'minibatch-kmeans' or 'gmm', not {self.algorithm!r}")
        from sklearn.cluster import MiniBatchKMeans
        return MiniBatchKMeans(n_clusters=k, random_state=seed, batch_size=4096, n_init=3)

    def fit(self, customers: pd.DataFrame) -> "Clusters":
        with limited_threads(self.n_jobs, *SKLEARN):
            return self._fit(customers)

    def _fit(self, customers: pd.DataFrame) -> "Clusters":
        self.columns_ = self._columns(customers)
        raw = customers[self.columns_].astype("float64")
        self.fill_ = {c: (float(raw[c].max()) * 1.5 + 1 if c == "recency_days" and raw[c].notna().any()
                          else float(raw[c].median()) if raw[c].notna().any() else 0.0) for c in self.columns_}
        for c in ("frequency", "monetary", "spend_90d", "contacts", "responses"):
            if c in self.fill_:
                self.fill_[c] = 0.0
        from sklearn.preprocessing import RobustScaler
        self.scaler_ = RobustScaler(quantile_range=(10, 90))
        filled = self._transformed(raw)
        x = np.clip(self.scaler_.fit(filled).transform(filled), -5, 5)       # what _matrix(customers) gives
        del filled
        rng = np.random.default_rng(self.random_state)
        sample = x if len(x) <= self.sample_size else x[rng.choice(len(x), self.sample_size, replace=False)]
        distinct = distinct_rows(sample, self._distinct_cap())
        select = sample if len(sample) <= SELECT_ROWS else sample[np.sort(rng.choice(len(sample), SELECT_ROWS,
                                                                                     replace=False))]
        self.k_, self.silhouette_ = self._choose_k(select, distinct)
        self.model_ = self._model(self.k_, self.random_state).fit(sample)
        self.stability_ari_ = self._stability(select, rng)
        labels = self.model_.predict(x)
        self._profile(customers, labels)
        self.deviations_ = self._deviations(x, labels)
        self._fitted = FitMemo((labels, self._distances(x, labels)), customers)
        return self

    def _distinct_cap(self) -> int:
        """A count of distinct rows at or above which the choice of k no longer depends on it."""
        top = int(self.k_range[1]) + 1 if self.n_clusters == "auto" else int(self.n_clusters)
        return max(top, 3)

    def _distances(self, x: np.ndarray, labels: np.ndarray) -> np.ndarray | None:
        """Each row's distance to its cluster centre (None for a model without centres)."""
        centres = getattr(self.model_, "cluster_centers_", None)
        return None if centres is None else np.linalg.norm(x - centres[labels], axis=1)

    def _applied(self, customers: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
        """Cluster numbers and distances to the centre of ``customers``: those computed in
        :meth:`fit` when these are the customers it was given (a run fits, assigns and scores the
        same frame: the matrix and the predictions are not computed again), else anew."""
        cached = memo_for(self, "_fitted", customers)
        if cached is not None:
            return cached
        x = self._matrix(customers)
        with limited_threads(self.n_jobs, *SKLEARN):
            labels = self.model_.predict(x)
        return labels, self._distances(x, labels)

    def _choose_k(self, sample: np.ndarray, distinct: int) -> tuple[int, float | None]:
        """k with the best silhouette among models fitted on ``sample`` (at most ``SELECT_ROWS`` rows)."""
        if self.n_clusters != "auto":
            k = int(self.n_clusters)
            if k < 1:
                raise ConfigError("clusters: n_clusters must be at least 1")
            return max(1, min(k, distinct)), None
        lo, hi = int(self.k_range[0]), int(self.k_range[1])
        if lo < 2 or hi < lo:
            raise ConfigError("clusters: k_range must be (min >= 2, max >= min)")
        if distinct < 3:
            return max(1, distinct), None
        candidates = []
        for k in progress.track(range(lo, min(hi, distinct - 1) + 1), "choosing the number of clusters"):
            labels = self._model(k, self.random_state).fit(sample).predict(sample)
            if len(np.unique(labels)) >= 2:
                candidates.append((k, labels))
        best, best_score = None, -2.0
        for (k, _), score in zip(candidates, silhouette_scores(sample, [labels for _, labels in candidates])):
            if score > best_score + 1e-9:
                best, best_score = k, score
        return (best, best_score) if best is not None else (min(lo, distinct), None)

    def _stability(self, sample: np.ndarray, rng: np.random.Generator) -> float | None:
        if self.n_bootstrap <= 0 or self.k_ < 2 or len(sample) < 10:
            return None
        from sklearn.metrics import adjusted_rand_score
        ref = self.model_.predict(sample)
        scores = []
        for b in progress.track(range(self.n_bootstrap), "stability refits"):
            idx = rng.choice(len(sample), len(sample), replace=True)
            refit = self._model(self.k_, None if self.random_state is None else self.random_state + b + 1)
            scores.append(adjusted_rand_score(ref, refit.fit(sample[idx]).predict(sample)))
        return float(np.mean(scores))

    def _deviations(self, x: np.ndarray, labels: np.ndarray) -> dict[str, dict[str, float]]:
        """Per cluster and feature: the cluster's mean minus everyone's, on the scaled features
        (units of the population's 10–90% spread after the log transform)."""
        overall = x.mean(axis=0)
        out = {}
        for c in range(self.k_):
            if (labels == c).any():
                diff = x[labels == c].mean(axis=0) - overall
                out[self.names_[c]] = {col: round(float(v), 3) for col, v in zip(self.columns_, diff)}
        return out

    def _profile(self, customers: pd.DataFrame, labels: np.ndarray) -> None:
        raw = customers[self.columns_].astype("float64")
        spend = raw["monetary"] if "monetary" in raw else pd.Series(0.0, index=raw.index)
        order = pd.Series(spend.to_numpy()).groupby(labels).median().sort_values(ascending=False).index.tolist()
        order += [c for c in range(self.k_) if c not in order]
        self.rank_ = {int(c): i + 1 for i, c in enumerate(order)}
        pop_med = raw.median()
        pop_mean = raw.mean()
        self.profiles_: dict[int, str] = {}
        self.names_: dict[int, str] = {}
        for c in range(self.k_):
            part = raw[labels == c]
            found = []
            for col in self.columns_:
                med, pmed = part[col].median(), pop_med[col]
                ratio = (med / pmed) if pmed and np.isfinite(pmed) and pmed != 0 else (np.inf if med else 1.0)
                got = _phrases(col, float(ratio), float(part[col].mean()) if len(part) else 0.0, float(pop_mean[col]))
                if got:
                    found.append(got)
            found.sort(key=lambda t: -t[0])
            phrases = [p for _, p in found[:4]] or ["close to the typical customer"]
            if "frequency" in part and len(part) and part["frequency"].median() == 0:
                phrases = ["no purchase before the reference date"]
            self.profiles_[c] = "; ".join(phrases)
            self.names_[c] = f"C{self.rank_[c]} · {phrases[0].split(' (')[0]}"

    # ------------------------------------------------------------------ apply
    def assign(self, customers: pd.DataFrame) -> pd.Series:
        labels = self._applied(customers)[0]
        names = np.array([self.names_[c] for c in range(self.k_)], dtype=object)
        return pd.Series(names[labels].tolist(), index=customers.index)     # a list: the dtype a list of names gets

    def scores(self, customers: pd.DataFrame) -> pd.DataFrame:
        """Distance to the customer's cluster centre (how typical they are of it). The cluster
        itself is the label: a number for it would be banded as if it measured something."""
        out = pd.DataFrame(index=customers.index)
        if hasattr(self.model_, "cluster_centers_"):
            out["distance"] = self._applied(customers)[1]
        return out

    def describe(self, label: str) -> str:
        for c, name in getattr(self, "names_", {}).items():
            if name == label:
                return self.profiles_[c]
        return str(label)

    def report(self) -> dict[str, Any]:
        return {"k": self.k_, "silhouette": None if self.silhouette_ is None else round(self.silhouette_, 4),
                "stability_ari": None if self.stability_ari_ is None else round(self.stability_ari_, 4),
                "features": self.columns_, "algorithm": self.algorithm,
                "profiles": {name: {"description": self.profiles_[c], "deviations": self.deviations_.get(name, {})}
                             for c, name in self.names_.items()}}


@microseg.hookimpl
def register_methods(register):
    register(Clusters)
