"""Run the microseg CLI with the store's clock and the step timers frozen, so two runs' stores, audit hashes and reports
can be compared byte for byte (identity checks of pure-speed changes).

    .venv/bin/python bench/identity/fixed_clock.py run CONFIG --db X.db
"""
from __future__ import annotations

import sys
import time
import types
from datetime import datetime, timezone

import microseg.store.models as models

FIXED = datetime(2026, 12, 3, 12, 0, 0, tzinfo=timezone.utc)


class _FrozenDatetime(datetime):
    @classmethod
    def now(cls, tz=None):  # noqa: D102 - the frozen clock
        return FIXED if tz is not None else FIXED.replace(tzinfo=None)


models.datetime = _FrozenDatetime
_still = types.SimpleNamespace(**{k: getattr(time, k) for k in dir(time) if not k.startswith("__")})
_still.perf_counter = lambda: 0.0  # step timings are stored (and signed): all zero here
for _name in ("microseg.pipeline", "microseg.privacy.release", "microseg.preflight"):
    __import__(_name)
    sys.modules[_name].time = _still

if __name__ == "__main__":
    from microseg.cli import main
    sys.argv[0] = "microseg"
    main()
