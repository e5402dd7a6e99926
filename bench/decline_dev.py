#!/usr/bin/env python3
"""Development figures for clv-decline: what its defaults are chosen on (never the test window).

    .venv/bin/python bench/decline_dev.py                       # both dev sets, default settings
    .venv/bin/python bench/decline_dev.py --set btyd=true n_origins=6
    .venv/bin/python bench/decline_dev.py --only synthetic --n 100000 --time

Dev sets (no claim is made on either):

retail
    Online Retail with every transaction on or after the test window's start (2011-09-11) dropped
    and ``as_of`` = 2011-09-11, so every label ends at or before 2011-09-11. The method then runs
    its backtest protocol: the ``validation`` figure (trained on cutoffs ≤ 2011-05-14, trees chosen
    on 2011-06-13 — the same figure ``bench/quality.py`` prints) and the backtest figure (a model
    trained on older cutoffs, scored at 2011-06-13).
synthetic
    The seeded data of ``bench/e2e.py`` (``../shared/bench/baseline.py generate``) at ``--n``
    customers, horizon 182 days as in e2e's config; backtest protocol (the data end at as_of).

Prints, per set, the backtest ROC AUC, the validation ROC AUC, training rows and the fit time
(``--time``: also each phase's wall seconds; with several ``--seeds``: each seed's figures and their
means — the synthetic backtest moves by a few hundredths between seeds, so compare means).
With ``--compare PARAM=VALUE ...``, the fit is timed instead, alternating those settings and the
``--set`` ones ``--repeats`` times on fresh copies of the data (no cached frames); prints each
one's median wall and CPU seconds, the ratio set ÷ compared and each one's backtest / validation
ROC AUC and trees (seed 0), e.g. ``--only synthetic --n 100000 --set activity_features=true
--compare activity_features=false`` under ``flock /work/bench.lock``.
With ``--versus PARAM=VALUE ...``, the figures of those settings and of the ``--set`` ones are
computed in the same invocation, seed by seed (each seed's pair on the same data), with both means,
e.g. ``--seeds 0 1 2 3 4 5 6 7 --set rank_features=true --versus rank_features=false``.
Needs ../shared/data (retail) and ../shared/bench/baseline.py (synthetic).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1] / "shared"
RETAIL_CUT = pd.Timestamp("2011-09-11")
WINDOWS = [(90, 180)]      # the behaviour frame's windows (core/features.py DEFAULT_WINDOWS)


def parse_value(text: str) -> object:
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    if low == "none":
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def retail_data():
    from microseg.config import load_config
    from microseg.data import CustomerData
    from microseg.loading import load_data
    data, _ = load_data(load_config(HERE / "configs" / "online_retail.toml"))
    tx = data.transactions
    tx = tx.loc[tx["ts"].to_numpy() < RETAIL_CUT.to_datetime64()]
    return CustomerData(customers=data.customers, transactions=tx, as_of=RETAIL_CUT, windows=WINDOWS[0]), \
        {"horizon_days": 90}


def synthetic_data(n: int):
    from microseg.data import CustomerData
    out = Path(f"/tmp/decline_dev_syn_{n}")
    if not (out / "transactions.parquet").exists():
        subprocess.run([sys.executable, str(SHARED / "bench" / "baseline.py"), "generate", "--n", str(n),
                        "--out", str(out)], check=True, capture_output=True)
    cust = pd.read_parquet(out / "customers.parquet").set_index("customer_id")
    tx = pd.read_parquet(out / "transactions.parquet")
    return (CustomerData(customers=cust, transactions=tx, as_of=pd.Timestamp("2026-01-01"),
                         signup_column="signup_date", windows=WINDOWS[0]), {"horizon_days": 182})


PHASES: dict[str, float] = {}


def time_phases() -> None:
    """Wall seconds of the fit's phases summed into ``PHASES`` (``--time``; LightGBM is imported
    first, so that its import is not counted in the first fit's binning)."""
    import functools

    import lightgbm  # noqa: F401
    from microseg.plugins import _lgbm, clv_decline as cd
    for owner, name, label in [(cd._RowTable, "__init__", "row_table"), (_lgbm.BinnedRows, "__init__", "binning"),
                               (cd.ClvDecline, "_validated", "early_stopping_fit"), (_lgbm.BinnedRows, "fit", "all_fits"),
                               (cd.ClvDecline, "_final_model", "final_fit"), (cd.ClvDecline, "_score", "scoring"),
                               (cd.ClvDecline, "_drivers", "drivers")]:
        def timed(*a, _f=getattr(owner, name), _label=label, **k):
            t0 = time.perf_counter()
            try:
                return _f(*a, **k)
            finally:
                PHASES[_label] = PHASES.get(_label, 0.0) + time.perf_counter() - t0
        setattr(owner, name, functools.wraps(getattr(owner, name))(timed))


