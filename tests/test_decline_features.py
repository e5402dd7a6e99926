"""clv-decline's activity-shape features: their values, and no use of data at or after the cutoff."""
from __future__ import annotations

import numpy as np
import pandas as pd

from microseg.data import CustomerData
from microseg.plugins._decline_features import activity_shape, activity_windows
from microseg.plugins.clv_decline import history_features, trend_windows
from test_clv_campaign import AS_OF, _shop

CUTOFF = AS_OF - pd.Timedelta(days=90)


def _features(tx: pd.DataFrame, ids: pd.Index) -> pd.DataFrame:
    data = CustomerData(transactions=tx, as_of=AS_OF)
    return history_features(data, ids, CUTOFF, 90, btyd=False)


def test_features_at_a_cutoff_do_not_change_when_later_transactions_change():
    tx = _shop(seed=3)
    ids = pd.Index(np.sort(tx["customer_id"].unique()))
    before = _features(tx, ids)
    later = tx["ts"] >= CUTOFF
    assert later.sum() > 100 and (~later).sum() > 100
    rng = np.random.default_rng(0)
    changed = tx.copy()
    changed.loc[later, "amount"] = -changed.loc[later, "amount"] * rng.uniform(0.1, 5, later.sum())
    moved = changed.loc[later].copy()
    moved["customer_id"] = rng.permutation(moved["customer_id"].to_numpy())
    changed = pd.concat([changed.loc[~later], moved, moved.assign(ts=moved["ts"] + pd.Timedelta(days=3))])
    after = _features(changed, ids)
    shape = ["active_months_6", "active_months_12", "active_weeks", "monthly_spend_cv", "slope_6", "slope_12",
             "last_month_vs_mean"]
    assert set(shape) <= set(before.columns)
    pd.testing.assert_frame_equal(before, after)


def test_activity_windows_end_at_the_cutoff_and_tile_the_year():
    w = activity_windows(CUTOFF)
    months = sorted((w[f"month_{k}"] for k in range(12)), key=lambda x: x[0])
    assert months[-1][1] == CUTOFF and all(a[1] == b[0] for a, b in zip(months, months[1:]))
    assert all(end <= CUTOFF for _, end in trend_windows(CUTOFF, 90).values())


def test_activity_shape_values():
    spends = {f"month_{k}": np.array([10.0, 0.0, 2.0 ** (12 - k)]) for k in range(12)}
    spends["month_3"] = np.array([10.0, -5.0, 2.0 ** 9])           # a month of returns counts as no spend
    spends |= {f"week_{k}": np.array([1.0 if k % 2 else 0.0, 0.0, -1.0]) for k in range(13)}
    f = activity_shape(spends)
    assert list(f["active_months_12"]) == [1, 0, 1] and list(f["active_months_6"]) == [1, 0, 1]
    assert np.allclose(f["active_weeks"], [6 / 13, 0, 0])
    assert np.isclose(f["week_concentration"][0], 1 / 6) and np.isnan(f["week_concentration"][2])
    assert f["monthly_spend_cv"][0] == 0 and np.isnan(f["monthly_spend_cv"][1])
    assert f["slope_12"][0] == 0 and f["slope_12"][1] == 0
    assert f["slope_6"][2] > 0 and f["slope_12"][2] > 0               # doubling every month: growing
    assert f["last_month_vs_mean"][0] == 0 and f["last_month_vs_mean"][2] > 0


def test_windows_before_the_first_transaction_are_not_used():
    spends = {f"month_{k}": np.array([0.0 if k < 2 else 50.0, 5.0]) for k in range(12)}
    spends |= {f"week_{k}": np.array([0.0, 1.0 if k < 4 else 0.0]) for k in range(13)}
    f = activity_shape(spends, observed_days=65)          # two months, nine weeks observed
    assert list(f["active_months_12"]) == [0, 1] and list(f["active_months_6"]) == [0, 1]
    assert np.allclose(f["active_weeks"], [0, 4 / 9])
    assert np.isnan(f["slope_12"]).all() and np.isnan(f["monthly_spend_cv"][0])
    late = activity_shape(spends, observed_days=400)
    assert late["active_months_12"][0] == 10 / 12 and np.isfinite(late["slope_12"]).all()
