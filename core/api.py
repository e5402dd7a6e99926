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
    if engine:
        cfg.engine = engine  # type: ignore[assignment]
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
    """Write released memberships, one row per customer, one column per method family."""
    from microseg.privacy.audit import append_events
    run_row = store.run(run_id)
    segs = {s.id: s for s in store.segments(run_id) if s.status == "released"}
    m = store.memberships(run_id)
    m = m[m["segment_id"].isin(segs.keys())]
    m["family"] = m["segment_id"].map(lambda i: segs[i].family)
    m["label"] = m["segment_id"].map(lambda i: segs[i].label)
    m["level"] = m["segment_id"].map(lambda i: segs[i].key.count(KEY_SEP) + 1)
    # microsegments: each customer's finest released level (coarser levels are its parents)
    micro = m["family"] == "micro"
    finest = m[micro].sort_values("level").drop_duplicates("customer_no", keep="last")
    m = pd.concat([m[~micro], finest])
    wide = (m.groupby(["customer_no", "family"], sort=True)["label"].agg(";".join).unstack("family"))
    keys = m.drop_duplicates("customer_no").set_index("customer_no")
    out_df = pd.DataFrame(index=wide.index)
    if run_row.customer_ids != "none":
        out_df["customer"] = keys["customer_key"].reindex(wide.index)
    out_df = out_df.join(wide)
    if include_scores and keys["scores"].notna().any():
        extra = pd.DataFrame([json.loads(s) if isinstance(s, str) else {} for s in keys["scores"]],
                             index=keys.index)
        out_df = out_df.join(extra)
    out_df = out_df.reset_index(drop=True)
    _atomic_write(out_df, out)
    with store.engine.begin() as conn:
        append_events(conn, [("export", run_id, {"rows": len(out_df), "columns": list(out_df.columns),
                                                  "format": _fmt(out)})])
    return len(out_df), list(out_df.columns)


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
