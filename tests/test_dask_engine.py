"""The Dask engine against the in-process engine, on 2-worker LocalClusters.

* the same customer-level frame and the same segments as the pandas engine (rules and RFM
  identical, clusters ARI >= 0.95, CLV-decline AUC within 0.01);
* no raw personal value reaches the client or the store: the privacy step scans and protects
  the customers table on the workers, and every table's rare or personal levels are folded;
* a governed run completes on transactions larger than each worker's memory limit, without a
  worker restart, through the engine's own LocalCluster;
* input errors name the file, column and row over the whole input, as the pandas engine's.
"""
from __future__ import annotations

import json
import os
import threading
import time
import warnings
from typing import Any, Self

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("dask.dataframe", reason="the dask extra is not installed (pip install 'microseg[dask]')")
distributed = pytest.importorskip("distributed")

import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402
from sklearn.metrics import adjusted_rand_score  # noqa: E402

from microseg.config import parse_config  # noqa: E402
from microseg.dask_engine import fit_dask_lgbm, load_data_dask, run_config_dask  # noqa: E402
from microseg.data import CustomerData  # noqa: E402
from microseg.errors import ConfigError, InputError  # noqa: E402
from microseg.features import transaction_features  # noqa: E402
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


def write_data(folder, n=1500, seed=0, invoices=False, personal=False):
    """Customers (optionally with names, e-mails, phones), transactions, campaign events."""
    rng = np.random.default_rng(seed)
    customers = pd.DataFrame({"customer_id": np.arange(n), "age": rng.integers(18, 80, n)})
    if personal:
        customers["full_name"] = [f"{a} {b}" for a, b in zip(rng.choice(["Ana", "Joao", "Rita", "Pedro", "Ines"], n),
                                                            rng.choice(["Silva", "Santos", "Costa", "Pereira"], n))]
        customers["email"] = [f"client{i}@example.pt" for i in range(n)]
        customers["phone"] = [f"+351 91{rng.integers(1000000, 9999999)}" for _ in range(n)]
        customers["loyalty_no"] = [f"LC{i:07d}" for i in rng.permutation(n)]
        customers["consent_profiling"] = rng.random(n) < 0.95
        customers["consent_marketing"] = rng.random(n) < 0.9
    customers.to_csv(folder / "customers.csv", index=False)
    kind = rng.choice(2, n, p=[0.7, 0.3])
    rows = np.repeat(np.arange(n), rng.poisson(20, n) + 1)
    u = rng.beta(np.ones(len(rows)), np.where(kind[rows] == 1, 3.0, 1.0))
    tx = pd.DataFrame({"customer_id": rows, "ts": pd.Timestamp("2022-01-01") + pd.to_timedelta(u * 820, unit="D"),
                       "amount": np.round(rng.lognormal(3, 0.6, len(rows)), 2),
                       "channel": rng.choice(["app", "web", "store"], len(rows))})
    if invoices:                    # a few lines per basket, some baskets with a return line; whole seconds
        tx["ts"] = tx["ts"].dt.floor("s")
        tx["invoice"] = [f"I{c}-{int(t)}" for c, t in zip(rows, u * 820 // 7)]
        tx.loc[rng.random(len(tx)) < 0.05, "amount"] *= -1
    tx.to_parquet(folder / "tx.parquet", row_group_size=5000)
    ev_rows = np.repeat(np.arange(n), 6)
    pd.DataFrame({"customer_id": ev_rows, "ts": pd.Timestamp("2023-06-01"),
                  "channel": rng.choice(["email", "sms"], len(ev_rows)),
                  "responded": rng.random(len(ev_rows)) < 0.2}).to_parquet(folder / "events.parquet")
    return customers, tx


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                       scheduler_kwargs={"dashboard": False}, memory_limit="1GiB")
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


@pytest.fixture(autouse=True)
def _key(monkeypatch):
    monkeypatch.setenv("MICROSEG_KEY", "dask-test-key-0123456789")


def _labels(store, run_id, family):
    segs = {s.id: s.label for s in store.segments(run_id) if s.family == family}
    m = store.memberships(run_id)
    m = m[m["segment_id"].isin(segs)]
    return m.set_index("customer_no")["segment_id"].map(segs).sort_index()


def _protected(data, cfg):
    """The data after the run's privacy step (as every method sees it), on either engine."""
    from microseg.privacy.protect import protect
    return protect(data, cfg.privacy, b"dask-test-key-0123456789", Registry(entry_points=False)).data


def _assert_same_frame(a, b):
    assert list(a.columns) == list(b.columns) and a.index.equals(b.index)
    for col in a.columns:
        if pd.api.types.is_numeric_dtype(a[col]):
            assert np.allclose(a[col].to_numpy(float), b[col].to_numpy(float), equal_nan=True), col


# --------------------------------------------------------------------------- same results as pandas
def test_governed_run_gives_the_same_features_and_segments(tmp_path, client):
    write_data(tmp_path)
    cfg_text = CONFIG.format(tx="tx.parquet")
    reg = Registry(entry_points=False)
    loaded = {}

    def load(cfg):
        loaded["data"], loaded["stats"] = load_data_dask(cfg, client, registry=reg)
        return loaded["data"], loaded["stats"]

    local = run_config(parse_config(cfg_text, base_dir=tmp_path), Store(f"sqlite:///{tmp_path}/a.db"), reg)
    dist = run_config(parse_config(cfg_text, base_dir=tmp_path), Store(f"sqlite:///{tmp_path}/b.db"), reg, load=load)
    assert loaded["stats"]["engine"]["transactions"]["partitions"] > 1

    cfg = parse_config(cfg_text, base_dir=tmp_path)
    pandas_data = _protected(load_data(cfg)[0], cfg)
    dask_data = _protected(loaded["data"], cfg)
    _assert_same_frame(pandas_data.features(), dask_data.features())
    cut = pd.Timestamp("2023-06-01")
    _assert_same_frame(pandas_data.features(cut), dask_data.features(cut))
    ids = pandas_data.ids[::7]
    windows = [(cut - pd.Timedelta(days=90), cut), (cut, cut + pd.Timedelta(days=30))]
    assert np.allclose(pandas_data.window_spends(ids, windows), dask_data.window_spends(ids, windows))
    assert pandas_data.tx_date_range() == dask_data.tx_date_range()

    sa, sb = Store(f"sqlite:///{tmp_path}/a.db"), Store(f"sqlite:///{tmp_path}/b.db")
    for family in ("age", "rfm"):
        assert _labels(sa, 1, family).equals(_labels(sb, 1, family)), family
    ca, cb = _labels(sa, 1, "clusters"), _labels(sb, 1, "clusters")
    common = ca.index.intersection(cb.index)
    assert adjusted_rand_score(ca[common], cb[common]) >= 0.95
    auc_a = local.report["methods"]["decline"]["evaluation"]["roc_auc"]
    auc_b = dist.report["methods"]["decline"]["evaluation"]["roc_auc"]
    assert abs(auc_a - auc_b) <= 0.01


def test_invoice_baskets_and_rows_read_again(tmp_path, client, monkeypatch):
    """Baskets spanning partitions, returns, whole-second times, and the streaming path (rows
    not held in memory but read and shuffled again for each computation) still give the pandas
    engine's frame, for everyone and for a subset of customers."""
    from microseg.dask_engine import bycustomer
    write_data(tmp_path, n=600, seed=3, invoices=True)
    text = CONFIG.format(tx="tx.parquet").replace('channel = "channel"\n[sources.events]',
                                                  'channel = "channel"\ninvoice = "invoice"\n[sources.events]')
    cfg = parse_config(text, base_dir=tmp_path)
    monkeypatch.setattr(bycustomer, "HOLD_SHARE", 0.0)          # never hold: stream from the files
    dist, stats = load_data_dask(cfg, client, registry=Registry(entry_points=False))
    assert not stats["engine"]["transactions"]["held_in_memory"] and dist.tx.origin is not None
    dist = _protected(dist, cfg)
    local = _protected(load_data(cfg)[0], cfg)
    _assert_same_frame(local.features(), dist.features())
    keep = local.ids[local.ids % 3 == 0]
    _assert_same_frame(local.restrict(keep).features(), dist.restrict(keep).features())
    cut = pd.Timestamp("2023-03-01")
    windows = [(cut - pd.Timedelta(days=d), cut) for d in (30, 90, 365)] + [(cut, cut + pd.Timedelta(days=90))]
    assert np.allclose(local.window_spends(keep, windows), dist.window_spends(keep, windows))


def test_dask_lightgbm_matches_local(client):
    from sklearn.metrics import roc_auc_score
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(4000, 5)), columns=list("abcde"))
    y = (x["a"] + 0.5 * x["b"] + rng.normal(size=4000) > 0).astype(int).to_numpy()
    params = {"learning_rate": 0.05, "num_leaves": 7, "n_jobs": 1, "random_state": 0}
    local = CustomerData(customers=pd.DataFrame(index=pd.RangeIndex(3))).fit_classifier(
        params, x[:3000], y[:3000], n_estimators=100)
    remote = fit_dask_lgbm(client, params, 100, x[:3000], y[:3000])
    auc = [roc_auc_score(y[3000:], m.predict_proba(x[3000:])[:, 1]) for m in (local, remote)]
    assert abs(auc[0] - auc[1]) <= 0.01


