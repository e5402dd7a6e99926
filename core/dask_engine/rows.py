"""Transactions and campaign events: one raw partition → normalised rows, and its statistics.

The loader's own functions (``normalise_transactions`` / ``normalise_events``) do the parsing
and validation, so the Dask engine accepts and rejects exactly what the pandas engine does. On
top, per partition: rows of unknown customers are dropped, and the ``channel`` / ``category``
text becomes a categorical over the run's levels (one byte per row instead of a string: less to
shuffle and to hold).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from microseg.config import EventsSource, TransactionsSource
from microseg.loading import normalise_events, normalise_ids, normalise_transactions

TEXT_ROLES = ("channel", "category")
TX_TEXT = ("invoice", "channel", "category")
#: a text role with more distinct values than this stays text (no categorical encoding)
MAX_LEVELS = 4096


def customer_ids(values: pd.Series, label: str, column: str, as_text: bool) -> pd.Series:
    """``normalise_ids``; with ``as_text`` (some partition holds a text id, so the pandas engine
    would keep every id as text) the stripped text."""
    if as_text and not (pd.api.types.is_integer_dtype(values) or pd.api.types.is_float_dtype(values)):
        return values.astype(str).str.strip().astype(object)
    out = normalise_ids(values, label, column)
    return out if out.dtype == "int64" else out.astype(str).astype(object)


def _normalised(part: pd.DataFrame, normalise: Any, src: Any, label: str, as_text: bool) -> pd.DataFrame:
    """The loader's normalisation of the rows with a customer id; ids as text when ``as_text``.

    The transaction text roles (invoice, channel, category) are copied by the loader without any
    check; here they are taken from the partition as they are (no per-value Python strings).
    """
    part = part.loc[part[src.customer_id].notna().to_numpy()]
    roles = [r for r in TX_TEXT if getattr(src, r, None)] if isinstance(src, TransactionsSource) else []
    out = normalise(part, src.model_copy(update={r: None for r in roles}) if roles else src, label)
    for role in roles:
        out[role] = part[getattr(src, role)].array
    if as_text:
        out["customer_id"] = customer_ids(part[src.customer_id], label, src.customer_id, True).to_numpy()
    return out


def _ns(out: pd.DataFrame) -> pd.DataFrame:
    """Timestamps at one resolution in every partition (pandas infers it per parse)."""
    if "ts" in out.columns and getattr(out["ts"].dtype, "tz", None) is None:
        out["ts"] = out["ts"].astype("datetime64[ns]")
    return out


def _known(out: pd.DataFrame, known: pd.Index | None) -> np.ndarray:
    """Rows of customers in ``known`` (an Index: its hash table is built once per worker)."""
    if known is None:
        return np.ones(len(out), dtype=bool)
    return known.get_indexer(out["customer_id"].to_numpy()) >= 0


def as_categorical(values: pd.Series, categories: list) -> pd.Categorical:
    """``values`` over ``categories`` (not listed: missing), through Arrow when it can."""
    try:
        arr = pa.array(values.array)
        codes = pc.index_in(arr, value_set=pa.array(categories, type=arr.type)).fill_null(-1)
        return pd.Categorical.from_codes(codes.to_numpy(zero_copy_only=False), categories=categories)
    except (pa.ArrowException, TypeError, ValueError):
        return pd.Categorical(values.to_numpy(dtype=object), categories=categories)


def encode_text(out: pd.DataFrame, levels: dict[str, list]) -> pd.DataFrame:
    """``channel`` / ``category`` as categoricals over the run's levels (those given)."""
    for role, values in levels.items():
        if role in out.columns:
            out[role] = as_categorical(out[role], values)
    return out


KEPT_META = {"kept": "int64", "bytes": "int64", "id_bytes": "int64", "ts_min": "datetime64[ns]",
             "ts_max": "datetime64[ns]", "whole_seconds": "bool"}


def _kept_stats(kept: pd.DataFrame) -> dict[str, Any]:
    """Size and time range of the rows kept: memory without the text roles (they are encoded),
    of the ids alone, and whether every time is a whole second (then 4 bytes carry it)."""
    ts = kept["ts"] if "ts" in kept.columns else None
    whole = ts is not None and getattr(ts.dtype, "tz", None) is None and not ts.isna().any() and \
        bool((ts.to_numpy().astype("datetime64[ns]").astype("int64") % 10**9 == 0).all())
    return {"kept": len(kept),
            "bytes": int(kept.drop(columns=[r for r in TEXT_ROLES if r in kept]).memory_usage(deep=True, index=False)
                         .sum()),
            "id_bytes": int(kept["customer_id"].memory_usage(deep=True, index=False)),
            "ts_min": ts.min() if ts is not None and len(kept) else pd.NaT,
            "ts_max": ts.max() if ts is not None and len(kept) else pd.NaT, "whole_seconds": whole}


