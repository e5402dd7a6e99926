"""Basket counts (``Engine.window_baskets``) and clv-decline's basket features: their values, no
use of data at or after the cutoff, absent without invoices, and the same on both engines."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from microseg.data import CustomerData
from microseg.features import basket_counts
from microseg.plugins._basket_features import basket_features, basket_shape, basket_windows
from microseg.plugins.clv_decline import ClvDecline, history_features
from test_clv_campaign import AS_OF, _shop

CUTOFF = AS_OF - pd.Timedelta(days=90)


def _with_baskets(tx: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """``tx`` grouped into invoices of a customer's lines in the same week, with quantities and
    a few return lines."""
    rng = np.random.default_rng(seed)
    out = tx.copy()
    out["invoice"] = [f"{c}-{w}" for c, w in zip(out["customer_id"], out["ts"].dt.isocalendar().week)]
    out["quantity"] = rng.integers(1, 12, len(out)).astype(float)
    back = rng.random(len(out)) < 0.05
    out.loc[back, ["amount", "quantity"]] *= -1
    return out


def test_basket_counts_values():
    ts = pd.to_datetime(["2024-01-02", "2024-01-02", "2024-01-05", "2024-01-20", "2024-01-03", "2024-01-03"])
    tx = pd.DataFrame({"customer_id": [1, 1, 1, 1, 2, 2], "ts": ts, "amount": [5.0, 3.0, -2.0, 4.0, 7.0, 1.0],
                       "invoice": ["a", "a", "Ca", "b", "c", None], "quantity": [2.0, 1.0, -1.0, 6.0, 3.0, 1.0]})
    ids = pd.Index([1, 2, 3])
    d = pd.Timestamp
    windows = [(d("2024-01-01"), d("2024-01-10")), (d("2024-01-10"), d("2024-02-01"))]
    got = basket_counts(tx, ids, windows)
    # customer 1: one purchase invoice of 2 lines / 3 units, the return line is no purchase; then 1 / 1 / 6
    # customer 2: a line without an invoice is its own basket; customer 3: nothing
    assert got.tolist() == [[[1, 2, 3], [1, 1, 6]], [[2, 2, 4], [0, 0, 0]], [[0, 0, 0], [0, 0, 0]]]
    no_quantity = basket_counts(tx.drop(columns="quantity"), ids, windows)
    assert np.isnan(no_quantity[:, :, 2]).all() and np.array_equal(no_quantity[:, :, :2], got[:, :, :2])
    data = CustomerData(transactions=tx, as_of=pd.Timestamp("2024-02-01"))
    assert np.array_equal(data.window_baskets(ids, windows), got)
    assert CustomerData(transactions=tx.drop(columns="invoice"), as_of=pd.Timestamp("2024-02-01")
                        ).window_baskets(ids, windows) is None


def test_basket_shape_values():
    counts = np.array([[[2, 6, 10], [1, 2, 10]], [[0, 0, 0], [1, 3, 4]], [[1, 4, 0], [0, 0, 0]]], dtype=float)
    f = basket_shape(counts)
    assert list(f) == ["lines_per_invoice", "basket_lines_trend", "units_per_invoice", "basket_units_trend"]
    assert np.allclose(f["lines_per_invoice"], [3, np.nan, 4], equal_nan=True)
    assert np.allclose(f["units_per_invoice"], [5, np.nan, 0], equal_nan=True)
    assert np.isclose(f["basket_lines_trend"][0], np.log(3 / 2))
    assert np.isclose(f["basket_units_trend"][0], np.log(5 / 10))
    assert np.isnan(f["basket_lines_trend"][1:]).all() and np.isnan(f["basket_units_trend"][1:]).all()
    counts[:, :, 2] = np.nan
    assert list(basket_shape(counts)) == ["lines_per_invoice", "basket_lines_trend"]


def test_features_at_a_cutoff_do_not_change_when_later_transactions_change():
    tx = _with_baskets(_shop(seed=3))
    ids = pd.Index(np.sort(tx["customer_id"].unique()))

    def features(t: pd.DataFrame) -> pd.DataFrame:
        return history_features(CustomerData(transactions=t, as_of=AS_OF), ids, CUTOFF, 90, btyd=False, baskets=True)

    before = features(tx)
    later = (tx["ts"] >= CUTOFF).to_numpy()
    assert later.sum() > 100 and (~later).sum() > 100
    rng = np.random.default_rng(0)
    changed = tx.copy()
    changed.loc[later, "quantity"] = rng.integers(1, 500, later.sum())
    changed.loc[later, "amount"] = changed.loc[later, "amount"] * rng.uniform(-2, 5, later.sum())
    moved = changed.loc[later].copy()
    moved["customer_id"] = rng.permutation(moved["customer_id"].to_numpy())
    moved["invoice"] = moved["invoice"] + "x"
    changed = pd.concat([changed.loc[~later], moved, moved.assign(ts=moved["ts"] + pd.Timedelta(days=3))])
    after = features(changed)
    assert {"lines_per_invoice", "units_per_invoice", "basket_lines_trend", "basket_units_trend"} <= set(before.columns)
    assert before["basket_units_trend"].notna().sum() > 100
    pd.testing.assert_frame_equal(before, after)
    assert all(end <= CUTOFF for _, end in basket_windows(CUTOFF, 90))


def test_absent_without_invoices_and_added_by_the_method_when_there_are():
    tx = _shop(seed=2)
    plain = CustomerData(transactions=tx, as_of=AS_OF)
    assert basket_features(plain, plain.ids, CUTOFF, 90) == {}
    f = plain.features()
    m = ClvDecline(n_estimators=20, n_origins=2).fit(f, data=plain)
    assert "lines_per_invoice" not in m._score(f, plain)[1].columns
    rich = CustomerData(transactions=_with_baskets(tx), as_of=AS_OF)
    f = rich.features()
    on = ClvDecline(n_estimators=20, n_origins=2).fit(f, data=rich)
    off = ClvDecline(n_estimators=20, n_origins=2, basket_features=False).fit(f, data=rich)
    assert {"lines_per_invoice", "units_per_invoice", "basket_units_trend"} <= set(on._score(f, rich)[1].columns)
    assert "lines_per_invoice" not in off._score(f, rich)[1].columns
    from microseg.feature_words import in_words
    assert in_words("units_per_invoice", 90) == "items per order in the last 90 days"
    assert all(in_words(c) != c.replace("_", " ") for c in basket_shape(np.ones((1, 2, 3))))


@pytest.mark.dask
def test_dask_engine_counts_the_same_baskets(tmp_path):
    """The Dask engine's window_baskets equal the pandas engine's (invoices spanning input
    partitions, return lines, a subset of customers), with and without a mapped quantity."""
    pytest.importorskip("dask.dataframe", reason="the dask extra is not installed")
    distributed = pytest.importorskip("distributed")
    from microseg.config import parse_config
    from microseg.dask_engine import load_data_dask
    from microseg.loading import load_data
    from microseg.registry import Registry

    tx = _with_baskets(_shop(n=400, seed=5))
    tx["ts"] = tx["ts"].dt.floor("s")
    tx["unit_price"] = (tx["amount"] / tx["quantity"]).abs()
    tx = tx.sample(frac=1.0, random_state=0)                     # an invoice's lines in several row groups
    tx.to_parquet(tmp_path / "tx.parquet", row_group_size=1000)
    config = """as_of = "{as_of}"
