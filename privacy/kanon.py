"""Generalisation hierarchies for released attributes (ARX-style, one level at a time).

number → 5-wide band → 10 → 20 → "*"; date → month → year → "*"; long text → shorter prefix …
→ "*"; a category with few values → "*". The release gate walks these levels per customer
(:func:`microseg.privacy.columns.attribute_column`): an attribute is part of every customer's
released values, so the whole released row — labels, score bands and attributes — is held by
0 or ≥ k customers.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

SUPPRESSED = "*"


def generalise_level(values: pd.Series, level: int) -> pd.Series:
    """Level 0 = raw; higher levels are coarser; the last level is "*"."""
    if level <= 0:
        return values.astype("string").fillna(SUPPRESSED) if not pd.api.types.is_numeric_dtype(values) else values
    if pd.api.types.is_datetime64_any_dtype(values):
        fmt = {1: "%Y-%m", 2: "%Y"}.get(level)
        if fmt is None:
            return pd.Series(SUPPRESSED, index=values.index)
        return values.dt.strftime(fmt).fillna(SUPPRESSED)
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        width = {1: 5, 2: 10, 3: 20}.get(level)
        if width is None:
            return pd.Series(SUPPRESSED, index=values.index)
        lo = np.floor(values / width) * width
        text = lo.astype("Int64").astype("string") + "-" + (lo + width - 1).astype("Int64").astype("string")
        return text.fillna(SUPPRESSED)
    text = values.astype("string").fillna(SUPPRESSED)
    longest = int(text.str.len().max() or 0)
    keep = longest - level
    if keep <= 0 or text.nunique() <= 60:          # a categorical: straight to "*"
        return pd.Series(SUPPRESSED, index=values.index)
    return text.str.slice(0, keep)


def max_level(values: pd.Series) -> int:
    if pd.api.types.is_datetime64_any_dtype(values):
        return 3
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return 4
    text = values.astype("string").fillna("")
    return 1 if text.nunique() <= 60 else int(text.str.len().max() or 0)
