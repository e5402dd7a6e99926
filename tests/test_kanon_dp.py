"""k-anonymity / l-diversity of released attributes, and DP counts."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import shared_file
from microseg.errors import ConfigError
from microseg.privacy.kanon import SUPPRESSED, check_k_anonymity, enforce_k_anonymity, generalise_level

ADULT = ["age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation", "relationship",
         "race", "sex", "capital-gain", "capital-loss", "hours-per-week", "native-country", "income"]


def test_generalisation_levels():
    ages = pd.Series([23, 37, 71])
    assert generalise_level(ages, 1).tolist() == ["20-24", "35-39", "70-74"]
    assert generalise_level(ages, 3).tolist() == ["20-39", "20-39", "60-79"]
    assert generalise_level(ages, 4).tolist() == [SUPPRESSED] * 3
    dates = pd.Series(pd.to_datetime(["1980-05-17", "1981-01-02"]))
    assert generalise_level(dates, 1).tolist() == ["1980-05", "1981-01"] and generalise_level(dates, 2).tolist() == ["1980", "1981"]


def test_small_table_becomes_k_anonymous():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"age": rng.integers(18, 90, 500), "zip": [f"{z:05d}" for z in rng.integers(10000, 99999, 500)],
                       "sex": rng.choice(["F", "M"], 500), "spend": rng.random(500)})
    out, rep = enforce_k_anonymity(df, ["age", "zip", "sex"], 10)
    kept = out[out["age"] != SUPPRESSED]
    assert check_k_anonymity(kept, ["age", "zip", "sex"], 10) >= 10
    assert rep.suppression_share <= 0.05 and (out["spend"] == df["spend"]).all()


def test_l_diversity():
    df = pd.DataFrame({"age": [30] * 6 + [40] * 6, "disease": ["flu"] * 6 + ["a", "b", "c", "a", "b", "c"]})
    out, _ = enforce_k_anonymity(df, ["age"], 3, sensitive=["disease"], l=2)
    groups = out[out["age"] != SUPPRESSED].groupby("age")["disease"].nunique()
    assert (groups >= 2).all()


@pytest.mark.realdata
@pytest.mark.parametrize("k", [5, 10, 50])
def test_adult_is_k_anonymous_after_enforcement(k):
    adult = pd.read_csv(shared_file("adult.data.gz"), header=None, names=ADULT, skipinitialspace=True)
    qis = ["age", "sex", "race", "native-country", "education", "marital-status"]
    assert check_k_anonymity(adult, qis, k) < k               # raw Adult is not
    out, rep = enforce_k_anonymity(adult, qis, k)
    kept = out[~(out[qis] == SUPPRESSED).all(axis=1)]
    assert check_k_anonymity(kept, qis, k) >= k
    assert rep.suppression_share <= 0.05 and rep.rows == len(adult)


def test_dp_counts():
    pytest.importorskip("opendp")
    from microseg.privacy.dp import noisy_counts
    sizes = {f"s{i}": 1000 for i in range(200)}
    noisy = noisy_counts(sizes, epsilon=1.0)
    diffs = np.array([noisy[k] - 1000 for k in sizes])
    assert 0 < np.abs(diffs).mean() < 4 and all(v >= 0 for v in noisy.values())   # Laplace(1): mean |x| = 1
    g = noisy_counts(sizes, epsilon=1.0, mechanism="gaussian", delta=1e-6)
    assert np.abs(np.array(list(g.values())) - 1000).mean() > np.abs(diffs).mean()
    with pytest.raises(ConfigError, match="delta"):
        noisy_counts(sizes, epsilon=1.0, mechanism="gaussian")
