"""Bootstrap weights drawn over several chunks (the groups' codes and strata found once for all chunks)."""
from __future__ import annotations

import numpy as np
import pytest

from microseg.plugins import comparison
from microseg.plugins.comparison import resample_weights


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(comparison, "CHUNK_CELLS", 300)      # 100 rows: 3 resamples per chunk


def test_group_weights_hold_in_every_chunk(small_chunks):
    rng = np.random.default_rng(3)
    groups = np.array([f"C{i}" for i in rng.integers(0, 25, 100)], dtype=object)
    chunks = list(resample_weights(100, 10, 0, groups=groups))
    assert [c.shape[1] for c in chunks] == [3, 3, 3, 1]
    w = np.concatenate(chunks, axis=1)
    _, first, codes = np.unique(groups, return_index=True, return_inverse=True)
    assert (w == w[first][codes]).all()                              # a customer's rows are drawn together
    assert (w[first].sum(axis=0) == len(first)).all()                # as many customers drawn as there are
    assert len({tuple(col) for col in w.T}) == w.shape[1]            # each resample its own draw


def test_strata_sizes_hold_in_every_chunk(small_chunks):
    strata = np.repeat([0, 1, 2], [50, 30, 20])
    w = np.concatenate(list(resample_weights(100, 10, 1, strata=strata)), axis=1)
    for s, size in ((0, 50), (1, 30), (2, 20)):
        assert (w[strata == s].sum(axis=0) == size).all()
    again = np.concatenate(list(resample_weights(100, 10, 1, strata=strata)), axis=1)
    assert np.array_equal(w, again)                                  # seeded: the same resamples


@pytest.mark.parametrize("kind", ["classifier", "uplift-few-ties", "uplift"])
def test_replicates_do_not_depend_on_the_metric_chunk(monkeypatch, kind):
    """Metrics computed over fewer resample columns at a time (METRIC_CELLS; at least two) give the very same
    numbers."""
    from microseg.plugins.comparison import ModelComparison
    rng = np.random.default_rng(7)
    n = 600
    y = rng.integers(0, 2, n)
    score = rng.random(n).round(2)                                   # ties
    if kind == "classifier":
        check = ModelComparison("m", "classifier", "roc_auc", "base", y, score, baseline_score=rng.random(n).round(1))
    else:
        uplift = score if kind == "uplift" else rng.integers(0, 5, n) / 4    # ≤ 64 tie groups: the dense product
        check = ModelComparison("m", "uplift", "qini_auc", "random", y, uplift, treatment=rng.integers(0, 2, n))
    results = []
    for cells in (1_000_000, 250_000, 6_000, 600):                   # all 50 resamples at once … two at a time
        monkeypatch.setattr(comparison, "METRIC_CELLS", cells)
        results.append(check.replicates(50, 0))
    for other in results[1:]:
        for name, (model, base) in results[0].items():
            assert np.array_equal(model, other[name][0], equal_nan=True)
            assert np.array_equal(base, other[name][1], equal_nan=True)