def evaluate(data, params: dict) -> dict:
    from microseg.plugins.clv_decline import ClvDecline
    customers = data.features()
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    PHASES.clear()
    m = ClvDecline(**params).fit(customers, data=data)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    ev = m.evaluation_
    val = ev.get("validation") or {}
    return {"backtest_auc": round(ev.get("roc_auc", float("nan")), 4),
            "baseline_auc": round(m.comparison_.values()["roc_auc"][1], 4) if len(ev.get("baseline", "")) else None,
            "validation_auc": round(val["roc_auc"], 4) if val.get("roc_auc") is not None else None,
            "eligible": ev.get("eligible"), "training_rows": m.training_rows_, "n_trees": m.n_trees_,
            "fit_wall_s": round(wall, 2), "fit_cpu_s": round(cpu, 2), "protocol": ev.get("protocol")} | \
        ({"phase_s": {k: round(v, 2) for k, v in PHASES.items()}} if PHASES else {})


def compared(data, defaults: dict, base: dict, params: dict, repeats: int) -> dict:
    """Median fit wall / CPU seconds of the ``base`` and ``params`` settings, alternated (LightGBM
    imported first, so that the first fit does not pay for it)."""
    import lightgbm  # noqa: F401
    from microseg.plugins.clv_decline import ClvDecline
    runs: dict[str, list] = {"base": [], "set": []}
    fits: dict[str, tuple] = {}
    for _ in range(repeats):
        for name, extra in (("base", base), ("set", params)):
            fresh = dataclasses.replace(data, _cache={})
            customers = fresh.features()
            t0, cpu0 = time.perf_counter(), time.process_time()
            m = ClvDecline(**defaults | {"n_jobs": 1, "random_state": 0} | extra).fit(customers, data=fresh)
            runs[name].append((time.perf_counter() - t0, time.process_time() - cpu0))
            fits[name] = (round(m.evaluation_.get("roc_auc", float("nan")), 4),
                          round((m.evaluation_.get("validation") or {}).get("roc_auc") or float("nan"), 4), m.n_trees_)
    med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in runs.items()}
    return {"compared": base, "compared_wall_s": round(med["base"][0], 2), "compared_cpu_s": round(med["base"][1], 2),
            "set_wall_s": round(med["set"][0], 2), "set_cpu_s": round(med["set"][1], 2),
            "wall_ratio": round(med["set"][0] / med["base"][0], 3), "cpu_ratio": round(med["set"][1] / med["base"][1], 3),
            "repeats": repeats, "compared_backtest_validation_trees": fits["base"],
            "set_backtest_validation_trees": fits["set"]}


