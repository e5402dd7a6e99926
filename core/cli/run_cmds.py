"""``run``, ``segments``, ``export``."""
from __future__ import annotations

from pathlib import Path

import click

from microseg.cli.common import (Choice, config_key_option, db_option, echo_json, json_option,
                                 library_output_to_stderr, load_secret, registry_from)
from microseg.cli.progress_display import progress_display, working
from microseg.cli.report_cmds import echo_report_outcome, no_report_option, report_option, report_request


@click.command()
@click.argument("config", default="microseg.toml", type=click.Path(dir_okay=False))
@db_option
@json_option
@click.option("--engine", type=Choice(["pandas", "dask"]), default=None, help="Override the config's engine.")
@click.option("--scheduler", metavar="ADDRESS", default=None, help="Dask scheduler address (engine dask).")
@report_option
@no_report_option
@click.pass_context
def run(ctx: click.Context, config: str, db: str | None, as_json: bool, engine: str | None,
        scheduler: str | None, report_to: str | None, no_report: bool) -> None:
    """Run a governed segmentation from CONFIG (default: microseg.toml) and store it (and its HTML
    report). The preflight checks of `microseg check` come first: a bad rule, column or key fails
    in seconds and leaves the store untouched. Progress shows on a terminal (not under --json).

    \b
    Examples:
      microseg run microseg.toml
      microseg run microseg.toml --db runs.db --no-report --json > run.json
    """
    from microseg.api import run as api_run
    with library_output_to_stderr(), progress_display(as_json):
        result = api_run(config, db=db, registry=registry_from(ctx), engine=engine, scheduler=scheduler,
                         report=report_request(report_to, no_report))
    if as_json:
        echo_json({**result.report, "timings": result.timings,
                   "report_path": str(result.report_path) if result.report_path else None})
        if result.report_error:
            echo_report_outcome(result)
        return
    print_released(result.report)
    click.echo(f"\nRun {result.run_id} stored in {result.store_url}")
    echo_report_outcome(result)


def print_released(report: dict, max_micro: int = 12) -> None:
    """Method segments in full; microsegments: the largest few (all of them are in the report)."""
    from rich.console import Console
    from rich.table import Table
    released = [s for s in report["segments"] if s["status"] == "released"]
    micro = sorted((s for s in released if s["family"] == "micro" and s.get("kind", "segment") == "segment"),
                   key=lambda s: -int(s["size"]))
    table = Table(title=f"Released segments (k = {report['k']})")
    for col in ("method", "segment", "size", "description"):
        table.add_column(col, overflow="fold")
    values = [s for s in released if s.get("kind", "segment") != "segment"]
    for s in released:
        if s["family"] != "micro" and s.get("kind", "segment") == "segment":
            table.add_row(s["family"], s["label"], str(s["size"]), _short(s["description"]))
    for s in micro[:max_micro]:
        table.add_row("micro", s["label"], str(s["size"]), "")
    Console(width=max(100, Console().width)).print(table)
    if len(micro) > max_micro:
        click.echo(f"… and {len(micro) - max_micro} more microsegments (see the report)")
    if values:
        click.echo(f"… and {len(values)} released score bands, attribute values and withheld values '*' "
                   "(see the report)")
    gate = report.get("gate", {})
    click.echo("Gate: " + ", ".join(f"{v} {k}" for k, v in sorted(gate.items())))
    loss = report.get("loss", {})
    if loss:
        worst = sorted(loss.get("per_column", {}).items(), key=lambda kv: -kv[1]["coarsened_share"])[:4]
        click.echo(f"Released {loss['released_customers']} customers; {loss['coarsened_share']:.1%} with some value "
                   "coarsened (" + ", ".join(f"{name} {v['coarsened_share']:.1%}" for name, v in worst) + ")")
    for instance_id, q in report.get("quality", {}).items():
        click.echo(f"Model quality, {instance_id}: {q['reason']}")


def _short(text: str, width: int = 70) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


@click.command()
@click.argument("run_id", required=False, type=int)
@db_option
@json_option
@click.option("--all", "show_all", is_flag=True, help="Also list withheld and merged segments (with the reason, no size).")
def segments(run_id: int | None, db: str | None, as_json: bool, show_all: bool) -> None:
    """List the released segments of RUN (default: the latest run).

    \b
    Examples:
      microseg segments
      microseg segments 3 --all --json
    """
    from microseg.api import segments_view
    from microseg.store import open_store
    store = open_store(db, create=False)
    run_row, rows = segments_view(store, run_id, include_unreleased=show_all)
    if as_json:
        echo_json({"run_id": run_row.id, "k": run_row.k, "status": run_row.status, "segments": rows})
        return
    from rich.console import Console
    from rich.table import Table
    table = Table(title=f"Run {run_row.id} ({run_row.status}, as of {run_row.as_of}, k = {run_row.k})")
    for col in ("family", "segment", "size", "status", "description"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(r["family"], r["label"], str(r.get("size", "")), r["status"],
                      r["description"] if r["status"] == "released" else r.get("reason", ""))
    Console().print(table)


@click.command()
@click.argument("run_id", metavar="[RUN]", required=False, type=int)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False),
              help="File to write; its suffix picks the format (.csv, .parquet, or a plugin's).")
@click.option("--format", "fmt", metavar="NAME", help="Export format by name (csv, parquet, or a plugin's).")
@db_option
@click.option("--scores/--no-scores", default=True, help="Include score bands when the run's policy released them.")
@config_key_option
@json_option
@click.pass_context
def export(ctx: click.Context, run_id: int | None, out: str, fmt: str | None, db: str | None, scores: bool,
           config: str | None, as_json: bool) -> None:
    """Export RUN's released table (one row per customer) and record it in the signed audit trail
    (RUN defaults to the latest run; needs the pseudonymisation key: $MICROSEG_KEY or --config).

    \b
    Examples:
      microseg export --out segments.csv --config microseg.toml
      microseg export 2 --out segments.parquet --no-scores --json
    """
    from microseg.api import export_run
    secret, cfg = load_secret(config, "export (it signs the audit trail)")
    from microseg.store import open_store, store_timeouts
    store = open_store(db, cfg.store.url if cfg else None, store_timeouts(cfg), create=False)
    run_row = store.run(run_id)
    with working(f"exporting run {run_row.id} to {out}", as_json):
        done = export_run(store, run_row.id, Path(out), secret=secret, include_scores=scores, fmt=fmt,
                          registry=registry_from(ctx))
    if as_json:
        echo_json({"run_id": run_row.id, **done.as_dict()})
        return
    click.echo(f"Wrote {done.rows} customers × {len(done.columns)} columns of run {run_row.id} to {out} "
               f"({done.format})")


COMMANDS = [run, segments, export]
