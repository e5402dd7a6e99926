"""clv-decline model details: data-driven risk tiers, words that follow the parameters, BG/NBD."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from microseg.data import CustomerData
from microseg.errors import ConfigError
from microseg.plugins._btyd import btyd_features, fit_bgnbd
from microseg.plugins.clv_decline import ClvDecline
from test_clv_campaign import AS_OF, _shop

warnings.filterwarnings("ignore", category=UserWarning)


def _fitted(**kw):
    data = CustomerData(transactions=_shop(seed=2), as_of=AS_OF)
    f = data.features()
    m = ClvDecline(n_estimators=60, n_origins=2, **kw).fit(f, data=data)
    return m, m.assign(f, data=data), data, f


def test_default_risk_tiers_follow_the_training_decline_rate():
    m, labels, data, f = _fitted()
    lo, hi = m.report()["risk_bounds"]
    assert hi == 0.5 and 0 < lo <= 0.5
    probs = m.scores(f, data=data)["decline_probability"].dropna()
    declining = labels.str.endswith("declining")
    assert (probs[declining[probs.index]] >= hi).all() and (probs[~declining[probs.index]] < hi).all()
    stable = labels.str.endswith("stable")
    assert (probs[stable[probs.index]] < lo).all()


def test_descriptions_follow_ratio_and_bounds():
    m, *_ = _fitted(ratio=0.3, risk_thresholds=(0.2, 0.6))
    assert m.report()["risk_bounds"] == [0.2, 0.6]
    text = m.describe("High value · declining")
    assert "60% or higher chance" in text and "30% of that" in text and "half" not in text
    assert "20% to 60%" in m.describe("Low value · wavering")


def test_bad_risk_thresholds_are_an_error():
    with pytest.raises(ConfigError, match="risk_thresholds"):
        _fitted(risk_thresholds=(0.7, 0.2))


def _simulate_bgnbd(n, r, alpha, a, b, T, seed=0):
    """Customers under BG/NBD: (x, t_x, T) with every customer's first purchase at time 0."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    x, t_x = np.zeros(n), np.zeros(n)
    for i in range(n):
        t, k = 0.0, 0
        while True:
            t += rng.exponential(1 / lam[i])
            if t > T:
                break
            k, t_x[i] = k + 1, t
            if rng.random() < p[i]:
                break
        x[i] = k
    return x, t_x, np.full(n, float(T))


def test_bgnbd_recovers_known_parameters():
    x, t_x, age = _simulate_bgnbd(4000, r=0.8, alpha=20.0, a=0.8, b=2.5, T=365)
    r, alpha, a, b = fit_bgnbd(x, t_x, age)
    assert r == pytest.approx(0.8, rel=0.2) and alpha == pytest.approx(20.0, rel=0.3)
    assert a / (a + b) == pytest.approx(0.8 / 3.3, rel=0.25)          # mean drop-out probability


def test_btyd_features_from_the_behaviour_frame():
    data = CustomerData(transactions=_shop(seed=4), as_of=AS_OF)
    f = data.features()
    b = btyd_features(f, 90)
    assert b["p_alive"].between(0, 1).all() and (b["expected_purchases"] >= 0).all()
    recent = f["recency_days"] < f["recency_days"].median()
    assert b.loc[recent, "p_alive"].mean() > b.loc[~recent, "p_alive"].mean()   # recent buyers more alive
    m, labels, data, _ = _fitted(btyd=True)
    assert "expected_vs_window" in m.model_.booster_.feature_name() and len(labels) == len(f)


def test_gap_features_are_recency_in_units_of_the_customers_own_gap():
    from microseg.plugins.clv_decline import history_features
    data = CustomerData(transactions=_shop(seed=5), as_of=AS_OF)
    ids = data.ids
    f = history_features(data, ids, AS_OF, 90, btyd=False)
    base = data.features(AS_OF)
    gap = base["interpurchase_days"].clip(lower=1)
    assert np.allclose(f["recency_vs_gap"].dropna(), (base["recency_days"] / gap).dropna())
    share = f["purchases_90d_share"]
    assert share.dropna().between(0, 1).all()
    assert np.allclose(share.dropna(), (base["purchases_90d"] / base["frequency"]).dropna())
    off = history_features(data, ids, AS_OF, 90, btyd=False, gaps=False)
    assert "recency_vs_gap" not in off and "purchases_90d_share" not in off


