"""clv-decline's feature columns taken without a frame round trip: bit for bit what the frame gives."""
from __future__ import annotations

import numpy as np
import pandas as pd

from microseg.data import CustomerData
from microseg.plugins.clv_decline import (ClvDecline, _as_float64, _float32_rows, history_columns,
                                          history_features)
from test_clv_campaign import AS_OF, _shop


def _columns() -> dict[str, pd.Series]:
    """Numbers of every kind a behaviour frame may hold, with missing values where the type allows."""
    rng = np.random.default_rng(3)
    n = 50
    floats = rng.normal(0, 1e6, n)
    floats[[3, 7]] = np.nan
    nullable = pd.array(rng.integers(-5, 5, n), dtype="Int64")
    nullable[[1, 2]] = pd.NA
    return {"f64": pd.Series(floats), "f32": pd.Series(floats.astype("float32")),
            "i64": pd.Series(rng.integers(-2**60, 2**60, n)), "i16": pd.Series(rng.integers(-300, 300, n), dtype="int16"),
            "u8": pd.Series(rng.integers(0, 255, n), dtype="uint8"), "Int64": pd.Series(nullable),
            "Float64": pd.Series(pd.array(floats, dtype="Float64")),
            "arrow": pd.Series(pd.array(floats, dtype="float64[pyarrow]"))}


def test_float64_columns_are_what_to_numpy_with_nan_gives():
    for name, s in _columns().items():
        expected = s.to_numpy(dtype="float64", na_value=np.nan)
        got = _as_float64(s)
        assert got.dtype == np.float64 and np.array_equal(got, expected, equal_nan=True), name


def test_float32_rows_are_what_the_frame_gives_for_them():
    columns = _columns()
    rows = np.array([0, 2, 3, 7, 10, 49, 2])
    frame = pd.DataFrame(columns)
    expected = frame.to_numpy(dtype="float32", na_value=np.nan)[rows]
    for j, (name, s) in enumerate(columns.items()):
        for given in (s, s.array, s.to_numpy() if isinstance(s.dtype, np.dtype) else s):
            got = _float32_rows(given, rows)
            assert got.dtype == np.float32, name
            assert np.array_equal(got.view(np.uint32), expected[:, j].view(np.uint32)), name


def test_history_features_is_its_columns_in_a_frame():
    data = CustomerData(transactions=_shop(seed=2, future=0), as_of=AS_OF)
    ids = data.features().index
    cutoff = pd.Timestamp(AS_OF) - pd.Timedelta(days=120)
    columns = history_columns(data, ids, cutoff, 90, btyd=True, baskets=True, ranks=True)
    frame = history_features(data, ids, cutoff, 90, btyd=True, baskets=True, ranks=True)
    assert list(frame.columns) == list(columns)
    pd.testing.assert_frame_equal(frame, pd.DataFrame(columns, index=ids))


def test_labelled_rows_are_the_eligible_rows_of_the_columns():
    data = CustomerData(transactions=_shop(seed=2, future=0), as_of=AS_OF)
    ids = data.features().index
    m = ClvDecline(n_origins=2)
    cutoff = pd.Timestamp(AS_OF) - pd.Timedelta(days=120)
    x, y = m._labelled(data, ids, cutoff)
    columns, y2, eligible = m._labelled_columns(data, ids, cutoff)
    pd.testing.assert_frame_equal(x, pd.DataFrame(columns, index=ids).loc[eligible])
    assert np.array_equal(y, y2) and eligible.sum() == len(y)


def test_rows_frame_is_the_frame_at_those_rows_and_prepares_alike():
    from microseg.plugins._lgbm import prepare
    from microseg.plugins.clv_decline import rows_frame
    rng = np.random.default_rng(5)
    n = 40
    floats = rng.normal(0, 1e3, n)
    floats[[0, 5]] = np.nan
    columns = {"f64": floats, "i64": rng.integers(-2**40, 2**40, n), "flag": rng.random(n) < 0.5,
               "text": np.array(rng.choice(["a", "b", None], n), dtype=object),
               "city": pd.array(rng.choice(["Oslo", "Faro"], n), dtype="str"),
               "when": pd.Timestamp("2025-01-01").to_datetime64() + np.arange(n).astype("timedelta64[D]"),
               "nullable": pd.array(rng.integers(0, 9, n), dtype="Int64")}
    ids = pd.Index(np.arange(100, 100 + n), name="customer_id")
    rows = np.array([1, 3, 5, 6, 20, 39])
    expected = pd.DataFrame(columns, index=ids).iloc[rows]
    pd.testing.assert_frame_equal(rows_frame(columns, ids, rows), expected)
    prepared, cats = prepare(pd.DataFrame(columns, index=ids))
    got = prepare(rows_frame(columns, ids, rows, np.float32), cats)[0]
    pd.testing.assert_frame_equal(got, prepare(expected, cats)[0], check_exact=True)
    pd.testing.assert_frame_equal(got, prepared.iloc[rows], check_exact=True)
