"""The released table: one row per released customer, one column per method family.

This is the one place that decides which columns and values an export holds; export formats
(:mod:`microseg.export`) only write the table it returns.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from microseg.compose import KEY_SEP
from microseg.store import Store


def released_table(store: Store, run_id: int, *, include_scores: bool = True) -> pd.DataFrame:
    """Released memberships of ``run_id``: the stored customer key (unless the run stored none),
    one column per method family (labels of a multi-membership family joined with ``;``;
    microsegments: each customer's finest level), then per-customer scores when the run's policy
    released them and ``include_scores``."""
    run_row = store.run(run_id)
    segs = [s for s in store.segments(run_id) if s.status == "released"]
    customers, row, segment_ids = store.released_customers(run_id)
    seg = pd.DataFrame({"family": [s.family for s in segs], "label": [s.label for s in segs],
                        "level": [s.key.count(KEY_SEP) + 1 for s in segs]}, index=[s.id for s in segs])
    at = seg.index.get_indexer(segment_ids)
    row, at = row[at >= 0], at[at >= 0]
    out_df = pd.DataFrame(index=pd.RangeIndex(len(customers)))
    if run_row.customer_ids != "none":
        out_df["customer"] = customers["customer_key"].to_numpy()
    families = seg["family"].to_numpy()[at]
    for family in sorted(set(families)):
        out_df[family] = family_column(row[families == family], at[families == family], seg, len(customers),
                                       finest=family == "micro")
    has_any = np.zeros(len(customers), dtype=bool)
    has_any[row] = True
    out_df, customers = out_df[has_any], customers[has_any]
    if include_scores and customers["scores"].notna().any():
        extra = pd.DataFrame([json.loads(s) if isinstance(s, str) else {} for s in customers["scores"]],
                             index=out_df.index)
        out_df = out_df.join(extra)
    return out_df.reset_index(drop=True)


def family_column(rows: np.ndarray, at: np.ndarray, seg: pd.DataFrame, n: int, *, finest: bool) -> np.ndarray:
    """One family's label per customer row (``;``-joined when several; the deepest when ``finest``).

    ``rows[i]`` is a customer row and ``at[i]`` the position in ``seg`` (columns ``label`` and
    ``level``) of one of its released segments.
    """
    labels, levels = seg["label"].to_numpy(), seg["level"].to_numpy()
    order = np.lexsort((levels[at], rows)) if finest else np.argsort(rows, kind="stable")
    rows, at = rows[order], at[order]
    col = np.full(n, None, dtype=object)
    last = np.r_[rows[1:] != rows[:-1], True] if len(rows) else np.array([], dtype=bool)
    if finest or last.all():                          # one label per customer (the last = the deepest)
        col[rows[last]] = labels[at[last]]
        return col
    own = np.unique(at)                               # the family's segments, in segment order
    if len(own) > 52:                                 # too many for a bit set in a float64
        joined = pd.Series(labels[at]).groupby(rows, sort=True).agg(";".join)
        col[joined.index.to_numpy()] = joined.to_numpy()
        return col
    bits = np.bincount(rows, weights=np.ldexp(1.0, np.searchsorted(own, at)), minlength=n).astype(np.int64)
    combos, which = np.unique(bits[rows[last]], return_inverse=True)
    names = np.array([";".join(labels[own[[i for i in range(len(own)) if c >> i & 1]]]) for c in combos.tolist()],
                     dtype=object)
    col[rows[last]] = names[which]
    return col
