#!/usr/bin/env python3
"""End-to-end speed, memory and output: microseg's governed pipeline vs the hand-written baseline.

    .venv/bin/python bench/e2e.py --n 10000 100000 1000000 --rounds 2 --write-docs
    .venv/bin/python bench/e2e.py --n 100000 --rounds 1 --profile      # + a pyinstrument profile per N
    .venv/bin/python bench/e2e.py --n 10000 --without decline           # + microseg without one method (diagnostic)

Generates the baseline's synthetic data once per N with the baseline's own `generate` command
(seeded: ~20 transactions and ~6 campaign contacts per customer), then alternates baseline and
`microseg run` (the CLI, each in a fresh process; peak RSS measured per process) for several
rounds. Prints wall time, peak RSS, the ratios against the targets (at every N: wall ≤ 1.0×,
RSS ≤ 1.2×; growth: time per customer at the largest N within 1.2× of the smallest),
the per-step breakdown and what each produced (decline AUC, segments, store size).

LightGBM threads: the baseline's fit and predictions use `--lgbm-jobs` (1); microseg's fits one thread
each (`n_jobs = 1` in the config), its final model training in a second Python thread beside the
early-stopping fit, and its binning, predictions and SHAP values LightGBM's default (both cores).
`--baseline-jobs-also 2` adds the baseline with two LightGBM threads as a diagnostic row.
"""
from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BASELINE = REPO.parent / "shared" / "bench" / "baseline.py"
MEASURE = Path(__file__).with_name("_measure.py")
OUT = Path(__file__).with_name("out")
TARGETS = {"wall": 1.0, "rss": 1.2, "growth": 1.2}

