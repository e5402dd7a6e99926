"""CustomerData's windowed spend (one pass for many windows) against a plain per-window sum."""
from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from microseg.data import CustomerData
from microseg.features import transaction_features

T0 = pd.Timestamp("2024-01-01")


def _tx(seed: int, n_rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"customer_id": rng.integers(0, 30, n_rows),
                         "ts": T0 + pd.to_timedelta(rng.integers(0, 400 * 86400, n_rows), unit="s"),
                         "amount": np.round(rng.normal(20, 30, n_rows), 2)})


def _plain(tx: pd.DataFrame, ids: pd.Index, start: pd.Timestamp, end: pd.Timestamp) -> np.ndarray:
    sel = tx[(tx["ts"] >= start) & (tx["ts"] < end)]
    return np.round(sel.groupby("customer_id")["amount"].sum().reindex(ids, fill_value=0.0).to_numpy(), 6)


days = st.integers(-30, 430)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 10_000), st.integers(0, 300), st.lists(st.tuples(days, days), min_size=1, max_size=8))
def test_window_spends_equal_plain_sums(seed, n_rows, windows):
    tx = _tx(seed, n_rows)
    ids = pd.Index(np.arange(-2, 32), name="customer_id")      # some customers without transactions
    data = CustomerData(transactions=tx, as_of=T0 + pd.Timedelta(days=400))
    bounds = [(T0 + pd.Timedelta(days=a), T0 + pd.Timedelta(days=b)) for a, b in windows]
    got = data.window_spends(ids, bounds)
    assert got.shape == (len(ids), len(bounds))
    for j, (start, end) in enumerate(bounds):
        assert np.allclose(got[:, j], _plain(tx, ids, start, end), atol=1e-6)
        assert np.allclose(data.window_spend(ids, start, end), got[:, j])


def test_shared_row_codes_give_the_same_features():
    tx = _tx(1, 500)
    ids = pd.Index(np.arange(30), name="customer_id")
    data = CustomerData(transactions=tx, as_of=T0 + pd.Timedelta(days=200))
    for when in (T0 + pd.Timedelta(days=200), T0 + pd.Timedelta(days=90)):
        with_codes = transaction_features(tx, ids, when, codes=data.tx_codes(ids))
        pd.testing.assert_frame_equal(with_codes, transaction_features(tx, ids, when))


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), n_rows=st.integers(0, 300), day=days)
def test_recency_and_tenure_equal_plain_min_max(seed, n_rows, day):
    """Recency / tenure: days since each customer's newest / oldest purchase (amount > 0) before
    as_of, NaN without one — as a plain groupby min / max gives them."""
    tx, ids, as_of = _tx(seed, n_rows), pd.Index(range(35), name="customer_id"), T0 + pd.Timedelta(days=day)
    f = transaction_features(tx, ids, as_of, (90,))
    sel = tx[(tx["ts"] < as_of) & (tx["amount"] > 0)]
    age = (as_of - sel["ts"]).dt.total_seconds() / 86400.0
    g = age.groupby(sel["customer_id"])
    np.testing.assert_array_equal(f["recency_days"].to_numpy(), g.min().reindex(ids).to_numpy())
    np.testing.assert_array_equal(f["tenure_days"].to_numpy(), g.max().reindex(ids).to_numpy())


def test_window_spends_by_customer_blocks_are_identical_and_bounded(monkeypatch):
    """Summed per block of customers (unsorted transactions, blocks of a few customers): the same
    numbers bit for bit as one table, and no customers × bounds table beyond the output is held."""
    import tracemalloc

    import microseg.data as data_module
    tx = _tx(3, 40_000).sample(frac=1.0, random_state=0)          # not ordered by customer
    tx["customer_id"] = tx["customer_id"] * 100 + np.arange(len(tx)) % 100      # 3,000 customers
    ids = pd.Index(np.arange(-5, 3_000), name="customer_id")
    bounds = [(T0 + pd.Timedelta(days=d), T0 + pd.Timedelta(days=d + 7)) for d in range(0, 400, 4)]
    whole = CustomerData(transactions=tx).window_spends(ids, bounds)
    monkeypatch.setattr(data_module, "SPEND_CELLS", 1_000)
    data = CustomerData(transactions=tx)
    data._timeline(ids)
    tracemalloc.start()
    blocks = data.window_spends(ids, bounds)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    np.testing.assert_array_equal(blocks, whole)
    assert peak < 1.5 * blocks.nbytes


def _wide_tx(seed: int, n_rows: int) -> pd.DataFrame:
    tx = _tx(seed, n_rows)
    rng = np.random.default_rng(seed)
    tx["channel"] = pd.array(rng.choice(["web", "store", "app", None], n_rows), dtype="str")
    tx["category"] = rng.choice(["a", "b", "c"], n_rows)
    tx["invoice"] = pd.array((np.arange(n_rows) // 3).astype(str), dtype="str")
    return tx


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n_rows=st.integers(0, 300), day=days)
def test_features_of_the_rows_before_as_of_equal_those_of_a_filtered_copy(seed, n_rows, day):
    """Rows on or after ``as_of`` and rows of unknown customers are skipped without copying the
    frame: the features equal those of a frame that holds only the rows used."""
    tx, as_of = _wide_tx(seed, n_rows), T0 + pd.Timedelta(days=day)
    ids = pd.Index(np.arange(3, 35), name="customer_id")          # customers 0-2 are not in ids
    used = tx.loc[(tx["ts"] < as_of).to_numpy() & tx["customer_id"].isin(ids).to_numpy()]
    expected = transaction_features(used, ids, as_of)
    pd.testing.assert_frame_equal(transaction_features(tx, ids, as_of), expected)
    codes = ids.get_indexer(tx["customer_id"]).astype(np.int32)
    pd.testing.assert_frame_equal(transaction_features(tx, ids, as_of, codes=codes), expected)


def test_features_before_as_of_do_not_copy_the_transactions():
    """Only the columns the features read are taken, at the rows used (not a copy of every column)."""
    import tracemalloc
    tx = _tx(5, 40_000)
    rng = np.random.default_rng(5)
    for j in range(30):
        tx[f"unused_{j}"] = rng.normal(size=len(tx))
    ids = pd.Index(np.arange(30), name="customer_id")
    as_of = T0 + pd.Timedelta(days=200)
    transaction_features(tx, ids, as_of)
    tracemalloc.start()
    transaction_features(tx, ids, as_of)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 0.25 * tx.memory_usage(deep=False).sum()
