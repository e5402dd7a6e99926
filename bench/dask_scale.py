#!/usr/bin/env python3
"""The Dask engine against the pandas engine on one machine, and where clusters are predicted.

    .venv/bin/python bench/dask_scale.py                       # 13M transactions, 150k customers
    .venv/bin/python bench/dask_scale.py --rows 2000000 --customers 50000 --limit 256MiB

1. Generates transactions (a folder of Parquet files in time order, as files are appended:
   channel, category, ~3 % returns) and a customers table (age), then runs the same governed
   config (rules, RFM, clusters, microsegments) in a fresh process per variant:

   * ``pandas``: ``microseg run`` (one process);
   * ``dask``: ``microseg run --engine dask`` (its own LocalCluster: 2 workers, 60 % of RAM);
   * ``dask-limited``: ``run_config_dask(..., memory_limit=LIMIT)``: workers smaller than the
     transactions as pandas holds them.

   Memory is sampled every 50 ms over the whole process tree (client, nannies, workers): the
   peak of their sum, and the largest single process.
2. Clustering: a ``clusters`` model fitted on its 20 000-customer sample of a 1M-customer
   behaviour frame predicts every customer on the client, or on 2 Dask workers (frame sent as
   2 partitions, labels gathered). Best of 3.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
MICROSEG = Path(sys.executable).with_name("microseg")

CONFIG = """
as_of = "2024-05-01"
[sources.customers]
path = "customers.csv"
customer_id = "customer_id"
[sources.transactions]
path = "tx"
customer_id = "customer_id"
timestamp = "ts"
amount = "amount"
channel = "channel"
category = "category"
[[methods]]
id = "age"
method = "rules"
params = { segments = [{ name = "Young", when = "age < 30" }, { name = "Big", when = "monetary > 600" }] }
[[methods]]
id = "rfm"
method = "rfm"
[[methods]]
id = "clusters"
method = "clusters"
params = { n_clusters = 4, n_bootstrap = 0 }
[microsegments]
dimensions = ["rfm", "age"]
[privacy]
min_segment_size = 50
"""

LIMITED = """
import sys
from microseg.config import load_config
from microseg.dask_engine import run_config_dask
from microseg.registry import get_registry
from microseg.store import Store
cfg = load_config(sys.argv[1])
run_config_dask(cfg, Store("sqlite:///" + sys.argv[2]), get_registry(), memory_limit=sys.argv[3])
"""


def _text(codes: np.ndarray, values: list[str]) -> pa.Array:
    return pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32()), pa.array(values)).cast(pa.large_string())


def generate(folder: Path, n_customers: int, n_rows: int, files: int = 4, seed: int = 0) -> pa.Table:
    """Write the data set (``customers.csv`` with ``age``; ``tx/part*.parquet`` in time order, as
    files are appended: every file holds every customer); returns the transactions."""
    rng = np.random.default_rng(seed)
    pd.DataFrame({"customer_id": np.arange(n_customers), "age": rng.integers(18, 80, n_customers)}).to_csv(
        folder / "customers.csv", index=False)
    seconds = np.sort(rng.integers(0, 850 * 86400, n_rows)) + np.datetime64("2022-01-01", "s").astype(np.int64)
    amount = np.round(rng.lognormal(3, 0.6, n_rows), 2)
    amount[rng.random(n_rows) < 0.03] *= -1
    table = pa.table({"customer_id": rng.integers(0, n_customers, n_rows),
                      "ts": seconds.astype("datetime64[s]").astype("datetime64[ns]"), "amount": amount,
                      "channel": _text(rng.integers(0, 3, n_rows, dtype=np.int32), ["app", "web", "store"]),
                      "category": _text(rng.integers(0, 6, n_rows, dtype=np.int32),
                                        ["food", "home", "toys", "garden", "sport", "books"])})
    (folder / "tx").mkdir()
    step = -(-n_rows // files)
    for i in range(files):
        pq.write_table(table.slice(i * step, step), folder / "tx" / f"part{i}.parquet", row_group_size=250_000,
                       compression="none", use_dictionary=["channel", "category"])
    return table


def pandas_size(table: pa.Table) -> int:
    """Bytes the table takes as a pandas frame (measured on its first million rows)."""
    sample = min(table.num_rows, 1_000_000)
    return int(table.slice(0, sample).to_pandas().memory_usage(deep=True).sum() * table.num_rows / sample)


class TreeMemory:
    """Peak RSS of a process and its descendants, sampled every 50 ms."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.peak_sum = self.peak_one = self.peak_root = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                break
            rss = []
            for p in procs:
                try:
                    rss.append(p.memory_info().rss)
                except psutil.Error:
                    rss.append(0)
            self.peak_sum = max(self.peak_sum, sum(rss))
            self.peak_one = max(self.peak_one, max(rss))
            self.peak_root = max(self.peak_root, rss[0])
            time.sleep(0.05)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def run_variant(name: str, folder: Path, limit: str) -> dict:
    db = folder / f"{name}.db"
    db.unlink(missing_ok=True)
    cfg = folder / "microseg.toml"
    if name == "pandas":
        cmd = [str(MICROSEG), "run", str(cfg), "--db", str(db), "--json"]
    elif name == "dask":
        cmd = [str(MICROSEG), "run", str(cfg), "--db", str(db), "--json", "--engine", "dask"]
    else:
        cmd = [sys.executable, "-c", LIMITED, str(cfg), str(db), limit]
    env = dict(os.environ, MICROSEG_KEY=os.environ.get("MICROSEG_KEY", "bench-dask-scale-key-0123456789"))
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    memory = TreeMemory(proc.pid)
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    memory.stop()
    if proc.returncode:
        sys.exit(f"{name} failed ({proc.returncode}):\n{err[-3000:]}")
    import sqlalchemy as sa
    with sa.create_engine(f"sqlite:///{db}").connect() as conn:
        timings = json.loads(conn.execute(sa.text("SELECT timings FROM run")).scalar_one())
        segments = conn.execute(sa.text("SELECT count(*) FROM segment WHERE status = 'released'")).scalar_one()
    return {"variant": name, "wall_s": wall, "peak_sum_mb": memory.peak_sum / 2**20,
            "peak_one_mb": memory.peak_one / 2**20, "client_mb": memory.peak_root / 2**20,
            "segments": segments, "load_s": timings.get("load"), "features_s": timings.get("features")}