# --------------------------------------------------------------------------- personal data
PII_CONFIG = """
as_of = "2024-01-01"
[sources.customers]
path = "customers.csv"
customer_id = "customer_id"
[sources.transactions]
path = "tx.parquet"
customer_id = "customer_id"
timestamp = "ts"
amount = "amount"
channel = "channel"
[[methods]]
id = "age"
method = "rules"
params = { segments = [{ name = "Young", when = "age < 30" }, { name = "Big", when = "monetary > 600" }] }
[[methods]]
id = "rfm"
method = "rfm"
[microsegments]
dimensions = ["rfm", "age"]
[privacy]
min_segment_size = 10
consent = { profiling = "consent_profiling", marketing = "consent_marketing" }
[release]
attributes = ["loyalty_no"]
"""


def _store_text(db) -> str:
    import sqlalchemy as sa
    engine = sa.create_engine(f"sqlite:///{db}")
    cells = []
    with engine.connect() as conn:
        for table in sa.inspect(engine).get_table_names():
            for row in conn.execute(sa.text(f"SELECT * FROM {table}")):
                cells += [v.hex() if isinstance(v, bytes) else str(v) for v in row if v is not None]
    return "\n".join(cells)


@pytest.fixture(scope="module")
def pii_runs(tmp_path_factory, client):
    """One governed run per engine on customers with names, e-mails, phones and a loyalty
    number (an identifier), with profiling and marketing consent."""
    folder = tmp_path_factory.mktemp("pii")
    customers, _ = write_data(folder, n=1200, seed=5, personal=True)
    reg = Registry(entry_points=False)
    loaded = {}
    os.environ["MICROSEG_KEY"] = "dask-test-key-0123456789"

    def load(cfg):
        loaded["data"], stats = load_data_dask(cfg, client, registry=reg)
        return loaded["data"], stats

    dist = run_config(parse_config(PII_CONFIG, base_dir=folder), Store(f"sqlite:///{folder}/d.db"), reg, load=load)
    run_config(parse_config(PII_CONFIG, base_dir=folder), Store(f"sqlite:///{folder}/p.db"), reg)
    return {"customers": customers, "data": loaded["data"], "report": dist.report, "folder": folder}


