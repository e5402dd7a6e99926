"""rfm and clusters on a real slice and synthetic edge cases."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import shared_file
from microseg.data import CustomerData
from microseg.plugins.clusters import Clusters
from microseg.plugins.rfm import GRID, RFM, quintile_scores


def _frame(n=400, seed=0):
    rng = np.random.default_rng(seed)
    ids = np.repeat(np.arange(n), rng.poisson(5, n) + 1)
    tx = pd.DataFrame({"customer_id": ids, "ts": pd.Timestamp("2024-01-01") - pd.to_timedelta(
        rng.integers(1, 500, len(ids)), unit="D"), "amount": rng.lognormal(3, 1, len(ids)),
        "channel": rng.choice(["app", "web"], len(ids))})
    return CustomerData(transactions=tx, as_of="2024-01-01").features()


def test_quintiles_handle_ties_and_direction():
    s = pd.Series([1, 1, 1, 1, 1, 1, 2, 3, 4, 5])
    scores = quintile_scores(s)
    assert scores[:6].nunique() == 1 and scores.is_monotonic_increasing
    rec = quintile_scores(pd.Series([1.0, 10.0, 100.0]), higher_is_better=False)
    assert rec.tolist()[0] == 5 and rec.tolist()[2] < rec.tolist()[0]


def test_rfm_named_segments_and_grid():
    names = {n for row in GRID for n in row}
    assert names == {"Champions", "Loyal", "Potential loyalist", "New", "Promising", "Need attention",
                     "About to sleep", "At risk", "Can't lose them", "Hibernating", "Lost"}
    f = _frame()
    labels = RFM().fit(f).assign(f)
    assert set(labels) <= names | {"No purchases"} and len(set(labels)) >= 6
    s = RFM().fit(f).scores(f)
    assert s.loc[f["recency_days"].idxmin(), "r_score"] == 5
    assert s.loc[f["recency_days"].idxmax(), "r_score"] == 1


def test_rfm_edge_cases():
    one = pd.DataFrame({"recency_days": [3.0], "frequency": [2], "monetary": [50.0]})
    assert RFM().fit(one).assign(one).tolist() == ["Champions"]
    same = pd.DataFrame({"recency_days": [3.0] * 5, "frequency": [2] * 5, "monetary": [50.0] * 5})
    assert RFM().fit(same).assign(same).nunique() == 1
    none = pd.DataFrame({"recency_days": [np.nan, 4.0], "frequency": [0, 1], "monetary": [0.0, 9.0]})
    assert RFM().fit(none).assign(none).tolist()[0] == "No purchases"


def test_clusters_profiles_stability_and_determinism():
    f = _frame(600)
    a = Clusters(random_state=1, n_bootstrap=3).fit(f)
    labels = a.assign(f)
    assert 3 <= a.k_ <= 8 and labels.nunique() == a.k_
    rep = a.report()
    assert -1 <= rep["silhouette"] <= 1 and 0 <= rep["stability_ari"] <= 1
    for label in labels.unique():
        assert a.describe(label) and a.describe(label) != label
    b = Clusters(random_state=1, n_bootstrap=3).fit(f)
    assert (b.assign(f) == labels).all()
    assert "share_app" in a.columns_


def test_clusters_fixed_k_gmm_and_edge_cases():
    f = _frame(300)
    assert Clusters(n_clusters=4, algorithm="gmm", n_bootstrap=0).fit(f).assign(f).nunique() <= 4
    one = f.iloc[:1]
    assert Clusters().fit(one).assign(one).nunique() == 1
    same = pd.concat([f.iloc[:1]] * 20)
    same.index = range(20)
    assert Clusters().fit(same).assign(same).nunique() == 1


@pytest.mark.realdata
def test_rfm_and_clusters_on_online_retail_slice():
    raw = pd.read_csv(shared_file("online_retail.csv.gz"), nrows=60_000).dropna(subset=["CustomerID"])
    tx = pd.DataFrame({"customer_id": raw["CustomerID"].astype(int), "ts": pd.to_datetime(raw["InvoiceDate"]),
                       "amount": raw["Quantity"] * raw["UnitPrice"], "invoice": raw["InvoiceNo"]})
    f = CustomerData(transactions=tx).features()
    labels = RFM().fit(f).assign(f)
    assert labels.value_counts().sum() == len(f) and labels.nunique() >= 5
    c = Clusters(n_bootstrap=2).fit(f)
    assert c.assign(f).nunique() == c.k_ and c.report()["stability_ari"] is not None


def test_clusters_reuse_the_fit_predictions_for_the_frame_fitted_on(monkeypatch):
    """assign/scores on the frame fit was given reuse fit's matrix and predictions (no second
    prediction), with the same labels and distances as computed anew on a copy of the frame."""
    f = _frame(500)
    c = Clusters(n_clusters=4, n_bootstrap=0).fit(f)
    fresh_labels, fresh_scores = c.assign(f.copy()), c.scores(f.copy())

    def no_predict(*args, **kwargs):
        raise AssertionError("predicted again on the frame fit was given")
    monkeypatch.setattr(c.model_, "predict", no_predict)
    assert c.assign(f).equals(fresh_labels)
    pd.testing.assert_frame_equal(c.scores(f), fresh_scores, check_exact=True)
    with pytest.raises(AssertionError, match="predicted again"):
        c.assign(f.copy())                      # another frame: computed anew
