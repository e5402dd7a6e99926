"""LightGBM helpers: a regularised classifier, categorical handling, early stopping, SHAP drivers."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from microseg import progress
from microseg.lgbm import classifier

MAX_CATEGORIES = 50


def prepare(frame: pd.DataFrame, categories: dict[str, list] | None = None) -> tuple[pd.DataFrame, dict[str, list]]:
    """Numbers as float; low-cardinality text as pandas categoricals with fixed levels."""
    out = {}
    cats = dict(categories or {})
    for col in frame.columns:
        s = frame[col]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            out[col] = s.astype("float64")
        elif pd.api.types.is_datetime64_any_dtype(s):
            continue
        else:
            if categories is None:
                levels = s.astype("string").value_counts()
                if len(levels) > MAX_CATEGORIES or len(levels) < 2:
                    continue
                cats[col] = sorted(levels.index.tolist())
            if col in cats:
                text = s.astype("string")
                known = text.where(text.isin(cats[col]))          # unseen levels become missing
                out[col] = pd.Categorical(known, categories=cats[col])
    return pd.DataFrame(out, index=frame.index), cats


def fit_with_early_stopping(params: dict, x_train: pd.DataFrame, y_train: np.ndarray, x_val: pd.DataFrame,
                            y_val: np.ndarray, max_trees: int, patience: int = 50) -> tuple[Any, int]:
    """A model trained on ``x_train`` with the number of trees that is best on a time-respecting
    validation set (later than the training rows); returns the model (predicting with that many
    trees) and the number. Without both outcomes in the validation set: ``max_trees // 4`` trees."""
    import lightgbm as lgb
    if len(np.unique(y_val)) < 2:
        n_trees = max(20, max_trees // 4)
        return classifier(params, n_trees).fit(x_train, y_train), n_trees
    import inspect
    model = classifier(params, max_trees)
    # lightgbm >= 4.7 takes eval_X / eval_y; older versions eval_set
    evals = {"eval_X": (x_val,), "eval_y": (y_val,)} if "eval_X" in inspect.signature(model.fit).parameters \
        else {"eval_set": [(x_val, y_val)]}
    with progress.task("boosting rounds (early stopping)", total=max_trees) as rounds:
        model.fit(x_train, y_train, eval_metric="auc", callbacks=[lgb.early_stopping(patience, verbose=False),
                                                                   lambda env: rounds.advance()], **evals)
    return model, max(10, int(model.best_iteration_ or max_trees))


def top_drivers(model, x: pd.DataFrame, groups: pd.Series, n: int = 3, max_rows: int = 3000,
                seed: int = 0) -> dict[str, list[str]]:
    """Per group, the features with the largest mean positive SHAP contribution (LightGBM
    ``pred_contrib``), estimated on at most ``max_rows`` rows (a stratified-by-group sample)."""
    if len(x) > max_rows:
        frac = max_rows / len(x)
        keep = groups.groupby(groups, group_keys=False).apply(
            lambda g: g.sample(max(1, int(np.ceil(len(g) * frac))), random_state=seed)).index
        x, groups = x.loc[keep], groups.loc[keep]
    contrib = model.predict(x, pred_contrib=True)
    contrib = pd.DataFrame(np.asarray(contrib)[:, :-1], columns=x.columns, index=x.index)
    out = {}
    for label, idx in groups.groupby(groups).groups.items():
        mean = contrib.loc[idx].mean()
        out[str(label)] = [c for c in mean.sort_values(ascending=False).index[:n] if mean[c] > 0]
    return out
