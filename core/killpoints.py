"""A test hook: die by SIGKILL at a named checkpoint, to prove that a killed run leaves the store as it was.

``MICROSEG_TEST_KILL_AT="<checkpoint>:<n>"`` kills this process the ``n``-th time (from 1)
:func:`checkpoint` is called with that name. Unset (always, outside ``tests/test_kill.py``), a
checkpoint costs one dictionary look-up. Checkpoints: ``step:<pipeline step>`` and
``done:<pipeline step>`` around each step of a run, ``store.begin``, ``store.run``,
``store.rows`` (after each chunk of customer rows), ``store.cells``, ``store.audit`` and
``store.commit`` inside the store's write transaction.
"""
from __future__ import annotations

import os
import signal

ENV = "MICROSEG_TEST_KILL_AT"
_counts: dict[str, int] = {}


def checkpoint(name: str) -> None:
    """Count a pass through ``name``; SIGKILL this process when the test hook asks for this one."""
    spec = os.environ.get(ENV)
    if not spec:
        return
    target, _, nth = spec.rpartition(":")
    if target != name:
        return
    _counts[name] = _counts.get(name, 0) + 1
    if str(_counts[name]) == nth:
        os.kill(os.getpid(), signal.SIGKILL)
