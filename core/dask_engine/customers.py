"""The customers table through the workers: read, validated, scanned and protected there.

Only the protected table reaches the client: the privacy step (:func:`microseg.privacy.protect.
protect`, the same for every engine) runs its scan, its level counts and its masking and folding
on the workers through :class:`CustomersLoad`. The customer ids come to the client (they index
every result), as do the findings of the scan — never a value of a scanned column.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from microseg.config import Config, CustomersSource
from microseg.dask_engine.bycustomer import collect
from microseg.dask_engine.reading import checked, located, read_source
from microseg.dask_engine.rows import customer_ids
from microseg.dask_engine.scan import scan_on_cluster, summarise_on_cluster
from microseg.errors import InputError
from microseg.loading import normalise_ids, parse_dates, require_columns, source_label
from microseg.privacy.scan import ColumnFinding

BOOL_WORDS = {"True": True, "False": False, "TRUE": True, "FALSE": False, "true": True, "false": False}


@dataclass
class ProtectedCustomers:
    frame: pd.DataFrame                # protected, one row per customer, index ``customer_id``
    signup: pd.Series | None           # sign-up dates, when masking removed their column


# --------------------------------------------------------------------------- CSV column types
def column_kinds(part: pd.DataFrame) -> pd.DataFrame:
    """Per text column of a partition: missing values, and whether every value is a number, a
    whole number, a boolean word — what pandas' CSV reader infers types from."""
    rows = []
    for col in part.columns:
        s = part[col].dropna().astype(str).str.strip()
        nums = pd.to_numeric(s, errors="coerce")
        rows.append({"column": str(col), "missing": int(part[col].isna().sum()),
                     "numeric": bool(nums.notna().all()), "integer": bool(s.str.fullmatch(r"[+-]?\d+").all()),
                     "boolean": bool(s.isin(list(BOOL_WORDS)).all())})
    return pd.DataFrame(rows, columns=["column", "missing", "numeric", "integer", "boolean"])


def inferred_types(kinds: pd.DataFrame) -> dict[str, str]:
    """Column → dtype, as pandas would infer it from the whole file (text otherwise)."""
    out = {}
    for col, k in kinds.groupby("column", sort=False):
        missing = int(k["missing"].sum())
        if k["integer"].all() and k["numeric"].all() and missing == 0:
            out[col] = "int64"
        elif k["numeric"].all():
            out[col] = "float64"
        elif k["boolean"].all() and missing == 0:
            out[col] = "bool"
    return out


def apply_types(part: pd.DataFrame, dtypes: dict[str, str]) -> pd.DataFrame:
    out = part.copy()
    for col, dtype in dtypes.items():
        if dtype == "bool":
            out[col] = out[col].astype(str).str.strip().map(BOOL_WORDS).astype(bool)
        else:
            out[col] = pd.to_numeric(out[col].astype(str).str.strip() if len(out) else out[col],
                                     errors="coerce").astype(dtype)
    return out


# --------------------------------------------------------------------------- one partition
def prepared(part: pd.DataFrame, src: CustomersSource, label: str, as_text: bool, offsets: list[int],
             partition_info: dict | None = None) -> pd.DataFrame:
    """The loader's shape: index ``customer_id`` (or the row number), dates parsed."""
    number = int(partition_info["number"]) if partition_info else 0
    if src.customer_id:
        index = pd.Index(customer_ids(part[src.customer_id], label, src.customer_id, as_text).to_numpy(),
                         name="customer_id")
        part = part.drop(columns=[src.customer_id])
    else:
        start = offsets[number] if number < len(offsets) else 0
        index = pd.RangeIndex(start, start + len(part), name="customer_id")
    part = part.set_axis(index, axis=0)
    for col in [src.signup_date, *src.dates]:
        if col:
            part[col] = parse_dates(part[col], src, label, col)
    return part


def _with_ids(part: pd.DataFrame) -> pd.DataFrame:
    return part.reset_index()


def _protected_part(part: pd.DataFrame, fn: Any, erased: pd.Index | None) -> pd.DataFrame:
    """One partition through the privacy step's ``fn`` (erased customers removed)."""
    if erased is not None:
        part = part.loc[~part.index.isin(erased)]
    out = fn("customers", part.reset_index())
    return out.set_index("customer_id")