def test_no_personal_value_reaches_the_client_or_the_store(pii_runs):
    from microseg.privacy.protect import protect
    customers, folder = pii_runs["customers"], pii_runs["folder"]
    cfg = parse_config(PII_CONFIG, base_dir=folder)
    protected = protect(pii_runs["data"], cfg.privacy, b"dask-test-key-0123456789", Registry(entry_points=False))
    data = protected.data
    personal = set(customers["email"]) | set(customers["phone"]) | set(customers["full_name"]) | \
        set(customers["loyalty_no"])
    on_client = data.customers.astype(str).to_numpy().ravel().tolist() + \
        data.features().astype(str).to_numpy().ravel().tolist() + list(map(str, data.customers.columns))
    assert not personal & set(on_client)
    assert {"email", "phone", "full_name"}.isdisjoint(data.customers.columns)
    assert data.customers["consent_marketing"].dtype == bool                  # consent flags stay usable
    assert pii_runs["report"]["customers"] == int(customers["consent_profiling"].sum())   # restricted on the cluster
    found = {f.column: (f.kind, f.action) for f in protected.findings if f.table == "customers"}
    assert found["email"] == ("direct", "drop") and found["phone"] == ("direct", "drop")
    assert found["full_name"][0] == "direct" and found["loyalty_no"] == ("identifier", "pseudonymise")
    assert protected.applied == {"email": "drop", "phone": "drop", "full_name": "drop", "customer_id": "pseudonymise",
                                 "loyalty_no": "pseudonymise"}
    assert {f.table for f in protected.findings} == {"customers", "transactions"}   # every table scanned

    text = _store_text(folder / "d.db") + json.dumps(pii_runs["report"], default=str)
    assert not [v for v in personal if v in text]
    sa, sb = Store(f"sqlite:///{folder}/p.db"), Store(f"sqlite:///{folder}/d.db")
    for family in ("age", "rfm"):
        assert _labels(sa, 1, family).equals(_labels(sb, 1, family)), family


