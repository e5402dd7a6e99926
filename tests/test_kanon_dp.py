"""Generalisation hierarchies of released attributes, and DP counts."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from microseg.errors import ConfigError
from microseg.privacy.kanon import SUPPRESSED, generalise_level


def test_generalisation_levels():
    ages = pd.Series([23, 37, 71])
    assert generalise_level(ages, 1).tolist() == ["20-24", "35-39", "70-74"]
    assert generalise_level(ages, 3).tolist() == ["20-39", "20-39", "60-79"]
    assert generalise_level(ages, 4).tolist() == [SUPPRESSED] * 3
    dates = pd.Series(pd.to_datetime(["1980-05-17", "1981-01-02"]))
    assert generalise_level(dates, 1).tolist() == ["1980-05", "1981-01"] and generalise_level(dates, 2).tolist() == ["1980", "1981"]


def test_attribute_column_nests_the_levels():
    """Each generalisation level contains the finer one: a customer's path only ever widens."""
    from microseg.privacy.columns import attribute_column
    ages = pd.Series(np.random.default_rng(0).integers(18, 90, 300))
    col = attribute_column("age", ages)
    assert col.depth == 4 and col.values[0] == SUPPRESSED
    for d in range(1, col.depth):
        coarse = np.asarray(col.values, dtype=object)[col.paths[d]]
        fine = np.asarray(col.values, dtype=object)[col.paths[d + 1]]
        assert pd.Series(coarse).groupby(fine).nunique().max() == 1      # one parent per finer value
    start1 = attribute_column("age", ages, start_level=1)
    assert start1.depth == 3 and not set(ages.astype(str)) & set(start1.values)


def test_dp_counts():
    pytest.importorskip("opendp")
    from microseg.privacy.dp import noisy_counts
    sizes = {f"s{i}": 1000 for i in range(200)}
    noisy = noisy_counts(sizes, epsilon=1.0)
    diffs = np.array([noisy[k] - 1000 for k in sizes])
    assert 0 < np.abs(diffs).mean() < 4 and all(v >= 0 for v in noisy.values())   # Laplace(1): mean |x| = 1
    g = noisy_counts(sizes, epsilon=1.0, mechanism="gaussian", delta=1e-6)
    assert np.abs(np.array(list(g.values())) - 1000).mean() > np.abs(diffs).mean()
    with pytest.raises(ConfigError, match="delta"):
        noisy_counts(sizes, epsilon=1.0, mechanism="gaussian")