def versus_figures(data, defaults: dict, base: dict, params: dict, seeds: list[int]) -> dict:
    """Backtest / validation ROC AUC, trees and fit CPU seconds of the ``base`` and ``params``
    settings at each seed (the pair computed one after the other on the same data) and the means."""
    out: dict[str, dict] = {"versus": {"params": base}, "with_set": {"params": params}}
    for seed in seeds:
        for name, extra in (("versus", base), ("with_set", params)):
            r = evaluate(data, defaults | {"n_jobs": 1, "random_state": seed} | extra)
            out[name].setdefault("backtest_auc", []).append(r["backtest_auc"])
            out[name].setdefault("validation_auc", []).append(r["validation_auc"])
            out[name].setdefault("n_trees", []).append(r["n_trees"])
            out[name].setdefault("fit_cpu_s", []).append(r["fit_cpu_s"])
    for res in out.values():
        res["mean_backtest_auc"] = round(statistics.fmean(res["backtest_auc"]), 4)
        res["mean_validation_auc"] = round(statistics.fmean(v or 0 for v in res["validation_auc"]), 4)
        res["mean_n_trees"] = round(statistics.fmean(res["n_trees"]), 1)
    return {"seeds": seeds} | out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="*", default=["retail", "synthetic"])
    ap.add_argument("--n", type=int, nargs="*", default=[20000])
    ap.add_argument("--set", nargs="*", default=[], metavar="PARAM=VALUE")
    ap.add_argument("--seeds", type=int, nargs="*", default=[0], help="random_state of each fit (figures per seed and mean)")
    ap.add_argument("--windows", type=int, nargs="*", help="behaviour-frame windows (a prototype of more)")
    ap.add_argument("--time", action="store_true", help="also print the fit's phases' wall seconds (phase_s)")
    ap.add_argument("--compare", nargs="*", metavar="PARAM=VALUE",
                    help="time the fit: these settings vs the --set ones, alternated --repeats times")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--versus", nargs="*", metavar="PARAM=VALUE",
                    help="also the figures of these settings, seed by seed beside the --set ones (means of both)")
    args = ap.parse_args(argv)
    if args.time:
        time_phases()
    if args.windows:
        WINDOWS[0] = tuple(args.windows)
    warnings.filterwarnings("ignore")
    params = {k: parse_value(v) for k, v in (s.split("=", 1) for s in args.set)}
    sets = []
    if "retail" in args.only:
        sets.append(("retail", retail_data))
    if "synthetic" in args.only:
        sets += [(f"synthetic {n:,}", lambda n=n: synthetic_data(n)) for n in args.n]
    for name, make in sets:
        data, defaults = make()
        if args.compare is not None:
            base = {k: parse_value(v) for k, v in (s.split("=", 1) for s in args.compare)}
            print(json.dumps({"set": name, "params": params, "load": os.getloadavg()[0]}
                             | compared(data, defaults, base, params, args.repeats)), flush=True)
            continue
        if args.versus is not None:
            versus = {k: parse_value(v) for k, v in (s.split("=", 1) for s in args.versus)}
            print(json.dumps({"set": name, "load": os.getloadavg()[0]} | versus_figures(data, defaults, versus, params,
                                                                                    args.seeds)), flush=True)
            continue
        runs = [evaluate(data, defaults | {"n_jobs": 1, "random_state": seed} | params) for seed in args.seeds]
        res = runs[0] if len(runs) == 1 else {
            "seeds": args.seeds, "backtest_auc": [r["backtest_auc"] for r in runs],
            "validation_auc": [r["validation_auc"] for r in runs],
            "mean_backtest_auc": round(sum(r["backtest_auc"] for r in runs) / len(runs), 4),
            "mean_validation_auc": round(sum(r["validation_auc"] or 0 for r in runs) / len(runs), 4),
            "training_rows": runs[0]["training_rows"], "n_trees": [r["n_trees"] for r in runs],
            "fit_cpu_s": [r["fit_cpu_s"] for r in runs]} | ({"phase_s": [r["phase_s"] for r in runs]} if args.time else {})
        print(json.dumps({"set": name, "params": params, "load": os.getloadavg()[0]} | res), flush=True)


if __name__ == "__main__":
    main()
