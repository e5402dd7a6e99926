"""``clv-decline``: customers whose value is falling, predicted with LightGBM out of time.

Definition (parameters ``horizon_days`` H, ``ratio`` r): at a cutoff T a customer is *eligible*
if their net spend in [T−H, T) is > 0, and *declining* if their net spend in [T, T+H) is below
r × their net spend in [T−H, T).

Training is out of time. Labels end at ``as_of``: the latest labelled cutoff is T₀ = as_of − H,
and earlier cutoffs T₀ − j·step (rolling origins) add rows; with many customers a seeded sample
of them is used for training (every customer is scored, from data before ``as_of``). Evaluation
is on a later cutoff than any training label: when the data reach as_of + H, the as_of
predictions are scored against that realised window ("forward"); otherwise the model trained on
cutoffs ≤ T₀ − H − step, with its number of trees chosen by early stopping on T₀ − H, is scored
at T₀ ("backtest") and the final model is refitted on cutoffs ≤ T₀ with that number of trees.
The evaluated model is compared on the same rows with a naive rule (recency or last-window
spend trend, whichever ranks its training rows better) for the model quality gate
(:meth:`ClvDecline.quality_checks`).
"""
from __future__ import annotations

import os
from contextlib import nullcontext
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

import microseg
from microseg import progress
from microseg.errors import ConfigError
from microseg.fit_memo import FitMemo, memo_for
from microseg.feature_words import in_words
from microseg.plugins._basket_features import basket_features
from microseg.plugins._btyd import btyd_features
from microseg.plugins._decline_features import activity_shape, activity_windows
from microseg.plugins._lgbm import BinnedRows, FitBeside, Texts, is_text, prepare, prepare_columns, text_codes, top_drivers
from microseg.plugins._metrics import classification_report, roc_auc
from microseg.plugins._rank_features import cutoff_ranks
from microseg.plugins._naive import DECLINE_RULES, choose_rule, rule_scores
from microseg.plugins.comparison import ModelComparison
from microseg.plugins.curves import classifier_curves

RISK_WORDS = {"high": "declining", "medium": "wavering", "low": "stable"}
VALUE_TIERS = ("Low", "Mid", "High")
RISK_LEVELS = ("low", "medium", "high")
NOT_ACTIVE = "Not active"
PREDICT_ROWS = 100_000       # rows per LightGBM prediction call
DRIVER_ROWS = 200            # per segment, for its mean SHAP values (drivers)
WINDOW_CELLS = 20_000_000      # customers × window bounds summed in one pass (160 MB of float64)


def trend_windows(cutoff: pd.Timestamp, horizon: int, activity: bool = False
                  ) -> dict[str, tuple[pd.Timestamp, pd.Timestamp]]:
    """The spend windows before ``cutoff`` that describe a trend, by feature name (with
    ``activity``, also the weekly windows of the activity features)."""
    out = {f"spend_last_{days}d": (cutoff - pd.Timedelta(days=days), cutoff)
           for days in (14, 30, 60, horizon, 2 * horizon, 365)}
    out["spend_prev_window"] = (cutoff - pd.Timedelta(days=2 * horizon), cutoff - pd.Timedelta(days=horizon))
    return out | activity_windows(cutoff) if activity else out


def window_columns(data: Any, ids: pd.Index, windows: dict[str, tuple[pd.Timestamp, pd.Timestamp]]
                   ) -> dict[str, np.ndarray]:
    """Net spend per customer in each named window (one pass over the transactions)."""
    return dict(zip(windows, data.window_spends(ids, list(windows.values())).T))


def history_features(data: Any, ids: pd.Index, cutoff: pd.Timestamp, horizon: int,
                     static: pd.DataFrame | None = None, spends: dict[str, np.ndarray] | None = None,
                     btyd: bool = True, seed: int | None = 0, gaps: bool = True,
                     activity: bool = False, baskets: bool = False, ranks: bool = False) -> pd.DataFrame:
    """:func:`history_columns` as one frame indexed by ``ids``."""
    return pd.DataFrame(history_columns(data, ids, cutoff, horizon, static, spends, btyd, seed, gaps, activity,
                                        baskets, ranks), index=ids)


def _as_float64(values: pd.Series | np.ndarray) -> np.ndarray:
    """``values.to_numpy(dtype="float64", na_value=np.nan)``, without its copy and missing-value
    pass for numpy numbers (whose missing values are NaN already)."""
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "iuf":
        return np.asarray(values, dtype="float64")
    if isinstance(values, np.ndarray):
        values = pd.Series(values)
    return values.to_numpy(dtype="float64", na_value=np.nan)


def behaviour_columns(data: Any, cutoff: pd.Timestamp, ids: pd.Index) -> dict[str, Any]:
    """The behaviour columns (not the raw customer attributes) of ``data.features(cutoff)`` by
    name, in ``ids``' order (numpy arrays or series): the engine's ``behaviour_columns`` when it
    has them (no frame joined to the attributes)."""
    own = getattr(data, "behaviour_columns", None)
    if own is not None:
        columns, index = own(cutoff)
    else:
        frame = data.features(cutoff)
        raw_attributes = set(data.customers.columns) if data.customers is not None else set()
        columns, index = {c: s for c, s in frame.items() if c not in raw_attributes}, frame.index
    if index.equals(ids):
        return columns
    return {c: (pd.Series(v, index=index) if isinstance(v, np.ndarray) else v).reindex(ids) for c, v in columns.items()}


