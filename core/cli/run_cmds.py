"""``init``, ``run``, ``segments``, ``export``, ``keygen``."""
from __future__ import annotations

import json
from pathlib import Path

import click

from microseg.cli.common import db_option, echo_json, json_option, library_output_to_stderr, open_store, registry_from
from microseg.cli.report_cmds import echo_report_outcome, no_report_option, report_option, report_request
from microseg.errors import InputError


@click.command()
@click.argument("path", default="microseg.toml", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite an existing config.")
def init(path: str, force: bool) -> None:
    """Write a commented starter config (and a random pseudonymisation key)."""
    from microseg.privacy.pseudonym import write_new_key
    from microseg.starter import STARTER_CONFIG
    p = Path(path)
    if p.exists() and not force:
        raise InputError(f"{p} exists; use --force to overwrite")
    p.write_text(STARTER_CONFIG, encoding="utf-8")
    key = p.resolve().parent / ".microseg" / "key"
    if not key.exists():
        write_new_key(key)
        click.echo(f"Wrote {key} (keep it secret, keep it safe: it links pseudonyms to customers)")
    click.echo(f"Wrote {p}. Edit the sources, then: microseg run {p}")


@click.command()
@click.argument("path", type=click.Path(dir_okay=False))
def keygen(path: str) -> None:
    """Write a new random pseudonymisation key file (mode 0600)."""
    from microseg.privacy.pseudonym import write_new_key
    try:
        write_new_key(Path(path))
    except FileExistsError:
        raise InputError(f"{path} exists; refusing to overwrite a key") from None
    click.echo(f"Wrote {path}")


@click.command()
@click.argument("config", type=click.Path(dir_okay=False))
@db_option
@json_option
@click.option("--engine", type=click.Choice(["pandas", "dask"]), default=None, help="Override the config's engine.")
@click.option("--scheduler", metavar="ADDRESS", default=None, help="Dask scheduler address (engine dask).")
@report_option
@no_report_option
@click.pass_context
def run(ctx: click.Context, config: str, db: str | None, as_json: bool, engine: str | None,
        scheduler: str | None, report_to: str | None, no_report: bool) -> None:
    """Run a governed segmentation from CONFIG and store it (and its HTML report)."""
    from microseg.api import run as api_run
    with library_output_to_stderr():
        result = api_run(config, db=db, registry=registry_from(ctx), engine=engine, scheduler=scheduler,
                         progress=None if as_json else lambda s: click.echo(f"  · {s}", err=True),
                         report=report_request(report_to, no_report))
    if as_json:
        echo_json({**result.report, "timings": result.timings,
                   "report_path": str(result.report_path) if result.report_path else None})
        if result.report_error:
            echo_report_outcome(result)
        return
    _print_released(result.report)
    click.echo(f"\nRun {result.run_id} stored in {result.store_url}")
    echo_report_outcome(result)


def _print_released(report: dict, max_micro: int = 12) -> None:
    """Method segments in full; microsegments: the largest few (all of them are in the report)."""
    from rich.console import Console
    from rich.table import Table
    released = [s for s in report["segments"] if s["status"] == "released"]
    micro = sorted((s for s in released if s["family"] == "micro"), key=lambda s: -int(s["size"]))
    table = Table(title=f"Released segments (k = {report['k']})")
    for col in ("method", "segment", "size", "description"):
        table.add_column(col, overflow="fold")
    for s in released:
        if s["family"] != "micro":
            table.add_row(s["family"], s["label"], str(s["size"]), _short(s["description"]))
    for s in micro[:max_micro]:
        table.add_row("micro", s["label"], str(s["size"]), "")
    Console(width=max(100, Console().width)).print(table)
    if len(micro) > max_micro:
        click.echo(f"… and {len(micro) - max_micro} more microsegments (see the report)")
    gate = report.get("gate", {})
    click.echo("Gate: " + ", ".join(f"{v} {k}" for k, v in sorted(gate.items())))
    for instance_id, q in report.get("quality", {}).items():
        click.echo(f"Model quality, {instance_id}: {q['reason']}")


def _short(text: str, width: int = 70) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


@click.command()
@click.argument("run_id", required=False, type=int)
@db_option
@json_option
@click.option("--all", "show_all", is_flag=True, help="Also list suppressed and merged segments (sizes as '< k').")
def segments(run_id: int | None, db: str | None, as_json: bool, show_all: bool) -> None:
    """List the released segments of RUN (default: the latest run)."""
    from microseg.api import segments_view
    store = open_store(db)
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
        table.add_row(r["family"], r["label"], str(r["size"]), r["status"], r["description"])
    Console().print(table)


@click.command()
@click.argument("run_id", metavar="[RUN]", required=False, type=int)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False),
              help="File to write; its suffix picks the format (.csv, .parquet, or a plugin's).")
@click.option("--format", "fmt", metavar="NAME", help="Export format by name (csv, parquet, or a plugin's).")
@db_option
@click.option("--scores/--no-scores", default=True, help="Include per-customer scores when the run's policy released them.")
@click.pass_context
def export(ctx: click.Context, run_id: int | None, out: str, fmt: str | None, db: str | None, scores: bool) -> None:
    """Export RUN's released memberships (one row per customer) through the release gate
    (RUN defaults to the latest run)."""
    from microseg.api import export_run
    store = open_store(db)
    done = export_run(store, run_id, Path(out), include_scores=scores, fmt=fmt, registry=registry_from(ctx))
    click.echo(f"Wrote {done.rows} customers × {len(done.columns)} columns to {out} ({done.format})")


COMMANDS = [init, keygen, run, segments, export]
