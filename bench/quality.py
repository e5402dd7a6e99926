#!/usr/bin/env python3
"""Quality of the built-in methods on real data, run through the product (config + Python API).

    .venv/bin/python bench/quality.py            # prints the table and updates docs/benchmarks.md

Each data set is a governed run of a config in bench/configs/ (`microseg.api.run`, the same
code path as `microseg run`); the figures are those the run reports (out-of-time / held-out
evaluation inside each method). Needs ../shared/data.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
CONFIGS = HERE / "configs"
TARGETS = {
    ("Online Retail", "decline ROC AUC"): (0.67, "LightGBM on hand-made RFM windows 0.637"),
    ("Hillstrom Womens vs none", "uplift@30%"): (0.07, "class transformation 0.061"),
    ("Hillstrom Womens vs none", "Qini AUC"): (0.02, "T-learner 0.006"),
    ("Hillstrom Mens vs none", "uplift@30%"): (0.10, "T-learner 0.087"),
    ("Hillstrom Mens vs none", "Qini AUC"): (0.02, "T-learner 0.013"),
    ("Bank Marketing", "response ROC AUC"): (0.70, "logistic regression one-hot 0.683"),
}


def governed_run(config: str) -> tuple[dict, float]:
    from microseg import api
    from microseg.registry import Registry
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        result = api.run(CONFIGS / config, db=str(Path(tmp) / "bench.db"), registry=Registry(entry_points=False))
        return result.report, time.perf_counter() - t0


def fmt(v: object) -> str:
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def main() -> None:
    warnings.filterwarnings("ignore")
    os.environ.setdefault("MICROSEG_BENCH_KEY", "quality-bench-key-0123456789")
    rows: list[tuple[str, str, object]] = []
    report, secs = governed_run("online_retail.toml")
    m = report["methods"]
    ev = m["decline"]["evaluation"]
    rows += [("Online Retail", "decline eligible customers", ev["eligible"]),
             ("Online Retail", "decline positive rate", ev["positive_rate"]),
             ("Online Retail", "decline ROC AUC", ev["roc_auc"]), ("Online Retail", "decline PR AUC", ev["pr_auc"]),
             ("Online Retail", "decline top-decile lift", ev["top_decile_lift"]),
             ("Online Retail", "decline Brier score", ev["brier"]),
             ("Online Retail", "decline protocol", ev["protocol"]),
             ("Online Retail", "RFM segment sizes", ", ".join(f"{k} {v}" for k, v in m["rfm"]["segment_sizes"].items())),
             ("Online Retail", "clusters k / silhouette / stability ARI",
              f"{m['clusters']['k']} / {m['clusters']['silhouette']} / {m['clusters']['stability_ari']}"),
             ("Online Retail", "geography rule sizes", ", ".join(f"{k} {v}" for k, v in m["geo"]["segment_sizes"].items())),
             ("Online Retail", "governed run seconds", round(secs, 1))]
    for name, cfg in (("Womens", "hillstrom_womens.toml"), ("Mens", "hillstrom_mens.toml")):
        report, secs = governed_run(cfg)
        ev = report["methods"]["uplift"]["evaluation"]["uplift"]
        label = f"Hillstrom {name} vs none"
        rows += [(label, "uplift@30%", ev["uplift_at_30"]), (label, "Qini AUC", ev["qini_auc"]),
                 (label, "learner (chosen by CV on the 70%)", ev["learner"]), (label, "governed run seconds", round(secs, 1))]
    report, secs = governed_run("bank_marketing.toml")
    ev = report["methods"]["response"]["evaluation"]["propensity"]
    rows += [("Bank Marketing", "response ROC AUC", ev["roc_auc"]),
             ("Bank Marketing", "model (chosen on the latest 20% of training rows)", ev["model"]),
             ("Bank Marketing", "test positive rate", ev["positive_rate"]),
             ("Bank Marketing", "demographic rule sizes",
              ", ".join(f"{k} {v}" for k, v in report["methods"]["demographics"]["segment_sizes"].items())),
             ("Bank Marketing", "governed run seconds", round(secs, 1))]
    lines = ["Command: `.venv/bin/python bench/quality.py` (configs in `bench/configs/`; 2 cores, LightGBM n_jobs=1)", "",
             "| data set | metric | value | target | reference measured here | met |", "|---|---|---|---|---|---|"]
    for data, metric, value in rows:
        target, ref = TARGETS.get((data, metric), (None, ""))
        met = "" if target is None else ("yes" if isinstance(value, float) and value >= target else "**no**")
        lines.append(f"| {data} | {metric} | {fmt(value)} | {'' if target is None else f'≥ {target}'} | {ref} | {met} |")
    table = "\n".join(lines)
    print(table)
    from bench_docs import replace_section
    replace_section("## Quality (bench/quality.py)", table)


if __name__ == "__main__":
    main()
