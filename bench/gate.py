#!/usr/bin/env python3
"""Release gate at scale: ~340 candidates over 1,000,000 customers.

    .venv/bin/python bench/gate.py [--n 1000000] [--k 50]

Three flat method families (11 RFM-like labels, 4 regions, 6 channel labels with skewed sizes)
and the microsegments crossing them (levels 1..3 with parents), as the pipeline builds them.
Prints wall time, peak RSS and what the gate decided.
"""
from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def candidates(n: int, seed: int = 0):
    from microseg.compose import method_segments, microsegments
    from microseg.method import Assignment
    rng = np.random.default_rng(seed)
    ids = pd.RangeIndex(n)
    dims = {
        "rfm": rng.choice([f"R{i}" for i in range(11)], n, p=np.r_[[0.2, 0.15, 0.15, 0.1, 0.1, 0.08, 0.07, 0.06, 0.05],
                                                                    [0.03, 0.01]]),
        "region": rng.choice(["North", "South", "East", "West"], n),
        "channel": rng.choice(["email", "sms", "push", "none", "unresponsive", "referrer"], n,
                              p=[0.3, 0.2, 0.05, 0.4, 0.049, 0.001]),
    }
    assignments = {k: Assignment(labels=pd.Series(v, index=ids)) for k, v in dims.items()}
    specs = [s for k, a in assignments.items() for s in method_segments(k, k, a, ids)]
    specs += microsegments(list(dims), assignments, ids)
    return specs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--k", type=int, default=50)
    a = ap.parse_args()
    from microseg.privacy.gate import Candidate, GatePolicy, apply_gate
    specs = candidates(a.n)
    cands = [Candidate(s.key, s.family, s.members, s.parent, s.label) for s in specs]
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    result = apply_gate(cands, a.n, GatePolicy(k=a.k))
    secs = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    counts = pd.Series([d.status for d in result.decisions.values()]).value_counts().to_dict()
    table = "\n".join([
        f"Command: `.venv/bin/python bench/gate.py --n {a.n} --k {a.k}` (2 cores)", "",
        "| customers | candidates | k | gate seconds | rounds | peak RSS MB (process) | released | merged | suppressed |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {a.n:,} | {len(cands)} | {a.k} | {secs:.2f} | {result.rounds} | {rss:,.0f} (before gate {rss0:,.0f}) | "
        f"{counts.get('released', 0)} | {counts.get('merged', 0)} | {counts.get('suppressed', 0)} |"])
    print(table)
    from bench_docs import replace_section
    replace_section("## Release gate (bench/gate.py)", table)


if __name__ == "__main__":
    main()
