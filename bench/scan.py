#!/usr/bin/env python3
"""PII scan: microseg's column classifier vs presidio-structured, same offline analyzer.

    .venv/bin/pip install -e ".[bench]"            # presidio-structured and faker (bench-only)
    .venv/bin/python bench/scan.py                 # prints the tables, updates docs/benchmarks.md

Two tables. **Generalisation**: column-level precision / recall / F1 of "holds personal data" on
``bench/scan_eval.py``'s independent Faker sets — the tuning set (the only one the scan's
thresholds were chosen on) and held-out seeds and locale mixes — with every wrong column named.
**Throughput and known tables**:
Tables: a seeded synthetic 1,000,000 × 6 table with known ground truth, and UCI Adult, UCI Bank
Marketing and UCI Online Retail with hand-labelled column kinds. presidio-structured analyses
every sampled *row*; on 1M rows it would take far too long, so it gets its own `n` row sample
and its full-table time is extrapolated from the measured cells/s (marked "extrapolated").
Metrics are per column: precision / recall of "holds personal data" (kind ≠ none) and the share
of columns whose kind is exactly right.
"""
from __future__ import annotations

import os
import resource
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
DATA = HERE.parents[1] / "shared" / "data"
ADULT = ["age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation", "relationship",
         "race", "sex", "capital-gain", "capital-loss", "hours-per-week", "native-country", "income"]
DIRECT_ENTITIES = {"PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "UK_NHS",
                   "IP_ADDRESS", "UK_NINO"}


def synthetic(n: int, seed: int = 0) -> tuple[pd.DataFrame, dict[str, str]]:
    rng = np.random.default_rng(seed)
    first = rng.choice(["Olivia", "Liam", "Emma", "Noah", "Ava", "Lucas", "Mia", "Leo"], n)
    last = rng.choice(["Smith", "Jones", "Patel", "Silva", "Novak", "Kim", "Hansen"], n)
    df = pd.DataFrame({
        "name": np.char.add(np.char.add(first.astype(str), " "), last.astype(str)),
        "email": [f"user{i}@example.com" for i in range(n)],
        "phone": [f"+44 7{x:09d}" for x in rng.integers(0, 10**9, n)],
        "amount": np.round(rng.lognormal(7, 1.2, n), 2),
        "city": rng.choice(["London", "Leeds", "Oslo", "Lisbon", "Madrid"], n),
        "note": np.where(rng.random(n) < 0.05, "please call me on 020 7946 0018", "thanks for the quick delivery"),
    })
    truth = {"name": "direct", "email": "direct", "phone": "direct", "amount": "none", "city": "quasi", "note": "direct"}
    return df, truth


def real_tables() -> list[tuple[str, pd.DataFrame, dict[str, str]]]:
    out = []
    adult = pd.read_csv(DATA / "adult.data.gz", header=None, names=ADULT, skipinitialspace=True)
    quasi = {"age", "workclass", "education", "education-num", "marital-status", "occupation", "relationship", "race",
             "sex", "native-country"}
    out.append(("UCI Adult", adult, {c: "quasi" if c in quasi else "sensitive" if c == "income" else "none"
                                     for c in ADULT}))
    bank = pd.read_csv(DATA / "bank_marketing_full.csv.gz", sep=";")
    out.append(("UCI Bank Marketing", bank, {c: "quasi" if c in ("age", "job", "marital", "education") else "none"
                                             for c in bank.columns}))
    retail = pd.read_csv(DATA / "online_retail.csv.gz", nrows=200_000)
    out.append(("UCI Online Retail (200k rows)", retail,
                {c: "identifier" if c == "CustomerID" else "quasi" if c == "Country" else "none" for c in retail.columns}))
    return out


def scores(pred: dict[str, str], truth: dict[str, str]) -> tuple[float, float, float]:
    tp = sum(1 for c in truth if truth[c] != "none" and pred.get(c, "none") != "none")
    fp = sum(1 for c in truth if truth[c] == "none" and pred.get(c, "none") != "none")
    fn = sum(1 for c in truth if truth[c] != "none" and pred.get(c, "none") == "none")
    exact = sum(1 for c in truth if pred.get(c, "none") == truth[c]) / len(truth)
    return (tp / (tp + fp) if tp + fp else 1.0), (tp / (tp + fn) if tp + fn else 1.0), exact


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_microseg(df: pd.DataFrame, registry) -> tuple[dict[str, str], float]:
    from microseg.privacy.scan import scan_frame
    t0 = time.perf_counter()
    findings = scan_frame(df, registry=registry)
    return {f.column: f.kind for f in findings}, time.perf_counter() - t0


