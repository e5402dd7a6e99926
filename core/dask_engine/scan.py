"""The PII scan of a table on the cluster, run next to the data: only findings reach the client.

The scan sees what :func:`microseg.privacy.scan.scan_frame` needs of each column — its distinct
values — gathered on the workers: per column the first :data:`DISTINCT_CAP` distinct values in
file order (exactly the pandas engine's input for columns with fewer distinct values; for more,
the value sample is drawn from the first ones, and the distinct count still exceeds every
recognizer's ``max_distinct``).

presidio and spaCy take ~170 MB that a worker process keeps once loaded (168 MB measured). A worker
with at least :data:`IN_PROCESS_ROOM` free below its pause threshold scans in its own process
(loaded once, fast on later runs); a smaller one scans in a short-lived child process (2.3 s for a
small table, measured), so the memory is returned.
"""
from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

import pandas as pd

from microseg.privacy.scan import ColumnFinding

DISTINCT_CAP = 5000
SCAN_TIMEOUT = 600
IN_PROCESS_ROOM = 512 << 20
FAN_IN = 8


def scan_on_cluster(client: Any, frame: Any, registry: Any) -> Any:
    """Start the scan of the Dask DataFrame ``frame`` on the workers: distinct values gathered
    partition by partition in a tree, scanned on one worker. Returns the future of the findings."""
    import dask
    parts = [dask.delayed(distinct_part)(p) for p in frame.to_delayed()]
    while len(parts) > 1:
        parts = [dask.delayed(combine_distinct)(*parts[i:i + FAN_IN]) for i in range(0, len(parts), FAN_IN)]
    return client.compute(dask.delayed(scan_on_worker)(parts[0], recognizers_blob(registry)))


def summarise_on_cluster(client: Any, frame: Any, fn: Any) -> list[Any]:
    """``fn`` of every partition of ``frame``, computed on the workers; the results on the client."""
    import dask
    futures = client.compute([dask.delayed(fn)(p) for p in frame.to_delayed()])
    try:
        return client.gather(futures)
    finally:
        for f in futures:
            f.release()


def distinct_part(part: pd.DataFrame) -> dict[str, pd.Series]:
    """Per column, its first distinct non-missing values (dtype kept)."""
    return {str(c): part[c].dropna().drop_duplicates().iloc[:DISTINCT_CAP].reset_index(drop=True)
            for c in part.columns}


def combine_distinct(*parts: dict[str, pd.Series]) -> dict[str, pd.Series]:
    """The first distinct values of partitions taken in order."""
    out = {}
    for col in parts[0]:
        values = pd.concat([p[col] for p in parts], ignore_index=True)
        out[col] = values.drop_duplicates().iloc[:DISTINCT_CAP].reset_index(drop=True)
    return out


def scan_input(distinct: dict[str, pd.Series]) -> pd.DataFrame:
    """One frame of the distinct values, shorter columns padded with missing values (ignored by
    the scan) in dtypes that keep booleans boolean and integers numeric."""
    cols = {}
    for col, s in distinct.items():
        if pd.api.types.is_bool_dtype(s):
            s = s.astype("boolean")
        elif pd.api.types.is_integer_dtype(s):
            s = s.astype("Int64")
        cols[col] = s
    return pd.concat(cols, axis=1) if cols else pd.DataFrame()


def scan_on_worker(distinct: dict[str, pd.Series], recognizers: bytes) -> list[ColumnFinding]:
    """Run the scan on this worker, in process when it has the room, else in a child process;
    returns findings (no values)."""
    frame = scan_input(distinct)
    if _room() < IN_PROCESS_ROOM:
        return _scan_in_child(frame, recognizers)
    from microseg.errors import PluginError
    from microseg.privacy.scan import scan_frame
    try:
        return scan_frame(frame, registry=_registry_of(recognizers))
    except PluginError:
        raise                   # names the plugin and recognizer, never a value
    except Exception as exc:  # noqa: BLE001 - report the type only: messages may hold values
        raise RuntimeError(f"the PII scan failed on a worker: {type(exc).__name__}") from None


@lru_cache(maxsize=1)
def _registry_of(recognizers: bytes) -> SimpleNamespace:
    """The recognizers, unpickled once per worker for the same blob (so the scan's analyzer,
    cached per recognizer set, is built once too)."""
    return SimpleNamespace(recognizers=pickle.loads(recognizers))


def _room() -> int:
    """This worker's free bytes below its pause threshold (0 outside a worker: scan in a child)."""
    import dask
    import psutil
    try:
        from distributed import get_worker
        limit = get_worker().memory_manager.memory_limit
    except (ImportError, ValueError, AttributeError):
        return 0
    if not limit:
        return IN_PROCESS_ROOM
    pause = dask.config.get("distributed.worker.memory.pause", 0.8) or 0.8
    return int(pause * limit) - int(psutil.Process().memory_info().rss)


def _scan_in_child(frame: pd.DataFrame, recognizers: bytes) -> list[ColumnFinding]:
    with tempfile.TemporaryDirectory(prefix="microseg-scan-") as tmp:
        out = os.path.join(tmp, "findings.pickle")
        try:
            proc = subprocess.run([sys.executable, "-m", "microseg.dask_engine.scan_child", out],
                                  input=pickle.dumps((frame, recognizers)), capture_output=True,
                                  timeout=SCAN_TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            raise RuntimeError("the PII scan timed out on a worker") from None
        if proc.returncode != 0 or not os.path.exists(out):
            raise RuntimeError(f"the PII scan failed on a worker (exit code {proc.returncode})")
        with open(out, "rb") as fh:
            result = pickle.load(fh)
    if "plugin_error" in result:
        from microseg.errors import PluginError
        raise PluginError(result["plugin_error"])
    if "error" in result:
        raise RuntimeError(f"the PII scan failed on a worker: {result['error']}")
    return [ColumnFinding(**d) for d in result["findings"]]


def recognizers_blob(registry: Any) -> bytes:
    """The registry's recognizers, pickled so that a worker can rebuild them (recognizers of
    plugin files loaded by path are pickled by value: workers cannot import those files)."""
    import cloudpickle
    if registry is None:
        from microseg.registry import get_registry
        registry = get_registry()
    pairs = list(registry.recognizers)
    for _plugin, rec in pairs:
        module = sys.modules.get(type(rec).__module__)
        if module is not None and module.__name__.startswith("microseg_local_plugin_"):
            cloudpickle.register_pickle_by_value(module)
    return cloudpickle.dumps(pairs)
