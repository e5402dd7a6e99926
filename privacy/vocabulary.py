"""The declared, safe vocabulary: which text values may name something released.

A category level (a transaction category or channel, a campaign, a customer column's value …)
becomes part of a label, feature name, column header, score value, description, report or audit
entry only when it is **held by at least k customers** (k = the run's ``min_segment_size``) and
**passes the value scan** (no e-mail, phone, card, IBAN, URL … inside it). Every other level is
folded into :data:`OTHER` before features are built, so no method ever sees it.

Counting is partition by partition (an engine may split a table anywhere): each partition
reports, per level, at most k of its customers; :func:`combine_holders` unions them, so the
count is exact up to k, and k is all the decision needs.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

OTHER = "other"
#: columns that are keys, not vocabulary: never folded (and never named in anything released)
KEY_COLUMNS = frozenset({"customer_id", "invoice"})


def is_text(values: pd.Series) -> bool:
    dtype = values.dtype
    return (pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)
            or isinstance(dtype, pd.CategoricalDtype)) and not pd.api.types.is_bool_dtype(dtype)


def text_columns(frame: pd.DataFrame, exempt: Iterable[str] = ()) -> list[str]:
    """The columns whose values could name something: text, not a key, not exempt."""
    skip = KEY_COLUMNS | set(exempt)
    return [str(c) for c in frame.columns if str(c) not in skip and is_text(frame[c])]


def level_holders(frame: pd.DataFrame, columns: list[str], cap: int,
                  erased: pd.Index | None = None) -> dict[str, dict[Any, np.ndarray]]:
    """Per text column, per level: up to ``cap`` distinct customers holding it in ``frame``
    (customers in ``erased`` not counted)."""
    out: dict[str, dict[Any, np.ndarray]] = {}
    if frame.empty:
        return {c: {} for c in columns}
    ids = frame["customer_id"]
    keep = ~ids.isin(erased).to_numpy() if erased is not None and len(erased) else None
    cust_codes, cust = pd.factorize(ids.to_numpy())
    for col in columns:
        if col not in frame.columns:
            continue
        values = frame[col]
        codes, levels = pd.factorize(values.astype(object).to_numpy() if isinstance(values.dtype, pd.CategoricalDtype)
                                     else values.to_numpy())
        ok = codes >= 0
        if keep is not None:
            ok &= keep
        pairs = pd.unique(cust_codes[ok].astype(np.int64) * max(len(levels), 1) + codes[ok])
        lv, cu = pairs % max(len(levels), 1), pairs // max(len(levels), 1)
        order = np.argsort(lv, kind="stable")
        lv, cu = lv[order], cu[order]
        bounds = np.flatnonzero(np.r_[True, lv[1:] != lv[:-1]]) if len(lv) else np.array([], dtype=np.int64)
        holders = {}
        for start, end in zip(bounds, np.r_[bounds[1:], len(lv)]):
            holders[levels[lv[start]]] = cust[cu[start:min(end, start + cap)]]
        out[col] = holders
    return out


def combine_holders(parts: Iterable[Mapping[str, Mapping[Any, np.ndarray]]], cap: int) -> dict[str, dict[Any, int]]:
    """Per column, per level: its number of distinct customers over all partitions, capped at ``cap``."""
    merged: dict[str, dict[Any, set]] = {}
    for part in parts:
        for col, levels in part.items():
            target = merged.setdefault(col, {})
            for level, ids in levels.items():
                have = target.setdefault(level, set())
                if len(have) < cap:
                    have.update(ids.tolist())
    return {col: {lv: min(len(s), cap) for lv, s in levels.items()} for col, levels in merged.items()}


@dataclass
class Vocabulary:
    """Per table and column, the levels that may name something; the rest fold into ``other``."""

    kept: dict[str, dict[str, frozenset]] = field(default_factory=dict)   # table → column → levels
    counts: dict[str, dict[str, int]] = field(default_factory=dict)       # "table.col" → levels, kept

    def fold(self, table: str, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` with every level not kept replaced by :data:`OTHER` (missing stays missing)."""
        columns = {c: k for c, k in self.kept.get(table, {}).items() if c in frame.columns}
        if not columns:
            return frame
        out = frame.copy()
        for col, kept in columns.items():
            out[col] = fold_values(out[col], kept)
        return out


def fold_values(values: pd.Series, kept: frozenset) -> pd.Series:
    """Levels not in ``kept`` → :data:`OTHER`; a categorical stays categorical (fewer categories)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        cats = [c if c in kept else OTHER for c in values.cat.categories]
        new = list(dict.fromkeys(cats))
        remap = np.array([new.index(c) for c in cats] + [-1], dtype=np.int64)
        codes = remap[values.cat.codes.to_numpy()]          # code -1 (missing) → last entry, -1
        return pd.Series(pd.Categorical.from_codes(codes, categories=new), index=values.index, name=values.name)
    return values.where(values.isna() | values.isin(list(kept)), OTHER)


def choose_levels(holders: dict[str, dict[Any, int]], k: int, unsafe: set) -> tuple[dict[str, frozenset], dict]:
    """Per column, the levels with at least ``k`` holders that are not in ``unsafe``; and counts."""
    kept, counts = {}, {}
    for col, levels in holders.items():
        ok = frozenset(lv for lv, n in levels.items() if n >= k and str(lv) not in unsafe)
        kept[col] = ok
        counts[col] = {"levels": len(levels), "kept": len(ok), "folded": len(levels) - len(ok)}
    return kept, counts
