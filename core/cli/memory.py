"""How the ``microseg`` process hands memory back: set once, when the command line starts.

A run allocates and frees large arrays step after step (features per training cutoff, the
bootstrap's resamples, the store's rows). Left at their defaults, two allocators keep what is
freed: Arrow's own pool (mimalloc: Parquet reads and pandas' pyarrow-backed strings) keeps it
for Arrow alone, and glibc raises its mmap threshold after the first large free, so later
arrays of up to 32 MB come from a heap that fragments and is never returned. The peak memory
then carries every earlier step's high-water mark (``bench/e2e.py``: ~10 % of the peak at 10k
and 100k customers).

Only the command line sets these (the process is microseg's); a value the user sets wins.
"""
from __future__ import annotations

import ctypes
import os
import sys

#: glibc's mallopt parameter for the size from which allocations are mmapped (and unmapped on free)
M_MMAP_THRESHOLD = -3
#: fixed (setting it stops glibc from raising it after large frees, up to 32 MB): an array of 4 MB
#: or more is returned when freed; smaller ones reuse the heap. Measured (same invocation, 2 rounds):
#: 1 MB gave the same peak at 10k customers but doubled the demo's bootstrap time (every resample's
#: arrays mmapped afresh: +1.5 s system time); 4 MB keeps it (peak 10k 345-349 MB, 100k 553-561 MB,
#: against 357-369 / 592-645 MB with a fixed 32 MB)
MMAP_THRESHOLD = 4 * 1024 * 1024


def release_freed_memory() -> None:
    """Arrow's buffers from the C allocator, and glibc's mmap threshold fixed, for
    the rest of this process — unless ``$ARROW_DEFAULT_MEMORY_POOL`` / ``$MALLOC_MMAP_THRESHOLD_``
    say otherwise. Call it before anything imports pyarrow (Arrow reads its variable once)."""
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    if not sys.platform.startswith("linux") or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):     # not glibc (musl, …): its allocator's defaults stay
        return
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)


#: cyclic garbage collection every 50,000 net new container objects (CPython's default: 700), and
#: the older generations after 20 and 10 of the younger's collections (default 10 and 10). With the
#: defaults a run spent 0.43-0.49 s in ~560 collections, four of them full passes over the ~200,000
#: objects the imports create (bench/e2e.py data, 10k and 100k customers, timed by gc.callbacks); with
#: these 0.12 s in 7-9 young collections, peak memory unchanged (10k 337-341 MB, 100k 537-547 MB).
#: Large arrays are freed by reference counting either way: only objects in reference cycles wait.
GC_THRESHOLDS = (50_000, 20, 10)


def collect_garbage_less_often() -> None:
    """Set :data:`GC_THRESHOLDS` for the rest of this process (the console command only: a
    library caller keeps its interpreter's settings)."""
    import gc
    gc.set_threshold(*GC_THRESHOLDS)