def test_training_rows_are_capped_by_a_seeded_sample_per_cutoff():
    m, *_ = _fitted(max_training_rows=200)                          # 2 origins: 100 rows per cutoff
    full, *_ = _fitted(max_training_rows=None)
    assert m.training_rows_ <= 200 < full.training_rows_
    # only as many customers as fill the cap are used for training ...
    assert 100 < m.training_customers_ < full.training_customers_ == 600
    # ... while the forward evaluation is still scored on every customer (not capped)
    assert m.report()["evaluation"]["eligible"] == full.report()["evaluation"]["eligible"]
    again, *_ = _fitted(max_training_rows=200)
    assert again.training_rows_ == m.training_rows_ and again.n_trees_ == m.n_trees_


def test_backtest_scores_every_row_of_its_evaluation_cutoff():
    data = CustomerData(transactions=_shop(seed=2, future=0), as_of=AS_OF)
    f = data.features()
    capped = ClvDecline(n_estimators=40, n_origins=2, max_training_rows=100).fit(f, data=data)
    free = ClvDecline(n_estimators=40, n_origins=2, max_training_rows=None).fit(f, data=data)
    assert capped.report()["evaluation"]["protocol"].startswith("backtest")
    assert capped.training_rows_ <= 100 < free.training_rows_
    # the evaluation cutoff's rows: every eligible customer of the training sample
    assert capped.report()["evaluation"]["eligible"] > 50


def test_row_table_holds_each_cutoffs_labelled_rows_as_float32():
    """The stacked table (all cutoffs' spend windows in one pass, columns taken once) holds
    exactly what each cutoff's own labelled rows give, numbers as float32."""
    from microseg.plugins._lgbm import prepare
    from microseg.plugins.clv_decline import _capped, _RowTable
    data = CustomerData(transactions=_shop(seed=2, future=0), as_of=AS_OF)
    f = data.features()
    m = ClvDecline(n_estimators=40, n_origins=3, max_training_rows=150)
    cutoffs = m._cutoffs(pd.Timestamp(AS_OF) - pd.Timedelta(days=90), data.tx_date_range()[0])
    table = _RowTable(m, data, f.index, None, cutoffs, evaluated=cutoffs[-1])
    for t in cutoffs:
        x, y = m._labelled(data, f.index, t)
        keep = np.arange(len(y)) if t == cutoffs[-1] else _capped(len(y), m._rows_per_cutoff(), m.random_state, t)
        rows = table.all_of(t)
        expected = prepare(x.iloc[keep].astype({c: "float32" for c in x.columns if x[c].dtype.kind in "if"}))[0]
        pd.testing.assert_frame_equal(table.x.iloc[rows], expected[table.x.columns])
        assert np.array_equal(table.y[rows], y[keep])
    assert len(table.all_of(cutoffs[-1])) > len(table.of([cutoffs[-1]]))    # evaluated: every row kept


def test_row_table_is_the_same_whatever_the_window_batch(monkeypatch):
    """Spend windows summed for all cutoffs at once or one cutoff at a time: the same table."""
    import microseg.plugins.clv_decline as cd
    data = CustomerData(transactions=_shop(seed=2, future=0), as_of=AS_OF)
    f = data.features()
    m = ClvDecline(n_estimators=40, n_origins=3)
    cutoffs = m._cutoffs(pd.Timestamp(AS_OF) - pd.Timedelta(days=90), data.tx_date_range()[0])
    together = cd._RowTable(m, data, f.index, None, cutoffs)
    monkeypatch.setattr(cd, "WINDOW_CELLS", 1)
    apart = cd._RowTable(m, data, f.index, None, cutoffs)
    pd.testing.assert_frame_equal(together.x, apart.x)
    assert np.array_equal(together.y, apart.y)


def test_by_default_every_tree_is_fitted_on_every_training_row():
    data = CustomerData(transactions=_shop(seed=2), as_of=AS_OF)
    f = data.features()
    for kw, bagged in (({}, False), ({"subsample": 0.4}, True)):
        m = ClvDecline(n_estimators=30, n_origins=2, **kw).fit(f, data=data)
        roots = [t["tree_structure"].get("internal_count") for t in m.model_.booster_.dump_model()["tree_info"]]
        assert len(roots) == m.n_trees_
        assert all(r == m.training_rows_ for r in roots) != bagged, (kw, roots[:3], m.training_rows_)


def test_the_documented_defaults_are_the_code_defaults():
    import inspect
    from pathlib import Path
    defaults = {k: p.default for k, p in inspect.signature(ClvDecline).parameters.items()}
    text = " ".join((Path(__file__).parents[1] / "docs" / "methods-clv-campaign.md").read_text().split())
    for phrase in (f"at most `n_estimators` {defaults['n_estimators']} trees",
                   f"no row bagging (`subsample` {defaults['subsample']};",
                   f"At most `max_training_rows` ({defaults['max_training_rows']:,}) rows per fit".replace(",", " ")):
        assert phrase in text, phrase
