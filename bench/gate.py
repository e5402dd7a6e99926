#!/usr/bin/env python3
"""Release gate at scale, and its cost over a sequence of runs.

    flock /work/bench.lock .venv/bin/python bench/gate.py [--n 1000000] [--k 50] [--seq-n 100000] [--runs 12]

Part 1 — one run: three method families (11 RFM-like labels, 4 regions, 6 channel labels with
skewed sizes), the microsegments crossing them (levels 1..3, ~340 candidates) and one score
released in quartile bands, at ``--n`` customers. Prints the time of the release step (columns,
gate, segment rows), the gate's own time and rounds, peak RSS and the information lost.

Part 2 — ``--runs`` monthly runs over a drifting base of ``--seq-n`` customers in one store:
2 % leave and 2.5 % join each run (``--leave``, ``--join``), RFM labels move for 15 % of customers, channels for 3 %,
regions for 0.5 %, and the rule ``age >= 65`` is edited to 64 (run 5) and to 66 (run 9). Each
run is checked together with the earlier ones (``release_scope = {runs = 12}``, holding earlier
values) and, for comparison, alone (``{runs = 1}``). Prints per run the share of candidate
segments withheld or merged, of releasable customers not released, of released customers with
a coarsened or held value, and the error noisy sizes (OpenDP, ``[privacy] dp``) would add
instead.
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

SECRET = b"bench-gate-secret-0123456789abcdef"
RFM = [f"R{i}" for i in range(11)]
RFM_P = np.r_[[0.2, 0.15, 0.15, 0.1, 0.1, 0.08, 0.07, 0.06, 0.05], [0.03, 0.01]]
REGIONS = ["North", "South", "East", "West"]
CHANNELS = ["email", "sms", "push", "none", "unresponsive", "referrer"]
CHANNEL_P = [0.3, 0.2, 0.05, 0.4, 0.049, 0.001]


def _specs(labels: dict[str, np.ndarray], ids: pd.Index, dims: list[str]):
    from microseg.compose import method_segments, microsegments
    from microseg.method import Assignment
    assignments = {k: Assignment(labels=pd.Series(v, index=ids)) for k, v in labels.items()}
    specs = [s for k, a in assignments.items() for s in method_segments(k, k, a, ids)]
    return specs + microsegments(dims, assignments, ids)


def _rss() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one_run(n: int, k: int) -> str:
    """Two runs at ``n`` customers in one store: the first alone, the second (after a month of
    drift) checked together with the first."""
    from microseg.privacy.history import release_namespace
    from microseg.privacy.pseudonym import pseudonymise
    from microseg.privacy.release import ReleaseSpec, gate_release
    from microseg.privacy.released import released_rows
    from microseg.privacy.scope import ReleaseScope
    from microseg.privacy.subkeys import key_id
    from microseg.store import Store
    base = DriftingBase(n, seed=0)
    rng = np.random.default_rng(0)
    namespace = release_namespace("pseudonym", SECRET)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        store = Store(f"sqlite:///{Path(folder) / 'one.db'}")
        for run in (1, 2):
            if run == 2:
                base.step(2)
            ids = pd.Index(base.frame.index.astype(str))
            specs = _specs(base.labels(), ids, ["rfm", "region", "channel"])
            scores = pd.DataFrame({"decline.p": rng.beta(2, 5, len(ids))}, index=ids)
            spec = ReleaseSpec(families=["rfm", "region", "channel", "senior", "micro"],
                               micro_dims=["rfm", "region", "channel"], k=k, scores=scores, score_bands=4,
                               scope=ReleaseScope(runs=12))
            keys = pseudonymise(ids.to_numpy(), SECRET)
            rss0 = _rss()
            t0 = time.perf_counter()
            release = gate_release(spec, specs, ids, np.arange(len(ids)), keys, namespace, store)
            secs = time.perf_counter() - t0
            outcome, gate_secs, history_secs = release.outcome, release.timings["gate"], release.timings["history"]
            run_row = {"as_of": "2025-01-01", "config_hash": "c", "policy_hash": "p", "input_fingerprint": "{}",
                       "plugin_versions": "{}", "timings": "{}", "n_customers": len(ids), "k": k, "report": "{}",
                       "key_id": key_id(SECRET), "namespace": namespace, "scope": json.dumps(release.scope)}
            t2 = time.perf_counter()
            run_id = store.write_run(run_row, release.segment_rows, release.members, keys, release.cells, [], SECRET)
            write_secs = time.perf_counter() - t2
            t3 = time.perf_counter()
            exported = released_rows(store, run_id)
            export_secs = time.perf_counter() - t3
            loss = release.loss()
            status = pd.Series([r["status"] for r in release.segment_rows[:len(specs)]]).value_counts().to_dict()
            per = ", ".join(f"{c} {v['coarsened_share']:.1%}" for c, v in loss["per_column"].items())
            rows.append(f"| {run} ({'alone' if run == 1 else 'with run 1'}) | {len(ids):,} | {len(specs)} (+ score "
                        f"bands) | {k} | {secs:.2f} | {history_secs:.2f} | {gate_secs:.2f} | {outcome.rounds} | "
                        f"{write_secs:.1f} | {export_secs:.1f} ({len(exported):,} rows) | {_rss():,.0f} (before "
                        f"{rss0:,.0f}) | {status.get('released', 0)} / "
                        f"{status.get('merged', 0)} / {status.get('withheld', 0)} | "
                        f"{1 - loss['released_customers'] / len(ids):.2%} | {loss['coarsened_share']:.1%} | {per} |")
        store.engine.dispose()
    return "\n".join([
        f"Command: `flock /work/bench.lock .venv/bin/python bench/gate.py --n {n} --k {k}` (2 cores shared with "
        "other work: figures measured while the machine was loaded). Release step = columns, earlier releases "
        "read and joined (history), gate, segment rows; export table = reading the stored run back as the "
        "export's rows (`microseg.privacy.released.released_rows`, before any file format).", "",
        "| run | customers | candidates | k | release step s | … history s | … gate s | rounds | store write s | "
        "export table s | peak RSS MB | "
        "released / merged / withheld candidates | customers not released | coarsened (any column) | "
        "coarsened per column |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---|", *rows])


# ------------------------------------------------------------------------------ the sequence
class DriftingBase:
    """A customer base that drifts from run to run (seeded)."""

    def __init__(self, n: int, seed: int = 1, leave: float = 0.02, join: float = 0.025) -> None:
        self.rng = np.random.default_rng(seed)
        self.leave, self.join = leave, join
        self.next_id = 0
        self.frame = self._new(n)
        self.threshold = 65

    def _new(self, n: int) -> pd.DataFrame:
        r = self.rng
        ids = np.arange(self.next_id, self.next_id + n)
        self.next_id += n
        return pd.DataFrame({"rfm": r.choice(RFM, n, p=RFM_P), "region": r.choice(REGIONS, n),
                             "channel": r.choice(CHANNELS, n, p=CHANNEL_P), "age": r.integers(18, 96, n)},
                            index=pd.Index(ids, name="id"))

    def step(self, run: int) -> None:
        r, f = self.rng, self.frame
        f = f[r.random(len(f)) >= self.leave]
        for col, share, values, p in (("rfm", 0.15, RFM, RFM_P), ("channel", 0.03, CHANNELS, CHANNEL_P),
                                      ("region", 0.005, REGIONS, None)):
            move = r.random(len(f)) < share
            f.loc[move, col] = r.choice(values, int(move.sum()), p=p)
        self.frame = pd.concat([f, self._new(int(len(f) * self.join))])
        self.threshold = {5: 64, 9: 66}.get(run, self.threshold)

    def labels(self) -> dict[str, np.ndarray]:
        f = self.frame
        return {"rfm": f["rfm"].to_numpy(), "region": f["region"].to_numpy(), "channel": f["channel"].to_numpy(),
                "senior": np.where(f["age"].to_numpy() >= self.threshold, "Senior", "Other")}


def sequence(n: int, runs: int, k: int, scope_runs: int, hold: bool = True, leave: float = 0.02,
             join: float = 0.025) -> list[dict]:
    from microseg.privacy.dp import noisy_counts
    from microseg.privacy.history import release_namespace
    from microseg.privacy.pseudonym import pseudonymise
    from microseg.privacy.release import ReleaseSpec, gate_release
    from microseg.privacy.scope import ReleaseScope
    from microseg.privacy.subkeys import key_id
    from microseg.store import Store
    base = DriftingBase(n, leave=leave, join=join)
    out = []
    with tempfile.TemporaryDirectory() as folder:
        store = Store(f"sqlite:///{Path(folder) / 'seq.db'}")
        namespace = release_namespace("pseudonym", SECRET)
        for run in range(1, runs + 1):
            if run > 1:
                base.step(run)
            ids = pd.Index(base.frame.index.astype(str))
            labels = base.labels()
            specs = _specs(labels, ids, ["rfm", "region", "channel"])
            spec = ReleaseSpec(families=["rfm", "region", "channel", "senior", "micro"],
                               micro_dims=["rfm", "region", "channel"], k=k,
                               scope=ReleaseScope(runs=scope_runs, hold=hold))
            keys = pseudonymise(ids.to_numpy(), SECRET)
            t0 = time.perf_counter()
            release = gate_release(spec, specs, ids, np.arange(len(ids)), keys, namespace, store)
            secs = time.perf_counter() - t0
            run_row = {"as_of": "2025-01-01", "config_hash": "c", "policy_hash": "p", "input_fingerprint": "{}",
                       "plugin_versions": "{}", "timings": "{}", "n_customers": len(ids), "k": k, "report": "{}",
                       "key_id": key_id(SECRET), "namespace": namespace, "scope": json.dumps(release.scope)}
            store.write_run(run_row, release.segment_rows, release.members, keys, release.cells, [], SECRET)
            cand = release.segment_rows[:len(specs)]
            loss = release.loss()
            held = max(v["held_share"] for v in loss["per_column"].values())
            sizes = {r["key"]: r["released_size"] for r in cand if r["status"] == "released"}
            noisy = noisy_counts(sizes, epsilon=1.0 / runs)        # one budget of ε = 1 per count over the scope
            rel_err = np.median([abs(noisy[key] - v) / v for key, v in sizes.items()]) if sizes else 0.0
            out.append({"run": run, "customers": len(ids), "seconds": secs,
                        "segments_withheld": sum(r["status"] != "released" for r in cand) / len(cand),
                        "not_released": 1 - loss["released_customers"] / len(ids),
                        "coarsened": loss["coarsened_share"], "held": held,
                        "rfm_coarsened": loss["per_column"]["rfm"]["coarsened_share"],
                        "senior_coarsened": loss["per_column"]["senior"]["coarsened_share"],
                        "dp_median_rel_error": rel_err})
        store.engine.dispose()
    return out


def sequence_table(n: int, runs: int, k: int, leave: float = 0.02, join: float = 0.025) -> str:
    variants = [sequence(n, runs, k, scope_runs=r, leave=leave, join=join) for r in (12, 3, 1)]

    def trio(i: int, key: str, fmt: str = "{:.1%}") -> str:
        return " / ".join(fmt.format(v[i][key]) for v in variants)

    churn = "" if (leave, join) == (0.02, 0.025) else f" --leave {leave} --join {join}"
    lines = [f"Command: `flock /work/bench.lock .venv/bin/python bench/gate.py --seq-n {n} --runs {runs} --k {k}{churn}` "
             f"({runs} monthly runs over a drifting base of {n:,} customers; {leave:.1%} leave and {join:.1%} join "
             "each run). Each cell: "
             "`release_scope = {runs = 12}` / `{runs = 3}` / `{runs = 1}` (the run alone); hold on.",
             "",
             "| run | customers | candidate segments withheld or merged | customers not released | released "
             "customers with a coarsened value | … held at an earlier value | rule `senior` coarsened | release "
             f"step s | noisy sizes instead (ε = 1/{runs} per count per run): median relative error |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for i in range(runs):
        lines.append(f"| {i + 1} | {variants[0][i]['customers']:,} | {trio(i, 'segments_withheld')} | "
                     f"{trio(i, 'not_released')} | {trio(i, 'coarsened')} | {trio(i, 'held')} | "
                     f"{trio(i, 'senior_coarsened')} | {trio(i, 'seconds', '{:.2f}')} | "
                     f"{variants[0][i]['dp_median_rel_error']:.2%} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--k", type=int, default=50)
    ap.add_argument("--seq-n", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=12)
    ap.add_argument("--leave", type=float, default=0.02, help="share of customers leaving each run")
    ap.add_argument("--join", type=float, default=0.025, help="new customers each run, as a share")
    ap.add_argument("--no-docs", action="store_true", help="print only; do not update docs/benchmarks.md")
    a = ap.parse_args()
    parts = []
    if a.n:
        parts.append(one_run(a.n, a.k))
        print(parts[-1], flush=True)
    if a.seq_n and a.runs:
        parts.append(sequence_table(a.seq_n, a.runs, a.k, a.leave, a.join))
        print("\n" + parts[-1], flush=True)
    if not a.no_docs and len(parts) == 2:
        from bench_docs import replace_section
        replace_section("## Release gate (bench/gate.py)", "\n\n".join(parts))


if __name__ == "__main__":
    main()
