"""Basket-shape features for ``clv-decline``: how large the customer's orders are, and whether
that is changing.

From the engine's ``window_baskets`` (purchase invoices, purchase lines and units per customer in
a window; only with an ``invoice`` column, units only with a mapped ``quantity``), over the last
H days before the cutoff and the H days before those — so nothing at or after the cutoff:

``lines_per_invoice``
    purchase lines per purchase invoice in the last H days (the breadth of a basket)
``units_per_invoice``
    units per purchase invoice in the last H days (with a quantity column)
``basket_lines_trend`` / ``basket_units_trend``
    log of that figure over the same figure in the previous H days (baskets shrinking: < 0)

Missing where a window has no purchase invoice. Without invoices (or on an engine without
``window_baskets``) there are no basket features.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def basket_windows(cutoff: pd.Timestamp, horizon: int) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """The last ``horizon`` days before ``cutoff`` and the ``horizon`` days before those."""
    h = pd.Timedelta(days=horizon)
    return [(cutoff - h, cutoff), (cutoff - 2 * h, cutoff - h)]


def basket_shape(counts: np.ndarray) -> dict[str, np.ndarray]:
    """The basket features from :func:`basket_windows` counts (customers × 2 windows ×
    (invoices, lines, units)); no units features when units are missing (NaN)."""
    invoices = counts[:, :, 0]
    out: dict[str, np.ndarray] = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for name, k in (("lines", 1), ("units", 2)):
            if k == 2 and np.isnan(counts[:, :, 2]).all():
                continue
            per = np.where(invoices > 0, counts[:, :, k] / invoices, np.nan)
            positive = np.where(per > 0, per, np.nan)
            out[f"{name}_per_invoice"] = per[:, 0]
            out[f"basket_{name}_trend"] = np.log(positive[:, 0]) - np.log(positive[:, 1])
    return out


def basket_features(data: Any, ids: pd.Index, cutoff: pd.Timestamp, horizon: int) -> dict[str, np.ndarray]:
    """:func:`basket_shape` of ``ids`` at ``cutoff`` ({} when ``data`` has no invoices)."""
    window_baskets = getattr(data, "window_baskets", None)
    counts = window_baskets(ids, basket_windows(cutoff, horizon)) if window_baskets is not None else None
    return {} if counts is None else basket_shape(counts)
