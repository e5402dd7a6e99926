"""clv-decline's cross-sectional rank features: their arithmetic, no drift with the level of
spend, and no use of data at or after the cutoff."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from microseg.data import CustomerData
from microseg.plugins._rank_features import cutoff_ranks, ranked_columns
from microseg.plugins.clv_decline import ClvDecline, history_features
from test_clv_campaign import AS_OF, _shop

CUTOFF = AS_OF - pd.Timedelta(days=90)


def _features(tx: pd.DataFrame, ids: pd.Index, ranks: bool = True) -> pd.DataFrame:
    return history_features(CustomerData(transactions=tx, as_of=AS_OF), ids, CUTOFF, 90, btyd=False, ranks=ranks)


def test_ranks_are_percentiles_among_the_eligible_customers_with_a_value():
    columns = {"spend_last_90d": np.array([10.0, 30.0, 20.0, 30.0, np.nan, 5.0]),
               "window_vs_prev": np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])}
    eligible = np.array([True, True, True, True, True, False])
    out = cutoff_ranks(columns, eligible)
    assert list(out) == ["spend_last_90d_rank"]                   # a ratio is not ranked
    np.testing.assert_allclose(out["spend_last_90d_rank"], [0.25, 0.875, 0.5, 0.875, np.nan, np.nan])


def test_only_levels_are_ranked():
    names = ["spend_last_14d", "spend_prev_window", "monetary", "spend_90d", "spend_prev_180d", "purchases_90d",
             "recency_days", "units_per_invoice", "purchases_90d_share", "trend_90d", "recency_vs_gap",
             "last30_share_of_window", "basket_units_trend", "return_share", "Country"]
    assert ranked_columns(names) == names[:8]


def test_ranks_do_not_move_with_the_level_of_spend_nor_with_later_transactions():
    tx = _shop(seed=3)
    ids = pd.Index(np.sort(tx["customer_id"].unique()))
    before = _features(tx, ids)
    ranks = [c for c in before.columns if c.endswith("_rank")]
    assert {"spend_last_90d_rank", "monetary_rank", "recency_days_rank", "frequency_rank"} <= set(ranks)
    assert "window_vs_prev_rank" not in ranks and not (set(ranks) & set(_features(tx, ids, ranks=False).columns))
    eligible = before["spend_last_90d"].to_numpy() > 0
    assert before.loc[~eligible, ranks].isna().all().all()
    assert before.loc[eligible, "spend_last_90d_rank"].between(0, 1).all()
    # eight times every amount (exact in binary): spend levels change, their ranks do not
    richer = _features(tx.assign(amount=tx["amount"] * 8), ids)
    assert not np.allclose(richer["monetary"], before["monetary"])
    pd.testing.assert_frame_equal(richer[ranks], before[ranks])
    # transactions at or after the cutoff changed and moved between customers: nothing moves
    later = tx["ts"] >= CUTOFF
    moved = tx.loc[later].copy()
    moved["customer_id"] = np.random.default_rng(0).permutation(moved["customer_id"].to_numpy())
    after = _features(pd.concat([tx.loc[~later], moved]), ids)
    pd.testing.assert_frame_equal(before, after)


def test_the_model_uses_the_ranks_by_default():
    data = CustomerData(transactions=_shop(n=400, seed=5), as_of=AS_OF)
    features = data.features()
    warnings.filterwarnings("ignore", category=UserWarning)
    on = ClvDecline(n_estimators=20, n_origins=2).fit(features, data=data)
    off = ClvDecline(n_estimators=20, n_origins=2, rank_features=False).fit(features, data=data)
    assert "monetary_rank" in on.model_.booster_.feature_name()
    assert not any(c.endswith("_rank") for c in off.model_.booster_.feature_name())


def _rank_cases() -> list[np.ndarray]:
    """Hand-made and random columns for every path of ``percentiles``: whole numbers (counted),
    cents, values float32 cannot tell apart, infinities, signed zeros, missing values, overflow."""
    rng = np.random.default_rng(7)
    cases = [np.array([]), np.array([np.nan, np.nan]), np.array([3.0]), np.array([2.0, 2.0, 2.0]),
             np.array([0.0, -0.0, 1.0, np.inf, -np.inf, np.nan, 1.0, 2.5]),
             np.array([1.0, 1.0 + 2 ** -40, 1.0 - 2 ** -40, 1.0, 1.0 + 2 ** -40]),     # one float32 value
             np.array([1e300, -1e300, 3e38, 5e38, np.nan, 0.0])]                       # float32 overflow
    for n in (50, 5_000, 40_000):
        whole = rng.poisson(6, n).astype(float)
        whole[rng.random(n) < 0.1] = np.nan
        cases += [whole, whole * 1e6, whole - 3.0, np.round(rng.lognormal(3, 1, n), 2),
                  rng.normal(size=n), 1.0 + rng.integers(0, 50, n) * 2.0 ** -35,
                  # cents summed in different orders: equal amounts a few float64 ulps apart
                  np.round(rng.lognormal(5, 2, n), 2) * (1 + rng.integers(-2, 3, n) * 2.0 ** -52),
                  rng.choice([0.1 + 0.2, 0.3, 0.30000000000000004, -0.0, 0.0, np.inf], n)]
    return cases


def test_percentiles_equal_pandas_rank_bit_for_bit():
    from microseg.plugins._rank_features import percentiles
    for values in _rank_cases():
        expected = pd.Series(values, dtype="float64").rank(pct=True).to_numpy()
        np.testing.assert_array_equal(percentiles(values), expected)


def test_cutoff_ranks_equal_pandas_rank_among_the_eligible():
    rng = np.random.default_rng(3)
    columns = {"monetary": np.round(rng.lognormal(4, 1, 3_000), 2), "recency_days": rng.integers(0, 90, 3_000) * 1.0}
    eligible = rng.random(3_000) < 0.6
    out = cutoff_ranks(columns, eligible)
    for name, values in columns.items():
        expected = np.full(3_000, np.nan)
        expected[eligible] = pd.Series(values[eligible]).rank(pct=True).to_numpy()
        np.testing.assert_array_equal(out[name + "_rank"], expected)


def test_float32_order_is_a_stable_sort_of_the_float32_values():
    from microseg.plugins._rank_features import _float32_order
    for values in _rank_cases():
        known = values[~np.isnan(values)]
        with np.errstate(over="ignore"):
            f = known.astype(np.float32)
        expected = np.lexsort((~np.signbit(f), f))        # by value, -0.0 before 0.0, else by position
        np.testing.assert_array_equal(_float32_order(known), expected)
