"""The behaviour frame's fast time comparisons and window sums equal numpy's plain ones bit for bit."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from microseg.features import _sums, days_before, is_before

CUTOFFS = [pd.Timestamp("2024-03-01"), pd.Timestamp("2024-03-01 00:00:00.123456789"),
           pd.Timestamp("2023-12-31 12:34:56.5").as_unit("ms"), pd.Timestamp("2024-01-05").as_unit("s")]


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns", "D"])
@pytest.mark.parametrize("with_nat", [False, True])
def test_times_as_numpy_compares_them(unit: str, with_nat: bool) -> None:
    rng = np.random.default_rng(0)
    ts = np.datetime64("2024-01-01", unit) + rng.integers(-10**5, 10**5, 2000).astype(f"timedelta64[{unit}]")
    if with_nat:
        ts[::7] = np.datetime64("NaT")
    for as_of in CUTOFFS:
        at = np.datetime64(as_of)
        assert np.array_equal(is_before(ts, as_of), ts < at)
        expected = ((at - ts) / np.timedelta64(1, "s")) / 86400.0
        got = days_before(as_of, ts)
        assert np.array_equal(got.view(np.int64), expected.view(np.int64))


def test_sums_skip_zero_weights_bit_for_bit() -> None:
    rng = np.random.default_rng(1)
    codes = rng.integers(0, 50, 5000)
    weights = rng.normal(0, 100, 5000) * 10.0 ** rng.integers(-8, 8, 5000)
    weights[::11] = -0.0
    weights[::13] = np.nan
    where = rng.random(5000) < 0.3
    expected = np.bincount(codes, weights=np.where(where, weights, 0.0), minlength=60)
    assert np.array_equal(_sums(codes, weights, where, 60).view(np.int64), expected.view(np.int64))
