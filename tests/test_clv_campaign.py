"""clv-decline and campaign-response: definitions, out-of-time discipline, metrics, edge cases."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from conftest import shared_file
from microseg.data import CustomerData
from microseg.errors import ConfigError
from microseg.plugins._metrics import classification_report, qini_auc_score, uplift_at_k
from microseg.plugins.campaign_response import CampaignResponse
from microseg.plugins.clv_decline import ClvDecline

warnings.filterwarnings("ignore", category=UserWarning)
AS_OF = pd.Timestamp("2024-01-01")


def _shop(n=600, seed=0, days=720, future=90):
    """Synthetic transactions: a third of customers front-loaded (declining)."""
    rng = np.random.default_rng(seed)
    kind = rng.choice(3, n, p=[0.6, 0.3, 0.1])
    rows = np.repeat(np.arange(n), rng.poisson(25, n) + 2)
    a = np.array([1.0, 1.0, 3.0])[kind][rows]
    b = np.array([1.0, 3.0, 1.0])[kind][rows]
    day = rng.beta(a, b) * (days + future)
    ts = AS_OF - pd.Timedelta(days=days) + pd.to_timedelta(day, unit="D")
    return pd.DataFrame({"customer_id": rows, "ts": ts, "amount": np.round(rng.lognormal(3, 0.5, len(rows)), 2)})


def window_spend(tx: pd.DataFrame, ids: pd.Index, start: pd.Timestamp, end: pd.Timestamp):
    return CustomerData(transactions=tx, as_of=end).window_spend(ids, start, end)


def _fast(**kw):
    return ClvDecline(n_estimators=80, n_origins=2, **kw)


def test_decline_definition():
    tx = pd.DataFrame({"customer_id": [1, 1, 2, 2, 3], "amount": [100.0, 40.0, 100.0, 60.0, 10.0],
                       "ts": pd.to_datetime(["2023-11-01", "2024-01-15", "2023-11-01", "2024-02-01", "2023-01-01"])})
    ids = pd.Index([1, 2, 3])
    past = window_spend(tx, ids, AS_OF - pd.Timedelta(days=90), AS_OF)
    future = window_spend(tx, ids, AS_OF, AS_OF + pd.Timedelta(days=90))
    assert past.tolist() == [100.0, 100.0, 0.0]          # customer 3 is not eligible
    assert (future < 0.5 * past).tolist() == [True, False, False]


def test_out_of_time_forward_evaluation_and_segments():
    data = CustomerData(transactions=_shop(), as_of=AS_OF)
    f = data.features()
    m = _fast().fit(f, data=data)
    labels = m.assign(f, data=data)
    ev = m.report()["evaluation"]
    assert ev["protocol"].startswith("forward") and ev["roc_auc"] > 0.6
    assert {"rows", "positive_rate", "pr_auc", "top_decile_lift", "brier"} <= set(ev)
    assert "High value · declining" in set(labels)
    assert m.scores(f, data=data)["decline_probability"].between(0, 1).sum() == (labels != "Not active").sum()
    assert all(pd.Timestamp(c) <= AS_OF - pd.Timedelta(days=90) for c in m.report()["training_cutoffs"])
    assert "main drivers" in m.describe("High value · declining")


def test_training_never_sees_data_at_or_after_as_of():
    """A sentinel: rewriting every transaction at/after as_of changes no training label or feature."""
    tx = _shop(seed=3)
    data = CustomerData(transactions=tx, as_of=AS_OF)
    m = _fast().fit(data.features(), data=data)
    changed = tx.copy()
    late = changed["ts"] >= AS_OF
    changed.loc[late, "amount"] = changed.loc[late, "amount"] * 50 + 999
    data2 = CustomerData(transactions=changed, as_of=AS_OF)
    m2 = _fast().fit(data2.features(), data=data2)
    ids = data.ids
    for cutoff in m.cutoffs_:
        x1, y1 = m._labelled(data, ids, pd.Timestamp(cutoff))
        x2, y2 = m2._labelled(data2, ids, pd.Timestamp(cutoff))
        assert (y1 == y2).all() and x1.fillna(-1).equals(x2.fillna(-1))
    p1 = m.model_.predict_proba(m._score(data.features(), data)[1])[:, 1]
    p2 = m2.model_.predict_proba(m2._score(data2.features(), data2)[1])[:, 1]
    assert np.allclose(p1, p2)                                      # same model, same scores
    assert m.report()["evaluation"]["roc_auc"] != m2.report()["evaluation"]["roc_auc"]  # only evaluation moved


def test_backtest_when_the_future_is_not_in_the_data():
    tx = _shop(future=0)
    data = CustomerData(transactions=tx, as_of=AS_OF)
    m = _fast().fit(data.features(), data=data)
    assert m.report()["evaluation"]["protocol"].startswith("backtest")


def test_clv_edge_cases():
    with pytest.raises(ConfigError, match="needs transactions"):
        _fast().fit(pd.DataFrame(index=[1]))
    one = pd.DataFrame({"customer_id": [1, 1], "ts": pd.to_datetime(["2023-12-01", "2023-12-05"]), "amount": [5.0, 6.0]})
    data = CustomerData(transactions=one, as_of=AS_OF)
    with pytest.raises(ConfigError, match="history|too few"):
        _fast().fit(data.features(), data=data)
    quiet = _shop()
    quiet = quiet[(quiet["ts"] < AS_OF - pd.Timedelta(days=200)) | (quiet["ts"] >= AS_OF - pd.Timedelta(days=150))]
    data = CustomerData(transactions=quiet, as_of=AS_OF)          # a window with no transactions at all
    labels = _fast().fit(data.features(), data=data).assign(data.features(), data=data)
    assert len(labels) == len(data.ids)


def test_metrics_against_hand_computed_values():
    y = np.array([1, 0, 1, 0, 1, 0, 0, 0, 1, 0])
    p = np.array([0.9, 0.8, 0.7, 0.1, 0.6, 0.2, 0.3, 0.4, 0.35, 0.05])
    rep = classification_report(y, p)
    assert rep["top_decile_lift"] == pytest.approx(1 / 0.4)
    assert rep["roc_auc"] == pytest.approx(20 / 24)
    # uplift@k overall: top 50% by uplift = rows 0..3 -> treated (0, 2) respond 2/2, control (1, 3) 0/2
    yy, t, u = np.array([1, 0, 1, 0, 0, 1]), np.array([1, 0, 1, 0, 1, 0]), np.array([6, 5, 4, 3, 2, 1])
    assert uplift_at_k(yy, u, t, 0.5) == pytest.approx(1.0)
    assert qini_auc_score(yy, u, t) > 0 > qini_auc_score(yy, -u, t)


def test_metrics_match_scikit_uplift():
    sklift = pytest.importorskip("sklift.metrics")
    rng = np.random.default_rng(1)
    y, t = rng.random(3000) < 0.2, rng.random(3000) < 0.5
    u = np.round(rng.normal(size=3000) + y * t, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert uplift_at_k(y, u, t, 0.3) == pytest.approx(sklift.uplift_at_k(y, u, t, strategy="overall", k=0.3))
        assert qini_auc_score(y, u, t) == pytest.approx(sklift.qini_auc_score(y, u, t))


def _events(n=300, channels=("email", "sms", "push"), seed=0):
    rng = np.random.default_rng(seed)
    rows = np.repeat(np.arange(n), 12)
    ch = rng.choice(len(channels), len(rows))
    fav = rng.integers(0, len(channels), n)
    p = np.where(ch == fav[rows], 0.5, 0.03)
    ev = pd.DataFrame({"customer_id": rows, "ts": AS_OF - pd.Timedelta(days=10), "channel": np.array(channels)[ch],
                       "responded": rng.random(len(rows)) < p})
    customers = pd.DataFrame({"referrals": rng.poisson(0.3, n), "enrolled": rng.choice(["web", "app"], n)})
    return CustomerData(customers=customers, events=ev, as_of=AS_OF), fav


def test_channel_preference_with_smoothing():
    data, fav = _events()
    f = data.features()
    m = CampaignResponse(referrals_column="referrals", enrollment_column="enrolled")
    labels = m.fit(f, data=data).assign(f, data=data)
    pref = labels[labels.str.startswith("Responds")]
    names = np.array(["Responds to email", "Responds to SMS", "Responds to push"])
    assert (pref == names[fav[pref.index]]).mean() > 0.9
    assert (labels == "Referrers").sum() == (f["referrals"] >= 2).sum()
    scores = m.scores(f)
    assert {"rate_email", "preferred_channel", "enrollment_channel", "referrals"} <= set(scores.columns)
    lucky = pd.DataFrame({"contacts_sms": [1], "responses_sms": [1], "contacts_email": [1], "responses_email": [0]})
    assert CampaignResponse().fit(lucky).assign(lucky).tolist() == ["No evidence"]   # one lucky response


def test_single_channel_and_no_control_group():
    data, _ = _events(channels=("email",))
    f = data.features()
    assert set(CampaignResponse().fit(f, data=data).assign(f, data=data)) <= {
        "Responds to email", "No evidence", "Unresponsive"}
    h = pd.DataFrame({"x": np.arange(200) % 7, "seg": ["mail"] * 200, "visit": np.arange(200) % 3 == 0})
    with pytest.raises(ConfigError, match="no control group"):
        CampaignResponse(outcome_column="visit", treatment_column="seg", treatment_value="mail",
                         control_value="none").fit(h)


@pytest.mark.realdata
def test_uplift_on_hillstrom_slice():
    h = pd.read_csv(shared_file("hillstrom.csv.gz")).sample(12_000, random_state=0)
    m = CampaignResponse(outcome_column="visit", treatment_column="segment", treatment_value="Womens E-Mail",
                         control_value="No E-Mail", drop_columns=["conversion", "spend"])
    labels = m.fit(h).assign(h)
    ev = m.report()["evaluation"]["uplift"]
    assert set(labels) <= {"Persuadables", "Sure things", "Lost causes", "Sleeping dogs"}
    assert ev["qini_auc"] > 0 and ev["treated_rows"] > 0 and ev["control_rows"] > 0


@pytest.mark.realdata
def test_propensity_on_bank_marketing_time_split():
    bank = pd.read_csv(shared_file("bank_marketing_full.csv.gz"), sep=";")
    m = CampaignResponse(outcome_column="y", split="ordered", segments="propensity", drop_columns=["duration"],
                         n_estimators=100)
    m.fit(bank)
    ev = m.report()["evaluation"]["propensity"]
    assert ev["rows"] == len(bank) - int(len(bank) * 0.8) and ev["roc_auc"] > 0.6
    assert "duration" not in m._features(bank).columns


def test_training_sample_caps_training_and_scores_everyone():
    data = CustomerData(transactions=_shop(n=900, seed=5), as_of=AS_OF)
    f = data.features()
    m = _fast(max_training_customers=300).fit(f, data=data)
    labels = m.assign(f, data=data)
    assert m.report()["training_customers"] == 300 and len(labels) == len(f)
    assert m.report()["evaluation"]["eligible"] <= 300                  # evaluated on the sample's rows
    scored = m.scores(f, data=data)["decline_probability"]
    assert scored.notna().sum() == (labels != "Not active").sum() > 300   # everyone eligible is scored
    again = _fast(max_training_customers=300).fit(f, data=data)
    assert np.allclose(again.scores(f, data=data).fillna(-1), scored.fillna(-1).to_frame())   # seeded
    full = _fast(max_training_customers=None).fit(f, data=data)
    assert full.report()["training_customers"] == len(f)
