"""The Python API behind the CLI: run a config, list, show and compare segments, export a run,
write its report. Each function is a thin façade over the module that does the work.

    >>> from microseg import api
    >>> result = api.run("microseg.toml")            # doctest: +SKIP
    >>> api.segments_view(api.open_store(), result.run_id)  # doctest: +SKIP
    >>> api.write_report(api.open_store(), result.run_id)   # doctest: +SKIP
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from microseg.errors import InputError
from microseg.privacy.counts import display_size
from microseg.registry import Registry, get_registry
from microseg.store import Run, Store, open_store, store_timeouts

if TYPE_CHECKING:   # the pipeline (and what it imports) loads when a run starts, not for `segments`
    from microseg.config import Config
    from microseg.export import ExportResult
    from microseg.pipeline import RunResult


def run(config: "str | Path | Config", *, db: str | None = None, registry: Registry | None = None,
        engine: str | None = None, scheduler: str | None = None,
        progress: Callable[[str], None] | None = None, report: bool | str | Path = False) -> "RunResult":
    """Run a governed segmentation from a config file (or a parsed :class:`Config`) into the store.

    The preflight checks (:func:`microseg.preflight.validate`) come first: a bad config, column
    or key fails in seconds and leaves the store untouched. ``report=True`` also writes the run's
    HTML report beside the store (a path: there); a report that cannot be written leaves the
    stored run as it is and says why in ``result.report_error``.

    >>> result = microseg.run("microseg.toml", db="runs.db")      # doctest: +SKIP
    >>> result.segments                                            # doctest: +SKIP
    >>> result.memberships()                                       # doctest: +SKIP
    """
    from microseg.config import Config, load_config
    from microseg.pipeline import run_config
    from microseg.preflight import validate
    cfg = config if isinstance(config, Config) else load_config(config)
    if engine and engine != cfg.engine:
        cfg = cfg.model_copy(update={"engine": engine})      # the caller's Config stays as it was
    registry = registry or get_registry()
    validate(cfg, registry)
    store = open_store(db, cfg.store.url, store_timeouts(cfg))
    try:
        store.check_writable()                               # read-only or locked: say so now, not after the run
        if cfg.engine == "dask":
            from microseg.dask_engine import run_config_dask
            result = run_config_dask(cfg, store, registry, scheduler=scheduler, progress=progress)
        else:
            result = run_config(cfg, store, registry, progress=progress)
    except BaseException:
        store.discard_if_unused()                            # a failed first run leaves no empty store behind
        raise
    if report is not False:
        from microseg.errors import MicrosegError
        try:
            result.report_path = write_report(store, result.run_id, out=None if report is True else report,
                                              registry=registry)
        except MicrosegError as exc:
            result.report_error = str(exc)
    return result


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


def export_run(store: Store, run_id: int | None, out: Path, *, secret: bytes | None = None,
               include_scores: bool = True, fmt: str | None = None, registry: Registry | None = None) -> ExportResult:
    """Write a run's released table (default: the latest run), one row per customer, in the
    format named ``fmt`` or claimed by ``out``'s suffix (see :mod:`microseg.export`); ``secret``
    (the pseudonymisation key; default: ``$MICROSEG_KEY``) signs the audit trail's record of it."""
    from microseg.export import export_run as export
    if secret is None:
        from microseg.privacy.policy import PrivacyPolicy
        from microseg.privacy.pseudonym import load_key
        secret = load_key(PrivacyPolicy())
    return export(store, run_id, Path(out), registry or get_registry(), secret=secret, fmt=fmt,
                  include_scores=include_scores)


def write_report(store: Store, run_id: int | None = None, *, out: str | Path | None = None, fmt: str | None = None,
                 registry: Registry | None = None) -> Path:
    """Render a run's report (default: the latest run; HTML unless ``fmt`` or ``out``'s suffix
    says otherwise) to ``out`` (default: ``report-run-<id>`` beside an SQLite store, else here)."""
    from microseg.outputs import pick_report_renderer
    from microseg.report import default_report_path
    from microseg.report import write_report as write
    from microseg.report.document import build_document
    renderer = pick_report_renderer((registry or get_registry()).report_renderers, Path(out) if out else None, fmt)
    doc = build_document(store, run_id)
    path = Path(out) if out else default_report_path(store.url, doc["run"]["id"], renderer.suffix)
    return write(doc, renderer, path)


def compare(store: Store, run_a: int | None = None, run_b: int | None = None) -> dict[str, Any]:
    """Overlap and migration of released customers between two runs (default: the latest run and
    the run before it), every count through the gate (see :mod:`microseg.migration`)."""
    from microseg.migration import compare_runs
    b = store.run(run_b).id
    if run_a is None:
        earlier = [r.id for r in store.runs() if r.id < b]
        if not earlier:
            raise InputError(f"RUN_A: run {b} is the store's first run; name two runs to compare")
        run_a = earlier[-1]
    return compare_runs(store, run_a, b)


def show(store: Store, key: str, run_id: int | None = None) -> dict[str, Any]:
    """One segment of a run (default: the latest): definition, description, size, drivers, and
    for a withheld one the reason in words (see :mod:`microseg.segment_detail`)."""
    from microseg.segment_detail import segment_detail
    return segment_detail(store, key, run_id)
