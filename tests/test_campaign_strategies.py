"""campaign-response's strategies one by one: channel preference, referrals, propensity, uplift."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from microseg.plugins.campaign_response.channel import ChannelPreference
from microseg.plugins.campaign_response.inputs import Split, model_features, treatment
from microseg.plugins.campaign_response.propensity import ResponsePropensity
from microseg.plugins.campaign_response.referrals import Referrals
from microseg.plugins.campaign_response.uplift import ContactUplift, CustomerUplift, uplift_labels

PARAMS = {"n_estimators": 60, "learning_rate": 0.1, "num_leaves": 7, "min_child_samples": 20, "n_jobs": 1,
          "random_state": 0}


def _contacts(rows: list[tuple[int, int, int, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["contacts_email", "responses_email", "contacts_sms", "responses_sms"],
                        index=pd.Index([f"c{i}" for i in range(len(rows))], name="customer_id"))


def test_channel_preference_rules():
    # a crowd that responds 10% on both channels, then: clear e-mail fan, one lucky SMS, a silent one
    crowd = [(10, 1, 10, 1)] * 50
    f = _contacts(crowd + [(10, 6, 10, 0), (0, 0, 1, 1), (20, 0, 20, 0)])
    labels, scores = ChannelPreference().labels(f)
    assert labels.iloc[-3:].tolist() == ["Responds to email", "No evidence", "Unresponsive"]
    assert scores.loc["c50", "preferred_channel"] == "email" and pd.isna(scores.loc["c51", "preferred_channel"])
    assert scores.loc["c50", "rate_email"] == pytest.approx((6 + 20 * 56 / 530) / 30)   # smoothed rate
    # min_contacts: the same evidence on fewer contacts than asked is no preference
    assert ChannelPreference(min_contacts=11).labels(f)[0].iloc[-3] == "No evidence"


def test_referrals_relabel_only_enough_referrals():
    f = pd.DataFrame({"referrals": [0, 1, 2, np.nan, 5]})
    got = Referrals("referrals", minimum=2).mark(f, pd.Series(["a"] * 5, index=f.index))
    assert got.tolist() == ["a", "a", "Referrers", "a", "Referrers"]


def _customers(n=1500, seed=0):
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({"age": rng.integers(18, 80, n), "spend": rng.gamma(2, 50, n)},
                     index=pd.Index(np.arange(n), name="customer_id"))
    return x, rng


def test_propensity_is_evaluated_held_out_and_tiers_at_its_quantiles():
    x, rng = _customers()
    y = (rng.random(len(x)) < 1 / (1 + np.exp(-(x["age"].to_numpy() - 50) / 8))).astype(int)
    unit = ResponsePropensity(PARAMS, Split("stratified", 0.3, 0)).fit(x, y)
    assert unit.evaluation_["rows"] == 450 and unit.evaluation_["roc_auc"] > 0.75
    labels, scores = unit.labels(x)
    share = labels.value_counts(normalize=True)
    assert share["Likely responders"] == pytest.approx(0.2, abs=0.03)
    assert share["Unlikely responders"] == pytest.approx(0.5, abs=0.03)
    assert scores["response_propensity"].between(0, 1).all()


def test_customer_uplift_finds_the_persuadables_and_needs_a_control_group():
    x, rng = _customers(3000, seed=1)
    t = (rng.random(len(x)) < 0.5).astype(int)
    y = (rng.random(len(x)) < 0.05 + 0.3 * t * (x["age"].to_numpy() > 50)).astype(int)
    unit = CustomerUplift(PARAMS, Split("stratified", 0.3, 0)).fit(x, y, t)
    assert unit.evaluation_["qini_auc"] > 0 and unit.evaluation_["treated_rows"] == t.sum()
    labels, _ = unit.labels(x)
    assert x.loc[labels == "Persuadables", "age"].median() > 50
    assert CustomerUplift(PARAMS, Split("stratified", 0.3, 0)).fit(x, y, np.ones(len(x), int)) is None


def test_contact_uplift_averages_over_channels():
    x, rng = _customers(800, seed=2)
    rows = np.repeat(x.index.to_numpy(), 4)
    treated = rng.random(len(rows)) < 0.5
    ev = pd.DataFrame({"customer_id": rows, "channel": rng.choice(["email", "sms"], len(rows)),
                       "treatment": treated,
                       "responded": rng.random(len(rows)) < 0.05 + 0.3 * treated * (x["age"].to_numpy()[rows] > 50)})
    unit = ContactUplift(PARAMS, Split("stratified", 0.3, 0)).fit(x, ev)
    assert unit.channels_ == ["email", "sms"] and unit.evaluation_["protocol"].startswith("contact rows")
    u, pc = unit.predict(x)
    assert len(u) == len(x) and np.corrcoef(u, x["age"] > 50)[0, 1] > 0.3


def test_uplift_labels_by_hand():
    u, pc = np.array([-0.1, 0.3, 0.05, 0.05]), np.array([0.2, 0.1, 0.5, 0.1])
    labels, scores = uplift_labels(u, pc, (0.2, 0.3), pd.Index(list("abcd")))
    assert labels.tolist() == ["Sleeping dogs", "Persuadables", "Sure things", "Lost causes"]
    assert scores.columns.tolist() == ["uplift", "control_propensity"]


def test_inputs_treatment_flag_and_features():
    f = pd.DataFrame({"seg": ["mail", "none", "other"], "y": [1, 0, 1], "contacts_sms": [1, 2, 3], "age": [1, 2, 3]})
    assert treatment(f, "seg", "mail", "none").tolist() == [1, 0, -1]
    assert model_features(f, ["seg", "y"]).columns.tolist() == ["age"]