def _values(column: Any) -> np.ndarray:
    """A numpy array or series' values as a numpy array (as ``Series.to_numpy()``)."""
    return column if isinstance(column, np.ndarray) else column.to_numpy()


def history_columns(data: Any, ids: pd.Index, cutoff: pd.Timestamp, horizon: int,
                    static: pd.DataFrame | None = None, spends: dict[str, np.ndarray] | None = None,
                    btyd: bool = True, seed: int | None = 0, gaps: bool = True,
                    activity: bool = False, baskets: bool = False, ranks: bool = False) -> dict[str, Any]:
    """Behaviour at ``cutoff`` plus spend windows and scale-free ratios that describe a trend, as
    columns (numpy or pandas arrays in ``ids``' order) by name.

    ``static`` holds the customer attributes the method may use (the masked frame it was given);
    the raw customers table of ``data`` is never used as features. ``spends`` may hold the
    :func:`trend_windows` already computed. With ``btyd``, a BG/NBD model fitted on these
    customers' history before ``cutoff`` adds P(alive), expected purchases and spend in the next
    ``horizon`` days, and that expected spend as a share of the last window's. With ``baskets``,
    basket sizes and their trend when the data have invoices (:mod:`microseg.plugins._basket_features`).
    With ``ranks``, each level's percentile among the customers eligible at ``cutoff``
    (:mod:`microseg.plugins._rank_features`).
    """
    base = behaviour_columns(data, cutoff, ids)
    windows = trend_windows(cutoff, horizon, activity)
    spends = spends if spends is not None else window_columns(data, ids, windows)
    col = {c: _as_float64(s) for c, s in base.items()
           if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)}
    f = {name: np.asarray(spends[name], dtype="float64") for name in windows if name.startswith("spend_")}
    if activity:
        f |= activity_shape(spends, (cutoff - data.tx_date_range()[0]) / pd.Timedelta(days=1))
    if baskets:
        f |= basket_features(data, ids, cutoff, horizon)
    cur = f[f"spend_last_{horizon}d"]
    with np.errstate(divide="ignore", invalid="ignore"):
        f["window_vs_prev"] = np.log1p(cur.clip(min=0)) - np.log1p(f["spend_prev_window"].clip(min=0))
        f["window_share_of_year"] = np.where(f["spend_last_365d"] > 0, cur / f["spend_last_365d"], np.nan)
        f["last30_share_of_window"] = np.where(cur > 0, f["spend_last_30d"] / cur, np.nan)
        f["last60_share_of_window"] = np.where(cur > 0, f["spend_last_60d"] / cur, np.nan)
        if "tenure_days" in col and "monetary" in col:
            f["spend_per_tenure_day"] = col["monetary"] / np.maximum(col["tenure_days"], 1)
        if gaps and {"recency_days", "interpurchase_days"} <= set(col):
            # days since the last purchase in units of the customer's own typical gap
            gap = np.maximum(col["interpurchase_days"], 1)
            f["recency_vs_gap"] = col["recency_days"] / gap
            f["window_vs_gap"] = horizon / gap
        if gaps and "frequency" in col:
            for name in [c for c in col if c.startswith("purchases_") and c.endswith("d")]:
                f[f"{name}_share"] = np.where(col["frequency"] > 0, col[name] / np.maximum(col["frequency"], 1), np.nan)
        if btyd and {"frequency", "recency_days"} <= set(base):
            b = btyd_features(pd.DataFrame(base, index=ids), horizon, seed)
            f["p_alive"] = b["p_alive"].to_numpy()
            f["expected_purchases"] = b["expected_purchases"].to_numpy()
            if "avg_basket" in col:
                f["expected_spend"] = f["expected_purchases"] * col["avg_basket"]
                f["expected_vs_window"] = np.where(cur > 0, f["expected_spend"] / cur, np.nan)
    # one frame from the columns (base's kept as they are, then the new ones, then the attributes)
    out = {c: _values(s) for c, s in base.items() if c not in f} | f
    if ranks:
        out |= cutoff_ranks(col | f, cur > 0)
    if static is not None:
        attributes = static[[c for c in static.columns if c not in base and c not in f]]
        if not attributes.index.equals(ids):
            attributes = attributes.reindex(ids)
        out |= {c: s.array for c, s in attributes.items()}
    return out


def rows_frame(columns: dict[str, Any], ids: pd.Index, rows: np.ndarray, numbers: Any = None) -> pd.DataFrame:
    """``pd.DataFrame(columns, index=ids).iloc[rows]`` without a frame of every row: numpy
    numbers and flags are taken at ``rows`` directly (as ``numbers`` when given, e.g. float32 for
    :func:`prepare`, which keeps float32 columns as they are); other columns (text, pandas arrays)
    go through a frame of all rows, so their type is inferred as it would be there."""
    direct = {c for c, v in columns.items() if isinstance(v, np.ndarray) and v.dtype.kind in "biuf"}
    rest = pd.DataFrame({c: v for c, v in columns.items() if c not in direct}, index=ids).iloc[rows]
    taken = {c: columns[c][rows] for c in direct}
    if numbers is not None:
        taken = {c: v.astype(numbers) for c, v in taken.items()}
    return pd.DataFrame({c: taken[c] if c in direct else rest[c] for c in columns}, index=ids[rows])


