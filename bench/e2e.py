#!/usr/bin/env python3
"""End-to-end speed and memory: microseg's governed pipeline vs the hand-written baseline.

    .venv/bin/python bench/e2e.py --n 100000 --rounds 3
    .venv/bin/python bench/e2e.py --n 1000000 --rounds 2 --write-docs

Generates the baseline's synthetic data (its own `generate` command, seeded) once per N, then
alternates baseline and microseg runs (each in a fresh process, peak RSS measured per process),
and prints wall time, peak RSS, the per-step breakdown and the ratios.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BASELINE = REPO.parent / "shared" / "bench" / "baseline.py"
MEASURE = Path(__file__).with_name("_measure.py")

CONFIG = """
as_of = "2026-01-01"

[sources.customers]
path = "{data}/customers.parquet"
customer_id = "customer_id"
signup_date = "signup_date"

[sources.transactions]
path = "{data}/transactions.parquet"
customer_id = "customer_id"
timestamp = "ts"
amount = "amount"

[sources.events]
path = "{data}/contacts.parquet"
customer_id = "customer_id"
timestamp = "sent_at"
channel = "channel"
responded = "responded"
campaign = "campaign_id"

[[methods]]
id = "rules"
method = "rules"
[methods.params]
mode = "multi"
default = "none"
segments = [
  {{ name = "young_urban", when = "age < 30 and city in ('Oslo', 'Madrid', 'Berlin', 'Munich', 'Lisbon')" }},
  {{ name = "seniors", when = "age >= 65" }},
  {{ name = "app_natives", when = "signup_channel == 'app' and age < 40" }},
  {{ name = "new_customers", when = "tenure_days < 180" }},
  {{ name = "vip_north", when = "region == 'North' and monetary >= 4000" }},
]

[[methods]]
id = "region"
method = "rules"
[methods.params]
segments = [
  {{ name = "North", when = "region == 'North'" }}, {{ name = "South", when = "region == 'South'" }},
  {{ name = "East", when = "region == 'East'" }}, {{ name = "West", when = "region == 'West'" }},
]

[[methods]]
id = "cluster"
method = "clusters"
[methods.params]
n_clusters = 8
features = ["recency_days", "frequency", "monetary"]
n_bootstrap = 0
random_state = 0

[[methods]]
id = "decline"
method = "clv-decline"
[methods.params]
horizon_days = 182
n_jobs = 1

[[methods]]
id = "channel"
method = "campaign-response"

[microsegments]
dimensions = ["cluster", "decline", "channel", "region"]

[privacy]
min_segment_size = 50
key_env = "MICROSEG_BENCH_KEY"

[release]
customer_ids = "pseudonym"
"""


def measure(cmd: list[str], env: dict[str, str]) -> tuple[dict, str]:
    out = subprocess.run([sys.executable, str(MEASURE), *cmd], capture_output=True, text=True, env=env)
    lines = out.stdout.strip().splitlines()
    stats = json.loads(lines[-1])
    if stats["returncode"] != 0:
        raise SystemExit(f"command failed: {' '.join(cmd)}\n{out.stderr[-3000:]}")
    return stats, "\n".join(lines[:-1])


def baseline_steps(text: str) -> dict[str, float]:
    for line in reversed(text.splitlines()):
        if line.startswith("{") and "steps_s" in line:
            return json.loads(line)["steps_s"]
    return {}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, nargs="+", default=[100_000])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "microseg-e2e")
    ap.add_argument("--lgbm-jobs", type=int, default=1, help="baseline LightGBM threads (microseg uses n_jobs=1)")
    ap.add_argument("--write-docs", action="store_true", help="update docs/benchmarks.md")
    a = ap.parse_args()
    if not BASELINE.is_file():
        raise SystemExit(f"baseline not found: {BASELINE}")
    env = {**os.environ, "MICROSEG_BENCH_KEY": "bench-key-0123456789abcdef"}
    microseg = str(Path(sys.executable).with_name("microseg"))
    rows = []
    for n in a.n:
        data = a.work / f"n{n}"
        if not (data / "contacts.parquet").exists():
            subprocess.run([sys.executable, str(BASELINE), "generate", "--n", str(n), "--out", str(data)], check=True)
        cfg = data / "microseg.toml"
        cfg.write_text(CONFIG.format(data=data.as_posix()))
        res: dict[str, list] = {"baseline": [], "microseg": []}
        for r in range(a.rounds):
            db = data / "bl.sqlite"
            stats, text = measure([sys.executable, str(BASELINE), "run", "--data", str(data), "--db", str(db),
                                   "--lgbm-jobs", str(a.lgbm_jobs)], env)
            res["baseline"].append((stats, baseline_steps(text)))
            mdb = data / "ms.db"
            mdb.unlink(missing_ok=True)
            stats, text = measure([microseg, "run", str(cfg), "--db", str(mdb), "--json"], env)
            res["microseg"].append((stats, json.loads(text).get("timings", {})))
            print(f"n={n} round {r + 1}: baseline {res['baseline'][-1][0]}  microseg {res['microseg'][-1][0]}",
                  flush=True)
        rows.append((n, res))
    table = render(rows, a)
    print(table)
    if a.write_docs:
        from bench_docs import replace_section
        replace_section("## End to end (bench/e2e.py)", table)


def render(rows: list, a: argparse.Namespace) -> str:
    out = [f"Command: `.venv/bin/python bench/e2e.py --n {' '.join(map(str, a.n))} --rounds {a.rounds}` "
           f"(2 cores; medians over rounds; baseline with `--lgbm-jobs {a.lgbm_jobs}`)", "",
           "| N | tool | wall s (median) | peak RSS MB (max) | µs / customer | wall ratio | RSS ratio |",
           "|---:|---|---:|---:|---:|---:|---:|"]
    for n, res in rows:
        med = {t: statistics.median(s["wall_s"] for s, _ in v) for t, v in res.items()}
        rss = {t: max(s["peak_rss_mb"] for s, _ in v) for t, v in res.items()}
        for t in ("baseline", "microseg"):
            ratio_w = f"{med[t] / med['baseline']:.2f}" if t == "microseg" else "1.00"
            ratio_r = f"{rss[t] / rss['baseline']:.2f}" if t == "microseg" else "1.00"
            out.append(f"| {n:,} | {t} | {med[t]:.1f} | {rss[t]:,} | {med[t] / n * 1e6:.1f} | {ratio_w} | {ratio_r} |")
    out += ["", "Per-step seconds (last round):", ""]
    for n, res in rows:
        for t in ("baseline", "microseg"):
            steps = res[t][-1][1]
            out.append(f"- N={n:,} {t}: " + ", ".join(f"{k} {v:.2f}" for k, v in steps.items()))
    return "\n".join(out)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()
