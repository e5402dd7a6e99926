"""Time the governed run's fixed-cost steps in one process (brief h26gov): preflight, load,
quality, store, report, terminal table. Medians of --repeat calls each, after one full run.

    MICROSEG_BENCH_KEY=... .venv/bin/python bench/h26gov_steps.py /tmp/microseg-e2e/n10000 --repeat 5
"""
from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from pathlib import Path


def clock(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("data", type=Path)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    from microseg import api
    from microseg.config import load_config
    from microseg.loading import load_data
    from microseg.pipeline import instantiate_methods, run_config
    from microseg.preflight import validate
    from microseg.quality import assess_methods
    from microseg.registry import get_registry
    from microseg.report.document import build_document
    from microseg.store import open_store
    cfg = load_config(a.data / "microseg-pandas.toml")
    registry = get_registry()
    out: dict[str, float] = {}
    out["preflight.validate"] = clock(lambda: validate(cfg, registry), a.repeat)
    out["load_data"] = clock(lambda: load_data(cfg), a.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "ms.db")
        store = open_store(db, None)
        result = run_config(cfg, store, registry)
        out["run: quality step"] = result.timings["quality"]
        out["run: store step"] = result.timings["store"]
        out["open_store(new file)"] = clock(lambda: open_store(str(Path(tmp) / f"x{time.perf_counter_ns()}.db"),
                                                               None).check_writable(), a.repeat)
        out["build_document"] = clock(lambda: build_document(store, result.run_id), a.repeat)
        out["api.write_report"] = clock(lambda: api.write_report(store, result.run_id, out=Path(tmp) / "r.html"),
                                        a.repeat)
        from rich.console import Console
        import microseg.cli.run_cmds as rc
        import click
        real_echo = click.echo

        def printed() -> None:
            sink = io.StringIO()
            click.echo = lambda *x, **k: None
            orig = Console.__init__

            def quiet(self, *args, **kw):
                kw.setdefault("file", sink)
                orig(self, *args, **kw)
            Console.__init__ = quiet
            try:
                rc.print_released(result.report)
            finally:
                Console.__init__ = orig
                click.echo = real_echo
        out["print_released"] = clock(printed, a.repeat)
    for k, v in out.items():
        print(f"{k:28s} {v * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
