"""The export's per-column values: one label, or a multi-membership set joined in segment order."""
from __future__ import annotations

import numpy as np

from microseg.privacy.released import family_column


def test_multi_membership_joined_in_segment_order():
    labels = np.array(["a", "b", "c"], dtype=object)
    rows = np.array([2, 0, 2, 0, 1])
    at = np.array([2, 1, 0, 0, 1])
    col = family_column(rows, at, labels, 4)
    assert col.tolist() == ["a;b", "b", "a;c", None]


def test_one_label_per_customer():
    labels = np.array(["X", "X × 1", "*"], dtype=object)
    col = family_column(np.array([0, 1, 2]), np.array([1, 0, 2]), labels, 4)
    assert col.tolist() == ["X × 1", "X", "*", None]


def test_many_labels_fall_back_to_the_same_result():
    rng = np.random.default_rng(0)
    for n_labels in (5, 60):
        labels = np.array([f"L{i}" for i in range(n_labels)], dtype=object)
        pairs = {(int(r), int(a)) for r, a in zip(rng.integers(0, 50, 300), rng.integers(0, n_labels, 300))}
        rows, at = (np.array(v) for v in zip(*sorted(pairs)))
        col = family_column(rows, at, labels, 50)
        expected = [";".join(f"L{a}" for r2, a in sorted(pairs) if r2 == r) or None for r in range(50)]
        assert col.tolist() == expected
