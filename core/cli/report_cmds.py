"""``report``, ``compare`` and ``show``: look at stored runs through the release gate."""
from __future__ import annotations

from typing import Any

import click

from microseg.cli.common import db_option, echo_json, json_option, registry_from


@click.command()
@click.argument("run_id", metavar="[RUN]", required=False, type=int)
@click.option("--out", "out", type=click.Path(dir_okay=False),
              help="File to write (default: report-run-RUN.html beside an SQLite store, else here).")
@click.option("--format", "fmt", metavar="NAME", help="Renderer: html (default), markdown, json, or a plugin's.")
@db_option
@json_option
@click.pass_context
def report(ctx: click.Context, run_id: int | None, out: str | None, fmt: str | None, db: str | None,
           as_json: bool) -> None:
    """Write the report of RUN (default: the latest run): one self-contained HTML page with
    charts that opens offline, showing only what the release gate let out.

    \b
    Examples:
      microseg report                      # latest run -> report-run-N.html beside the store
      microseg report 3 --out june.html
      microseg report --format markdown --out run.md
    """
    from pathlib import Path

    from microseg.api import write_report
    from microseg.outputs import pick_report_renderer
    from microseg.store import open_store
    registry = registry_from(ctx)
    pick_report_renderer(registry.report_renderers, Path(out) if out else None, fmt)   # a bad --format: first
    store = open_store(db, create=False)
    path = write_report(store, run_id, out=out, fmt=fmt, registry=registry)
    if as_json:
        echo_json({"run_id": store.run(run_id).id, "path": str(path), "bytes": path.stat().st_size})
        return
    click.echo(f"Wrote {path} ({path.stat().st_size / 1024:,.0f} KB)")


@click.command()
@click.argument("run_a", metavar="[RUN_A]", required=False, type=int)
@click.argument("run_b", metavar="[RUN_B]", required=False, type=int)
@db_option
@json_option
def compare(run_a: int | None, run_b: int | None, db: str | None, as_json: bool) -> None:
    """Overlap and migration of customers between the released segments of RUN_A and RUN_B
    (default: the run before the latest, and the latest). Customers are matched by their stored
    key; counts below k show as "< k", and cells that would let one be worked out as "hidden".

    \b
    Examples:
      microseg compare                     # the previous run against the latest
      microseg compare 3 5 --json
    """
    from microseg.api import compare as api_compare
    from microseg.store import open_store
    doc = api_compare(open_store(db, create=False), run_a, run_b)
    if as_json:
        echo_json(doc)
        return
    _print_compare(doc)


@click.command()
@click.argument("key")
@click.option("--run", "run_id", type=int, help="Run (default: the latest).")
@db_option
@json_option
def show(key: str, run_id: int | None, db: str | None, as_json: bool) -> None:
    """Show one segment: its definition, description, size, drivers and, when the gate held it
    back, the reason. KEY is a segment key (`microseg segments --all` lists them) or a label
    used by one segment only.

    \b
    Examples:
      microseg show "rfm:Champions"
      microseg show "micro:Champions|North" --run 2 --json
    """
    from microseg.api import show as api_show
    from microseg.store import open_store
    doc = api_show(open_store(db, create=False), key, run_id)
    if as_json:
        echo_json(doc)
        return
    _print_segment(doc)


def _print_segment(doc: dict[str, Any]) -> None:
    from microseg.report.words import count
    click.echo(f"{doc['label']}  ({doc['key']}, run {doc['run_id']})")
    fields = [("method", f"{doc['family']} · {doc.get('method') or ''}"),
              ("status", doc["status"]), ("customers", count(doc.get("size"))),
              ("definition", doc.get("definition")), ("description", doc.get("description")),
              ("part of", doc.get("parent")), ("drivers", ", ".join(doc.get("drivers") or []) or None),
              ("counted in", doc.get("released_as")), ("why", doc.get("reason")), ("note", doc.get("note"))]
    for name, value in fields:
        if value:
            click.echo(f"  {name:<12} {value}")
    subs = doc.get("sub_segments") or []
    if subs:
        click.echo(f"  {'released sub-segments':<12}")
        for s in subs:
            click.echo(f"    {s['label']}: {count(s['size'])}")


def _print_compare(doc: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    from microseg.report.words import count
    console = Console(width=max(100, Console().width))
    click.echo(f"Run {doc['run_a']} → run {doc['run_b']} (k = {doc['k']})")
    if doc.get("note"):
        click.echo(f"Note: {doc['note']}")
    if doc.get("matched") is not None:
        click.echo(f"Customers released in both runs: {count(doc['matched'])}")
    for family, t in doc["families"].items():
        table = Table(title=f"{family}: run {doc['run_a']} (rows) → run {doc['run_b']} (columns)", title_justify="left")
        table.add_column("")
        for c in t["columns"]:
            table.add_column(c, justify="right", overflow="fold")
        for r, cells in zip(t["rows"], t["counts"]):
            table.add_row(r, *[count(c) for c in cells])
        console.print(table)
        click.echo(f"  stayed in the same segment: {count(t.get('same_segment'))}")
    for family, why in doc.get("not_compared", {}).items():
        click.echo(f"{family}: not compared ({why})")


report_option = click.option(
    "--report", "report_to", metavar="PATH", default=None,
    help="Where to write the run's HTML report (default: report-run-N.html beside an SQLite store, else here).")
no_report_option = click.option("--no-report", is_flag=True, help="Do not write the HTML report.")


def report_request(report_to: str | None, no_report: bool) -> bool | str:
    """``api.run``'s ``report`` argument from ``--report``/``--no-report``."""
    if no_report:
        return False
    return report_to or True


def echo_report_outcome(result: Any) -> None:
    """One line about the run's report: where it is, or why it is missing (a warning)."""
    if result.report_path is not None:
        click.echo(f"Report: {result.report_path}")
    elif result.report_error:
        click.echo(f"Warning: run {result.run_id} is stored, but its report was not written: "
                   f"{result.report_error}. Write it with `microseg report {result.run_id} --out FILE`.", err=True)


COMMANDS = [report, compare, show]
