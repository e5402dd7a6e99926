"""LightGBM helpers: categorical handling, rows binned once for several fits (early stopping), SHAP drivers."""
from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from microseg import progress

MAX_CATEGORIES = 50


def prepare(frame: pd.DataFrame, categories: dict[str, list] | None = None) -> tuple[pd.DataFrame, dict[str, list]]:
    """Numbers as float32 (half the memory; LightGBM bins them anyway); low-cardinality text as
    pandas categoricals with fixed levels."""
    return prepare_columns(frame.items(), frame.index, categories)


class Texts(NamedTuple):
    """A text column factorised (:func:`text_codes`): each row's code into ``texts`` (−1: missing)."""
    codes: np.ndarray
    texts: pd.Index


def text_codes(values: pd.Series) -> Texts:
    """``values`` as text, factorised (each distinct text once)."""
    codes, uniques = pd.factorize(values.astype("string"))           # missing: -1
    return Texts(codes, pd.Index(uniques, dtype=object))


def is_text(column: Any) -> bool:
    """Whether :func:`prepare` takes ``column`` as text (not a number, a flag or a date)."""
    return not (pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column)
                or pd.api.types.is_datetime64_any_dtype(column))


def prepare_columns(columns: Iterable[tuple[str, Any]], index: pd.Index, categories: dict[str, list] | None = None
                    ) -> tuple[pd.DataFrame, dict[str, list]]:
    """:func:`prepare` of a frame's ``(name, column)`` pairs (series on ``index``, numpy arrays
    or :class:`Texts` in its order) without the frame: the prepared frame is the only one built."""
    out = {}
    cats = dict(categories or {})
    for col, s in columns:
        if isinstance(s, Texts) or is_text(s):
            text = s if isinstance(s, Texts) else text_codes(s if isinstance(s, pd.Series) else pd.Series(s, index=index))
            if categories is None:
                present = text.texts[np.unique(text.codes[text.codes >= 0])]      # the distinct texts used
                if len(present) > MAX_CATEGORIES or len(present) < 2:
                    continue
                cats[col] = sorted(present.tolist())
            if col in cats:
                out[col] = _levels_of(text, cats[col])
        elif s.dtype == np.float32:
            out[col] = s                                            # already compact: no copy
        elif not pd.api.types.is_datetime64_any_dtype(s):
            out[col] = s.astype("float32")                          # numbers and flags
    return pd.DataFrame(out, index=index), cats


def as_levels(values: pd.Series, levels: list) -> pd.Categorical:
    """``values`` as text, a categorical with the fixed ``levels`` (unseen ones and missing
    values become missing): each distinct value is looked up once, not every row."""
    return _levels_of(text_codes(values), levels)


def _levels_of(text: Texts, levels: list) -> pd.Categorical:
    """The factorised ``text`` as a categorical with the fixed ``levels`` (others: missing)."""
    lookup = np.append(pd.Index(levels).get_indexer(text.texts), -1)
    return pd.Categorical.from_codes(lookup[text.codes], categories=levels)


class BoosterModel:
    """A trained LightGBM booster with the scikit-learn calls the methods use."""

    def __init__(self, booster: Any, n_trees: int) -> None:
        self.booster_, self.n_trees_ = booster, n_trees

    def predict_proba(self, x: pd.DataFrame) -> np.ndarray:
        p = self.booster_.predict(x, num_iteration=self.n_trees_)
        return np.column_stack([1 - p, p])

    def predict(self, x: pd.DataFrame, **kwargs: Any) -> np.ndarray:
        return self.booster_.predict(x, num_iteration=self.n_trees_, **kwargs)


