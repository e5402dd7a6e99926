"""``microseg demo``: generate the demo data set and run the governed pipeline on it."""
from __future__ import annotations

import time
from pathlib import Path

import click

from microseg.cli.common import registry_from
from microseg.cli.report_cmds import echo_report_outcome, no_report_option, report_option, report_request


@click.command()
@click.option("--out", "out", default="demo", show_default=True, type=click.Path(file_okay=False),
              help="Folder for the demo data, config, store and report.")
@click.option("--customers", "n", default=20_000, show_default=True, type=click.IntRange(200, 5_000_000))
@click.option("--seed", default=7, show_default=True, type=int)
@click.option("--db", "db", metavar="URL", help="Store URL (default: OUT/microseg.db).")
@report_option
@no_report_option
@click.pass_context
def demo(ctx: click.Context, out: str, n: int, seed: int, db: str | None, report_to: str | None,
         no_report: bool) -> None:
    """Generate a seeded loyalty-programme data set and run the governed pipeline on it."""
    from microseg.api import run as api_run
    from microseg.cli.run_cmds import _print_released
    from microseg.demo import write_demo
    t0 = time.perf_counter()
    folder = Path(out)
    click.echo(f"Generating {n} customers with personal data, transactions and campaign contacts in {folder}/")
    cfg = write_demo(folder, n=n, seed=seed)
    result = api_run(cfg, db=db or str(folder / "microseg.db"), registry=registry_from(ctx),
                     progress=lambda s: click.echo(f"  · {s}", err=True), report=report_request(report_to, no_report))
    _print_released(result.report)
    click.echo(f"\nStore:  {result.store_url} (run {result.run_id})")
    echo_report_outcome(result)
    click.echo(f"Next:   microseg segments --db {folder / 'microseg.db'}   ·   "
               f"microseg audit --verify --db {folder / 'microseg.db'}")
    click.echo(f"Done in {time.perf_counter() - t0:.1f} s")


COMMANDS = [demo]
