"""bench/e2e.py's verdict on a ratio: a miss is never printed as "missed by 0.00"."""
from __future__ import annotations

from helpers import load_bench


def test_a_small_miss_shows_its_size():
    verdict = load_bench("e2e")._verdict
    assert verdict(1460 / 1455, 1.0).startswith("1.003 (**missed** by 0.003")
    assert verdict(1.15, 1.0).startswith("1.15 (**missed** by 0.15")
    assert verdict(1.0, 1.0).startswith("1.00 (met")
    assert verdict(0.95, 1.0).startswith("0.95 (met")
