"""Running sums of bootstrap counts in blocks: the same numbers as np.cumsum."""
from __future__ import annotations

import numpy as np
import pytest

from microseg.plugins._metrics import _running_sums, ranked_counts, ranked_metrics, whole_counts
from microseg.plugins.comparison import resample_weights


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows", [130, 1_000, 5_370])
def test_blocked_running_sums_are_cumsum_bit_for_bit(dtype, rows):
    rng = np.random.default_rng(rows)
    x = rng.poisson(1.0, (rows, 46)).astype(dtype)
    x[rng.random(rows) < 0.6] = 0                      # rows of one outcome only: zero in the other's counts
    assert _running_sums(x, exact=True).tobytes() == np.cumsum(x, axis=0).tobytes()


def test_whole_counts_only_for_exactly_summable_weights():
    y = np.array([0, 1, 1, 0])
    counts = np.array([[1, 0], [2, 1], [0, 3], [1, 0]], dtype=np.float32)
    assert whole_counts(y, counts)
    assert not whole_counts(y, counts + 0.5)                       # not whole numbers
    assert not whole_counts(y, -counts)                            # negative
    assert not whole_counts(np.array([0, 1, 2, 0]), counts)        # outcomes not 0/1
    assert not whole_counts(y, np.where(counts == 3, np.nan, counts).astype(np.float32))
    assert not whole_counts(y, np.full((4, 2), 2.0 ** 23, dtype=np.float32))   # totals past float32's exact range
    assert not whole_counts(y, counts.astype(np.int64))           # not a float dtype this path knows


@pytest.mark.parametrize("ties", [False, True])
def test_metrics_on_bootstrap_weights_are_the_same_numbers(ties):
    rng = np.random.default_rng(7)
    n = 3_000
    y = (rng.random(n) < 0.3).astype(int)
    score = rng.integers(0, 40, n).astype(float) if ties else rng.random(n) + 0.3 * y
    w = next(resample_weights(n, 60, seed=1, strata=y))
    assert whole_counts(y, w)
    fast = ranked_metrics(*ranked_counts(y, score, w), exact=True)
    plain = ranked_metrics(*ranked_counts(y, score, w))
    assert {k: v.tobytes() for k, v in fast.items()} == {k: v.tobytes() for k, v in plain.items()}