[sources.transactions]
path = "tx.parquet"
customer_id = "customer_id"
timestamp = "ts"
invoice = "invoice"
{money}
"""
    windows = basket_windows(CUTOFF, 90) + [(CUTOFF - pd.Timedelta(days=365), CUTOFF)]
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                       scheduler_kwargs={"dashboard": False}, memory_limit="1GiB")
    client = distributed.Client(cluster)
    try:
        for money in ('quantity = "quantity"\nunit_price = "unit_price"', 'amount = "amount"'):
            cfg = parse_config(config.format(as_of=AS_OF.date(), money=money), base_dir=tmp_path)
            local = load_data(cfg)[0]
            dist = load_data_dask(cfg, client, registry=Registry(entry_points=False))[0]
            assert dist.tx.rows.npartitions > 1
            ids = local.ids
            a, b = local.window_baskets(ids, windows), dist.window_baskets(ids, windows)
            assert a.shape == (len(ids), 3, 3) and a[:, :, 0].sum() > 1000
            assert np.allclose(a, b, equal_nan=True), money
            assert np.isnan(a[:, :, 2]).all() == ("amount" in money)
            keep = ids[ids % 3 == 0]
            assert np.allclose(local.restrict(keep).window_baskets(keep, windows),
                               dist.restrict(keep).window_baskets(keep, windows), equal_nan=True)
    finally:
        client.close()
        cluster.close()
