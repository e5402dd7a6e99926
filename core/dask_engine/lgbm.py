"""LightGBM through its own Dask interface (the Dask engine's ``fit_classifier``)."""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd


def fit_dask_lgbm(client: Any, params: dict, n_estimators: int, x: pd.DataFrame, y: np.ndarray) -> Any:
    """Train ``lightgbm.DaskLGBMClassifier`` on ``x``, ``y`` on the workers of ``client`` — one
    partition of rows per worker — and return the equivalent local model (``to_local()``), so
    scoring stays the same; ``n_jobs`` is dropped there (each worker uses its own threads)."""
    import dask.dataframe as dd
    from lightgbm import DaskLGBMClassifier
    workers = max(1, len(client.scheduler_info().get("workers", {})))
    n_parts = max(1, min(workers, len(x) // 1000))
    bounds = np.linspace(0, len(x), n_parts + 1).astype(int)
    frame = x.assign(__label=np.asarray(y))
    # sent to the workers once as data (scattered), not embedded in the task graph
    futures = client.scatter([frame.iloc[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:])])
    rows = dd.from_delayed(futures, meta=frame.iloc[:0], verify_meta=False)
    dx, dy = rows.drop(columns="__label"), rows["__label"]
    local = {k: v for k, v in params.items() if k not in ("n_jobs", "num_threads")}
    model = DaskLGBMClassifier(client=client, n_estimators=n_estimators, verbose=-1, **local)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Parameter .* will be ignored")
        model.fit(dx, dy)
    return model.to_local()
