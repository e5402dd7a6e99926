"""Functions applied to one partition of normalised rows on a worker.

``tx_features_part`` / ``event_features_part`` take rows **shuffled by customer** (every row
of a customer in one partition) and return finished per-customer values computed by the pandas
engine's own code (:mod:`microseg.features`); the other ``*_part`` functions return partial
sums, levels or ranges that are combined across partitions.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from microseg.features import BASKET_COUNTS, basket_counts, event_features, slug, transaction_features


def keep_rows(part: pd.DataFrame, keep: pd.Index) -> pd.DataFrame:
    """Only the rows of the customers in ``keep`` (an Index: its hash table is built once per
    worker, not once per partition)."""
    mask = keep.get_indexer(part["customer_id"].to_numpy()) >= 0
    return part if mask.all() else part.loc[mask]


def keep_coded_rows(part: pd.DataFrame, keep: np.ndarray) -> pd.DataFrame:
    """Only the rows whose customer code is marked in the boolean array ``keep``."""
    mask = keep[part["customer_id"].to_numpy()]
    return part if mask.all() else part.loc[mask]


def pass_rows(part: pd.DataFrame, when: pd.Timestamp | None, index: pd.Index | None,
              origin: pd.Timestamp | None) -> pd.DataFrame:
    """The rows to shuffle, compact: those before ``when`` (later rows never count); with
    ``index``, customer ids become their int32 position in it, with ``origin`` times become
    int32 seconds since it (4 bytes each instead of 8 or more; :func:`restore_ts` undoes it)."""
    keep = np.ones(len(part), dtype=bool)
    if when is not None and "ts" in part.columns:
        keep &= part["ts"].to_numpy() < np.datetime64(when)
    ids = part["customer_id"].to_numpy()
    if index is not None:
        ids = index.get_indexer(ids).astype("int32")
    out = {"customer_id": ids[keep]}
    for col in part.columns[1:]:
        values = part[col].to_numpy() if col == "ts" else part[col].array
        if col == "ts" and origin is not None:
            values = ((values - np.datetime64(origin, "ns")) // np.timedelta64(1, "s")).astype("int32")
        out[col] = values[keep]
    return pd.DataFrame(out, columns=part.columns)


def restore_ts(part: pd.DataFrame, origin: pd.Timestamp | None) -> pd.DataFrame:
    """Times back to datetimes after :func:`pass_rows` encoded them as seconds since ``origin``."""
    if origin is None or "ts" not in part.columns:
        return part
    seconds = part["ts"].to_numpy().astype("int64")
    return part.assign(ts=np.datetime64(origin, "ns") + seconds * np.timedelta64(1, "s"))


def tx_features_part(part: pd.DataFrame, origin: pd.Timestamp | None, when: pd.Timestamp,
                     windows: tuple[int, ...], levels: dict[str, list]) -> pd.DataFrame:
    """``transaction_features`` of the customers of one shuffled partition."""
    part = restore_ts(part, origin)
    ids = pd.Index(pd.unique(part["customer_id"]), name="customer_id")
    return transaction_features(part, ids, when, windows, levels)


def event_columns(channels: list) -> list[str]:
    """The columns of ``event_features`` for these channels, in its order."""
    return ["contacts", "responses", "response_rate"] + [f"{p}{slug(ch)}" for ch in channels
                                                         for p in ("contacts_", "responses_")]


def event_features_part(part: pd.DataFrame, origin: pd.Timestamp | None, when: pd.Timestamp,
                        channels: list) -> pd.DataFrame:
    """``event_features`` of the customers of one shuffled partition, on the run's channels."""
    part = restore_ts(part, origin)
    ids = pd.Index(pd.unique(part["customer_id"]), name="customer_id")
    out = event_features(part, ids, when)
    return out.reindex(columns=event_columns(channels), fill_value=0)


def window_sums_part(part: pd.DataFrame, origin: pd.Timestamp | None,
                     windows: list[tuple[pd.Timestamp, pd.Timestamp]]) -> pd.DataFrame:
    """Net spend in each [start, end) window (columns w0, w1, …) of the customers of one
    shuffled partition."""
    ts = restore_ts(part, origin)["ts"].to_numpy()
    amount = part["amount"].to_numpy(dtype="float64")
    cols = {f"w{i}": np.where((ts >= np.datetime64(s)) & (ts < np.datetime64(e)), amount, 0.0)
            for i, (s, e) in enumerate(windows)}
    frame = pd.DataFrame({"customer_id": part["customer_id"].to_numpy(), **cols})
    return frame.groupby("customer_id", sort=False).sum()


def basket_counts_part(part: pd.DataFrame, origin: pd.Timestamp | None,
                       windows: list[tuple[pd.Timestamp, pd.Timestamp]]) -> pd.DataFrame:
    """``basket_counts`` of the customers of one shuffled partition (every row of a customer,
    so of an invoice, is in it), as columns ``invoices0``, ``lines0``, ``units0``, ``invoices1``, …"""
    part = restore_ts(part, origin)
    ids = pd.Index(pd.unique(part["customer_id"]), name="customer_id")
    counts = basket_counts(part, ids, windows)
    return pd.DataFrame({f"{name}{j}": counts[:, j, k] for j in range(len(windows))
                         for k, name in enumerate(BASKET_COUNTS)}, index=ids)


def level_spend_part(part: pd.DataFrame, role: str, when: pd.Timestamp) -> pd.DataFrame:
    """Positive spend per ``channel`` / ``category`` level before ``when`` (for the share columns)."""
    sel = part.loc[part["ts"].to_numpy() < np.datetime64(when)]
    amount = sel["amount"].to_numpy(dtype="float64")
    values = np.asarray(sel[role].to_numpy(dtype=object))
    spend = pd.Series(np.where(amount > 0, amount, 0.0)).groupby(values, dropna=True).sum()
    return pd.DataFrame({"level": spend.index.to_numpy(dtype=object), "spend": spend.to_numpy()})


def channels_before_part(part: pd.DataFrame, when: pd.Timestamp) -> pd.DataFrame:
    """The campaign channels contacted before ``when``."""
    sel = part.loc[part["ts"].to_numpy() < np.datetime64(when)] if "ts" in part.columns else part
    return pd.DataFrame({"channel": pd.unique(sel["channel"].dropna().to_numpy(dtype=object))})


def ts_range_part(part: pd.DataFrame) -> pd.DataFrame:
    ts = part["ts"]
    return pd.DataFrame({"lo": [ts.min() if len(ts) else pd.NaT], "hi": [ts.max() if len(ts) else pd.NaT]})
