"""Clusters' shortcuts give what the plain computations gave."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from microseg.plugins.clusters import Clusters, distinct_rows


def _full(x: np.ndarray, cap: int) -> int:
    return min(cap, len(np.unique(np.round(x, 6), axis=0)))


@pytest.mark.parametrize("cap", [1, 3, 9])
@pytest.mark.parametrize("make", [
    lambda rng: rng.normal(size=(5_000, 3)),                                   # all distinct
    lambda rng: np.repeat(rng.normal(size=(2, 3)), 2_500, axis=0),             # 2 rows, repeated
    lambda rng: np.vstack([np.zeros((3_000, 2)), rng.normal(size=(4, 2))]),   # the distinct rows after the head
    lambda rng: np.round(rng.normal(size=(50, 2)), 0),                         # shorter than the head
    lambda rng: np.zeros((0, 2)),
    lambda rng: np.array([[0.0], [-0.0], [1e-7], [2e-7]] * 700),              # equal once rounded
])
def test_distinct_rows_is_the_capped_count_of_all_rows(make, cap):
    x = make(np.random.default_rng(0))
    assert distinct_rows(x, cap) == _full(x, cap)
    assert distinct_rows(x, cap, head=7) == _full(x, cap)


def test_assign_names_each_row_as_the_per_row_lookup_did():
    rng = np.random.default_rng(1)
    customers = pd.DataFrame({"recency_days": rng.integers(0, 400, 600), "frequency": rng.poisson(5, 600),
                              "monetary": rng.gamma(2, 100, 600)}, index=[f"c{i}" for i in range(600)])
    m = Clusters(n_clusters=4, n_bootstrap=0).fit(customers)
    got = m.assign(customers)
    labels = m._applied(customers)[0]
    expected = pd.Series([m.names_[int(c)] for c in labels], index=customers.index)
    pd.testing.assert_series_equal(got, expected)
    fresh = customers.iloc[::-1].copy()                 # not the fitted frame: predicted anew
    pd.testing.assert_series_equal(m.assign(fresh), expected.iloc[::-1])
