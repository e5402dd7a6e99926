"""clv-decline's activity-shape features: their values, and no use of data at or after the cutoff."""
from __future__ import annotations

import numpy as np
import pandas as pd

from microseg.data import CustomerData
from microseg.plugins._decline_features import WEEKS, activity_shape, activity_windows
from microseg.plugins.clv_decline import history_features, trend_windows
from test_clv_campaign import AS_OF, _shop

CUTOFF = AS_OF - pd.Timedelta(days=90)


def _features(tx: pd.DataFrame, ids: pd.Index) -> pd.DataFrame:
    data = CustomerData(transactions=tx, as_of=AS_OF)
    return history_features(data, ids, CUTOFF, 90, btyd=False, activity=True)


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
    assert {"active_weeks", "week_concentration"} <= set(before.columns)
    assert before["week_concentration"].notna().sum() > 100
    pd.testing.assert_frame_equal(before, after)


def test_activity_windows_are_the_weeks_before_the_cutoff():
    w = sorted(activity_windows(CUTOFF).values())
    assert len(w) == WEEKS and w[-1][1] == CUTOFF and all(a[1] == b[0] for a, b in zip(w, w[1:]))
    assert all(end - start == pd.Timedelta(days=7) for start, end in w)
    assert all(end <= CUTOFF for _, end in trend_windows(CUTOFF, 90, activity=True).values())
    assert not set(activity_windows(CUTOFF)) & set(trend_windows(CUTOFF, 90))


def test_activity_shape_values():
    spends = {f"week_{k}": np.array([1.0 if k % 2 else 0.0, 0.0, -1.0, 5.0 if k == 3 else 1.0]) for k in range(WEEKS)}
    f = activity_shape(spends)
    assert np.allclose(f["active_weeks"], [6 / 13, 0, 0, 1])
    assert np.isclose(f["week_concentration"][0], 1 / 6) and np.isnan(f["week_concentration"][1:3]).all()
    assert np.isclose(f["week_concentration"][3], 5 / 17)


def test_weeks_before_the_first_transaction_are_not_used():
    spends = {f"week_{k}": np.array([0.0 if k < 4 else 9.0, 1.0 if k < 4 else 0.0]) for k in range(WEEKS)}
    early = activity_shape(spends, observed_days=30)          # four weeks observed
    assert np.allclose(early["active_weeks"], [0, 1]) and np.isnan(early["week_concentration"][0])
    assert np.isclose(early["week_concentration"][1], 1 / 4)
    late = activity_shape(spends, observed_days=400)
    assert np.allclose(late["active_weeks"], [9 / 13, 4 / 13])
    none = activity_shape(spends, observed_days=3)
    assert np.isnan(none["active_weeks"]).all() and np.isnan(none["week_concentration"]).all()


def test_the_method_adds_them_only_when_asked():
    from microseg.plugins.clv_decline import ClvDecline
    data = CustomerData(transactions=_shop(seed=2), as_of=AS_OF)
    f = data.features()
    off = ClvDecline(n_estimators=20, n_origins=2).fit(f, data=data)
    on = ClvDecline(n_estimators=20, n_origins=2, activity_features=True).fit(f, data=data)
    assert "active_weeks" not in off._score(f, data)[1].columns
    assert {"active_weeks", "week_concentration"} <= set(on._score(f, data)[1].columns)