def run_structured(df: pd.DataFrame, analyzer, n: int) -> tuple[dict[str, str], float, int]:
    from presidio_structured import PandasAnalysisBuilder
    n = min(n, len(df))
    t0 = time.perf_counter()
    mapping = PandasAnalysisBuilder(analyzer=analyzer).generate_analysis(df, n=n).entity_mapping
    secs = time.perf_counter() - t0
    kinds = {c: ("direct" if e in DIRECT_ENTITIES else "quasi" if e in ("LOCATION", "DATE_TIME", "NRP") else "none")
             for c, e in mapping.items()}
    return kinds, secs, n


def generalisation(registry) -> list[str]:
    """Per evaluation set: columns, precision, recall, F1, false positives / negatives, seconds."""
    from scan_eval import SETS, evaluate, make_tables
    lines = ["| set | role | seed | locales | columns (personal) | precision | recall | F1 | false positives | "
             "false negatives | scan seconds |", "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    missed = []
    for name, seed, locales, role in SETS:
        tables = make_tables(seed, locales)
        t0 = time.perf_counter()
        res = evaluate(tables, registry)
        secs = time.perf_counter() - t0
        personal = sum(v for _, truth in tables for v in truth.values())
        total = sum(len(truth) for _, truth in tables)
        lines.append(f"| {name} | {role} | {seed} | {', '.join(locales)} | {total} ({personal}) | {res['precision']:.3f} | "
                     f"{res['recall']:.3f} | {res['f1']:.3f} | {res['fp']} | {res['fn']} | {secs:.1f} |")
        missed += [f"{name}: {w}" for w in res["wrong"]]
        print(lines[-1], flush=True)
    return lines + ([""] + [f"- wrong: {m}" for m in missed] if missed else ["", "No column wrong."])


def make_tables_columns() -> list[object]:
    from scan_eval import BUSINESS, PERSONAL
    return [*PERSONAL, *BUSINESS]


def main() -> None:
    warnings.filterwarnings("ignore")
    from microseg.privacy.recognizers import value_recognizers
    from microseg.privacy.nlp_offline import build_analyzer
    from microseg.registry import Registry
    registry = Registry(entry_points=False)
    analyzer = build_analyzer(value_recognizers())
    gen = generalisation(registry)
    tables = [("synthetic 1M × 6", *synthetic(1_000_000))]
    if DATA.is_dir():
        tables += real_tables()
    lines = ["Command: `.venv/bin/python bench/scan.py` (2 cores; presidio-structured needs "
             "`pip install presidio-structured`; same offline analyzer for both)", "",
             "| tool | table | rows × cols | seconds | cells / s | process peak RSS so far, MB | precision | recall | exact kind |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, df, truth in tables:
        cells = df.shape[0] * df.shape[1]
        pred, secs = run_microseg(df, registry)
        p, r, e = scores(pred, truth)
        lines.append(f"| microseg scan | {name} | {df.shape[0]:,} × {df.shape[1]} | {secs:.2f} | {cells / secs:,.0f} | "
                     f"{rss_mb():,.0f} | {p:.2f} | {r:.2f} | {e:.2f} |")
        try:
            spred, ssecs, n = run_structured(df, analyzer, 2000)
        except ImportError:
            lines.append(f"| presidio-structured | {name} | not installed | | | | | | |")
            continue
        p, r, e = scores(spred, truth)
        rate = n * df.shape[1] / ssecs
        full = cells / rate
        lines.append(f"| presidio-structured (n = {n:,} rows) | {name} | {n:,} × {df.shape[1]} | {ssecs:.2f} "
                     f"(whole table, extrapolated: {full:,.0f}) | {rate:,.0f} | {rss_mb():,.0f} | {p:.2f} | {r:.2f} | "
                     f"{e:.2f} |")
        print(lines[-2], lines[-1], sep="\n", flush=True)
    load = os.getloadavg()[0]
    lines[0] += f"; 1-minute load average when it finished: {load:.1f} (above 2, other processes shared the cores)"
    n_cols = len(make_tables_columns())
    table = "\n".join([f"### Generalisation (bench/scan_eval.py: 3 tables × {n_cols} columns × 300 rows per set)", "",
                       *gen, "",
                       "### Throughput and known tables", "", *lines])
    print(table)
    from bench_docs import replace_section
    replace_section("## PII scan (bench/scan.py)", table)


if __name__ == "__main__":
    main()
