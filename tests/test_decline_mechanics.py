"""clv-decline fit/score/driver mechanics: the final model on the binned rows, chunked scoring, drivers' sample."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from microseg.data import CustomerData
from microseg.plugins._lgbm import BoosterModel, top_drivers
from microseg.plugins.clv_decline import ClvDecline, predict_in_chunks
from test_clv_campaign import AS_OF, _shop

warnings.filterwarnings("ignore", category=UserWarning)


def _fit(data: CustomerData | None = None) -> tuple[ClvDecline, CustomerData, pd.DataFrame]:
    data = data or CustomerData(transactions=_shop(seed=2, future=0), as_of=AS_OF)
    f = data.features()
    return ClvDecline(n_estimators=60, n_origins=2).fit(f, data=data), data, f


class _OtherEngine(CustomerData):
    """An engine that trains where its data are (as the Dask engine does): it ignores the
    caller's in-process fit and counts the classifiers fitted through it."""
    engine = "other"
    fitted: list[int] = []

    def fit_classifier(self, params, x, y, *, n_estimators, in_process=None):
        self.fitted.append(n_estimators)
        return super().fit_classifier(params, x, y, n_estimators=n_estimators)


def test_final_model_reuses_the_binned_rows_in_process_and_the_engine_elsewhere():
    m, data, f = _fit()
    assert isinstance(m.model_, BoosterModel) and m.model_.n_trees_ == m.n_trees_
    assert m.model_.booster_.num_trees() == m.n_trees_
    _OtherEngine.fitted.clear()
    other = _OtherEngine(transactions=data.transactions, as_of=AS_OF)
    m2, *_ = _fit(other)
    assert _OtherEngine.fitted == [m2.n_trees_] and not isinstance(m2.model_, BoosterModel)
    # both score every eligible customer, and the two final models rank them alike
    p1, p2 = m.scores(f, data=data)["decline_probability"], m2.scores(f, data=other)["decline_probability"]
    assert p1.notna().equals(p2.notna()) and p1.notna().sum() > 100
    assert p1.rank().corr(p2.rank()) > 0.8


def test_scores_in_chunks_are_the_scores_in_one_call():
    m, data, f = _fit()
    x = m._score(f, data)[1]
    whole = m.model_.predict_proba(x)[:, 1]
    assert np.array_equal(predict_in_chunks(m.model_, x, chunk=7), whole)
    assert len(predict_in_chunks(m.model_, x.iloc[:0])) == 0


def test_drivers_use_every_row_of_a_small_segment_and_a_seeded_sample_of_a_large_one():
    m, data, f = _fit()
    x = m._score(f, data)[1]
    groups = pd.Series(np.where(np.arange(len(x)) < 5, "small", "large"), index=x.index)
    seen = []

    class Spy:
        def predict(self, rows, pred_contrib=False):
            seen.append(rows.index)
            return m.model_.predict(rows, pred_contrib=pred_contrib)

    out = top_drivers(Spy(), x, groups, per_group=50, seed=3)
    rows = seen[0]
    assert set(x.index[:5]) <= set(rows) and len(rows) == 55               # all 5 small + 50 of the large
    assert set(out) == {"small", "large"} and all(len(v) <= 3 for v in out.values())
    assert top_drivers(m.model_, x, groups, per_group=50, seed=3) == out     # seeded
    # with every row used, the drivers are the features of largest mean positive contribution
    full = top_drivers(m.model_, x, groups, per_group=len(x))
    contrib = pd.DataFrame(m.model_.predict(x, pred_contrib=True)[:, :-1], columns=x.columns, index=x.index)
    mean = contrib[groups.to_numpy() == "large"].mean()
    assert full["large"] == [c for c in mean.sort_values(ascending=False, kind="stable").index[:3] if mean[c] > 0]