def predict_in_chunks(model: Any, x: pd.DataFrame, chunk: int = PREDICT_ROWS) -> np.ndarray:
    """``model``'s positive-class probability for every row of ``x``, ``chunk`` rows at a time
    (LightGBM copies the rows it predicts on into one array: the chunks cap that copy)."""
    parts = [model.predict_proba(x.iloc[i:i + chunk])[:, 1] for i in range(0, len(x), chunk)]
    return np.concatenate(parts) if parts else np.array([])


def _stacked_as_number(column: Any) -> bool:
    """Whether the row table holds ``column`` (a series or an array) as float32 numbers (else as
    it is: text, categories, flags)."""
    return pd.api.types.is_float_dtype(column.dtype) or pd.api.types.is_integer_dtype(column.dtype)


def _float32_rows(column: Any, rows: np.ndarray) -> np.ndarray:
    """``column``'s values at positions ``rows`` as float32 (missing: NaN), bit for bit what a
    frame's ``to_numpy(dtype="float32", na_value=np.nan)`` holds for them."""
    if isinstance(column, np.ndarray):
        return column[rows].astype(np.float32)
    return np.asarray(column.to_numpy(dtype="float32", na_value=np.nan))[rows]


def _capped(n: int, cap: int | None, seed: int | None, cutoff: pd.Timestamp) -> np.ndarray:
    """Positions of at most ``cap`` of a cutoff's ``n`` rows: a random subset (in order) seeded
    by ``seed`` and the cutoff's day, so a cutoff keeps its rows whichever others are stacked."""
    if cap is None or n <= cap:
        return np.arange(n)
    rng = np.random.default_rng([0 if seed is None else seed, cutoff.value // (86_400 * 10**9)])
    return np.sort(rng.choice(n, cap, replace=False))


class _RowTable:
    """Eligible customers' features and decline labels at several cutoffs, stacked once and
    prepared for LightGBM (categories from the features, no label), with each cutoff's rows.

    With ``max_training_rows``, each cutoff keeps a seeded sample of at most that ÷ ``n_origins``
    rows (so one fit trains on at most about ``max_training_rows``); the ``evaluated`` cutoff
    keeps all its rows for evaluation (:meth:`all_of`) and trains on the sample only."""

    def __init__(self, method: "ClvDecline", data: Any, ids: pd.Index, static: pd.DataFrame | None,
                 cutoffs: list[pd.Timestamp], evaluated: pd.Timestamp | None = None) -> None:
        cap = method._rows_per_cutoff()
        self._at, self._all, end = {}, {}, 0
        labels: list[np.ndarray] = []
        # the cutoffs' spend windows in one pass over the transactions per batch of cutoffs (a
        # batch's customers × window bounds table stays at most ~WINDOW_CELLS cells)
        windows = {t: method._label_windows(t) for t in cutoffs}
        width = 2 * len(trend_windows(pd.Timestamp(0), 1, method.activity_features))
        batch = max(1, WINDOW_CELLS // (max(1, len(ids)) * width))
        spends: dict = {}
        for i in range(0, len(cutoffs), batch):
            flat = [w for t in cutoffs[i:i + batch] for w in windows[t].values()]
            sums, at = data.window_spends(ids, flat).T, 0
            for t in cutoffs[i:i + batch]:
                spends[t] = dict(zip(windows[t], sums[at:at + len(windows[t])]))
                at += len(windows[t])
        numbers: dict[str, list[np.ndarray]] = {}
        other: dict[str, list[pd.Series]] = {}
        taken: list[np.ndarray] = []
        names: list[str] = []
        for t in cutoffs:
            # the customer attributes are the same at every cutoff: taken once below, not per cutoff
            x, y, eligible = method._labelled_columns(data, ids, t, spends.pop(t))
            rows = np.flatnonzero(eligible)
            sample = _capped(len(y), cap, method.random_state, t)
            keep = np.arange(len(y)) if t == evaluated else sample
            rows = rows[keep]
            names = names or list(x)
            # the kept rows' numbers as float32 (what LightGBM is given anyway), column by column
            for c in names:
                if _stacked_as_number(x[c]):
                    numbers.setdefault(c, []).append(_float32_rows(x[c], rows))
            text = [c for c in names if c not in numbers]
            if text:
                frame = pd.DataFrame({c: x[c] for c in text}, index=ids)
                for c in text:
                    other.setdefault(c, []).append(frame[c].iloc[rows])
            taken.append(rows)
            labels.append(np.asarray(y)[keep])
            self._all[t] = np.arange(end, end + len(keep))
            self._at[t] = end + (np.searchsorted(keep, sample) if t == evaluated else np.arange(len(keep)))
            end += len(keep)
            del x
        self.y = np.concatenate(labels) if labels else np.array([], dtype=int)
        positions = np.concatenate(taken) if taken else np.array([], dtype=np.int64)
        idx = ids[positions]
        columns = {c: np.concatenate(numbers.pop(c)) if c in numbers else pd.concat(other[c]).set_axis(idx)
                   for c in names}
        if static is not None:
            attributes = static[[c for c in static.columns if c not in columns]]
            if not attributes.index.equals(ids):
                attributes = attributes.reindex(ids)
            for c in attributes.columns:
                s = attributes[c]
                if _stacked_as_number(s):
                    columns[c] = s.to_numpy(dtype="float32", na_value=np.nan)[positions]
                elif is_text(s):         # factorised once per customer, not once per stacked row
                    whole = text_codes(s)
                    columns[c] = Texts(whole.codes[positions], whole.texts)
                else:
                    columns[c] = s.iloc[positions].set_axis(idx)
        # prepared as they are: the one frame built is LightGBM's input
        self.x, self.categories = prepare_columns(columns.items(), idx)

    def of(self, cutoffs: list[pd.Timestamp]) -> np.ndarray:
        """The training rows of ``cutoffs``."""
        return np.concatenate([self._at[t] for t in cutoffs]) if cutoffs else np.array([], dtype=np.int64)

    def all_of(self, cutoff: pd.Timestamp) -> np.ndarray:
        """Every row of ``cutoff`` (its training rows and, on the evaluated cutoff, the others)."""
        return self._all[cutoff]


class _ScoreInput(NamedTuple):
    """The features :meth:`ClvDecline._score` predicts on: per customer (``ids``) the past
    window's spend and eligibility, and the eligible customers' prepared rows ``xp``."""
    ids: pd.Index
    past: np.ndarray
    eligible: np.ndarray
    xp: pd.DataFrame


def _trainable(y: np.ndarray) -> bool:
    """Whether labels ``y`` can train a model (enough rows, both outcomes)."""
    return len(y) >= 20 and len(np.unique(y)) >= 2


def _cores() -> int:
    """CPUs this process may run on (its affinity where the platform tells it)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _fits_in_process(data: Any) -> bool:
    """Whether ``data``'s engine trains a classifier by the caller's ``in_process`` fit (so the
    fit may start early); an engine that does not say so trains it its own way, when asked."""
    return bool(getattr(data, "fits_in_process", False))


class ClvDecline(microseg.SegmentationMethod):
    """Customers whose value is falling: decline probability and risk × value segments.

    Parameters
    ----------
    horizon_days : H
    ratio : r (declining when next-window spend < r × last-window spend)
    n_origins : rolling training cutoffs (T₀, T₀ − step, …)
    origin_step_days : spacing of the training cutoffs (default H / 6: seven cutoffs span H)
    max_training_customers : train (and backtest) on a seeded random sample of this many customers
        when there are more; every customer is scored. ``None`` trains on everyone.
    max_training_rows : at most about this many stacked rows per fit: training uses only as many
        customers (seeded sample) as give every cutoff ``max_training_rows / n_origins`` eligible
        ones, and each cutoff keeps a seeded sample of at most that many (the backtest's
        evaluation cutoff is scored on all of its rows). ``None``: no cap.
    gap_features : add recency in units of the customer's own typical gap between purchases,
        H ÷ that gap, and each purchase window's share of all purchases
    activity_features : add how steadily the customer bought in the last 13 weeks (share of weeks
        with spend, the largest week's share of the spend: :mod:`microseg.plugins._decline_features`);
        off by default (docs/methods-clv-campaign.md: better on Online Retail, worse on the
        synthetic backtest at 100 000 customers)
    basket_features : when the transactions have invoices, add lines and units per invoice in the
        last H days and their trend against the H days before (:mod:`microseg.plugins._basket_features`)
    rank_features : add each level (spend, purchases, basket size, recency, tenure, usual gap) as a
        percentile among the customers eligible at the same cutoff, which does not drift between
        the stacked cutoffs (:mod:`microseg.plugins._rank_features`)
    value_quantiles : past-value tier bounds among eligible customers (low | mid | high)
    risk_thresholds : decline probabilities from which a customer is "wavering" / "declining";
        by default (``None``) the training rows' decline rate (above-average risk) and 0.5 (more
        likely than not), so the tiers follow the data rather than fixed numbers
    n_estimators : at most this many trees (the early-stopping fit's number of trees is the best
        on the validation cutoff, up to this)
    subsample : share of the training rows each tree is fitted on (LightGBM bagging; 1.0 by
        default: every tree sees every row — faster per tree, and level or better on the
        development data, docs/methods-clv-campaign.md)
    early_stopping_rounds : trees without a validation gain (log loss) before the number of trees
        is fixed
    max_bin : LightGBM histogram buckets per feature (the rows of every fit are binned once)
    bin_sample : rows a feature's bucket bounds are computed on (LightGBM ``bin_construct_sample_cnt``)
    btyd : add BG/NBD features (P(alive), expected purchases and spend in the next H days)
    n_jobs : LightGBM threads per fit (1 by default: measured 3–7× faster than the default when the
        two cores are shared); in process, the final model trains in a second thread beside the
        early-stopping fit (the same model: its first trees are kept)
    """

    name = "clv-decline"
    summary = "Decline probability (LightGBM, out of time) and risk x value segments"

    def __init__(self, *, horizon_days: int = 90, ratio: float = 0.5, n_origins: int = 7,
                 origin_step_days: int | None = None, max_training_customers: int | None = 50_000,
                 value_quantiles: tuple[float, float] = (0.5, 0.8),
                 risk_thresholds: tuple[float, float] | None = None, n_estimators: int = 150,
                 learning_rate: float = 0.1, early_stopping_rounds: int = 30, num_leaves: int = 7,
                 min_child_samples: int = 50, max_bin: int = 63, bin_sample: int = 20_000, btyd: bool = False,
                 subsample: float = 1.0, colsample_bytree: float = 0.3, reg_lambda: float = 20.0,
                 gap_features: bool = True, activity_features: bool = False, basket_features: bool = True,
                 rank_features: bool = True,
                 max_training_rows: int | None = 25_000,
                 n_jobs: int = 1, random_state: int | None = 0) -> None:
        self.horizon_days = horizon_days
        self.ratio = ratio
        self.n_origins = n_origins
        self.origin_step_days = origin_step_days
        self.max_training_customers = max_training_customers
        self.value_quantiles = value_quantiles
        self.risk_thresholds = risk_thresholds
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.early_stopping_rounds = early_stopping_rounds
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.max_bin = max_bin
        self.bin_sample = bin_sample
        self.btyd = btyd
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.gap_features = gap_features
        self.activity_features = activity_features
        self.basket_features = basket_features
        self.rank_features = rank_features
        self.max_training_rows = max_training_rows
        self.n_jobs = n_jobs
        self.random_state = random_state

    # ------------------------------------------------------------------ pieces
    def _params(self) -> dict:
        return {"learning_rate": self.learning_rate, "num_leaves": self.num_leaves,
                "min_child_samples": self.min_child_samples, "subsample": self.subsample, "subsample_freq": 1,
                "colsample_bytree": self.colsample_bytree, "reg_lambda": self.reg_lambda, "n_jobs": self.n_jobs,
                "random_state": self.random_state}

    def _labelled(self, data: Any, ids: pd.Index, cutoff: pd.Timestamp,
                  static: pd.DataFrame | None = None, select: bool = True,
                  spends: dict[str, np.ndarray] | None = None) -> tuple:
        """Eligible customers' features at ``cutoff`` and their decline labels (with ``select``
        False: every customer's features, the eligible ones' labels and the eligibility mask).
        ``spends`` may hold the :meth:`_label_windows` already computed."""
        columns, y, eligible = self._labelled_columns(data, ids, cutoff, spends, static)
        if select:
            return rows_frame(columns, ids, np.flatnonzero(eligible)), y
        return pd.DataFrame(columns, index=ids), y, eligible

    def _labelled_columns(self, data: Any, ids: pd.Index, cutoff: pd.Timestamp,
                          spends: dict[str, np.ndarray] | None = None, static: pd.DataFrame | None = None
                          ) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
        """Every customer's features at ``cutoff`` (:func:`history_columns`), the eligible
        customers' decline labels and the eligibility mask."""
        spends = dict(spends) if spends is not None else window_columns(data, ids, self._label_windows(cutoff))
        past, future = spends[f"spend_last_{self.horizon_days}d"], spends.pop("future")
        eligible = past > 0
        x = history_columns(data, ids, cutoff, self.horizon_days, static, spends, self.btyd,
                            self.random_state, self.gap_features, self.activity_features, self.basket_features,
                            self.rank_features)
        y = (future[eligible] < self.ratio * past[eligible]).astype(int)
        return x, y, eligible

    def _label_windows(self, cutoff: pd.Timestamp) -> dict[str, tuple[pd.Timestamp, pd.Timestamp]]:
        """The trend windows before ``cutoff`` and the label's window after it (``future``)."""
        return trend_windows(cutoff, self.horizon_days, self.activity_features) | {
            "future": (cutoff, cutoff + pd.Timedelta(days=self.horizon_days))}

    def _cutoffs(self, latest: pd.Timestamp, first_tx: pd.Timestamp) -> list[pd.Timestamp]:
        step = pd.Timedelta(days=self.origin_step_days or max(1, self.horizon_days // 6))
        h = pd.Timedelta(days=self.horizon_days)
        out = []
        for j in range(self.n_origins):
            t = latest - j * step
            if t - h < first_tx:            # need a full past window
                break
            out.append(t)
        return out

    def _rows_per_cutoff(self) -> int | None:
        """The cap on one cutoff's stacked rows (``max_training_rows`` ÷ ``n_origins``)."""
        return -(-self.max_training_rows // max(1, self.n_origins)) if self.max_training_rows else None

    def _customers_needed(self, data: Any, ids: pd.Index, cutoffs: list[pd.Timestamp]) -> int:
        """How many customers give every cutoff about its row cap of eligible rows: the cap ÷
        the lowest share of eligible customers among ``cutoffs`` (+10 %), at most all of them."""
        cap = self._rows_per_cutoff()
        if cap is None or not cutoffs:
            return len(ids)
        h = pd.Timedelta(days=self.horizon_days)
        share = float((data.window_spends(ids, [(t - h, t) for t in cutoffs]) > 0).mean(axis=0).min())
        return len(ids) if share <= 0 else min(len(ids), int(np.ceil(1.1 * cap / share)))

    def _training_sample(self, data: Any, ids: pd.Index, cutoffs: list[pd.Timestamp],
                         forward: bool) -> tuple[Any, pd.Index, Any, pd.Index]:
        """The data restricted to a seeded random sample of customers when there are too many
        (``max_training_customers``), or fewer when that many already fill every cutoff's row
        cap; and the customers a forward evaluation is scored on (the larger sample)."""
        n = len(ids) if self.max_training_customers is None else min(len(ids), self.max_training_customers)
        n_train = min(n, self._customers_needed(data, ids, cutoffs))
        if n_train >= len(ids):
            return data, ids, data, ids
        order = np.random.default_rng(self.random_state).permutation(len(ids))
        train_ids = ids[np.sort(order[:n_train])]
        train_data = data.restrict(train_ids)
        if not forward or n_train >= n:
            return train_data, train_ids, train_data, train_ids
        eval_ids = ids[np.sort(order[:n])]
        return train_data, train_ids, (data if n >= len(ids) else data.restrict(eval_ids)), eval_ids

    @staticmethod
    def _static_of(customers: pd.DataFrame, data: Any) -> pd.DataFrame:
        """The customer attributes (as masked in ``customers``) among the method's input columns."""
        raw = data.customers.columns if data.customers is not None else []
        return customers[[c for c in customers.columns if c in raw]]

    def _check_trainable(self, y: np.ndarray) -> None:
        if not _trainable(y):
            raise ConfigError("clv-decline: too few eligible customers with both outcomes to train "
                              f"(horizon_days={self.horizon_days}); use a shorter horizon or more history")

    def _risk_bounds(self, base_rate: float) -> tuple[float, float]:
        if self.risk_thresholds is not None:
            lo, hi = (float(t) for t in self.risk_thresholds)
            if not 0 <= lo <= hi <= 1:
                raise ConfigError("clv-decline: risk_thresholds must be two probabilities, low <= high")
            return lo, hi
        return round(min(base_rate, 0.5), 4), 0.5

    def _validated(self, binned: BinnedRows, table: _RowTable, train: list[pd.Timestamp],
                   valid: pd.Timestamp) -> Any:
        """A model on the ``train`` cutoffs, its number of trees chosen on the later ``valid`` cutoff."""
        return binned.fit(self._params(), table.of(train), self.n_estimators, table.of([valid]),
                          self.early_stopping_rounds)

    def _validation_figures(self, model: Any, table: _RowTable, valid: pd.Timestamp) -> None:
        """The ``valid`` cutoff's ROC AUC of :meth:`_validated`'s ``model`` (``validation_``)."""
        rows = table.of([valid])
        y = table.y[rows]
        self.validation_ = {"cutoff": str(valid.date()), "rows": int(len(rows)), "roc_auc": (
            roc_auc(y, model.predict_proba(table.x.iloc[rows])[:, 1]) if len(np.unique(y)) == 2 else None)}

    def _beside(self, data: Any, table: _RowTable, binned: BinnedRows, cutoffs: list[pd.Timestamp]
                ) -> FitBeside | None:
        """The final model (rows of ``cutoffs``) started in a worker thread, to train while the
        early-stopping fit chooses its number of trees — when it is trained in process and
        trainable, and a second CPU is there to train it on (else None: it is trained afterwards, and
        raises there, as before; on one CPU the worker would only add the rounds past the chosen
        number that it trains before it is told)."""
        rows = table.of(cutoffs)
        if _cores() < 2 or not _fits_in_process(data) or not _trainable(table.y[rows]):
            return None
        return FitBeside(binned, self._params(), rows, max(10, self.n_estimators))

    def _final_model(self, data: Any, table: _RowTable, binned: BinnedRows, cutoffs: list[pd.Timestamp],
                     n_trees: int, beside: FitBeside | None = None) -> Any:
        """The scoring model on the rows of ``cutoffs``, trained by the engine: in process it reuses
        the rows already binned for the earlier fits (``beside``: the fit already running); another
        engine trains it where the data are."""
        rows = table.of(cutoffs)
        self._check_trainable(table.y[rows])
        with progress.task(f"final model ({n_trees} trees, {len(rows)} rows)"):
            return data.fit_classifier(self._params() | {"max_bin": self.max_bin,
                                                         "bin_construct_sample_cnt": self.bin_sample}, table.x.iloc[rows],
                                       table.y[rows], n_estimators=n_trees,
                                       in_process=beside.model if beside is not None else
                                       lambda: binned.fit(self._params(), rows, n_trees))

    # ------------------------------------------------------------------ estimator API
    def fit(self, customers: pd.DataFrame, *, data: Any = None) -> "ClvDecline":
        """Train on rolling-origin cutoffs (labels ending at ``as_of``) and evaluate out of time.

        With the future window in the data the as_of predictions are scored against it
        ("forward"). Otherwise the early-stopping model — trained on cutoffs up to T₀ − H − step,
        its number of trees chosen on T₀ − H — is scored at T₀ ("backtest"), and the final model
        is refitted on cutoffs up to T₀ with that number of trees.
        """
        if data is None or not data.has_transactions:
            raise ConfigError("clv-decline needs transactions: pass data=CustomerData(...) / a transactions source")
        ids = customers.index
        as_of = pd.Timestamp(data.as_of)
        h = pd.Timedelta(days=self.horizon_days)
        first_tx, last_tx = data.tx_date_range()
        latest = as_of - h
        cutoffs = self._cutoffs(latest, first_tx)
        if not cutoffs:
            raise ConfigError(f"clv-decline: not enough history before as_of for horizon_days={self.horizon_days}")
        static = self._static_of(customers, data)
        back = self._cutoffs(latest - h, first_tx)
        forward = last_tx >= as_of + h - pd.Timedelta(days=1)
        backtest = not forward and len(back) >= 2
        stacked = sorted(set(cutoffs) | (set() if forward else set(back)))
        train_data, train_ids, eval_data, eval_ids = self._training_sample(data, ids, stacked, forward)
        table = _RowTable(self, train_data, train_ids, static, stacked,
                          evaluated=None if forward else latest)
        del train_data                 # the training sample's copy of the data (and its per-cutoff frames)
        first_model = back[1:] if backtest else (cutoffs[1:] if len(cutoffs) > 1 else cutoffs)
        self._check_trainable(table.y[table.of(first_model)])
        binned = BinnedRows(table.x, table.y, table.of(first_model), max_bin=self.max_bin, sample=self.bin_sample,
                            seed=self.random_state)
        default_trees = max(20, self.n_estimators // 4)
        x_ev, y_ev, p_ev, protocol = None, np.array([]), np.array([]), "none: not enough history for a backtest"
        trained_on: list[pd.Timestamp] = []
        first, valid = (back[1:], back[0]) if backtest else (cutoffs[1:], cutoffs[0] if len(cutoffs) > 1 else None)
        self.categories_ = table.categories
        score_input = None
        # the final model trains in a worker thread while the early-stopping fit chooses its trees;
        # until it is taken, LightGBM is called for fits only (its thread count is process-wide)
        with (self._beside(data, table, binned, cutoffs) if valid is not None else None) or nullcontext() as beside:
            validated = self._validated(binned, table, first, valid) if valid is not None else None
            n_trees = validated.n_trees_ if validated is not None else default_trees
            if beside is not None:
                beside.keep(n_trees)
            if backtest:
                model, trained_on = validated, first
                protocol = (f"backtest: trained on labels ending {(back[1] + h).date()} (trees chosen on labels "
                            f"ending {latest.date()}), evaluated at {latest.date()}")
            elif not forward and back:
                model, trained_on = binned.fit(self._params(), table.of(back), default_trees), back
                protocol = f"backtest: trained on labels ending {latest.date()}, evaluated at {latest.date()}"
            if beside is not None:        # while the final model may still train: the scoring input (no model needed)
                score_input = self._score_input(customers, data)
            self.model_ = self._final_model(data, table, binned, cutoffs, n_trees, beside)
        del binned                     # the binned rows (LightGBM's copy of the table) are not needed any more
        if validated is not None:
            self._validation_figures(validated, table, valid)
        if trained_on:
            x_ev, y_ev = table.x.iloc[table.all_of(latest)], table.y[table.all_of(latest)]
            p_ev = predict_in_chunks(model, x_ev)
        self.training_rows_ = len(table.of(cutoffs))
        self.n_trees_ = n_trees
        self.cutoffs_ = [str(t.date()) for t in cutoffs]
        self.training_customers_ = len(train_ids)
        self.risk_bounds_ = self._risk_bounds(float(np.mean(table.y[table.of(cutoffs)])))
        if forward:
            x_raw, y_ev = self._labelled(eval_data, eval_ids, as_of, static)
            x_ev = prepare(x_raw, self.categories_)[0]
            p_ev = predict_in_chunks(self.model_, x_ev)
            trained_on = cutoffs
            protocol = f"forward: trained on labels ending {as_of.date()}, evaluated at {as_of.date()}"
        self.evaluation_ = {"protocol": protocol, "eligible": int(len(y_ev)),
                            "validation": getattr(self, "validation_", None)} | \
            (classification_report(y_ev, p_ev) if len(y_ev) else {})
        self.comparison_ = self._comparison(table, trained_on, x_ev, y_ev, p_ev, protocol)
        self.curves_ = classifier_curves(y_ev, p_ev) if len(y_ev) else {}
        scored, xp = self._scored_from(score_input if score_input is not None else self._score_input(customers, data))
        self._scored = FitMemo(scored, customers, data)
        self.drivers_ = self._drivers(customers, scored, xp)
        return self

    def _comparison(self, table: _RowTable, trained_on: list[pd.Timestamp], x_ev: pd.DataFrame | None,
                    y_ev: np.ndarray, p_ev: np.ndarray, protocol: str) -> ModelComparison:
        """The evaluated model beside the naive rule (recency or spend trend) that ranks the
        training rows of that model best."""
        train = table.of(trained_on)
        # the rules' columns only (not a copy of every feature of the training rows)
        rule_columns = [c for c in DECLINE_RULES if c in table.x.columns]
        col, sign, words = choose_rule(table.x[rule_columns].iloc[train], table.y[train], DECLINE_RULES) \
            if trained_on else ("", 1.0, "")
        words = words or "recency or spend trend"
        base = rule_scores(x_ev, col, sign) if x_ev is not None else np.array([])
        self.evaluation_["baseline"] = words
        return ModelComparison(model="decline model", kind="classifier", metric="roc_auc", baseline=words,
                               y=np.asarray(y_ev, dtype=int), score=np.asarray(p_ev),
                               baseline_score=base, score_columns=("decline_probability",), protocol=protocol)

    def quality_checks(self) -> list[ModelComparison]:
        """The decline model against its naive rule on the out-of-time rows (for the quality gate)."""
        return [self.comparison_]

    def _score(self, customers: pd.DataFrame, data: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Per customer: decline probability (NaN when not eligible) and past-window spend; and
        the eligible customers' model input."""
        return self._scored_from(self._score_input(customers, data))

    def _score_input(self, customers: pd.DataFrame, data: Any) -> _ScoreInput:
        """:meth:`_score`'s features at ``as_of`` (they need no model)."""
        ids = customers.index
        as_of = pd.Timestamp(data.as_of)
        spends = window_columns(data, ids, trend_windows(as_of, self.horizon_days, self.activity_features))
        past = spends[f"spend_last_{self.horizon_days}d"]
        x = history_columns(data, ids, as_of, self.horizon_days, self._static_of(customers, data), spends,
                            self.btyd, self.random_state, self.gap_features, self.activity_features,
                            self.basket_features, self.rank_features)
        eligible = past > 0
        # only the eligible customers' rows are framed and prepared (the float32 copy is kept)
        xp = prepare(rows_frame(x, ids, np.flatnonzero(eligible), np.float32), self.categories_)[0]
        return _ScoreInput(ids, past, eligible, xp)

    def _scored_from(self, score_input: _ScoreInput) -> tuple[pd.DataFrame, pd.DataFrame]:
        """:meth:`_score`'s output from its features: the model's predictions."""
        ids, past, eligible, xp = score_input
        prob = np.full(len(ids), np.nan)
        prob[eligible] = predict_in_chunks(self.model_, xp)
        out = pd.DataFrame({"decline_probability": prob, "past_window_spend": past}, index=ids)
        return out, xp

    def _labels(self, s: pd.DataFrame) -> pd.Series:
        """Risk × value labels from :meth:`_score`'s frame ("Not active" when not eligible)."""
        eligible = s["decline_probability"].notna().to_numpy()
        labels = np.full(len(s), NOT_ACTIVE, dtype=object)
        if eligible.any():
            past = s["past_window_spend"].to_numpy()[eligible]
            vq = np.quantile(past, self.value_quantiles)
            value = (past >= vq[0]).astype(np.int64) + (past >= vq[1])     # index into VALUE_TIERS
            p = s["decline_probability"].to_numpy()[eligible]
            lo, hi = self.risk_bounds_
            risk = (p >= lo).astype(np.int64) + (p >= hi)                 # index into RISK_LEVELS
            names = np.array([f"{v} value · {RISK_WORDS[r]}" for v in VALUE_TIERS for r in RISK_LEVELS], dtype=object)
            labels[eligible] = names[value * len(RISK_LEVELS) + risk]
        return pd.Series(labels, index=s.index)

    def _drivers(self, customers: pd.DataFrame, scored: pd.DataFrame, xp: pd.DataFrame) -> dict[str, list[str]]:
        """Per segment of the customers fitted on, the features that push most toward decline (in words),
        from :meth:`_score`'s output for them (``xp``: the eligible customers' model input; the
        SHAP values of a seeded sample of at most ``DRIVER_ROWS`` of each segment's customers)."""
        labels = self._labels(scored)
        active = labels[scored["decline_probability"].notna().to_numpy()]       # xp's rows, in order
        if not len(active):
            return {}
        top = top_drivers(self.model_, xp, active, per_group=DRIVER_ROWS,
                          seed=0 if self.random_state is None else self.random_state)
        return {label: [in_words(name, self.horizon_days) for name in names] for label, names in top.items()}

    def _scored_for(self, customers: pd.DataFrame, data: Any) -> pd.DataFrame:
        """:meth:`_score`'s per-customer frame: the one computed in :meth:`fit` when these are
        the customers and data it was given (a run scores every customer once), else anew."""
        cached = memo_for(self, "_scored", customers, data)
        return cached if cached is not None else self._score(customers, data)[0]

    def assign(self, customers: pd.DataFrame, *, data: Any = None) -> pd.Series:
        return self._labels(self._scored_for(customers, data))

    def scores(self, customers: pd.DataFrame, *, data: Any = None) -> pd.DataFrame:
        return self._scored_for(customers, data)[["decline_probability"]]

    def describe(self, label: str) -> str:
        if label == NOT_ACTIVE:
            return f"no net spend in the last {self.horizon_days} days (not eligible for a decline forecast)"
        value, _, risk = label.partition(" value · ")
        share = "half as much" if self.ratio == 0.5 else f"{self.ratio:.0%} of that"
        lo, hi = getattr(self, "risk_bounds_", (0.0, 0.5))
        text = {"declining": f"a {hi:.0%} or higher chance of spending less than {share}",
                "wavering": f"an above-average chance ({lo:.0%} to {hi:.0%}) of spending less than {share}",
                "stable": f"a lower chance (under {lo:.0%}) of spending less than {share}"}[risk]
        base = f"{value.lower()} spend in the last {self.horizon_days} days; {text} in the next {self.horizon_days}"
        drivers = getattr(self, "drivers_", {}).get(label)
        return base + (f" (main drivers: {', '.join(drivers)})" if drivers else "")

    def report(self) -> dict[str, Any]:
        return {"evaluation": getattr(self, "evaluation_", {}), "training_cutoffs": getattr(self, "cutoffs_", []),
                "training_rows": getattr(self, "training_rows_", 0),
                "training_customers": getattr(self, "training_customers_", 0), "n_trees": getattr(self, "n_trees_", 0),
                "risk_bounds": list(getattr(self, "risk_bounds_", ())),
                "top_drivers": getattr(self, "drivers_", {}), "curves": getattr(self, "curves_", {}),
                "grid": {"rows": list(VALUE_TIERS[::-1]), "columns": [RISK_WORDS[r] for r in RISK_LEVELS],
                         "label": "{row} value · {column}", "row_title": f"spend in the last {self.horizon_days} days",
                         "column_title": f"outlook for the next {self.horizon_days} days"}}


@microseg.hookimpl
def register_methods(register):
    register(ClvDecline)
