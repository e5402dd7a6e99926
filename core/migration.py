"""Where released customers went between two runs: migration tables that respect the gate.

Customers are matched by the key the store holds for them (a keyed pseudonym or the original
id, per ``release.customer_ids``); only released memberships are read. For each method family
present in both runs, the table counts customers by (segment in run A, segment in run B), with
a row for customers new in B and a column for those not released in B.

Invariant (checked by ``tests/test_compare.py`` from the JSON alone): every count shown is 0
or at least k, and in every row and every column the hidden cells add up to 0 or at least k —
so no count in 1..k−1 can be read off a cell or worked out from a row or column total (the
totals are the released segment sizes). A hidden cell holds ``"< k"`` when it is itself small,
``"hidden"`` when it is hidden only to protect a small neighbour.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from microseg.compose import KEY_SEP
from microseg.privacy.gate import display_size
from microseg.store import Store

NEW = "new in the later run"
GONE = "not released in the later run"
SMALL = "< k"
HIDDEN = "hidden"


@dataclass
class ReleasedLabels:
    """One run's released labels per family: customer key → label (single-membership families)."""

    run_id: int
    k: int
    keyed: bool
    single: dict[str, pd.Series]
    multi: list[str]
    everyone: pd.Index


def released_labels(store: Store, run_id: int) -> ReleasedLabels:
    run = store.run(run_id)
    segs = {s.id: s for s in store.segments(run.id) if s.status == "released"}
    if run.customer_ids == "none":
        return ReleasedLabels(run.id, run.k, False, {}, [], pd.Index([]))
    customers, row, segment_ids = store.released_customers(run.id)
    keys = customers["customer_key"].to_numpy()[row]
    known = np.array([sid in segs for sid in segment_ids.tolist()], dtype=bool)
    frame = pd.DataFrame({"key": keys[known],
                          "family": [segs[s].family for s in segment_ids[known].tolist()],
                          "label": [segs[s].label for s in segment_ids[known].tolist()],
                          "level": [segs[s].key.count(KEY_SEP) for s in segment_ids[known].tolist()]})
    single, multi = {}, []
    for family, part in frame.groupby("family", sort=True):
        if family == "micro":                       # the finest released level per customer
            part = part.sort_values("level").drop_duplicates("key", keep="last")
        if part["key"].duplicated().any():
            multi.append(str(family))
            continue
        single[str(family)] = pd.Series(part["label"].to_numpy(), index=part["key"].to_numpy())
    return ReleasedLabels(run.id, run.k, True, single, multi, pd.Index(pd.unique(frame["key"])))


def protect(counts: np.ndarray, k: int) -> np.ndarray:
    """Cells to hide: those in 1..k−1, then, until no row or column has hidden cells adding up
    to 1..k−1, the smallest visible non-zero cell of each such row or column."""
    hidden = (counts > 0) & (counts < k)
    while True:
        changed = False
        for axis in (1, 0):
            sums = np.where(hidden, counts, 0).sum(axis=axis)
            for i in np.flatnonzero((sums > 0) & (sums < k)):
                line = counts[i] if axis == 1 else counts[:, i]
                mask = hidden[i] if axis == 1 else hidden[:, i]
                visible = np.flatnonzero(~mask & (line > 0))
                if len(visible):
                    j = visible[np.argmin(line[visible])]
                    if axis == 1:
                        hidden[i, j] = True
                    else:
                        hidden[j, i] = True
                    changed = True
        if not changed:
            return hidden


def family_table(before: pd.Series, after: pd.Series, k: int) -> dict[str, Any]:
    """The protected migration table of one family (``before``/``after``: key → label)."""
    rows = sorted(pd.unique(before)) + [NEW]
    cols = sorted(pd.unique(after)) + [GONE]
    joined = pd.DataFrame({"a": before}).join(pd.DataFrame({"b": after}), how="outer")
    joined["a"] = joined["a"].fillna(NEW)
    joined["b"] = joined["b"].fillna(GONE)
    counts = (pd.crosstab(joined["a"], joined["b"]).reindex(index=rows, columns=cols, fill_value=0)
              .to_numpy(dtype=np.int64))
    hidden = protect(counts, k)
    cells = [[(SMALL if 0 < c < k else HIDDEN) if h else int(c) for c, h in zip(r, hr)]
             for r, hr in zip(counts, hidden)]
    stayed = sum(int(counts[i, cols.index(label)]) for i, label in enumerate(rows[:-1]) if label in cols)
    stayed_hidden = any(hidden[i, cols.index(label)] for i, label in enumerate(rows[:-1]) if label in cols)
    return {"rows": rows, "columns": cols, "counts": cells,
            "row_sizes": [display_size(int(v), k) for v in counts.sum(axis=1)[:-1]],
            "column_sizes": [display_size(int(v), k) for v in counts.sum(axis=0)[:-1]],
            "same_segment": None if stayed_hidden else display_size(stayed, k)}


def compare_runs(store: Store, run_a: int | None, run_b: int | None) -> dict[str, Any]:
    """Overlap and migration of released customers between two runs (see the module doc)."""
    a = released_labels(store, store.run(run_a).id)
    b = released_labels(store, store.run(run_b).id)
    k = max(a.k, b.k)
    doc: dict[str, Any] = {"run_a": a.run_id, "run_b": b.run_id, "k": k, "families": {}, "not_compared": {}}
    if not (a.keyed and b.keyed):
        which = a.run_id if not a.keyed else b.run_id
        doc["matched"] = None
        doc["note"] = (f"run {which} stored no customer keys (release.customer_ids = 'none'), so customers "
                       "cannot be matched between the runs")
        return doc
    doc["overall"] = family_table(pd.Series("released", index=a.everyone), pd.Series("released", index=b.everyone), k)
    overlap = doc["overall"]["counts"][0][0]
    doc["matched"] = overlap
    if overlap == 0:
        doc["note"] = ("no released customer of one run is released in the other: were both runs written "
                       "with the same pseudonymisation key?")
    for family in sorted(set(a.single) & set(b.single)):
        doc["families"][family] = family_table(a.single[family], b.single[family], k)
    in_a, in_b = set(a.single) | set(a.multi), set(b.single) | set(b.multi)
    for family in sorted(in_a ^ in_b):
        doc["not_compared"][family] = f"only in run {a.run_id if family in in_a else b.run_id}"
    for family in sorted((set(a.multi) | set(b.multi)) & in_a & in_b):
        doc["not_compared"][family] = "several segments per customer (multi mode)"
    return doc

