#!/usr/bin/env python3
"""The scan's throughput against an earlier version's, timed side by side in the same conditions.

    .venv/bin/python bench/scan_vs_ref.py main        # privacy/scan.py of git ref ``main`` vs this one

Three alternating rounds on bench/scan.py's synthetic 1,000,000 × 6 table (a loaded machine
slows both alike, so the comparison holds when absolute figures do not).
"""
from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def main(ref: str) -> None:
    warnings.filterwarnings("ignore")
    from scan import synthetic

    from microseg.privacy.scan import scan_frame as current
    from microseg.registry import Registry
    source = subprocess.run(["git", "show", f"{ref}:privacy/scan.py"], cwd=HERE.parent, capture_output=True,
                            text=True, check=True).stdout
    path = Path(tempfile.mkdtemp()) / "scan_ref.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("scan_ref", path)
    old = importlib.util.module_from_spec(spec)
    sys.modules["scan_ref"] = old
    spec.loader.exec_module(old)
    reg = Registry(entry_points=False)
    df, _ = synthetic(1_000_000)
    current(df.head(1000), registry=reg)
    old.scan_frame(df.head(1000), registry=reg)
    for _ in range(3):
        for name, fn in ((ref, old.scan_frame), ("this tree", current)):
            t0 = time.perf_counter()
            fn(df, registry=reg)
            print(f"{name}: {time.perf_counter() - t0:.2f} s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "main")
