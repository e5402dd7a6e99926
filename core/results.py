"""A run's released output as pandas DataFrames, for notebooks (``result.segments``, ``result.memberships()``).

Both read only what the release gate let out: released segments, and the customers stored
for them (keyed pseudonyms, original ids or none, per ``[release] customer_ids``).
"""
from __future__ import annotations

from typing import Any

import pandas as pd

SEGMENT_COLUMNS = ["key", "family", "label", "description", "size"]


def segments_frame(report: dict[str, Any]) -> pd.DataFrame:
    """Released segments of a run report, largest first within each family (withheld ones, with
    their reason, stay in ``report["segments"]`` and ``microseg segments --all``)."""
    rows = [{c: s.get(c) for c in SEGMENT_COLUMNS} for s in report.get("segments", []) if s["status"] == "released"]
    frame = pd.DataFrame(rows, columns=SEGMENT_COLUMNS)
    if frame.empty:
        return frame
    order = frame.assign(_n=pd.to_numeric(frame["size"], errors="coerce")).sort_values(
        ["family", "_n"], ascending=[True, False], kind="stable")
    return order.drop(columns="_n").reset_index(drop=True)


def memberships_frame(store: Any, run_id: int) -> pd.DataFrame:
    """One row per released customer × segment: ``customer`` (the stored key), ``key``,
    ``family``, ``label``."""
    if store is None:
        raise ValueError("this result has no store to read memberships from")
    segments = pd.DataFrame([{"segment_id": s.id, "key": s.key, "family": s.family, "label": s.label}
                             for s in store.segments(run_id) if s.status == "released"],
                            columns=["segment_id", "key", "family", "label"])
    rows = store.memberships(run_id)[["customer_key", "segment_id"]]
    out = rows.merge(segments, on="segment_id", how="inner").rename(columns={"customer_key": "customer"})
    return out[["customer", "key", "family", "label"]].reset_index(drop=True)
