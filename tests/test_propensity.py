"""The response-propensity learners and their choice on the training rows (plugins/_propensity.py)."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from microseg.plugins._propensity import (HALF_LIVES, KINDS, OTHER_CS, Propensity, calendar_columns,
                                          choose_propensity, describe, recency_weights)

warnings.filterwarnings("ignore", category=UserWarning)
LGBM = {"n_estimators": 60, "learning_rate": 0.1, "num_leaves": 7, "min_child_samples": 20, "n_jobs": 1,
        "random_state": 0}
MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]


def _frame(n: int = 3000, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({"age": rng.integers(18, 80, n), "balance": rng.gamma(2, 500, n),
                      "job": rng.choice(["a", "b", "c"], n)})
    logit = 0.05 * (x["age"] - 50) + 0.8 * (x["job"] == "a") - 1.5
    return x, (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)


def test_calendar_columns_by_name_or_by_month_and_weekday_values():
    x = pd.DataFrame({"day": [1, 2], "Month": ["may", "jun"], "called_on": ["Monday", "tue"],
                      "Day_Of_Week": [1, 2], "age": [30, 40], "job": ["may", "admin"], "ts": [1, 2]})
    assert calendar_columns(x) == ["day", "Month", "called_on", "Day_Of_Week"]
    assert calendar_columns(pd.DataFrame({"age": [1], "city": ["Lisbon"]})) == []


def test_recency_weights_halve_every_half_life_and_average_one():
    assert recency_weights(100, None) is None
    w = recency_weights(100, 1 / 4)
    assert w.mean() == pytest.approx(1.0)
    assert w[-1] / w[-26] == pytest.approx(2.0) and w[-1] / w[-51] == pytest.approx(4.0)
    assert np.all(np.diff(w) > 0)


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_fits_and_predicts_probabilities(kind):
    x, y = _frame(800)
    p = Propensity(kind, dict(LGBM)).fit(x, y).predict(x)
    assert p.shape == (800,) and np.all((p > 0) & (p < 1))


def test_blends_are_the_average_of_their_parts():
    x, y = _frame(800)
    for blend, linear in (("blend", "logistic"), ("spline-blend", "spline")):
        parts = [Propensity(k, dict(LGBM)).fit(x, y).predict(x) for k in (linear, "lgbm")]
        assert np.allclose(Propensity(blend, dict(LGBM)).fit(x, y).predict(x), np.mean(parts, axis=0))


def test_dropped_columns_are_not_used_and_recency_weights_multiply_sample_weights():
    x, y = _frame(800)
    noisy = x.assign(day=np.random.default_rng(1).integers(1, 32, len(x)))
    a = Propensity("spline", {}, drop=("day",)).fit(noisy, y).predict(noisy)
    b = Propensity("spline", {}).fit(x, y).predict(x)
    assert np.allclose(a, b)
    w = np.random.default_rng(2).random(len(y)) + 0.5
    weighted = Propensity("spline", {}, half_life=0.25).fit(x, y, sample_weight=w)
    explicit = Propensity("spline", {}).fit(x, y, sample_weight=w * recency_weights(len(y), 0.25))
    assert np.allclose(weighted.predict(x), explicit.predict(x))
    with pytest.raises(ValueError, match="propensity kind"):
        Propensity("forest", {})


def test_time_ordered_choice_drops_calendar_columns_that_memorise_dates_and_weights_recent_rows():
    """Rows in time order: the response rate of each calendar date is noise that does not carry to
    later dates, and the age effect drifts (it turns from negative to positive). The choice, on the latest 20 % of
    the rows given, leaves the calendar columns out and weights recent rows."""
    rng = np.random.default_rng(3)
    n = 6000
    t = np.arange(n) / n
    date = (np.arange(n) // 100)                          # 60 calling days, in order
    day_effect = rng.normal(0, 2.0, 60)[date]
    age = rng.integers(18, 80, n)
    logit = 3 * (t - 0.4) * (age - 50) / 10 + day_effect - 1.0
    x = pd.DataFrame({"age": age, "day": date % 31 + 1, "month": np.array(MONTHS)[(date // 5) % 12],
                      "balance": rng.gamma(2, 500, n)})
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    chosen, scores = choose_propensity(x, y, dict(LGBM), ordered=True, seed=0)
    assert chosen["drop"] == ("day", "month")
    assert chosen["half_life"] is not None
    assert scores[describe(chosen)] == max(scores.values())
    # one setting at a time: 2 column sets, the other half-lives, the other Cs, LightGBM, the average
    assert len(scores) == 2 + len(HALF_LIVES) - 1 + len(OTHER_CS) + 2


def test_random_order_choice_has_no_time_settings():
    x, y = _frame(1500)
    x["month"] = np.array(MONTHS)[np.random.default_rng(0).integers(0, 12, len(x))]
    chosen, scores = choose_propensity(x, y, dict(LGBM), ordered=False, seed=0)
    assert chosen["half_life"] is None and chosen["drop"] == ()
    assert len(scores) == 1 + len(OTHER_CS) + 2
    assert choose_propensity(x, np.zeros(len(x), int), dict(LGBM), ordered=False, seed=0) == ({"kind": "spline"}, {})


@pytest.mark.realdata
def test_bank_marketing_time_split_propensity_chosen_on_training_rows():
    """UCI Bank Marketing in time order, `duration` dropped, last 20 % held out: the learner and its
    settings are chosen on the latest 20 % of the training rows; the held-out ROC AUC reaches 0.70."""
    from conftest import shared_file
    from microseg.plugins.campaign_response import CampaignResponse
    bank = pd.read_csv(shared_file("bank_marketing_full.csv.gz"), sep=";")
    m = CampaignResponse(outcome_column="y", split="ordered", segments="propensity", drop_columns=["duration"])
    m.fit(bank)
    ev = m.report()["evaluation"]["propensity"]
    assert ev["validation_auc"][ev["model"]] == max(ev["validation_auc"].values())
    assert ev["rows"] == len(bank) - int(len(bank) * 0.8)
    assert ev["roc_auc"] >= 0.70
