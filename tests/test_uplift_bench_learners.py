"""The learners of bench/uplift_dev.py (the S-learner: Lo's interaction model on logistic regression,
LightGBM with the treatment as a feature; Tian et al.'s modified covariate method): each finds a
planted heterogeneous effect."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import load_bench
from sklearn.metrics import roc_auc_score

from microseg.plugins._uplift import Rows

PARAMS = {"n_estimators": 60, "learning_rate": 0.1, "num_leaves": 7, "min_child_samples": 20, "n_jobs": 1,
          "random_state": 0}


def _bench():
    return load_bench("uplift_dev")


def _persuadables(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Customers over 50 in York respond 25 points more when treated; the rest do not react (a
    10 % base rate, higher for members)."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({"age": rng.integers(18, 90, n).astype(float), "spend": rng.lognormal(3, 1, n),
                      "city": rng.choice(["Leeds", "York", "Bath"], n), "member": rng.random(n) < 0.4})
    persuadable = (x["age"].to_numpy() > 50) & (x["city"].to_numpy() == "York")
    t = (rng.random(n) < 0.5).astype(int)
    y = (rng.random(n) < 0.1 + 0.1 * x["member"].to_numpy() + 0.25 * t * persuadable).astype(int)
    return x, y, t, persuadable


@pytest.mark.parametrize("learner, kind", [("s-learner", "logistic"), ("s-learner", "lgbm"),
                                           ("modified-covariate", "logistic")])
def test_bench_learner_ranks_the_persuadables_first(learner, kind):
    bench = _bench()
    x, y, t, persuadable = _persuadables(6000, 3)
    model = bench.BENCH_LEARNERS[learner](kind, PARAMS).fit(x.iloc[:4000], y[:4000], t[:4000])
    u, pc = model.predict(x.iloc[4000:])
    truth = persuadable[4000:]
    assert roc_auc_score(truth, u) > 0.85                                  # persuadables ranked above the rest
    assert u[truth].mean() - u[~truth].mean() > 0.05                      # (true gap 0.25; L2-shrunk)
    assert ((pc >= 0) & (pc <= 1)).all() and len(pc) == 2000
    only = bench.BENCH_LEARNERS[learner](kind, PARAMS).fit(x.iloc[:4000], y[:4000], t[:4000], control=False)
    assert np.allclose(only.uplift(x.iloc[4000:]), u)


def test_lo_design_adds_the_treatment_and_its_interactions():
    bench = _bench()
    x, _, t, _ = _persuadables(200, 0)
    r = Rows(x)
    s = bench.with_treatment(r, t)
    p = r.z.shape[1]
    assert s.z.shape == (200, 2 * p + 1)
    assert np.array_equal(s.z[:, :p], r.z) and np.array_equal(s.z[:, p], t.astype("float32"))
    assert not s.z[t == 0, p + 1:].any() and np.array_equal(s.z[t == 1, p + 1:], r.z[t == 1])
    assert s.gx["uplift_treatment"].tolist() == t.tolist() and list(s.gx.columns[:-1]) == list(r.gx.columns)


def test_bench_learners_are_not_product_candidates():
    from microseg.plugins._uplift import CANDIDATES, LEARNERS
    bench = _bench()
    assert not {name for name, _ in CANDIDATES} & set(bench.BENCH_LEARNERS)
    assert not set(LEARNERS) & set(bench.BENCH_LEARNERS)                   # importing the bench registers nothing
