"""The Dask engine against the in-process engine, on a 2-worker LocalCluster."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("dask.dataframe", reason="the dask extra is not installed (pip install 'microseg[dask]')")
distributed = pytest.importorskip("distributed")

from sklearn.metrics import adjusted_rand_score  # noqa: E402

from microseg.config import parse_config  # noqa: E402
from microseg.dask_engine import fit_lgbm, load_data_dask, run_config_dask  # noqa: E402,F401
from microseg.loading import load_data  # noqa: E402
from microseg.pipeline import run_config  # noqa: E402
from microseg.registry import Registry  # noqa: E402
from microseg.store import Store  # noqa: E402

pytestmark = pytest.mark.dask
warnings.filterwarnings("ignore")

CONFIG = """
as_of = "2024-01-01"
[sources.customers]
path = "customers.csv"
customer_id = "customer_id"
[sources.transactions]
path = "{tx}"
customer_id = "customer_id"
timestamp = "ts"
amount = "amount"
channel = "channel"
[sources.events]
path = "events.parquet"
customer_id = "customer_id"
timestamp = "ts"
channel = "channel"
responded = "responded"
[[methods]]
id = "age"
method = "rules"
params = {{ segments = [{{ name = "Young", when = "age < 30" }}, {{ name = "Big", when = "monetary > 600" }}] }}
[[methods]]
id = "rfm"
method = "rfm"
[[methods]]
id = "clusters"
method = "clusters"
params = {{ n_clusters = 5, n_bootstrap = 0 }}
[[methods]]
id = "decline"
method = "clv-decline"
params = {{ n_estimators = 60, n_origins = 2 }}
[[methods]]
id = "channel"
method = "campaign-response"
[microsegments]
dimensions = ["rfm", "age"]
[privacy]
min_segment_size = 10
"""


def write_data(folder, n=1500, seed=0, tx_files=1):
    rng = np.random.default_rng(seed)
    pd.DataFrame({"customer_id": np.arange(n), "age": rng.integers(18, 80, n)}).to_csv(folder / "customers.csv",
                                                                                      index=False)
    kind = rng.choice(2, n, p=[0.7, 0.3])
    rows = np.repeat(np.arange(n), rng.poisson(20, n) + 1)
    u = rng.beta(np.ones(len(rows)), np.where(kind[rows] == 1, 3.0, 1.0))
    tx = pd.DataFrame({"customer_id": rows, "ts": pd.Timestamp("2022-01-01") + pd.to_timedelta(u * 820, unit="D"),
                       "amount": np.round(rng.lognormal(3, 0.6, len(rows)), 2),
                       "channel": rng.choice(["app", "web", "store"], len(rows))})
    if tx_files > 1:
        (folder / "tx").mkdir()
        shuffled = tx.sample(frac=1, random_state=0)
        for i, rows_i in enumerate(np.array_split(np.arange(len(shuffled)), tx_files)):
            shuffled.iloc[rows_i].to_parquet(folder / "tx" / f"part{i}.parquet", row_group_size=200_000)
    else:
        tx.to_parquet(folder / "tx.parquet", row_group_size=5000)
    ev_rows = np.repeat(np.arange(n), 6)
    pd.DataFrame({"customer_id": ev_rows, "ts": pd.Timestamp("2023-06-01"),
                  "channel": rng.choice(["email", "sms"], len(ev_rows)),
                  "responded": rng.random(len(ev_rows)) < 0.2}).to_parquet(folder / "events.parquet")
    return tx


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                       memory_limit="1GiB")
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


@pytest.fixture(autouse=True)
def _key(monkeypatch):
    monkeypatch.setenv("MICROSEG_KEY", "dask-test-key-0123456789")


def test_features_equal_the_pandas_engine(tmp_path, client):
    write_data(tmp_path)
    cfg = parse_config(CONFIG.format(tx="tx.parquet"), base_dir=tmp_path)
    local, _ = load_data(cfg)
    dist, stats = load_data_dask(cfg, client)
    assert stats["transactions"]["partitions"] > 1
    a, b = local.features(), dist.features()
    assert list(a.columns) == list(b.columns) and a.index.equals(b.index)
    for col in a.columns:
        if pd.api.types.is_numeric_dtype(a[col]):
            assert np.allclose(a[col].to_numpy(float), b[col].to_numpy(float), equal_nan=True), col
    cut = pd.Timestamp("2023-06-01")
    assert np.allclose(local.features(cut)["monetary"], dist.features(cut)["monetary"])


def test_governed_run_gives_the_same_segments(tmp_path, client):
    write_data(tmp_path)
    cfg_text = CONFIG.format(tx="tx.parquet")
    reg = Registry(entry_points=False)
    local = run_config(parse_config(cfg_text, base_dir=tmp_path), Store(f"sqlite:///{tmp_path}/a.db"), reg)
    dist = run_config(parse_config(cfg_text, base_dir=tmp_path), Store(f"sqlite:///{tmp_path}/b.db"), reg,
                      load=lambda c: load_data_dask(c, client))
    sa, sb = Store(f"sqlite:///{tmp_path}/a.db"), Store(f"sqlite:///{tmp_path}/b.db")

    def labels(store, family):
        segs = {s.id: s.label for s in store.segments(1) if s.family == family}
        m = store.memberships(1)
        m = m[m["segment_id"].isin(segs)]
        return m.set_index("customer_no")["segment_id"].map(segs).sort_index()

    for family in ("age", "rfm"):
        assert labels(sa, family).equals(labels(sb, family)), family
    ca, cb = labels(sa, "clusters"), labels(sb, "clusters")
    common = ca.index.intersection(cb.index)
    assert adjusted_rand_score(ca[common], cb[common]) >= 0.95
    auc_a = local.report["methods"]["decline"]["evaluation"]["roc_auc"]
    auc_b = dist.report["methods"]["decline"]["evaluation"]["roc_auc"]
    assert abs(auc_a - auc_b) <= 0.01


def test_dask_lightgbm_matches_local(client):
    from sklearn.metrics import roc_auc_score
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(4000, 5)), columns=list("abcde"))
    y = (x["a"] + 0.5 * x["b"] + rng.normal(size=4000) > 0).astype(int).to_numpy()
    params = {"learning_rate": 0.05, "num_leaves": 7, "n_jobs": 1, "random_state": 0}
    local = fit_lgbm(None, params, 100, x[:3000], y[:3000])
    data = type("D", (), {"client": client})()
    remote = fit_lgbm(data, params, 100, x[:3000], y[:3000])
    auc = [roc_auc_score(y[3000:], m.predict_proba(x[3000:])[:, 1]) for m in (local, remote)]
    assert abs(auc[0] - auc[1]) <= 0.01


def test_run_config_dask_end_to_end(tmp_path, monkeypatch):
    """The engine's own LocalCluster, a partitioned (directory) Parquet input, the CLI-level entry."""
    write_data(tmp_path, n=800, seed=2, tx_files=4)
    text = CONFIG.format(tx="tx").split("[[methods]]\nid = \"clusters\"")[0] + "[privacy]\nmin_segment_size = 20\n"
    result = run_config_dask(parse_config(text, base_dir=tmp_path), Store(f"sqlite:///{tmp_path}/d.db"),
                             Registry(entry_points=False), memory_limit="1GiB")
    assert result.report["customers"] == 800
    run = Store(f"sqlite:///{tmp_path}/d.db").run(result.run_id)
    assert json.loads(run.input_fingerprint)["transactions"].startswith("tx/:4 files")
    assert run.engine == "dask"
