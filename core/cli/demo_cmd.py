"""``microseg demo``: generate the demo data set and run the governed pipeline on it."""
from __future__ import annotations

import time
from pathlib import Path

import click

from microseg.cli.common import echo_json, json_option, library_output_to_stderr, registry_from
from microseg.cli.progress_display import progress_display, working
from microseg.cli.report_cmds import echo_report_outcome, no_report_option, report_option, report_request


@click.command()
@click.option("--out", "out", default="demo", show_default=True, type=click.Path(file_okay=False),
              help="Folder for the demo data, config, store and report.")
@click.option("--customers", "n", default=20_000, show_default=True, type=click.IntRange(200, 5_000_000))
@click.option("--seed", default=7, show_default=True, type=int)
@click.option("--db", "db", metavar="URL", help="Store URL (default: OUT/microseg.db).")
@report_option
@no_report_option
@json_option
@click.pass_context
def demo(ctx: click.Context, out: str, n: int, seed: int, db: str | None, report_to: str | None,
         no_report: bool, as_json: bool) -> None:
    """Generate a seeded loyalty-programme data set and run the governed pipeline on it.

    \b
    Examples:
      microseg demo
      microseg demo --out /tmp/demo --customers 5000 --json
    """
    from microseg.api import run as api_run
    from microseg.cli.run_cmds import print_released
    from microseg.demo import write_demo
    t0 = time.perf_counter()
    folder = Path(out)
    if not as_json:
        click.echo(f"Generating {n} customers with personal data, transactions and campaign contacts in {folder}/")
    with working("generating the demo data", as_json):
        cfg = write_demo(folder, n=n, seed=seed)
    with library_output_to_stderr(), progress_display(as_json):
        result = api_run(cfg, db=db or str(folder / "microseg.db"), registry=registry_from(ctx),
                         report=report_request(report_to, no_report))
    if as_json:
        echo_json({**result.report, "timings": result.timings, "config": str(cfg), "store": result.store_url,
                   "report_path": str(result.report_path) if result.report_path else None})
        if result.report_error:
            echo_report_outcome(result)
        return
    print_released(result.report)
    click.echo(f"\nStore:  {result.store_url} (run {result.run_id})")
    echo_report_outcome(result)
    click.echo(f"Next:   microseg segments --db {folder / 'microseg.db'}   ·   "
               f"microseg audit --verify --db {folder / 'microseg.db'} --config {cfg}")
    click.echo(f"Done in {time.perf_counter() - t0:.1f} s")


COMMANDS = [demo]
