"""The Python API behind the CLI: run a config, list segments, export a run.

    >>> from microseg import api
    >>> result = api.run("microseg.toml")            # doctest: +SKIP
    >>> api.segments_view(api.open_store(), result.run_id)  # doctest: +SKIP
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from microseg.config import Config, load_config
from microseg.pipeline import RunResult, run_config
from microseg.privacy.release import display_size
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
    """Segments of a run as they may be shown: released ones with the number of released customers
    carrying them; withheld or merged ones with their reason and no size."""
    run_row = store.run(run_id)
    rows = []
    for s in store.segments(run_row.id):
        if s.status != "released" and not include_unreleased:
            continue
        row = {"key": s.key, "family": s.family, "label": s.label, "description": s.description, "status": s.status}
        if s.status == "released":
            row["size"] = display_size(s.released_size, run_row.k)
        else:
            row |= {"released_as": s.released_as, "reason": s.reason}
        rows.append(row)
    return run_row, rows


def export_run(store: Store, run_id: int, out: Path, *, secret: bytes, include_scores: bool = True
               ) -> tuple[int, list[str]]:
    """Write the released table of a run (:func:`microseg.privacy.released.released_rows`) and
    record the export in the audit trail (signed with ``secret``, the pseudonymisation key)."""
    from microseg.privacy.released import record_export, released_rows
    out_df = released_rows(store, run_id, include_scores=include_scores)
    _atomic_write(out_df, out)
    record_export(store, run_id, out, out_df, _fmt(out), secret)
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
