"""clv-decline's final model trained in a worker thread beside the early-stopping fit: the same
model, scores, drivers and report as the sequential fits, and errors surface as they would there."""
from __future__ import annotations

import threading
import time
import warnings

import numpy as np
import pandas as pd
import pytest

from microseg import progress
from microseg.data import CustomerData
from microseg.plugins import _lgbm, clv_decline
from microseg.plugins._lgbm import BinnedRows, FitBeside
from microseg.plugins.clv_decline import ClvDecline
from test_clv_campaign import AS_OF, _shop

warnings.filterwarnings("ignore", category=UserWarning)


def _fit(future: int, monkeypatch: pytest.MonkeyPatch | None = None) -> tuple[ClvDecline, pd.DataFrame, CustomerData]:
    """A fit whose early stopping keeps fewer trees than the final model may train (both protocols);
    with ``monkeypatch``, the sequential one (the final model trained after the early-stopping fit)."""
    if monkeypatch is not None:
        monkeypatch.setattr(clv_decline, "_fits_in_process", lambda data: False)
    data = CustomerData(transactions=_shop(seed=2, future=future), as_of=AS_OF)
    f = data.features()
    m = ClvDecline(n_estimators=150, n_origins=3, early_stopping_rounds=10).fit(f, data=data)
    return m, f, data


def _worker_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("microseg-lgbm")]


@pytest.mark.parametrize("future", [0, 120], ids=["backtest", "forward"])
def test_concurrent_final_model_is_the_sequential_one(future, monkeypatch):
    beside, f, data = _fit(future)
    with monkeypatch.context() as mp:
        alone, *_ = _fit(future, mp)
    assert beside.evaluation_["protocol"].startswith("forward" if future else "backtest")
    assert beside.n_trees_ == alone.n_trees_ < 150           # the worker's model is cut to the chosen trees
    assert beside.model_.n_trees_ == beside.model_.booster_.num_trees() == alone.model_.booster_.num_trees()
    assert beside.model_.booster_.model_to_string() == alone.model_.booster_.model_to_string()
    s1, s2 = beside.scores(f, data=data), alone.scores(f, data=data)
    assert np.array_equal(s1.to_numpy(), s2.to_numpy(), equal_nan=True)
    x = beside._score(f, data)[1]
    assert np.array_equal(beside.model_.predict(x, pred_contrib=True), alone.model_.predict(x, pred_contrib=True))
    assert beside.drivers_ == alone.drivers_ and beside.report() == alone.report()
    assert beside.assign(f, data=data).equals(alone.assign(f, data=data))
    assert not _worker_threads()


def _binned() -> tuple[BinnedRows, dict, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(4)
    x = pd.DataFrame(rng.normal(size=(3_000, 8)).astype(np.float32), columns=[f"f{i}" for i in range(8)])
    y = (x["f0"] + rng.normal(size=len(x)) > 0.3).to_numpy().astype(int)
    params = {"learning_rate": 0.1, "num_leaves": 7, "colsample_bytree": 0.5, "n_jobs": 1, "random_state": 0}
    rows = np.arange(2_000)
    return BinnedRows(x, y, rows), params, rows, np.arange(2_000, 3_000)


@pytest.mark.parametrize("worker_first", [True, False], ids=["worker-done-first", "told-first"])
@pytest.mark.parametrize("subsample", [1.0, 0.7], ids=["all-rows", "bagging"])
def test_fit_beside_gives_the_k_round_fit(worker_first, subsample):
    binned, params, rows, later = _binned()
    params |= {"subsample": subsample, "subsample_freq": 1}
    with FitBeside(binned, params, rows, 120) as final:
        if worker_first:                  # the worker trains all its rounds before k is known
            while not final._pending.done():
                time.sleep(0.01)
        final.keep(37)
        model = final.model()
    alone = binned.fit(params, rows, 37)
    assert model.n_trees_ == 37 == model.booster_.num_trees()
    assert model.booster_.model_to_string() == alone.booster_.model_to_string()
    x = binned.x.iloc[later]
    assert np.array_equal(model.predict_proba(x), alone.predict_proba(x))
    assert np.array_equal(model.predict(x, pred_contrib=True), alone.predict(x, pred_contrib=True))
    assert not _worker_threads()


def test_an_error_in_the_worker_is_raised_in_the_caller(monkeypatch):
    def fails(*args, **kwargs):
        raise ValueError("LightGBM says no")
    monkeypatch.setattr(BinnedRows, "fit_until", staticmethod(fails))
    data = CustomerData(transactions=_shop(seed=2, future=0), as_of=AS_OF)
    with pytest.raises(ValueError, match="^LightGBM says no$"):
        ClvDecline(n_estimators=40, n_origins=2).fit(data.features(), data=data)
    assert not _worker_threads()


def test_an_error_in_the_caller_stops_the_worker():
    binned, params, rows, _ = _binned()
    started = time.perf_counter()
    with pytest.raises(KeyError):
        with FitBeside(binned, params, rows, 100_000):     # would train for minutes
            raise KeyError("early-stopping fit failed")
    assert time.perf_counter() - started < 30 and not _worker_threads()


def test_the_worker_reports_no_progress_and_the_caller_reports_the_final_model():
    class Recorder:
        def __init__(self):
            self.labels, self.threads = [], set()

        def start(self, label, total, depth):
            self.labels.append(label)
            self.threads.add(threading.current_thread().name)

        def update(self, handle, completed, total):
            self.threads.add(threading.current_thread().name)

        def finish(self, handle):
            pass
    rec = Recorder()
    data = CustomerData(transactions=_shop(seed=2, future=0), as_of=AS_OF)
    with progress.reporting(rec):
        m = ClvDecline(n_estimators=40, n_origins=2).fit(data.features(), data=data)
    assert rec.threads == {threading.main_thread().name}
    assert f"final model ({m.n_trees_} trees, {m.training_rows_} rows)" in rec.labels


def test_stop_at_ends_when_told_or_cancelled():
    stop = _lgbm.StopAt()
    assert not stop.done(500)
    stop.keep(12)
    assert not stop.done(11) and stop.done(12) and stop.done(13)
    other = _lgbm.StopAt()
    other.cancel()
    assert other.done(1)


def test_only_an_engine_that_fits_in_process_gets_the_early_final_fit():
    class Elsewhere(CustomerData):          # trains where its data are: the fit is not started early
        def fit_classifier(self, params, x, y, *, n_estimators, in_process=None):
            return super().fit_classifier(params, x, y, n_estimators=n_estimators)
    tx = _shop(seed=2, future=0)
    assert clv_decline._fits_in_process(CustomerData(transactions=tx, as_of=AS_OF))
    assert not clv_decline._fits_in_process(Elsewhere(transactions=tx, as_of=AS_OF))
    assert not clv_decline._fits_in_process(object())


def test_one_cpu_trains_the_final_model_after_the_early_stopping_fit(monkeypatch):
    """On one CPU no worker is started (it could only train rounds past the chosen number)."""
    started = []
    monkeypatch.setattr(clv_decline, "_cores", lambda: 1)
    monkeypatch.setattr(clv_decline, "FitBeside", lambda *a, **k: started.append(a))
    m, f, data = _fit(0)
    assert not started and m.n_trees_ == m.model_.booster_.num_trees() < 150
