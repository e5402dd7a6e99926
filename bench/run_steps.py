"""`microseg run` with wall-clock timers around the steps outside the pipeline's own timer
(preflight, store opening, report, terminal table) and the pipeline's steps, printed to stderr
as JSON. Same arguments as `microseg run`.

    .venv/bin/python bench/run_steps.py run CONFIG --db X.db > /dev/null
"""
from __future__ import annotations

import json
import sys
import time
from functools import wraps

TIMES: dict[str, float] = {}


def timed(module, name: str, label: str) -> None:
    fn = getattr(module, name)

    @wraps(fn)
    def wrapper(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            TIMES[label] = TIMES.get(label, 0.0) + time.perf_counter() - t0
    setattr(module, name, wrapper)


if __name__ == "__main__":
    import atexit

    import microseg.api as api
    import microseg.cli.run_cmds as run_cmds
    import microseg.pipeline as pipeline
    import microseg.preflight as preflight
    import microseg.store as store
    t_start = time.perf_counter()
    timed(preflight, "validate", "preflight")
    timed(api, "open_store", "open_store")
    timed(api, "write_report", "report")
    timed(run_cmds, "print_released", "print")
    timed(run_cmds, "echo_json", "echo_json")
    timed(pipeline, "run_config", "run_config")
    real_run = pipeline.run_config

    def run_config(*args, **kwargs):
        result = real_run(*args, **kwargs)
        TIMES.update({f"step:{k}": v for k, v in result.timings.items()})
        return result
    pipeline.run_config = run_config
    atexit.register(lambda: print(json.dumps({k: round(v, 4) for k, v in TIMES.items()}), file=sys.stderr))
    from microseg.cli import main
    sys.argv[0] = "microseg"
    main()
