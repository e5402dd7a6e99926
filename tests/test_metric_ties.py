"""Sums over tied scores: the same numbers as ``np.add.reduceat`` whichever way they are added."""
from __future__ import annotations

import numpy as np
import pytest

from microseg.plugins import _metrics


@pytest.mark.parametrize("seed", range(40))
def test_group_sums_equal_reduceat(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    distinct = int(rng.choice([n, max(1, n - 3), max(1, n // 2), 3, 1]))      # few ties … one long tie
    score = rng.integers(0, distinct, n).astype(float)
    values = rng.random((n, int(rng.integers(1, 6)))).astype(rng.choice([np.float32, np.float64]))
    _, starts = _metrics._sorted_groups(score, False)
    got = _metrics._by_group(values, starts)
    want = values if len(starts) == n else np.add.reduceat(values, starts, axis=0)
    assert got.dtype == want.dtype and np.array_equal(got, want)
