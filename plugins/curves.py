"""Compact, aggregate curve data for a method's ``report()`` (what the HTML report draws).

Each curve is a few dozen points; every point carries ``rows``, the number of evaluation rows it
aggregates, so the report's sanitiser turns a small one into ``"< k"`` and the report leaves that
point out. No per-customer value is returned.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from microseg.plugins._metrics import qini_curve


def _r(x: float) -> float:
    return round(float(x), 4)


def classifier_curves(y: np.ndarray, p: np.ndarray, n_points: int = 25, bins: int = 10) -> dict[str, Any]:
    """ROC points (top-m rows by score); lift and cumulative gain per score decile (``top_share``:
    the share of rows scored at least as high as the decile's last); calibration (mean predicted
    vs observed rate per score decile)."""
    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=float)
    n, pos = len(y), int(y.sum())
    if n == 0 or pos in (0, n):
        return {}
    order = np.argsort(-p, kind="stable")
    hits = np.cumsum(y[order])
    roc = [{"fpr": 0.0, "tpr": 0.0, "rows": 0}]
    for m in np.unique(np.linspace(0, n, n_points + 1).round().astype(int))[1:]:
        tp = int(hits[m - 1])
        roc.append({"fpr": _r((m - tp) / (n - pos)), "tpr": _r(tp / pos), "rows": int(m)})
    lift, calibration = [], []
    base, upto = pos / n, 0
    for part in np.array_split(order, bins):
        if not len(part):
            continue
        upto += len(part)
        lift.append({"top_share": _r(upto / n), "rows": int(len(part)), "lift": _r(y[part].mean() / base),
                     "cumulative_gain": _r(hits[upto - 1] / pos)})
    for part in np.array_split(np.argsort(p, kind="stable"), bins):
        if len(part):
            calibration.append({"predicted": _r(p[part].mean()), "observed": _r(y[part].mean()),
                                "rows": int(len(part))})
    return {"roc": roc, "lift": lift, "calibration": calibration, "base_rate": _r(base)}


def qini_points(y: np.ndarray, uplift: np.ndarray, treatment: np.ndarray, n_points: int = 30) -> list[dict[str, Any]]:
    """The Qini curve (incremental responders against the share of rows targeted, best uplift
    first) at about ``n_points`` evenly spaced shares; the random-targeting line joins its ends."""
    x, q = qini_curve(y, uplift, treatment)
    n = int(x[-1]) if len(x) else 0
    if n == 0:
        return []
    out = [{"share": 0.0, "incremental": 0.0, "rows": 0}]
    for target in np.unique(np.linspace(0, n, n_points + 1).round().astype(int))[1:]:
        i = int(np.searchsorted(x, target))          # first curve point covering the target
        i = min(i, len(x) - 1)
        out.append({"share": _r(x[i] / n), "incremental": _r(q[i]), "rows": int(x[i])})
    return out
