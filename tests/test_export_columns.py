"""The export's per-family column: joined multi-memberships, the finest microsegment."""
from __future__ import annotations

import numpy as np
import pandas as pd

from microseg.export_rows import family_column


def _segs(labels, levels=None):
    return pd.DataFrame({"family": "f", "label": labels, "level": levels or [1] * len(labels)})


def test_multi_membership_joined_in_segment_order():
    seg = _segs(["a", "b", "c"])
    rows = np.array([2, 0, 2, 0, 1])
    at = np.array([2, 1, 0, 0, 1])
    col = family_column(rows, at, seg, 4, finest=False)
    assert col.tolist() == ["a;b", "b", "a;c", None]


def test_finest_keeps_the_deepest_level():
    seg = _segs(["X", "X × 1", "X × 1 × p"], [1, 2, 3])
    col = family_column(np.array([0, 0, 0, 1]), np.array([2, 0, 1, 0]), seg, 2, finest=True)
    assert col.tolist() == ["X × 1 × p", "X"]


def test_many_labels_fall_back_to_the_same_result():
    rng = np.random.default_rng(0)
    for n_labels in (5, 60):
        seg = _segs([f"L{i}" for i in range(n_labels)])
        pairs = {(int(r), int(a)) for r, a in zip(rng.integers(0, 50, 300), rng.integers(0, n_labels, 300))}
        rows, at = (np.array(v) for v in zip(*sorted(pairs)))
        col = family_column(rows, at, seg, 50, finest=False)
        expected = [";".join(f"L{a}" for r2, a in sorted(pairs) if r2 == r) or None for r in range(50)]
        assert col.tolist() == expected
