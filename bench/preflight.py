"""How long a mistake costs: `microseg run` with a typo in a rule column (stopped by the preflight)
against the full run of the same config, and `microseg check`, on the demo data set.

    flock /work/bench.lock .venv/bin/python bench/preflight.py --customers 3000 --write
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_docs import replace_section  # noqa: E402

EXE = str(Path(sys.executable).with_name("microseg"))


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, int]:
    t0 = time.perf_counter()
    proc = subprocess.run([EXE, *argv], cwd=cwd, env=env, capture_output=True, text=True)
    return time.perf_counter() - t0, proc.returncode


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=3000)
    ap.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = ap.parse_args()
    from microseg.demo import write_demo
    folder = Path(tempfile.mkdtemp(prefix="microseg-preflight-"))
    env = {**os.environ, "MICROSEG_PROGRESS": "never"}
    try:
        cfg = write_demo(folder, n=args.customers, seed=1)
        good = cfg.read_text()
        typo = folder / "typo.toml"
        typo.write_text(good.replace("when = \"region == 'South'\"", "when = \"regin == 'South'\""))
        rows = [("microseg check microseg.toml", *timed(["check", "microseg.toml"], folder, env)),
                ("microseg check typo.toml", *timed(["check", "typo.toml"], folder, env)),
                ("microseg run typo.toml (rule column typo)", *timed(["run", "typo.toml", "--db", "t.db"], folder, env)),
                ("microseg run microseg.toml (complete run)", *timed(["run", "microseg.toml", "--db", "r.db"], folder,
                                                                     env))]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    table = ["| command | wall | exit |", "|---|---:|---:|"]
    table += [f"| `{label}` | {s:.1f} s | {code} |" for label, s, code in rows]
    body = "\n".join([
        f"Command: `flock /work/bench.lock .venv/bin/python bench/preflight.py --customers {args.customers} --write` "
        f"(the demo config: rules, RFM, clusters, CLV-decline, campaign response and uplift, on {args.customers:,} "
        "demo customers; `typo.toml` has `regin` for `region` in one rule; one process per command). Load average "
        f"when measured: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.", "", *table])
    print(body)
    if args.write:
        replace_section("## Preflight: what a typo costs (bench/preflight.py)", body)


if __name__ == "__main__":
    main()
