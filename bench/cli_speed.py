"""CLI responsiveness: median wall time of N cold process starts per command.

A fresh Python process per start (what a user's shell does), in a scratch folder holding the
starter config and two stored runs (``microseg init`` + ``microseg run`` twice). Prints a table and,
with ``--write``, replaces the section in docs/benchmarks.md.

    flock /work/bench.lock .venv/bin/python bench/cli_speed.py --repeats 7 --write
    flock /work/bench.lock .venv/bin/python bench/cli_speed.py --only "plugins --json"   # some rows, printed
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_docs import replace_section  # noqa: E402

EXE = str(Path(sys.executable).with_name("microseg"))
TARGETS = {"help": 0.3, "data": 1.0}       # seconds: issue 13's targets (help: at most; data: about)
NOTES = """Before the lazy imports (commit 5a19dc8, one `/usr/bin/time` run each, load not recorded):
`microseg --help` 1.45 s, `microseg run --help` 1.29 s, `microseg plugins --json` 3.35 s. `import
microseg.cli` now loads no pandas, scikit-learn, LightGBM, presidio, SQLModel or SciPy
(`tests/test_cli_conventions.py` checks `sys.modules` in a subprocess).

`plugins --json` no longer imports presidio-analyzer or spaCy (about 0.7–0.9 s before): the
built-in value recognizers are registered as descriptions (class, entities) and built when a scan
runs (`tests/test_scan.py::test_listing_recognizers_imports_no_presidio`). Measured with
`bench/cli_speed.py --only "plugins --json" --repeats 7`, alternating with `main`'s checkout: at
load ≈ 3, 0.69 / 0.92 s against 1.62 / 1.95 s; at load ≈ 8, 2.27 / 2.41 s against 4.66 / 6.37 s.
What it still imports is pandas (the built-in method plugins import it at the top, ≈ 0.4 s) and
SQLAlchemy (`microseg.report` imports `make_url` at the top, ≈ 0.2 s); scikit-learn and LightGBM
are not imported (the built-in methods import them when they fit). Reading the store needs SQLModel/SQLAlchemy (about 0.3 s); `segments` loads no pandas
or SciPy (guarded by a test); `audit` needs both (it recomputes the gate's checks from the stored
memberships); `show` and `compare` load pandas (`microseg.compose` for the segment-key separator,
`microseg.migration` for the counts)."""


def commands() -> list[tuple[str, list[str], str]]:
    """(label, argv, target kind)."""
    out = [("microseg --help", ["--help"], "help")]
    names = ["init", "check", "run", "segments", "export", "audit", "scan", "plugins", "demo", "forget", "keygen",
             "report", "compare", "show"]
    from microseg.cli import cli
    out += [(f"microseg {n} --help", [n, "--help"], "help") for n in names if n in cli.commands]
    out += [("microseg segments", ["segments"], "data"), ("microseg segments --json", ["segments", "--json"], "data"),
            ("microseg audit", ["audit"], "data"), ("microseg audit --verify --json", ["audit", "--verify", "--json"],
                                                     "data")]
    out += [(f"microseg {' '.join(argv)}", argv, "data") for argv in (["show", "rfm:Champions"], ["compare"],
                                                                     ["compare", "--json"])
            if argv[0] in cli.commands]
    out += [("microseg plugins --json", ["plugins", "--json"], "other"),
            ("microseg check (2,000 customers)", ["check"], "other")]
    return out


def _target_text(target: float | None, kind: str) -> str:
    if target is None:
        return ""
    return f"about {target:g} s" if kind == "data" else f"≤ {target:g} s"


def _verdict(seconds: float, target: float | None, *, about: bool) -> str:
    """yes / about (within 25 % of an "about" target) / NO; empty without a target."""
    if target is None:
        return ""
    if seconds <= target:
        return "yes"
    return "about" if about and seconds <= 1.25 * target else "NO"


def median_start(argv: list[str], cwd: Path, repeats: int, env: dict[str, str]) -> tuple[float, int]:
    times, code = [], 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        proc = subprocess.run([EXE, *argv], cwd=cwd, env=env, capture_output=True)
        times.append(time.perf_counter() - t0)
        code = proc.returncode
    return statistics.median(times), code


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    ap.add_argument("--only", help="measure only the commands whose label contains this text (never written)")
    args = ap.parse_args()
    if args.only and args.write:
        ap.error("--only measures some rows: it cannot --write the table")
    selected = [c for c in commands() if not args.only or args.only in c[0]]
    load0 = os.getloadavg()[0]
    folder = Path(tempfile.mkdtemp(prefix="microseg-cli-speed-"))
    env = {k: v for k, v in os.environ.items() if k not in ("MICROSEG_KEY", "MICROSEG_DATABASE_URL")}
    env["MICROSEG_PROGRESS"] = "never"
    try:
        for setup in (["init"], ["run", "--no-report"], ["run", "--no-report"]):
            subprocess.run([EXE, *setup], cwd=folder, env=env, check=True, capture_output=True)
        rows = []
        for label, argv, kind in selected:
            seconds, code = median_start(argv, folder, args.repeats, env)
            target = TARGETS.get(kind)
            verdict = _verdict(seconds, target, about=kind == "data")
            rows.append((label, seconds, code, target, verdict))
            print(f"{label:45s} {seconds:6.3f} s  exit {code}  {verdict}", flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    load = os.getloadavg()[0]
    table = ["| command | median of %d cold starts | target | met |" % args.repeats, "|---|---:|---:|---|"]
    table += [f"| `{label}` | {s:.2f} s | {_target_text(t, kind)} | {v} |" for (label, s, _, t, v), (_, _, kind)
              in zip(rows, selected)]
    body = "\n".join([
        "Command: `flock /work/bench.lock .venv/bin/python bench/cli_speed.py "
        f"--repeats {args.repeats} --write` (a new process per start; `help` rows: ≤ 0.3 s, "
        "rows reading the store: about a second; `about`: within 25 % of it). Load average before / after: "
        f"{load0:.1f} / {load:.1f} on {os.cpu_count()} cores (other engineers' jobs share them).", "", *table])
    body += "\n\n" + NOTES
    print("\n" + body)
    if args.write:
        replace_section("## CLI start-up (bench/cli_speed.py)", body)


if __name__ == "__main__":
    main()