class BinnedRows:
    """Prepared rows binned once for LightGBM; every fit trains on a subset of them.

    Binning (the feature histograms' bucket bounds and every row's bucket) is the costly part of
    building a LightGBM dataset and is the same for every fit, so it is done once. The bounds are
    computed on ``bin_rows`` only (the earliest model's training rows: no later row's features
    shape them); no label is used.
    """

    def __init__(self, x: pd.DataFrame, y: np.ndarray, bin_rows: np.ndarray, max_bin: int = 63,
                 sample: int = 50_000, seed: int | None = 0) -> None:
        import lightgbm as lgb
        self.columns = list(x.columns)
        ds_params = {"max_bin": max_bin, "verbose": -1, "bin_construct_sample_cnt": sample,
                     "data_random_seed": 0 if seed is None else seed, "feature_pre_filter": False}
        if len(bin_rows) > sample:
            bin_rows = np.sort(np.random.default_rng(seed).choice(bin_rows, sample, replace=False))
        reference = lgb.Dataset(x.iloc[bin_rows], label=np.asarray(y)[bin_rows], params=ds_params,
                                free_raw_data=True).construct()
        self.full = lgb.Dataset(x, label=np.asarray(y), reference=reference, params=ds_params).construct()
        self.x, self.y = x, np.asarray(y)

    def subset(self, rows: np.ndarray) -> Any:
        """The binned ``rows`` as a LightGBM dataset, constructed here (in the calling thread)."""
        return self.full.subset(np.sort(rows)).construct()

    def fit(self, params: dict, rows: np.ndarray, n_trees: int, valid_rows: np.ndarray | None = None,
            patience: int = 50) -> BoosterModel:
        """A model trained on ``rows``; with ``valid_rows`` (later than every training row) and both
        outcomes among them, its number of trees is the best on them (early stopping on log loss)."""
        import lightgbm as lgb
        train = self.full.subset(np.sort(rows))
        booster_params = _booster_params(params)
        stop = valid_rows is not None and len(np.unique(self.y[valid_rows])) == 2
        with progress.task("boosting rounds" + (" (early stopping)" if stop else ""), total=n_trees) as rounds:
            tick = [lambda env: rounds.advance()]
            if not stop:
                booster = lgb.train(booster_params, train, num_boost_round=n_trees, callbacks=tick)
                return BoosterModel(booster.free_dataset(), n_trees)
            valid = self.full.subset(np.sort(valid_rows))
            booster = lgb.train(booster_params | {"metric": "binary_logloss"}, train, num_boost_round=n_trees,
                                valid_sets=[valid], callbacks=[lgb.early_stopping(patience, verbose=False), *tick])
        return BoosterModel(booster.free_dataset(), max(10, int(booster.best_iteration or n_trees)))

    @staticmethod
    def fit_until(params: dict, train: Any, limit: int, stop: StopAt) -> Any:
        """A booster trained on the constructed dataset ``train`` (:meth:`subset`) for at most
        ``limit`` rounds, ending after the round at which ``stop`` says it is done (silent: no
        progress). It keeps every round trained and its training state (:func:`first_trees` cuts it)."""
        import lightgbm as lgb

        def check(env: Any) -> None:
            if stop.done(env.iteration + 1):
                raise lgb.callback.EarlyStopException(env.iteration, [])
        return lgb.train(_booster_params(params), train, num_boost_round=limit, callbacks=[check],
                         keep_training_booster=True)


def _booster_params(params: dict) -> dict:
    """LightGBM's training parameters for the methods' binary fits (column-wise histograms: the
    same trees, without LightGBM timing both layouts at every fit)."""
    return {"objective": "binary", "verbose": -1, "force_col_wise": True} | params


class StopAt:
    """How many trees a fit running beside another (:meth:`BinnedRows.fit_until`) keeps: told
    once the other fit has chosen it (:meth:`keep`), or the fit is called off (:meth:`cancel`)."""

    def __init__(self) -> None:
        self.trees: int | None = None
        self.cancelled = False

    def keep(self, trees: int) -> None:
        self.trees = trees

    def cancel(self) -> None:
        self.cancelled = True

    def done(self, rounds: int) -> bool:
        """Whether a fit that has trained ``rounds`` rounds may end."""
        return self.cancelled or (self.trees is not None and rounds >= self.trees)


