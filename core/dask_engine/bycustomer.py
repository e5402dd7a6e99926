"""Per-customer results from rows spread over partitions, within the workers' memory.

Customer-level values that need all of a customer's rows together (behaviour features) are
computed on rows **shuffled by customer**, in a compact form (int32 customer positions, int32
seconds, categorical text). The shuffle is Dask's disk-backed one (p2p), so its memory is
bounded by its buffers whatever the rows' size:

* rows that fit in a share of the workers' free memory are shuffled once and **held** there
  (persisted) for the whole run;
* larger tables are never persisted: each computation reads them from the files again and
  shuffles them through disk.

Results come back one partition at a time (one row of numbers per customer), never as one
table on one worker.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from microseg.dask_engine.partitions import keep_coded_rows, keep_rows, pass_rows

#: share of the workers' free memory that rows held for the run may take
HOLD_SHARE = 0.4
#: a shuffled partition's target size, as a share of an input partition's (the per-customer
#: feature code needs several times its input)
SHUFFLED_SHARE = 0.5
#: Dask's disk-backed shuffle (its buffers sized to the workers: ``cluster.p2p_buffers``).
#: Measured, 13M transactions on 2 workers of 384 MiB: peak worker memory 271–281 MiB and ~25 s,
#: against 310–356 MiB and ~32 s (in 2 memory-sized passes) with the task-based shuffle.
SHUFFLE = "p2p"


@dataclass
class RowTable:
    """Normalised rows (transactions or events) of the run's customers, on the cluster."""

    rows: Any                  # Dask DataFrame, read lazily from the files
    nbytes: int                # estimated memory of the rows as shuffled
    partition_bytes: int       # target size of an input partition
    workers: int
    ids: pd.Index | None = None    # the customers table's ids: shuffled rows carry positions in it
    index: Any = None          # ``ids`` as a graph constant
    origin: pd.Timestamp | None = None   # shuffled rows carry times as seconds since it
    held: Any = None           # the rows shuffled by customer and persisted, when they fit

    @property
    def npartitions(self) -> int:
        return max(2 * self.workers, math.ceil(self.nbytes / (SHUFFLED_SHARE * self.partition_bytes)))

    def plan(self, room: int) -> int:
        """Hold the rows when they fit in ``room`` bytes; returns the bytes now held."""
        if self.nbytes <= HOLD_SHARE * room:
            self.held = self._shuffle(None).persist()
            return self.nbytes
        return 0

    def _shuffle(self, before: pd.Timestamp | None) -> Any:
        index_meta = self.ids[:0] if self.ids is not None else None
        part = self.rows.map_partitions(pass_rows, before, self.index, self.origin,
                                        meta=pass_rows(self.rows._meta, None, index_meta, self.origin))
        return part.shuffle(on="customer_id", npartitions=self.npartitions, shuffle_method=SHUFFLE)

    def shuffled(self, before: pd.Timestamp | None = None) -> Any:
        """The rows shuffled by customer: the held table, or a shuffle of the rows read again
        (those before ``before`` only: later rows never count)."""
        return self.held if self.held is not None else self._shuffle(before)

    def decode(self, frame: pd.DataFrame) -> pd.DataFrame:
        """A per-customer result of shuffled rows, indexed by customer id again."""
        if self.ids is not None:
            frame.index = self.ids[frame.index.to_numpy()]
        frame.index.name = "customer_id"
        return frame

    def restricted(self, keep: pd.Index, share: float) -> RowTable:
        """Only the rows of the customers in ``keep``; ``share`` of the rows."""
        rows = self.rows.map_partitions(keep_rows, graph_constant(keep), meta=self.rows._meta)
        held = None
        if self.held is not None:
            mask = self.ids.isin(keep) if self.ids is not None else None
            held = (self.held.map_partitions(keep_coded_rows, graph_constant(mask), meta=self.held._meta)
                    if mask is not None else self.held.map_partitions(keep_rows, graph_constant(keep),
                                                                      meta=self.held._meta))
        return replace(self, rows=rows, nbytes=int(self.nbytes * share), held=held)


def collect(client: Any, frame: Any) -> list[pd.DataFrame]:
    """Every partition of ``frame`` on the client, each sent on its own (no worker ever holds
    the concatenation)."""
    futures = client.compute(frame.to_delayed())
    try:
        return client.gather(futures)
    finally:
        for f in futures:
            f.release()


def per_customer(client: Any, table: RowTable, fn: Callable[..., pd.DataFrame], *args: Any,
                 meta: pd.DataFrame, before: pd.Timestamp | None = None) -> pd.DataFrame:
    """``fn(partition, origin, *args)`` on every partition of ``table`` shuffled by customer,
    concatenated on the client (one row per customer that has rows; only rows before ``before``
    when given). ``origin`` is the table's, to restore times (:func:`restore_ts`)."""
    shuffled = table.shuffled(before)
    parts = collect(client, shuffled.map_partitions(fn, table.origin, *args, meta=meta, enforce_metadata=False))
    parts = [p for p in parts if len(p)]
    return table.decode(pd.concat(parts)) if parts else meta


def cluster_room(client: Any) -> int:
    """Bytes the workers can take before they pause: per worker, its pause threshold (fraction
    × limit, as configured on that worker) minus its process memory now."""
    limits = {addr: int(w.get("memory_limit") or 0) for addr, w in client.scheduler_info()["workers"].items()}
    room = 0
    for addr, (pause, rss) in client.run(_memory_status).items():
        limit = limits.get(addr) or 0
        room += max(0, int((pause or 0.8) * limit) - rss) if limit else 1 << 30   # no limit: generous
    return room


def _memory_status() -> tuple[float | None, int]:
    import dask
    import psutil
    pause = dask.config.get("distributed.worker.memory.pause", None)
    return (float(pause) if pause else None), int(psutil.Process().memory_info().rss)


def graph_constant(values: Any) -> Any:
    """``values`` as one task of the graph: sent to each worker once per computation, and
    rebuilt if a worker restarts (unlike scattered data)."""
    import dask
    return dask.delayed(values, pure=True)
