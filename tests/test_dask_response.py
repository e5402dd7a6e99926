"""campaign-response on the Dask engine: the final propensity model trains through LightGBM's Dask
interface and scores like the in-process one."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("dask.dataframe", reason="the dask extra is not installed (pip install 'microseg[dask]')")
pytest.importorskip("distributed", reason="the dask extra is not installed (pip install 'microseg[dask]')")

import microseg.dask_engine as dask_engine  # noqa: E402
from microseg.config import parse_config  # noqa: E402
from microseg.pipeline import run_config  # noqa: E402
from microseg.registry import Registry  # noqa: E402
from microseg.store import Store  # noqa: E402

pytestmark = pytest.mark.dask

CONFIG = """
as_of = "2024-01-01"
[sources.customers]
path = "customers.csv"
customer_id = "customer_id"
[sources.transactions]
path = "tx.parquet"
customer_id = "customer_id"
timestamp = "ts"
amount = "amount"
[[methods]]
id = "response"
method = "campaign-response"
params = { segments = "propensity", outcome_column = "converted", n_jobs = 1 }
[privacy]
min_segment_size = 10
"""


def _write(folder, n=1200, seed=0):
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n)
    rows = np.repeat(np.arange(n), rng.poisson(8, n) + 1)
    tx = pd.DataFrame({"customer_id": rows, "ts": pd.Timestamp("2023-01-01")
                       + pd.to_timedelta(rng.integers(0, 360, len(rows)), unit="D"),
                       "amount": np.round(rng.lognormal(3, 0.5, len(rows)), 2)})
    tx.to_parquet(folder / "tx.parquet", row_group_size=2000)
    spend = tx.groupby("customer_id")["amount"].sum().reindex(range(n)).to_numpy()
    # an interaction (young big spenders and old small spenders convert): trees find it, an additive
    # logistic regression cannot, so LightGBM is the validated choice
    p = 1 / (1 + np.exp(-(2.5 * np.sign(age - 45) * np.sign(spend - np.median(spend)))))
    pd.DataFrame({"customer_id": np.arange(n), "age": age,
                  "converted": (rng.random(n) < p).astype(int)}).to_csv(folder / "customers.csv", index=False)


def _count_fit_classifier(monkeypatch) -> list[int]:
    """The rows of each classifier the Dask engine trains (on the cluster) in this test."""
    calls: list[int] = []
    real = dask_engine.DaskCustomerData.fit_classifier

    def spy(data, params, x, y, *, n_estimators):
        calls.append(len(x))
        return real(data, params, x, y, n_estimators=n_estimators)

    monkeypatch.setattr(dask_engine.DaskCustomerData, "fit_classifier", spy)
    return calls


@pytest.mark.slow
def test_propensity_trains_through_lightgbm_dask(tmp_path, monkeypatch):
    _write(tmp_path)
    calls = _count_fit_classifier(monkeypatch)
    monkeypatch.setenv("MICROSEG_KEY", "dask-response-key-0123456789")
    reg = Registry(entry_points=False)
    local = run_config(parse_config(CONFIG, base_dir=tmp_path), Store(f"sqlite:///{tmp_path}/a.db"), reg)
    dist = dask_engine.run_config_dask(parse_config(CONFIG, base_dir=tmp_path), Store(f"sqlite:///{tmp_path}/b.db"),
                                       reg, memory_limit="1GiB")
    ev_local = local.report["methods"]["response"]["evaluation"]["propensity"]
    ev_dist = dist.report["methods"]["response"]["evaluation"]["propensity"]
    assert ev_dist["model"] == ev_local["model"] == "lgbm"      # the data make LightGBM the validated choice
    assert calls == [1200], "the final LightGBM model is trained on the cluster, on every customer"
    assert abs(ev_dist["roc_auc"] - ev_local["roc_auc"]) <= 0.01


UPLIFT_CONFIG = CONFIG.split("[[methods]]")[0] + """[sources.events]
path = "events.parquet"
customer_id = "customer_id"
timestamp = "ts"
channel = "channel"
responded = "responded"
treatment = "treated"
[[methods]]
id = "response"
method = "campaign-response"
params = { n_jobs = 1 }
[privacy]
min_segment_size = 10
"""


def _write_contacts(folder, n=1500, seed=1):
    """Four contacts per customer, half of them treated; treatment lifts response for those over 50."""
    rng = np.random.default_rng(seed)
    ages = pd.read_csv(folder / "customers.csv")["age"].to_numpy()
    rows = np.repeat(np.arange(n), 4)
    treated = rng.random(len(rows)) < 0.5
    p = 0.05 + 0.25 * treated * (ages[rows] > 50)
    pd.DataFrame({"customer_id": rows, "ts": pd.Timestamp("2023-09-01")
                  + pd.to_timedelta(rng.integers(0, 90, len(rows)), unit="D"),
                  "channel": rng.choice(["email", "sms"], len(rows)), "treated": treated,
                  "responded": rng.random(len(rows)) < p}).to_parquet(folder / "events.parquet",
                                                                      row_group_size=1000)


@pytest.mark.slow
def test_event_level_uplift_runs_on_the_dask_engine(tmp_path, monkeypatch):
    """Contacts with a treatment flag: campaign-response trains its uplift model on contact rows
    collected from the cluster (``event_rows``), as the pandas engine does on its own rows."""
    _write(tmp_path, n=1500)
    _write_contacts(tmp_path)
    monkeypatch.setenv("MICROSEG_KEY", "dask-response-key-0123456789")
    reg = Registry(entry_points=False)
    local = run_config(parse_config(UPLIFT_CONFIG, base_dir=tmp_path), Store(f"sqlite:///{tmp_path}/a.db"), reg)
    dist = dask_engine.run_config_dask(parse_config(UPLIFT_CONFIG, base_dir=tmp_path),
                                       Store(f"sqlite:///{tmp_path}/b.db"), reg, memory_limit="1GiB")
    ev_local = local.report["methods"]["response"]["evaluation"]["uplift"]
    ev_dist = dist.report["methods"]["response"]["evaluation"]["uplift"]
    assert ev_local["protocol"].startswith("contact rows") and ev_dist["protocol"] == ev_local["protocol"]
    assert ev_dist["treated_rows"] + ev_dist["control_rows"] == 6000
    assert ev_local["qini_auc"] > 0 and abs(ev_dist["qini_auc"] - ev_local["qini_auc"]) <= 0.01

    def labels(db):
        store = Store(f"sqlite:///{tmp_path}/{db}")
        segs = {s.id: s.label for s in store.segments(1) if s.family == "response"}
        m = store.memberships(1)
        return m[m["segment_id"].isin(segs)].set_index("customer_no")["segment_id"].map(segs).sort_index()

    a, b = labels("a.db"), labels("b.db")
    assert len(a) and (a == b.reindex(a.index)).mean() >= 0.95


LIKELY_CONFIG = CONFIG.split("[[methods]]")[0].replace('as_of = "2024-01-01"', 'as_of = "2024-01-01"\nplugins = ["{plugin}"]') + """
[[methods]]
id = "buyers"
method = "likely-buyers"
params = {{ horizon_days = 60, threshold = 0.7 }}
[privacy]
min_segment_size = 10
"""


def test_worked_example_trains_through_either_engine(tmp_path, monkeypatch):
    """docs/examples/likely_buyers.py (docs/plugins.md) only calls the engine protocol: it runs on
    both engines, its classifier trained on the cluster on the Dask engine, with the same labels."""
    from pathlib import Path
    _write(tmp_path)
    plugin = Path(__file__).resolve().parents[1] / "docs" / "examples" / "likely_buyers.py"
    text = LIKELY_CONFIG.format(plugin=plugin.as_posix())
    calls = _count_fit_classifier(monkeypatch)
    monkeypatch.setenv("MICROSEG_KEY", "dask-response-key-0123456789")
    local = run_config(parse_config(text, base_dir=tmp_path), Store(f"sqlite:///{tmp_path}/a.db"),
                       Registry(entry_points=False))
    dist = dask_engine.run_config_dask(parse_config(text, base_dir=tmp_path), Store(f"sqlite:///{tmp_path}/b.db"),
                                       Registry(entry_points=False), memory_limit="1GiB")
    assert calls == [1200]
    sizes = [r.report["methods"]["buyers"]["segment_sizes"] for r in (local, dist)]
    assert sizes[0].keys() == sizes[1].keys() == {"likely buyer", "unlikely buyer"}
    assert all(abs(sizes[0][k] - sizes[1][k]) <= 0.05 * 1200 for k in sizes[0])
    assert Store(f"sqlite:///{tmp_path}/b.db").run(1).engine == "dask"
