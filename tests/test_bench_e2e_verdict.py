"""bench/e2e.py's verdict on a ratio: a miss is never printed as "missed by 0.00"."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def _e2e():
    path = Path(__file__).resolve().parents[1] / "bench" / "e2e.py"
    spec = importlib.util.spec_from_file_location("bench_e2e", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module           # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_a_small_miss_shows_its_size():
    verdict = _e2e()._verdict
    assert verdict(1460 / 1455, 1.0).startswith("1.003 (**missed** by 0.003")
    assert verdict(1.15, 1.0).startswith("1.15 (**missed** by 0.15")
    assert verdict(1.0, 1.0).startswith("1.00 (met")
    assert verdict(0.95, 1.0).startswith("0.95 (met")
