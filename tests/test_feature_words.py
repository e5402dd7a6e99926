"""Feature names read as plain words wherever a person reads drivers or profiles."""
from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

from microseg.data import CustomerData
from microseg.feature_words import in_words
from microseg.plugins.clv_decline import ClvDecline
from microseg.segment_detail import drivers

AS_OF = pd.Timestamp("2024-01-01")
NAME_LIKE = re.compile(r"[a-z0-9]+_[a-z0-9_]+")       # snake_case left in a text


def _shop(n: int = 500, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = np.repeat(np.arange(n), rng.poisson(20, n) + 2)
    day = rng.uniform(0, 800, len(rows))
    return pd.DataFrame({"customer_id": rows, "ts": AS_OF - pd.Timedelta(days=720) + pd.to_timedelta(day, unit="D"),
                         "amount": np.round(rng.lognormal(3, 0.6, len(rows)), 2) * rng.choice([1, 1, 1, 1, -1], len(rows)),
                         "channel": rng.choice(["web", "store"], len(rows)),
                         "category": rng.choice(["home & garden", "toys"], len(rows))})


def test_every_engine_and_decline_feature_has_its_own_words():
    """No feature the engine or clv-decline computes falls back to its bare name."""
    data = CustomerData(transactions=_shop(), as_of=AS_OF)
    features = data.features()
    warnings.filterwarnings("ignore", category=UserWarning)
    model = ClvDecline(n_estimators=40, n_origins=2, btyd=True).fit(features, data=data)
    names = set(features.columns) | set(model.model_.booster_.feature_name())
    assert {"purchases_90d_share", "window_share_of_year", "p_alive", "share_cat_home_garden"} <= names
    for name in names:
        words = in_words(name, 90)
        assert words != name.replace("_", " "), f"{name} has no words of its own"
        assert "_" not in words and "," not in words, words


def test_window_words_name_the_horizon_only_when_known():
    assert in_words("window_share_of_year", 60) == "spend in the last 60 days as a share of the year's"
    assert in_words("window_share_of_year") == "spend in the last window as a share of the year's"
    assert in_words("spend_last_90d") == in_words("spend_90d") == "spend in the last 90 days"
    assert in_words("share_cat_home_garden") == "share of spend on home garden"


def test_rank_words_name_the_level_and_only_a_known_one():
    assert in_words("spend_last_90d_rank", 90) == "rank of spend in the last 90 days among active customers"
    assert in_words("monetary_rank") == "rank of total spend among active customers"
    assert in_words("loyalty_rank") == "loyalty rank"          # an attribute: not read as one of the ranks


def test_unknown_names_read_with_spaces_and_never_fail():
    assert in_words("region") == "region"
    assert in_words("loyalty_tier") == "loyalty tier"
    assert in_words("a,b_c") == "a b c"
    assert in_words("") == ""


def test_decline_descriptions_and_cluster_drivers_carry_no_column_names():
    data = CustomerData(transactions=_shop(n=600, seed=4), as_of=AS_OF)
    features = data.features()
    warnings.filterwarnings("ignore", category=UserWarning)
    model = ClvDecline(n_estimators=40, n_origins=2).fit(features, data=data)
    described = [model.describe(label) for label in model.drivers_]
    assert described and all("main drivers" in text for text in described)
    assert not any(NAME_LIKE.search(text) for text in described), described
    deviations = {"profiles": {"C1": {"deviations": {"recency_days": 0.8, "trend_90d": -0.4}}}}
    assert drivers("C1", deviations) == ["days since the last purchase higher than average (+0.80)",
                                         "spend trend over 90 days (last against previous) lower than average (-0.40)"]