def test_findings_and_released_pseudonyms_match_the_pandas_engine(pii_runs):
    """The audit records the scan of the unmasked table, and identifiers pseudonymised on the
    workers are released as the pandas engine releases them (not pseudonymised twice)."""
    import sqlalchemy as sa
    folder = pii_runs["folder"]

    def findings(db):
        with sa.create_engine(f"sqlite:///{db}").connect() as conn:
            (payload,) = conn.execute(sa.text("SELECT payload FROM auditevent WHERE kind = 'run.pii'")).one()
        return {f["column"]: (f["kind"], f["action"]) for f in json.loads(payload)["findings"]}

    assert findings(folder / "d.db") == findings(folder / "p.db")
    released = [Store(f"sqlite:///{folder}/{db}").released_customers(1)[0].set_index("customer_no")["values"]
                for db in ("p.db", "d.db")]
    assert released[0].equals(released[1])


def test_hashed_and_dropped_columns_on_the_workers(tmp_path, client):
    """``hash`` is applied on the workers and released as the pandas engine releases it (withheld:
    every hash is unique); a dropped column cannot be released: the run stops with an error that
    says so, nothing written."""
    write_data(tmp_path, n=300, seed=2, personal=True)
    text = PII_CONFIG.replace('attributes = ["loyalty_no"]', 'attributes = ["email"]').replace(
        "[privacy]\n", '[privacy]\nallow_hashed_audiences = true\ncolumns = { email = "hash" }\n')
    reg = Registry(entry_points=False)
    for name, load in (("d", lambda cfg: load_data_dask(cfg, client, registry=reg)), ("p", load_data)):
        run_config(parse_config(text, base_dir=tmp_path), Store(f"sqlite:///{tmp_path}/{name}.db"), reg, load=load)
    stores = [Store(f"sqlite:///{tmp_path}/{db}.db") for db in ("p", "d")]
    released = [s.released_customers(1)[0].set_index("customer_no")["values"] for s in stores]
    assert released[0].equals(released[1])                    # the same released vectors on both engines
    hashed = {s.label for s in stores[1].segments(1) if s.family == "email" and s.status == "released"}
    assert hashed == {"*"}             # a per-customer hash is a cell of 1: the gate withholds it for everyone
    store = Store(f"sqlite:///{tmp_path}/x.db")
    with pytest.raises(ConfigError, match="'email' was removed .*action drop") as err:
        run_config(parse_config(text.replace('"hash"', '"drop"'), base_dir=tmp_path), store, reg,
                   load=lambda cfg: load_data_dask(cfg, client, registry=reg))
    assert "@" not in str(err.value) and not store.runs()


