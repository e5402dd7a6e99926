"""An attacker's oracle over exported rows only (never microseg's own functions).

It rebuilds each customer's released vector from an export (every column but ``customer``),
joins exports of several runs on the customer key (absent from an export is a value), and
brute-forces what someone holding the exports can compute: cells, intersections and one-sided
differences of any two released values (a multi-label value also as "contains label"), a value
minus all of one column's values inside it (parent minus children), and across runs the
differences of values between the first and the last export.
"""
from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd


def predicates(frame: pd.DataFrame) -> tuple[list[tuple[str, str]], np.ndarray]:
    """Every released value as a row of a (values × customers) boolean matrix; a multi-label
    value (``a;b``) also counts as "contains a" and "contains b"."""
    names, rows = [], []
    for col in frame.columns.drop("customer"):
        values = frame[col].fillna("").astype(str).to_numpy()
        parts: dict[str, np.ndarray] = {}
        for v in pd.unique(values):
            mask = values == v
            names.append((col, v))
            rows.append(mask)
            for part in v.split(";") if ";" in v else []:
                parts[part] = parts.get(part, np.zeros(len(values), bool)) | mask
        for part, mask in parts.items():
            names.append((col, "∋" + part))
            rows.append(mask)
    return names, np.array(rows, dtype=bool).reshape(len(rows), len(frame))


def small(counts: np.ndarray, k: int) -> np.ndarray:
    return (counts > 0) & (counts < k)


def oracle_one_run(frame: pd.DataFrame, k: int) -> None:
    """No cell, intersection, one-sided difference or chain of 1..k−1 customers in one export."""
    cells = Counter(map(tuple, frame.drop(columns="customer").fillna("").astype(str).to_numpy()))
    assert all(n >= k for n in cells.values()), f"a cell of {min(cells.values())} < k={k}"
    set_expressions(frame, k)


def set_expressions(frame: pd.DataFrame, k: int) -> None:
    """Brute force, independently of the cells: intersections, one-sided differences, chains."""
    names, m = predicates(frame)
    mi = m.astype(np.int64)
    inter = mi @ mi.T
    size = np.diag(inter)
    diff = size[:, None] - inter                      # |A \ B|
    for what, counts in (("intersection", inter), ("difference", diff)):
        bad = np.argwhere(small(counts, k))
        assert not len(bad), (f"{what} {names[bad[0][0]]} / {names[bad[0][1]]} holds "
                              f"{counts[bad[0][0], bad[0][1]]} < k={k}")
    columns = sorted({c for c, _ in names})
    subset = (inter == size[None, :]) & (size[None, :] < size[:, None])     # B ⊂ A (strictly)
    for a in range(len(names)):                       # a value minus all of one column's values inside it
        for col in columns:
            inside = [b for b in np.flatnonzero(subset[a]) if names[b][0] == col]
            if inside:
                rest = int((m[a] & ~m[inside].any(axis=0)).sum())
                assert not (0 < rest < k), f"chain {names[a]} minus {col}: {rest} < k={k}"


def joined_vectors(frames: list[pd.DataFrame]) -> Counter:
    """Cross-run cells: each customer present in any export, its rows joined on the key."""
    keys = sorted(set().union(*(set(f["customer"]) for f in frames)))
    vectors = []
    for f in frames:
        rows = f.set_index("customer").fillna("").astype(str)
        vectors.append({c: tuple(r) for c, r in zip(rows.index, rows.to_numpy())})
    return Counter(tuple(v.get(c, ("<absent>",)) for v in vectors) for c in keys)


def oracle_runs(frames: list[pd.DataFrame], k: int) -> None:
    """Exports of several runs joined on the customer key: no cell of 1..k−1, and no difference
    between a value in the first export and a value in the last one of 1..k−1."""
    joined = joined_vectors(frames)
    assert all(n >= k for n in joined.values()), f"a cross-run cell of {min(joined.values())} < k={k}"
    keys = pd.Index(sorted(set().union(*(set(f["customer"]) for f in frames))))
    mats = []
    for f in (frames[0], frames[-1]):
        names, m = predicates(f)
        at = keys.get_indexer(f["customer"])
        full = np.zeros((len(m) + 1, len(keys)), dtype=bool)
        full[:-1, at] = m
        full[-1, at] = True                           # "present in this export"
        mats.append(full.astype(np.int64))
    a, b = mats
    inter = a @ b.T
    sa, sb = a.sum(axis=1)[:, None], b.sum(axis=1)[None, :]
    for what, counts in (("∩", inter), ("first \\ last", sa - inter), ("last \\ first", sb - inter)):
        bad = np.argwhere(small(counts, k))
        assert not len(bad), f"across runs {what}: {counts[bad[0][0], bad[0][1]]} < k={k}"