# --------------------------------------------------------------------------- the table
class CustomersLoad:
    """The customers table being loaded: ids checked and the scan started on construction (so
    other sources load while it runs); the privacy step reads it through :meth:`scan`,
    :meth:`summarise` and :meth:`protected` (which collects the protected table)."""

    def __init__(self, cfg: Config, src: CustomersSource, client: Any, registry: Any, target: int) -> None:
        self.client, self.src = client, src
        self.label = source_label(cfg, src)
        raw, self.fmt = read_source(cfg, src, None, target)
        require_columns(raw._meta, [src.customer_id, src.signup_date, *src.dates], self.label)
        def read(frame: Any) -> list:
            return checked(lambda: collect(client, frame), None, self.label, self.fmt)

        if self.fmt == "csv":
            kinds = pd.concat(read(raw.map_partitions(column_kinds, meta=column_kinds(raw._meta))))
            dtypes = inferred_types(kinds)
            raw = raw.map_partitions(apply_types, dtypes, meta=apply_types(raw._meta, dtypes))
        as_text = False
        if src.customer_id:
            id_parts = read(raw[src.customer_id])
            self.lengths = [len(p) for p in id_parts]
            ids = _checked_ids(pd.concat(id_parts, ignore_index=True), self.label, src.customer_id)
            as_text = ids.dtype != "int64"
        else:
            counts = read(raw.map_partitions(_length, meta=pd.Series(dtype="int64")))
            self.lengths = [int(c.iloc[0]) for c in counts]
            ids = pd.Series(np.arange(sum(self.lengths)))
        if not len(ids):
            raise InputError("the table has no data rows", source=self.label)
        self.ids = pd.Index(ids.to_numpy(), name="customer_id")
        offsets = [int(x) for x in np.cumsum([0, *self.lengths[:-1]])]
        self.meta = prepared(raw._meta, src, self.label, as_text, offsets)
        self.frame = raw.map_partitions(located(prepared), src, self.label, as_text, offsets, meta=self.meta)
        self._scan = scan_on_cluster(client, self.frame.map_partitions(_with_ids, meta=self.meta.reset_index()),
                                     registry)

    def scan(self) -> list[ColumnFinding]:
        """The scan started on construction (findings only: no value reaches the client)."""
        return checked(self._scan.result, lambda: self.lengths, self.label, self.fmt)

    def summarise(self, fn: Any) -> list[Any]:
        """``fn`` of each partition (customer ids as the column ``customer_id``), on the workers."""
        return checked(lambda: summarise_on_cluster(self.client, self.frame, lambda p: fn(p.reset_index())),
                       lambda: self.lengths, self.label, self.fmt)

    def protected(self, fn: Any, erased: pd.Index | None) -> ProtectedCustomers:
        """Every partition through the privacy step's ``fn`` on the workers; collected."""
        from microseg.dask_engine.bycustomer import graph_constant
        gone = graph_constant(erased) if erased is not None else None
        meta = _protected_part(self.meta, fn, None)
        done = self.frame.map_partitions(_protected_part, fn, gone, meta=meta)
        parts = [p for p in collect(self.client, done)]
        customers = pd.concat(parts) if parts else meta
        customers.index.name = "customer_id"
        signup = None
        if self.src.signup_date and self.src.signup_date not in customers.columns:
            signup = pd.concat(collect(self.client, self.frame[self.src.signup_date]))
            signup = signup[signup.index.isin(customers.index)]
        return ProtectedCustomers(frame=customers, signup=signup)


def _length(part: pd.DataFrame) -> pd.Series:
    return pd.Series([len(part)], dtype="int64")


def _checked_ids(ids: pd.Series, label: str, column: str) -> pd.Series:
    """The pandas loader's id checks and normalisation, on the whole id column."""
    if ids.isna().any():
        row = int(np.flatnonzero(ids.isna().to_numpy())[0])
        raise InputError("missing customer id", source=label, column=column, row=row + 1)
    norm = normalise_ids(ids, label, column)
    dup = norm.duplicated()
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0])
        raise InputError(f"duplicate customer id ({int(dup.sum())} duplicate rows; first at this row)",
                         source=label, column=column, row=row + 1)
    return norm