# --------------------------------------------------------------------------- errors
def test_an_input_error_names_the_row_over_the_whole_input(tmp_path, client):
    """A bad date in the third file of a partitioned CSV input: the row counts every earlier file."""
    (tmp_path / "tx").mkdir()
    rows = [pd.DataFrame({"customer_id": np.arange(100) + 100 * i, "ts": "2023-01-02", "amount": 1.0})
            for i in range(3)]
    rows[2].loc[41, "ts"] = "not a date"
    for i, part in enumerate(rows):
        part.to_csv(tmp_path / "tx" / f"part{i}.csv", index=False)
    cfg = parse_config('[sources.transactions]\npath = "tx"\ncustomer_id = "customer_id"\ntimestamp = "ts"\n'
                       'amount = "amount"\n[[methods]]\nid = "rfm"\nmethod = "rfm"\n', base_dir=tmp_path)
    with pytest.raises(InputError) as err:
        load_data_dask(cfg, client)
    assert err.value.column == "ts" and err.value.row == 242 and "not a date" not in str(err.value)

    pd.DataFrame({"customer_id": [f"C{i}" for i in [*range(50), 7]], "email": "x@example.org"}).to_csv(
        tmp_path / "customers.csv", index=False)                           # a duplicate id, as the pandas engine says
    both = parse_config('[sources.customers]\npath = "customers.csv"\ncustomer_id = "customer_id"\n'
                        '[[methods]]\nid = "rfm"\nmethod = "rfm"\n', base_dir=tmp_path)
    errors = []
    for load in (load_data, lambda c: load_data_dask(c, client)):
        with pytest.raises(InputError) as err:
            load(both)
        errors.append((str(err.value), err.value.column, err.value.row))
    assert errors[0] == errors[1] and errors[0][2] == 51


# --------------------------------------------------------------------------- the CLI and a cluster
def test_cli_runs_on_an_existing_cluster(tmp_path, client):
    """``microseg run --engine dask --scheduler ADDRESS`` uses that cluster (no new one) and
    stores a run of the Dask engine with the pandas engine's segments."""
    from click.testing import CliRunner

    from microseg.cli import cli
    write_data(tmp_path, n=800, seed=7)
    (tmp_path / "microseg.toml").write_text(PII_CONFIG.split("[release]")[0]
                                            .replace('consent = { profiling = "consent_profiling", '
                                                     'marketing = "consent_marketing" }\n', ""))
    seen_before = set(client.run(os.getpid).values())
    result = CliRunner().invoke(cli, ["run", str(tmp_path / "microseg.toml"), "--db", str(tmp_path / "d.db"),
                                      "--engine", "dask", "--scheduler", client.scheduler.address])
    local = CliRunner().invoke(cli, ["run", str(tmp_path / "microseg.toml"), "--db", str(tmp_path / "p.db")])
    assert result.exit_code == 0, result.output
    assert local.exit_code == 0, local.output
    assert set(client.run(os.getpid).values()) == seen_before          # the same workers, still there
    sd, sp = Store(f"sqlite:///{tmp_path}/d.db"), Store(f"sqlite:///{tmp_path}/p.db")
    assert sd.run(1).engine == "dask" and sp.run(1).engine == "pandas"
    for family in ("age", "rfm"):
        assert _labels(sd, 1, family).equals(_labels(sp, 1, family)), family


# `run --json` on the Dask engine prints exactly one JSON document: tests/test_planted_leak.py (its Dask run)


def test_cli_names_an_unreachable_scheduler_and_a_too_small_worker(tmp_path):
    from click.testing import CliRunner

    from microseg.cli import cli
    from microseg.dask_engine import local_cluster
    from microseg.errors import ConfigError
    write_data(tmp_path, n=100)
    (tmp_path / "microseg.toml").write_text(CONFIG.format(tx="tx.parquet"))
    result = CliRunner().invoke(cli, ["run", str(tmp_path / "microseg.toml"), "--db", str(tmp_path / "d.db"),
                                      "--engine", "dask", "--scheduler", "tcp://127.0.0.1:9"])
    assert result.exit_code == 2 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in result.output
    assert not (tmp_path / "d.db").exists() or not Store(f"sqlite:///{tmp_path}/d.db").runs()
    for bad in ("256MiB", "lots"):
        with pytest.raises(ConfigError, match="memory_limit"):
            local_cluster(2, bad)


# --------------------------------------------------------------------------- larger than a worker
LIMIT = 384 << 20                 # per worker

def _bench():
    """``bench/dask_scale.py``: the test runs on the benchmark's data and config."""
    from helpers import load_bench
    return load_bench("dask_scale")


