"""Small synthetic inputs for core tests (no personal data of real people)."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd


def write_small_shop(folder: Path, n: int = 400, seed: int = 0) -> dict[str, Path]:
    """customers.csv (with a consent column and an e-mail), transactions.csv."""
    rng = np.random.default_rng(seed)
    ids = [f"K{i:05d}" for i in range(n)]
    customers = pd.DataFrame({
        "customer_id": ids,
        "email": [f"user{i}@example.com" for i in range(n)],
        "age": rng.integers(18, 90, n),
        "city": rng.choice(["Oslo", "Bergen", "Lisbon", "Porto"], n),
        "consent_marketing": rng.random(n) < 0.9,
        "signup_date": (pd.Timestamp("2025-01-01") - pd.to_timedelta(rng.integers(10, 900, n), unit="D")).strftime("%Y-%m-%d"),
    })
    rows = np.repeat(np.arange(n), rng.poisson(6, n) + 1)
    tx = pd.DataFrame({
        "customer_id": np.array(ids)[rows],
        "ts": (pd.Timestamp("2025-01-01") - pd.to_timedelta(rng.integers(1, 700, len(rows)), unit="D")).strftime("%Y-%m-%d"),
        "amount": np.round(rng.lognormal(3, 0.7, len(rows)), 2),
    })
    folder.mkdir(parents=True, exist_ok=True)
    customers.to_csv(folder / "customers.csv", index=False)
    tx.to_csv(folder / "transactions.csv", index=False)
    return {"customers": folder / "customers.csv", "transactions": folder / "transactions.csv"}


SHOP_CONFIG = """
as_of = "2025-01-01"
plugins = ["{plugin}"]
[sources.customers]
path = "customers.csv"
customer_id = "customer_id"
signup_date = "signup_date"
[sources.transactions]
path = "transactions.csv"
customer_id = "customer_id"
timestamp = "ts"
amount = "amount"
[[methods]]
id = "recent"
method = "recent-buyers"
params = {{ days = 60 }}
[[methods]]
id = "recent90"
method = "recent-buyers"
params = {{ days = 180 }}
[microsegments]
dimensions = ["recent", "recent90"]
[privacy]
min_segment_size = {k}
consent = {{ marketing = "consent_marketing" }}
[release]
include_scores = true
"""

LOCAL_PLUGIN = Path(__file__).resolve().parent / "plugins" / "local_recency.py"


def write_shop_config(folder: Path, k: int = 20, **kw) -> Path:
    write_small_shop(folder, **kw)
    cfg = folder / "microseg.toml"
    cfg.write_text(SHOP_CONFIG.format(plugin=LOCAL_PLUGIN.as_posix(), k=k))
    return cfg


def load_module(path: Path, name: str) -> ModuleType:
    """The Python file at ``path`` imported as module ``name`` (registered, so its dataclasses and
    pickles find it)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_bench(script: str) -> ModuleType:
    """``bench/<script>.py`` as a module (the benchmarks are scripts, not a package)."""
    return load_module(Path(__file__).resolve().parents[1] / "bench" / f"{script}.py", f"microseg_bench_{script}")
