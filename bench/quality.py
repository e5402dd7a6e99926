#!/usr/bin/env python3
"""Quality of the built-in methods on real data, run through the product (config + Python API).

    .venv/bin/python bench/quality.py            # prints the table and updates docs/benchmarks.md
    .venv/bin/python bench/quality.py --only retail bank   # some data sets; prints only

Data sets: retail (Online Retail decline), womens / mens (Hillstrom uplift), bank (Bank Marketing
response). Each model's validation figure (training/validation data only: what settings may be
chosen on) is printed beside its test figures.

Each data set is a governed run of a config in bench/configs/ (`microseg.api.run`, the same
code path as `microseg run`); the figures are those the run reports (out-of-time / held-out
evaluation inside each method). Needs ../shared/data.
"""
from __future__ import annotations

import argparse
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
    ("Online Retail", "decline ROC AUC"): (0.70, "LightGBM on hand-made RFM windows 0.637"),
    ("Hillstrom Womens vs none", "uplift uplift@30%"): (0.08, "class transformation 0.061"),
    ("Hillstrom Womens vs none", "uplift Qini AUC"): (0.05, "class transformation 0.005"),
    ("Hillstrom Mens vs none", "uplift uplift@30%"): (0.10, "T-learner 0.087 (random ≈ 0.077)"),
    ("Hillstrom Mens vs none", "uplift Qini AUC"): (0.02, "T-learner 0.013"),
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


def span(iv: list | None) -> str:
    return "" if not iv else f" [{iv[0]:.4f}, {iv[1]:.4f}]"


def model_rows(data: str, prefix: str, q: dict, evaluation: dict) -> list[tuple]:
    """Every metric of a model with its interval, its naive baseline's and the paired difference."""
    words = {"roc_auc": "ROC AUC", "pr_auc": "PR AUC", "top_decile_lift": "top-decile lift", "qini_auc": "Qini AUC",
             "uplift_at_30": "uplift@30%"}
    rows = []
    for name, m in q.get("metrics", {}).items():
        rows.append((data, f"{prefix} {words[name]}", m["value"], f"{m['value']:.4f}{span(m['interval'])}",
                     f"{m['baseline']:.4f}{span(m['baseline_interval'])}",
                     f"{m['difference']:+.4f}{span(m['difference_interval'])}"))
    rows.append((data, f"{prefix} quality gate ({q.get('baseline_name')})", None,
                 "passes" if q.get("passes") else "**withheld**", "", q.get("reason", "")))
    return rows


def retail_rows() -> list[tuple]:
    report, secs = governed_run("online_retail.toml")
    m = report["methods"]
    ev = m["decline"]["evaluation"]
    return [("Online Retail", "decline eligible customers", ev["eligible"]),
             ("Online Retail", "decline positive rate", ev["positive_rate"]),
             *model_rows("Online Retail", "decline", report["quality"]["decline"], ev),
             ("Online Retail", "decline Brier score", ev["brier"]),
             ("Online Retail", "decline protocol", ev["protocol"]),
             ("Online Retail", "RFM segment sizes", ", ".join(f"{k} {v}" for k, v in m["rfm"]["segment_sizes"].items())),
             ("Online Retail", "clusters k / silhouette / stability ARI",
              f"{m['clusters']['k']} / {m['clusters']['silhouette']} / {m['clusters']['stability_ari']}"),
             ("Online Retail", "geography rule sizes", ", ".join(f"{k} {v}" for k, v in m["geo"]["segment_sizes"].items())),
             ("Online Retail", "decline validation (training data only)", str(ev.get("validation", ""))),
             ("Online Retail", "governed run seconds", round(secs, 1))]


def hillstrom_rows(name: str) -> list[tuple]:
    report, secs = governed_run(f"hillstrom_{name.lower()}.toml")
    ev = report["methods"]["uplift"]["evaluation"]["uplift"]
    label = f"Hillstrom {name} vs none"
    return [*model_rows(label, "uplift", report["quality"]["uplift"], ev),
            (label, "learner (chosen by CV on the 70%)", ev["learner"]),
            (label, "learner selection (training data only)", str(ev.get("cv_qini_train", ""))),
            (label, "learner selection uplift@30% (training data only)", str(ev.get("cv_uplift_at_30_train", ""))),
            (label, "governed run seconds", round(secs, 1))]


def bank_rows() -> list[tuple]:
    report, secs = governed_run("bank_marketing.toml")
    ev = report["methods"]["response"]["evaluation"]["propensity"]
    return [*model_rows("Bank Marketing", "response", report["quality"]["response"], ev),
             ("Bank Marketing", "model (chosen on the latest 20% of training rows)", ev["model"]),
             ("Bank Marketing", "test positive rate", ev["positive_rate"]),
             ("Bank Marketing", "demographic rule sizes",
              ", ".join(f"{k} {v}" for k, v in report["methods"]["demographics"]["segment_sizes"].items())),
             ("Bank Marketing", "model selection (training data only)", str(ev.get("validation_auc", ""))),
             ("Bank Marketing", "governed run seconds", round(secs, 1))]


DATA_SETS = {"retail": retail_rows, "womens": lambda: hillstrom_rows("Womens"),
             "mens": lambda: hillstrom_rows("Mens"), "bank": bank_rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="+", choices=sorted(DATA_SETS), help="run these data sets and print only")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    os.environ.setdefault("MICROSEG_BENCH_KEY", "quality-bench-key-0123456789")
    rows: list[tuple] = []
    for name in args.only or DATA_SETS:
        rows += DATA_SETS[name]()
    from microseg.quality import QualityPolicy
    policy = QualityPolicy()
    lines = ["Command: `.venv/bin/python bench/quality.py` (configs in `bench/configs/`; 2 cores, LightGBM n_jobs=1; "
             f"intervals: {policy.confidence:.0%} paired bootstrap, {policy.resamples} resamples, the `[quality]` "
             "defaults)", "",
             "| data set | metric | value [95 % interval] | naive baseline [interval] | difference [interval] | "
             "target | reference measured here | met |", "|---|---|---|---|---|---|---|---|"]
    for data, metric, value, *shown in rows:
        target, ref = TARGETS.get((data, metric), (None, ""))
        met = "" if target is None else ("yes" if isinstance(value, float) and value >= target else "**no**")
        text, base, diff = shown if shown else (fmt(value), "", "")
        lines.append(f"| {data} | {metric} | {text} | {base} | {diff} | {'' if target is None else f'≥ {target}'} | "
                     f"{ref} | {met} |")
    table = "\n".join(lines)
    print(table)
    if args.only:
        return
    from bench_docs import replace_section
    replace_section("## Quality (bench/quality.py)", table)


if __name__ == "__main__":
    main()