class _WorkerMemory:
    """Peak RSS of this process's worker children (excluding ``others``), sampled every 50 ms."""

    def __init__(self, others: set[int]) -> None:
        import psutil
        self.me, self.others, self.peak = psutil.Process(os.getpid()), others, {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _rss(process: Any) -> int:
        import psutil
        try:
            return int(process.memory_info().rss)
        except psutil.Error:                                              # a process that just ended
            return 0

    def _run(self) -> None:
        while not self._stop.is_set():
            for child in self.me.children(recursive=False):
                rss = self._rss(child)
                if child.pid not in self.others and rss > 80 << 20:      # a worker, not a helper process
                    self.peak[child.pid] = max(self.peak.get(child.pid, 0), rss)
            time.sleep(0.05)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@pytest.mark.slow
def test_run_larger_than_the_worker_memory_limit(tmp_path, client, monkeypatch):
    """Transactions ~1.6x each worker's memory limit (as the pandas engine holds them) through the
    engine's own LocalCluster from a partitioned Parquet folder: the run completes, no worker is
    restarted or exceeds its limit, and the results are right."""
    from microseg.dask_engine import loader
    n_customers, n_rows = 150_000, 13_000_000
    bench = _bench()
    table = bench.generate(tmp_path, n_customers, n_rows)
    pandas_bytes = bench.pandas_size(table)
    assert pandas_bytes >= 1.5 * LIMIT
    loaded = {}
    real_load = loader.load_data_dask

    def load(cfg, client, registry=None):
        data, loaded["stats"] = real_load(cfg, client, registry=registry)
        protect_tables = data.transformed

        def transformed(fn, erased=None):             # keep the protected data the run used
            loaded["data"] = protect_tables(fn, erased)
            return loaded["data"]

        data.transformed = transformed
        loaded["pause"] = set(client.run(lambda: __import__("dask").config.get("distributed.worker.memory.pause"))
                              .values())
        return data, loaded["stats"]

    monkeypatch.setattr(loader, "load_data_dask", load)
    others = set(client.run(os.getpid).values())
    t0 = time.perf_counter()
    with _WorkerMemory(others) as memory:
        result = run_config_dask(parse_config(bench.CONFIG, base_dir=tmp_path), Store(f"sqlite:///{tmp_path}/d.db"),
                                 Registry(entry_points=False), memory_limit=LIMIT)
    wall = time.perf_counter() - t0
    peak = max(memory.peak.values())
    print(f"\nlarger-than-worker run: {n_rows} rows, {pandas_bytes / 2**20:.0f} MiB as pandas, limit "
          f"{LIMIT >> 20} MiB/worker; wall {wall:.1f} s; peak worker RSS {peak / 2**20:.0f} MiB; "
          f"{loaded['stats']['engine']}; steps {result.timings}")

    assert len(memory.peak) == 2, "a worker was restarted"
    assert peak < LIMIT
    assert loaded["pause"] == {0.85}                                      # the settings reached the workers
    assert not loaded["stats"]["engine"]["transactions"]["held_in_memory"]
    assert result.report["customers"] == n_customers
    store = Store(f"sqlite:///{tmp_path}/d.db")
    run = store.run(result.run_id)
    assert run.engine == "dask" and json.loads(run.input_fingerprint)["transactions"].startswith("tx/:4 files")
    assert {"age", "rfm", "clusters"} <= {s.family for s in store.segments(result.run_id)}
    ages = pd.read_csv(tmp_path / "customers.csv")["age"]
    young = _labels(store, result.run_id, "age")
    assert int((young == "Young").sum()) == int((ages < 30).sum())

    few = np.array([3, 1234, 77_777, 149_999])                            # features of a handful, by hand
    rows = table.filter(pc.is_in(table["customer_id"], pa.array(few))).to_pandas()
    data = loaded["data"]
    want = transaction_features(rows, pd.Index(few, name="customer_id"), data.as_of, data.windows,
                                data.mix_levels(data.as_of))
    got = data.features().loc[few, want.columns]
    assert np.allclose(got.to_numpy(float), want.to_numpy(float), equal_nan=True)