def first_trees(booster: Any, trees: int, rounds: int) -> Any:
    """The first ``trees`` trees of a ``booster`` trained for ``rounds`` rounds: the booster a fit
    for ``trees`` rounds gives (boosting is sequential and deterministic — bagging and column
    samples are drawn round by round — so a longer fit's first trees are a shorter one's). Taken through the model text as ``lgb.train``
    does at the end of every fit, with the text's round count that of a ``trees``-round fit."""
    import lightgbm as lgb
    text = booster.model_to_string(num_iteration=trees)
    text = text.replace(f"[num_iterations: {rounds}]\n", f"[num_iterations: {trees}]\n", 1)
    return lgb.Booster(model_str=text)


class FitBeside:
    """A model trained on ``rows`` in a worker thread while the caller runs the early-stopping fit
    that chooses its number of trees k (and whatever else does not need the model)::

        with FitBeside(binned, params, rows, limit) as final:
            k = binned.fit(...).n_trees_          # here, on the other core
            final.keep(k)
            model = final.model()                 # binned.fit(params, rows, k), bit for bit

    The worker trains up to ``limit`` rounds (at least any k) and ends at round k once told it
    (:func:`first_trees`). Its LightGBM calls release the GIL, so the two fits use both cores; it
    reports no progress. Leaving the block by an error stops the worker (at its next round) and
    waits for it; the worker's own error is raised by :meth:`model`, as the fit would raise it here.

    LightGBM's thread count is process-wide: each call sets it from its own ``num_threads`` (a
    prediction or dataset without one: OpenMP's default). So inside the block only fits (with the
    worker's ``num_threads``) may call LightGBM; predictions come after :meth:`model`.
    """

    def __init__(self, binned: BinnedRows, params: dict, rows: np.ndarray, limit: int) -> None:
        self._stop, self._limit = StopAt(), limit
        train = binned.subset(rows)            # built here: the worker only trains
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="microseg-lgbm")
        # an empty context: the worker's fit reports no progress (the display is the caller's)
        self._pending = self._pool.submit(contextvars.Context().run, BinnedRows.fit_until, params, train, limit,
                                          self._stop)

    def __enter__(self) -> "FitBeside":
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._stop.trees is None:
            self._stop.cancel()
        self._pool.shutdown(wait=True)

    def keep(self, trees: int) -> None:
        """The number of trees chosen: the worker ends once it has them."""
        self._stop.keep(trees)

    def model(self) -> BoosterModel:
        """The worker's model cut to the chosen trees (waits for it; raises its error)."""
        trees = self._stop.trees
        if trees is None:
            raise RuntimeError("FitBeside.model() before keep(): the number of trees is not chosen")
        booster = self._pending.result()
        self._pending = None               # the training booster and its dataset go with it
        return BoosterModel(first_trees(booster, trees, self._limit), trees)


def top_drivers(model, x: pd.DataFrame, groups: pd.Series, n: int = 3, per_group: int = 200,
                seed: int = 0) -> dict[str, list[str]]:
    """Per group, the features with the largest mean positive SHAP contribution (LightGBM
    ``pred_contrib``), estimated on at most ``per_group`` rows of each group (a seeded sample):
    a small group's mean is estimated on all its rows, a large one's on no more than it needs."""
    rng = np.random.default_rng(seed)
    members = groups.groupby(groups, sort=True).indices
    take = {label: np.sort(rng.choice(pos, per_group, replace=False)) if len(pos) > per_group else pos
            for label, pos in members.items()}
    rows = np.sort(np.concatenate(list(take.values()))) if take else np.array([], dtype=np.int64)
    contrib = np.asarray(model.predict(x.iloc[rows], pred_contrib=True))[:, :-1]
    where = np.searchsorted(rows, np.concatenate(list(take.values()))) if take else rows
    out, start = {}, 0
    for label, pos in take.items():
        mean = contrib[where[start:start + len(pos)]].mean(axis=0)
        start += len(pos)
        order = np.argsort(-mean, kind="stable")[:n]
        out[str(label)] = [x.columns[j] for j in order if mean[j] > 0]
    return out