def behaviour_frame(n: int, seed: int = 0) -> pd.DataFrame:
    """A customer-level frame with the clusters method's default behaviour columns (12)."""
    rng = np.random.default_rng(seed)
    freq = rng.poisson(6, n) + 1
    monetary = np.round(freq * rng.lognormal(3, 0.6, n), 2)
    frame = pd.DataFrame({"recency_days": rng.integers(0, 800, n).astype(float), "frequency": freq,
                          "monetary": monetary, "avg_basket": monetary / freq,
                          "interpurchase_days": rng.exponential(40, n), "return_share": rng.random(n) * 0.1,
                          "trend_90d": rng.lognormal(0, 0.5, n), "spend_90d": monetary * rng.random(n),
                          "response_rate": rng.random(n) * 0.3, "share_app": rng.random(n),
                          "share_web": rng.random(n), "share_store": rng.random(n)},
                         index=pd.Index(np.arange(n), name="customer_id"))
    return frame


def predict_where(n: int, rounds: int = 3) -> list[dict]:
    import warnings

    import dask.dataframe as dd
    from distributed import Client

    from microseg.dask_engine import local_cluster
    from microseg.plugins.clusters import Clusters
    frame = behaviour_frame(n)
    model = Clusters(n_clusters=5, n_bootstrap=0).fit(frame)
    rows = []
    t = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        local = model.assign(frame)
        t.append(time.perf_counter() - t0)
    rows.append({"where": "client (scikit-learn, this process)", "n": n, "best_s": min(t)})
    warnings.filterwarnings("ignore", message="Sending large graph")    # the frame is in the graph: that is the cost
    with local_cluster(2, "2GiB") as cluster, Client(cluster) as client:
        t = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            parts = dd.from_pandas(frame, npartitions=2, sort=False)
            labels = parts.map_partitions(model.assign, meta=pd.Series(dtype=object)).compute()
            t.append(time.perf_counter() - t0)
        assert labels.reindex(local.index).equals(local)
        rows.append({"where": "2 Dask workers (frame sent, labels gathered)", "n": n, "best_s": min(t)})
    return rows


def engines(folder: Path, a: argparse.Namespace) -> None:
    nbytes = pandas_size(generate(folder, a.customers, a.rows))
    (folder / "microseg.toml").write_text(CONFIG)
    print(f"\n{a.rows:,} transactions of {a.customers:,} customers: {nbytes / 2**20:,.0f} MiB as pandas "
          f"holds them; dask-limited workers: {a.limit} each; {os.cpu_count()} cores\n")
    print("| variant | wall (s) | peak RSS, all processes (MiB) | largest process (MiB) | client (MiB) "
          "| load (s) | features (s) | released segments |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name in a.variants:
        r = run_variant(name, folder, a.limit)
        print(f"| {r['variant']} | {r['wall_s']:.1f} | {r['peak_sum_mb']:,.0f} | {r['peak_one_mb']:,.0f} "
              f"| {r['client_mb']:,.0f} | {r['load_s']:.1f} | {r['features_s']:.1f} | {r['segments']} |",
              flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=13_000_000, help="transactions")
    ap.add_argument("--customers", type=int, default=150_000)
    ap.add_argument("--limit", default="384MiB", help="per-worker memory limit of the dask-limited variant")
    ap.add_argument("--predict-n", type=int, nargs="*", default=[200_000, 1_000_000])
    ap.add_argument("--variants", nargs="*", default=["pandas", "dask", "dask-limited"],
                    help="engine runs to measure (none: only where clusters are predicted)")
    a = ap.parse_args()
    if a.variants:
        with tempfile.TemporaryDirectory(prefix="microseg-dask-scale-") as tmp:
            engines(Path(tmp), a)
    print("\n| clusters predicted | customers | best of 3 (s) |\n|---|---:|---:|")
    for n in a.predict_n:
        for r in predict_where(n):
            print(f"| {r['where']} | {r['n']:,} | {r['best_s']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
