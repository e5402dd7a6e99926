"""The released table as it leaves: one row per released customer, one column per released column.

Every released value is a stored segment, so a customer's stored segment list is their released
vector; :func:`released_rows` lays it out: the customer key (unless ``customer_ids = "none"``),
then each released family (labels of a multi-membership family joined with ``;`` in segment
order; ``*`` where the value was withheld; empty where the method gave no label), ``micro``,
score bands and attributes — in the order the run released them. Export formats (CSV, Parquet,
plugins; :mod:`microseg.export`) write this frame as it is.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from microseg.store import Store

SCORE_BAND = "score band"


def released_rows(store: Store, run_id: int, *, include_scores: bool = True) -> pd.DataFrame:
    """The export of ``run_id``: released customers × released columns."""
    run_row = store.run(run_id)
    segs = [s for s in store.segments(run_id) if s.status == "released"]
    customers, row, segment_ids = store.released_customers(run_id)
    seg = pd.DataFrame({"family": [s.family for s in segs], "label": [s.label for s in segs],
                        "method": [s.method for s in segs]}, index=[s.id for s in segs])
    at = seg.index.get_indexer(segment_ids)
    row, at = row[at >= 0], at[at >= 0]
    out = pd.DataFrame(index=pd.RangeIndex(len(customers)))
    if run_row.customer_ids != "none":
        out["customer"] = customers["customer_key"].to_numpy()
    families = seg["family"].to_numpy()[at]
    order = json.loads(run_row.scope or "{}").get("columns") or list(dict.fromkeys(seg["family"]))
    for family in order:
        if not include_scores and (seg.loc[seg["family"] == family, "method"] == SCORE_BAND).any():
            continue
        mine = families == family
        out[family] = family_column(row[mine], at[mine], seg["label"].to_numpy(), len(customers))
    return out.reset_index(drop=True)


def family_column(rows: np.ndarray, at: np.ndarray, labels: np.ndarray, n: int) -> np.ndarray:
    """One column's value per customer row: the label of its segment, several joined with ``;``
    in segment order; None where the customer has none."""
    order = np.lexsort((at, rows))
    rows, at = rows[order], at[order]
    col = np.full(n, None, dtype=object)
    last = np.r_[rows[1:] != rows[:-1], True] if len(rows) else np.array([], dtype=bool)
    if last.all():                                    # one label per customer
        col[rows] = labels[at]
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


def record_export(store: Store, run_id: int, out: Path, frame: pd.DataFrame, fmt: str, secret: bytes) -> None:
    """Append the ``export`` event: rows, columns, format and the SHA-256 of the file written."""
    from microseg.privacy.audit import append_events
    h = hashlib.sha256()
    with out.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    payload: dict[str, Any] = {"rows": len(frame), "columns": [str(c) for c in frame.columns], "format": fmt,
                               "sha256": h.hexdigest()}
    with store.writing() as conn:                    # the store's write lock: audit appends in order
        append_events(conn, [("export", run_id, payload)], secret)