CONFIG = """
as_of = "2026-01-01"
engine = "{engine}"

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


@dataclass
class Run:
    wall_s: float
    peak_rss_mb: int
    steps: dict[str, float]
    output: dict[str, object] = field(default_factory=dict)


def measure(cmd: list[str], env: dict[str, str]) -> tuple[dict, str]:
    """Run ``cmd`` in a fresh process; its wall time, peak RSS and standard output."""
    out = subprocess.run([sys.executable, str(MEASURE), *cmd], capture_output=True, text=True, env=env)
    lines = out.stdout.strip().splitlines()
    stats = json.loads(lines[-1])
    if stats["returncode"] != 0:
        raise SystemExit(f"command failed: {' '.join(cmd)}\n{out.stderr[-3000:]}")
    return stats, "\n".join(lines[:-1])


def run_baseline(data: Path, env: dict[str, str], lgbm_jobs: int) -> Run:
    db = data / "bl.sqlite"
    stats, text = measure([sys.executable, str(BASELINE), "run", "--data", str(data), "--db", str(db),
                           "--lgbm-jobs", str(lgbm_jobs)], env)
    res = next(json.loads(line) for line in reversed(text.splitlines()) if line.startswith("{") and "steps_s" in line)
    return Run(stats["wall_s"], stats["peak_rss_mb"], res["steps_s"], {
        "decline AUC": f"{res['auc']:.3f} (random 20% holdout at one cutoff)",
        "segments released": f"{res['microsegments_kept']} microsegment cells ≥ 50 (+ 5 rules, 8 clusters, "
                             "3 bands, 4 channels)",
        "store": f"{db.stat().st_size / 2**20:.0f} MB, {res['rows']['membership']:,} membership rows"})


def without_method(config: str, method_id: str) -> str:
    """``config`` without the ``[[methods]]`` entry ``method_id`` (and without it as a dimension)."""
    head, *blocks = config.split("[[methods]]")
    kept = [b for b in blocks if f'id = "{method_id}"' not in b.split("\n", 2)[1]]
    if len(kept) == len(blocks):
        raise SystemExit(f"--without: no method with id {method_id!r} in the e2e config")
    text = "[[methods]]".join([head, *kept])
    return text.replace(f'"{method_id}", ', "").replace(f', "{method_id}"', "")


def run_microseg(data: Path, cfg: Path, env: dict[str, str]) -> Run:
    db = data / "ms.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    microseg = str(Path(sys.executable).with_name("microseg"))
    stats, text = measure([microseg, "run", str(cfg), "--db", str(db), "--json"], env)
    report = json.loads(text)
    ev = report["methods"].get("decline", {}).get("evaluation")
    released = [s for s in report["segments"] if s["status"] == "released"]
    micro = sum(1 for s in released if s["family"] == "micro")
    auc = f"{ev['roc_auc']:.3f} ({ev['protocol'].split(':')[0]}: trained before, evaluated on a later cutoff)" \
        if ev else "(no decline method)"
    return Run(stats["wall_s"], stats["peak_rss_mb"], report["timings"], {
        "decline AUC": auc,
        "segments released": f"{micro} microsegments (partition, merge-into-parent, differencing-checked) "
                             f"+ {len(released) - micro} method segments",
        "store": f"{db.stat().st_size / 2**20:.0f} MB, one row per released customer"})


def profile_microseg(data: Path, cfg: Path, env: dict[str, str]) -> Path:
    """One more microseg run under pyinstrument; the text report goes to bench/out/."""
    OUT.mkdir(exist_ok=True)
    target = OUT / f"e2e-profile-n{data.name.removeprefix('n')}.txt"
    db = data / "ms-profile.db"
    db.unlink(missing_ok=True)
    microseg = str(Path(sys.executable).with_name("microseg"))
    subprocess.run([sys.executable, "-m", "pyinstrument", "-r", "text", "-o", str(target), microseg, "run", str(cfg),
                    "--db", str(db)], check=True, env=env, capture_output=True)
    return target


def compile_package() -> None:
    """microseg's bytecode written as a regular (non-editable) install writes it, so that no run
    compiles the package's source again (where ``PYTHONDONTWRITEBYTECODE`` is set, an editable
    install would: ~0.1 s of every run at 10,000 customers)."""
    for folder in ("core", "plugins", "privacy"):
        if not compileall.compile_dir(REPO / folder, quiet=1):
            raise SystemExit(f"microseg's {folder}/ does not compile")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, nargs="+", default=[100_000])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "microseg-e2e")
    ap.add_argument("--lgbm-jobs", type=int, default=1, help="baseline LightGBM threads (microseg: n_jobs=1 a fit)")
    ap.add_argument("--engine", choices=["pandas", "dask"], default="pandas", help="microseg engine")
    ap.add_argument("--profile", action="store_true", help="also profile one microseg run (needs pyinstrument)")
    ap.add_argument("--baseline-jobs-also", metavar="N", type=int, default=None,
                    help="diagnostic: also run the baseline with N LightGBM threads, a further row per N")
    ap.add_argument("--without", metavar="METHOD_ID", default=None,
                    help="diagnostic: also run microseg without this method (e.g. decline), a third row per N")
    ap.add_argument("--write-docs", action="store_true", help="update docs/benchmarks.md")
    a = ap.parse_args()
    if not BASELINE.is_file():
        raise SystemExit(f"baseline not found: {BASELINE} (it lives in ../shared/bench)")
    env = {**os.environ, "MICROSEG_BENCH_KEY": "bench-key-0123456789abcdef"}
    compile_package()
    results: dict[int, dict[str, list[Run]]] = {}
    profiles = []
    for n in a.n:
        data = a.work / f"n{n}"
        if not (data / "contacts.parquet").exists():
            subprocess.run([sys.executable, str(BASELINE), "generate", "--n", str(n), "--out", str(data)], check=True)
        cfg = data / f"microseg-{a.engine}.toml"
        cfg.write_text(CONFIG.format(data=data.as_posix(), engine=a.engine))
        configs = {"microseg": cfg}
        if a.without:
            reduced = data / f"microseg-{a.engine}-without-{a.without}.toml"
            reduced.write_text(without_method(cfg.read_text(), a.without))
            configs[f"microseg without {a.without}"] = reduced
        also = f"baseline --lgbm-jobs {a.baseline_jobs_also}" if a.baseline_jobs_also else None
        results[n] = {"baseline": [], **({also: []} if also else {}), **{tool: [] for tool in configs}}
        for r in range(a.rounds):
            results[n]["baseline"].append(run_baseline(data, env, a.lgbm_jobs))
            if also:
                results[n][also].append(run_baseline(data, env, a.baseline_jobs_also))
            for tool, path in configs.items():
                results[n][tool].append(run_microseg(data, path, env))
            print(f"n={n:,} round {r + 1}: " + " | ".join(
                f"{tool} {runs[-1].wall_s:.1f} s {runs[-1].peak_rss_mb:,} MB" for tool, runs in results[n].items()),
                flush=True)
        if a.profile:
            profiles.append(profile_microseg(data, cfg, env))
    table = render(results, a)
    print(table)
    for p in profiles:
        print(f"profile: {p}")
    if a.write_docs:
        from bench_docs import replace_section
        replace_section("## End to end (bench/e2e.py)", table)


def _verdict(value: float, target: float) -> str:
    """A ratio against its target; a miss smaller than two decimals show is printed with three."""
    digits = 3 if 0 < value - target < 0.005 else 2
    return (f"{value:.{digits}f} ({'met' if value <= target else f'**missed** by {value - target:.{digits}f}'}, "
            f"target ≤ {target})")


def render(results: dict[int, dict[str, list[Run]]], a: argparse.Namespace) -> str:
    engine = "" if a.engine == "pandas" else f" --engine {a.engine}"
    without = f" --without {a.without}" if a.without else ""
    without += f" --baseline-jobs-also {a.baseline_jobs_also}" if a.baseline_jobs_also else ""
    out = [f"Command: `.venv/bin/python bench/e2e.py --n {' '.join(map(str, a.n))} --rounds {a.rounds}{engine}{without}` "
           f"(2 cores; baseline `--lgbm-jobs {a.lgbm_jobs}`, microseg `n_jobs = 1` a fit, its two fits side by side; "
           "each run a fresh process, "
           "baseline and microseg alternating)", "",
           "| N | tool | wall s, median (min–max) | peak RSS MB, max | µs / customer | wall ratio | RSS ratio |",
           "|---:|---|---:|---:|---:|---|---|"]
    med = {n: {t: statistics.median(r.wall_s for r in runs) for t, runs in res.items()} for n, res in results.items()}
    rss = {n: {t: max(r.peak_rss_mb for r in runs) for t, runs in res.items()} for n, res in results.items()}
    for n, res in results.items():
        for tool, runs in res.items():
            walls = [r.wall_s for r in runs]
            wr, rr = "1.00", "1.00"
            if tool == "microseg":
                wr = _verdict(med[n][tool] / med[n]["baseline"], TARGETS["wall"])
                rr = _verdict(rss[n][tool] / rss[n]["baseline"], TARGETS["rss"])
            elif tool != "baseline":                       # a diagnostic row: the ratio only, no verdict
                wr = f"{med[n][tool] / med[n]['baseline']:.2f} (diagnostic)"
                rr = f"{rss[n][tool] / rss[n]['baseline']:.2f} (diagnostic)"
            out.append(f"| {n:,} | {tool} | {med[n][tool]:.1f} ({min(walls):.1f}–{max(walls):.1f}) | "
                       f"{rss[n][tool]:,} | {med[n][tool] / n * 1e6:.1f} | {wr} | {rr} |")
    if len(results) > 1:
        lo, hi = min(results), max(results)
        out += ["", f"Growth, time per customer at {hi:,} ÷ at {lo:,}:", ""]
        for tool in ("baseline", "microseg"):
            g = (med[hi][tool] / hi) / (med[lo][tool] / lo)
            out.append(f"- {tool}: " + (_verdict(g, TARGETS["growth"]) if tool == "microseg" else f"{g:.2f}"))
    out += ["", "What each run produced (last round):", "",
            "| N | tool | decline AUC | segments released | store |", "|---:|---|---|---|---|"]
    for n, res in results.items():
        for tool, runs in res.items():
            o = runs[-1].output
            out.append(f"| {n:,} | {tool} | {o['decline AUC']} | {o['segments released']} | {o['store']} |")
    out += ["", "Per-step seconds (median over rounds):", ""]
    for n, res in results.items():
        for tool, runs in res.items():
            steps = {k: statistics.median(r.steps.get(k, 0.0) for r in runs) for k in runs[-1].steps}
            out.append(f"- N={n:,} {tool}: " + ", ".join(f"{k} {v:.2f}" for k, v in steps.items()))
    return "\n".join(out)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main()
