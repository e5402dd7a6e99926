"""The privacy step's access to the Dask engine's tables (:mod:`microseg.privacy.protect`).

:class:`DaskTablesAccess` gives :class:`~microseg.dask_engine.frame.DaskCustomerData` the four
operations the privacy step needs, all run on the workers: the customers table is scanned,
counted and protected there before it is collected (only the protected table reaches the
client), and the transactions and events rows are scanned and counted there and protected
lazily, partition by partition, wherever they are read (also the rows held in worker memory).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd

from microseg.dask_engine.bycustomer import RowTable
from microseg.dask_engine.scan import scan_on_cluster, summarise_on_cluster

ROW_TABLES = ("transactions", "events")


def _rows_through(part: pd.DataFrame, fn: Any, name: str) -> pd.DataFrame:
    return fn(name, part)


def protected_rows(table: RowTable, name: str, fn: Any, keep: pd.Index | None, share: float = 1.0) -> RowTable:
    """``table`` with every partition (read or held) through ``fn(name, partition)``; only the
    customers in ``keep`` (``share`` of them) when given."""
    if keep is not None:
        table = table.restricted(keep, share)
    rows = table.rows.map_partitions(_rows_through, fn, name, meta=fn(name, table.rows._meta))
    held = None
    if table.held is not None:
        held = table.held.map_partitions(_rows_through, fn, name, meta=fn(name, table.held._meta))   # lazy over the held rows: no second copy
    return replace(table, rows=rows, held=held)


class DaskTablesAccess:
    """Mixin: ``table_names`` / ``scan_table`` / ``summarise`` / ``transformed`` on the cluster."""

    client: Any
    tx: RowTable | None
    ev: RowTable | None
    pending: Any            # the customers table (CustomersLoad) until the privacy step ran

    def _rows(self, name: str) -> RowTable | None:
        return {"transactions": self.tx, "events": self.ev}.get(name)

    def table_names(self) -> list[str]:
        return (["customers"] if self.pending is not None else []) + [n for n in ROW_TABLES if self._rows(n) is not None]

    def scan_table(self, name: str, registry: Any) -> list[Any]:
        if name == "customers":
            return self.pending.scan()
        return scan_on_cluster(self.client, self._rows(name).rows, registry).result()

    def summarise(self, name: str, fn: Any) -> list[Any]:
        if name == "customers":
            return self.pending.summarise(fn)
        return summarise_on_cluster(self.client, self._rows(name).rows, fn)

    def transformed(self, fn: Any, erased: pd.Index | None = None) -> Any:
        """A new DaskCustomerData: the customers table protected on the workers and collected,
        the rows protected lazily, the erased customers gone everywhere."""
        ids = self.ids if erased is None else self.ids[~self.ids.isin(erased)]
        keep = None if erased is None else ids
        customers = signup = None
        if self.pending is not None:
            done = self.pending.protected(fn, erased)
            customers, signup = done.frame, done.signup
        elif self._signup is not None:
            signup = self._signup.reindex(ids)
        share = len(ids) / max(1, len(self.ids))
        tx = protected_rows(self.tx, "transactions", fn, keep, share) if self.tx is not None else None
        ev = protected_rows(self.ev, "events", fn, keep, share) if self.ev is not None else None
        folded = getattr(getattr(fn, "vocabulary", None), "counts", {})
        levels = {} if any(folded.get(f"transactions.{r}", {}).get("folded") for r in ("channel", "category")) \
            else self._levels
        return type(self)(client=self.client, customers=customers, tx=tx, ev=ev, as_of=self.as_of, ids=ids,
                          signup_column=self.signup_column, signup=signup, windows=self.windows,
                          date_range=self._date_range if erased is None else None, levels=levels)

