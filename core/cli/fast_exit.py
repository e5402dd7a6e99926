"""How the ``microseg`` process ends: its exit handlers run, then it leaves without tearing down.

When a command has finished, CPython still clears every module and frees their objects one by
one before the process exits: with pandas, scikit-learn, LightGBM and SQLAlchemy loaded that
took 0.5–0.7 s on the 2-core machine of docs/benchmarks.md (a 10,000-customer run: ~10 % of
its wall time), and nothing needs it — the operating system takes the memory back at once.
So the console command, once it is done, runs what was registered with :mod:`atexit` (the
store's connections closed, logging flushed, temporary folders removed), flushes standard
output and error, and calls :func:`os._exit` with its exit code — what mypy does for the same
reason.

It exits the usual way instead (nothing is skipped) when something may still be running or
watching: another non-daemon thread or a child process is alive, a profiler or tracer is set
(pyinstrument, coverage, a debugger), or ``$MICROSEG_FULL_EXIT`` is set. Only the console
entry point (:func:`microseg.cli.main`) ends this way; ``cli.main(...)`` and click's test runner
keep raising :class:`SystemExit`.
"""
from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import Any

SKIP_ENV = "MICROSEG_FULL_EXIT"


def exit_code(code: Any) -> int:
    """The process exit status :class:`SystemExit` would give for ``code`` (a text: printed, 1)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def can_skip_teardown() -> bool:
    """Whether nothing else may still need the interpreter: no other live non-daemon thread, no
    child process, no profiler or tracer, and no ``$MICROSEG_FULL_EXIT``."""
    if os.environ.get(SKIP_ENV):
        return False
    if sys.getprofile() is not None or sys.gettrace() is not None:
        return False
    main = threading.main_thread()
    if any(t is not main and t.is_alive() and not t.daemon for t in threading.enumerate()):
        return False
    # no multiprocessing child unless the module was loaded (by joblib, Dask …): not imported here
    # only to ask (~6 ms of a command such as `microseg segments`)
    mp = sys.modules.get("multiprocessing")
    return mp is None or not mp.active_children()


def leave(code: Any) -> None:
    """End the process with ``code`` (a :class:`SystemExit` code): after the exit handlers and
    without the interpreter's teardown where :func:`can_skip_teardown`, else by ``sys.exit``."""
    if not can_skip_teardown():
        sys.exit(code)
    status = exit_code(code)
    atexit._run_exitfuncs()        # what a normal exit runs first; each handler runs once
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):      # a closed pipe or stream: nothing more can be shown
            pass
    os._exit(status)
