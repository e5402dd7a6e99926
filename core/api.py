"""The Python API behind the CLI: run a config, list segments, export a run.

    >>> from microseg import api
    >>> result = api.run("microseg.toml")            # doctest: +SKIP
    >>> api.segments_view(api.open_store(), result.run_id)  # doctest: +SKIP
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from microseg.compose import KEY_SEP
from microseg.config import Config, load_config
from microseg.pipeline import RunResult, run_config
from microseg.privacy.gate import display_size
from microseg.registry import Registry, get_registry
from microseg.store import Run, Store, resolve_url


def open_store(db: str | None = None, config: Config | None = None) -> Store:
    return Store(resolve_url(db, config.store.url if config else None))


def run(config: str | Path | Config, *, db: str | None = None, registry: Registry | None = None,
        engine: str | None = None, scheduler: str | None = None,
        progress: Callable[[str], None] | None = None) -> RunResult:
    """Run a governed segmentation from a config file (or a parsed :class:`Config`)."""
    cfg = config if isinstance(config, Config) else load_config(config)
    if engine and engine != cfg.engine:
        cfg = cfg.model_copy(update={"engine": engine})      # the caller's Config stays as it was
    if cfg.engine == "dask":
        from microseg.dask_engine import run_config_dask
        return run_config_dask(cfg, open_store(db, cfg), registry or get_registry(), scheduler=scheduler,
                               progress=progress)
    return run_config(cfg, open_store(db, cfg), registry or get_registry(), progress=progress)


def segments_view(store: Store, run_id: int | None = None, *,
                  include_unreleased: bool = False) -> tuple[Run, list[dict[str, Any]]]:
    """Segments of a run as they may be shown: sizes below k as ``"< k"``."""
    run_row = store.run(run_id)
    rows = []
    for s in store.segments(run_row.id):
        if s.status != "released" and not include_unreleased:
            continue
        size = s.released_size if s.status == "released" else s.size
        rows.append({"key": s.key, "family": s.family, "label": s.label, "description": s.description,
                     "status": s.status, "size": display_size(size, run_row.k),
                     "released_as": s.released_as})
    return run_row, rows


def export_run(store: Store, run_id: int, out: Path, *, include_scores: bool = True) -> tuple[int, list[str]]:
    """Write released memberships, one row per customer, one column per method family (labels of
    a multi-membership family joined with ``;``; microsegments: each customer's finest level)."""
    from microseg.privacy.audit import append_events
    run_row = store.run(run_id)
    segs = [s for s in store.segments(run_id) if s.status == "released"]
    customers, row, segment_ids = store.released_customers(run_id)
    seg = pd.DataFrame({"family": [s.family for s in segs], "label": [s.label for s in segs],
                        "level": [s.key.count(KEY_SEP) + 1 for s in segs]}, index=[s.id for s in segs])
    at = seg.index.get_indexer(segment_ids)
    row, at = row[at >= 0], at[at >= 0]
    out_df = pd.DataFrame(index=pd.RangeIndex(len(customers)))
    if run_row.customer_ids != "none":
        out_df["customer"] = customers["customer_key"].to_numpy()
    families = seg["family"].to_numpy()[at]
    for family in sorted(set(families)):
        out_df[family] = _family_column(row[families == family], at[families == family], seg, len(customers),
                                        finest=family == "micro")
    has_any = np.zeros(len(customers), dtype=bool)
    has_any[row] = True
    out_df, customers = out_df[has_any], customers[has_any]
    if include_scores and customers["scores"].notna().any():
        extra = pd.DataFrame([json.loads(s) if isinstance(s, str) else {} for s in customers["scores"]],
                             index=out_df.index)
        out_df = out_df.join(extra)
    out_df = out_df.reset_index(drop=True)
    _atomic_write(out_df, out)
    with store.engine.begin() as conn:
        append_events(conn, [("export", run_id, {"rows": len(out_df), "columns": list(out_df.columns),
                                                  "format": _fmt(out)})])
    return len(out_df), list(out_df.columns)


def _family_column(rows: np.ndarray, at: np.ndarray, seg: pd.DataFrame, n: int, *, finest: bool) -> np.ndarray:
    """One family's label per customer row (``;``-joined when several; the deepest when ``finest``)."""
    labels, levels = seg["label"].to_numpy(), seg["level"].to_numpy()
    order = np.lexsort((levels[at], rows)) if finest else np.argsort(rows, kind="stable")
    rows, at = rows[order], at[order]
    col = np.full(n, None, dtype=object)
    last = np.r_[rows[1:] != rows[:-1], True] if len(rows) else np.array([], dtype=bool)
    if finest or last.all():                          # one label per customer (the last = the deepest)
        col[rows[last]] = labels[at[last]]
        return col
    own = np.unique(at)                               # the family's segments, in segment order
    if len(own) > 52:                                 # too many for a bit set in a float64
        joined = pd.Series(labels[at]).groupby(rows, sort=True).agg(";".join)
        col[joined.index.to_numpy()] = joined.to_numpy()
        return col
    bits = np.bincount(rows, weights=np.ldexp(1.0, np.searchsorted(own, at)), minlength=n).astype(np.int64)
    combos, which = np.unique(bits[rows[last]], return_inverse=True)
    names = np.array([";".join(labels[own[[i for i in range(len(own)) if c >> i & 1]]]) for c in combos.tolist()],
                     dtype=object)
    col[rows[last]] = names[which]
    return col


def _fmt(out: Path) -> str:
    return "parquet" if out.suffix.lower() in (".parquet", ".pq") else "csv"


def _atomic_write(df: pd.DataFrame, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=".microseg-export-")
    os.close(fd)
    try:
        if _fmt(out) == "parquet":
            df.to_parquet(tmp, index=False)
        else:
            df.to_csv(tmp, index=False)
        os.replace(tmp, out)
    except Exception:
        Path(tmp).unlink(missing_ok=True)
        raise