# --------------------------------------------------------------------------- transactions
def tx_rows(part: pd.DataFrame, src: TransactionsSource, label: str, as_text: bool, known: Any,
            levels: dict[str, list]) -> pd.DataFrame:
    """Normalised rows of known customers (``customer_id``, ``ts``, ``amount`` + roles)."""
    out = _normalised(part, normalise_transactions, src, label, as_text)
    keep = _known(out, known)
    out = out.loc[keep] if not keep.all() else out
    if "invoice" in out.columns and not isinstance(out["invoice"].dtype, pd.StringDtype):
        out["invoice"] = out["invoice"].astype(str)
    return encode_text(_ns(out.reset_index(drop=True)), levels)


def tx_stats(part: pd.DataFrame, src: TransactionsSource, label: str, as_text: bool, known: Any,
             levels_before: pd.Timestamp | None) -> pd.DataFrame:
    """Validate one partition; one row of counts and ranges — no customer value — for the load
    statistics, the date range, the text levels and the memory the rows will need."""
    rows = len(part)
    out = _normalised(part, normalise_transactions, src, label, as_text)
    keep = _known(out, known)
    kept = out.loc[keep] if not keep.all() else out
    amount = kept["amount"].to_numpy()
    before = (kept["ts"].to_numpy() < np.datetime64(levels_before)) if levels_before is not None else \
        np.ones(len(kept), dtype=bool)
    stats: dict[str, Any] = {
        "rows": rows, "rows_without_customer": rows - len(out), "rows_unknown_customer": int((~keep).sum()),
        "negative_lines": int((out["amount"].to_numpy() < 0).sum()),
        "text_ids": not pd.api.types.is_integer_dtype(out["customer_id"]), **_kept_stats(kept)}
    positive = pd.Series(np.where(amount > 0, amount, 0.0)[before])
    for role in TEXT_ROLES:
        if role in kept.columns:
            values = kept[role]
            distinct = values.dropna().unique()
            stats[f"{role}_values"] = list(distinct[:MAX_LEVELS + 1])
            spend = positive.groupby(values[before].reset_index(drop=True), dropna=True, sort=False).sum() \
                if len(distinct) <= MAX_LEVELS else None              # many levels: summed on the workers later
            stats[f"{role}_spend"] = spend.to_dict() if spend is not None else None
            stats[f"{role}_bytes"] = int(values.memory_usage(deep=True, index=False))
    return pd.DataFrame({k: [v] for k, v in stats.items()})


def tx_stats_meta(src: TransactionsSource) -> pd.DataFrame:
    meta = {"rows": "int64", "rows_without_customer": "int64", "rows_unknown_customer": "int64",
            "negative_lines": "int64", "text_ids": "bool", **KEPT_META}
    for role in TEXT_ROLES:
        if getattr(src, role):
            meta |= {f"{role}_values": "object", f"{role}_spend": "object", f"{role}_bytes": "int64"}
    return pd.DataFrame({k: pd.Series(dtype=v) for k, v in meta.items()})


# --------------------------------------------------------------------------- campaign events
def event_rows(part: pd.DataFrame, src: EventsSource, label: str, as_text: bool, known: Any,
               levels: dict[str, list]) -> pd.DataFrame:
    out = _normalised(part, normalise_events, src, label, as_text)
    keep = _known(out, known)
    out = out.loc[keep] if not keep.all() else out
    if "campaign" in out.columns:
        out["campaign"] = out["campaign"].astype(str)
    return encode_text(_ns(out.reset_index(drop=True)), levels)


def event_stats(part: pd.DataFrame, src: EventsSource, label: str, as_text: bool, known: Any) -> pd.DataFrame:
    out = _normalised(part, normalise_events, src, label, as_text)
    keep = _known(out, known)
    kept = out.loc[keep]
    stats: dict[str, Any] = {"rows": len(out), "text_ids": not pd.api.types.is_integer_dtype(out["customer_id"]),
                             **_kept_stats(kept)}
    if "channel" in kept.columns:
        stats["channel_values"] = list(pd.unique(kept["channel"].dropna().to_numpy())[:MAX_LEVELS + 1])
        stats["channel_bytes"] = int(kept["channel"].memory_usage(deep=True, index=False))
    return pd.DataFrame({k: [v] for k, v in stats.items()})


def event_stats_meta(src: EventsSource) -> pd.DataFrame:
    meta = {"rows": "int64", "text_ids": "bool", **KEPT_META}
    if src.channel:
        meta |= {"channel_values": "object", "channel_bytes": "int64"}
    return pd.DataFrame({k: pd.Series(dtype=v) for k, v in meta.items()})


def rows_with_id(part: pd.DataFrame, id_column: str) -> pd.DataFrame:
    """Rows with a customer id (how the pandas loader numbers rows in its errors)."""
    return pd.DataFrame({"n": [int(part[id_column].notna().sum())]})
