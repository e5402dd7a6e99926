"""``microseg check CONFIG``: the preflight, in seconds, before any training."""
from __future__ import annotations

import click

from microseg.cli.common import echo_json, json_option, registry_from
from microseg.cli.progress_display import progress_display


@click.command()
@click.argument("config", default="microseg.toml", type=click.Path(dir_okay=False))
@json_option
@click.option("--sample-rows", default=None, type=click.IntRange(100, 50_000_000),
              help="Rows read per source (default 1,000,000).")
@click.option("--no-scan", is_flag=True, help="Skip the PII scan of the sampled customers (faster).")
@click.pass_context
def check(ctx: click.Context, config: str, as_json: bool, sample_rows: int | None, no_scan: bool) -> None:
    """Check CONFIG without training: config, plugins, method parameters, key, files (encoding,
    separator, column mappings), every rule against the columns — and estimate the sizes of
    rule segments and rule-based microsegments through the gate. Exit 2 on a problem.

    \b
    Examples:
      microseg check microseg.toml
      microseg check microseg.toml --json
    """
    from microseg.preflight import CHECK_SAMPLE_ROWS
    from microseg.preflight import check as run_check
    with progress_display(as_json):
        report = run_check(config, registry=registry_from(ctx), sample_rows=sample_rows or CHECK_SAMPLE_ROWS,
                           scan=not no_scan)
    if as_json:
        echo_json(report.as_dict())
    else:
        _print(report)
    if not report.ok:
        ctx.exit(2)


def _print(report) -> None:  # noqa: ANN001 - a microseg.preflight.Preflight
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text
    console = Console(highlight=False)
    mark = {True: "[green]ok[/]", False: "[red]problem[/]"}
    console.print(Text(report.config, style="bold"))
    if report.methods:
        console.print("  methods: " + ", ".join(f"{m['id']} ({m['method']})" for m in report.methods), markup=False)
    if report.key:
        console.print(f"  key: {report.key}", markup=False)
    for s in report.sources:
        rows = f"{s.rows_read:,} rows read"
        if s.rows_total is not None and s.rows_total != s.rows_read:
            rows += f" of {'' if s.rows_total_exact else '~'}{s.rows_total:,}"
        sep = f", sep {s.separator!r}" if s.separator else ""
        console.print(f"  {s.role}: {s.location} ({s.format or '?'}{sep}, {len(s.columns)} columns, {rows})",
                      markup=False)
    for w in report.warnings:
        console.print(Text("  warning ", style="yellow") + Text(str(w)))
    if report.estimates:
        scaled = report.scale > 1
        how = f"scaled ×{report.scale:.2f} from a sample" if scaled else "from all rows read"
        console.print(f"Estimated released sizes through the gate, k = {report.k} ({how}):", markup=False)
        table = Table()
        for col in ("family", "segment", "size", "gate"):
            table.add_column(col, overflow="fold")
        for e in report.estimates:
            size = f"~{e.size:,}" if isinstance(e.size, int) and scaled else str(e.size)
            gate = e.status if e.status == "released" else f"{e.status}" + (f" into {e.released_as}" if e.released_as
                                                                            else "")
            table.add_row(Text(e.family), Text(e.label), size, Text(gate))
        console.print(table)
        approx = "~" if scaled else ""
        console.print(f"  customers profiled: {approx}{report.customers}; sizes count those with marketing consent",
                      markup=False)
    for p in report.problems:
        click.echo(f"problem: {p}")
    console.print(f"{mark[report.ok]} — {len(report.problems)} problem(s), {len(report.warnings)} warning(s), "
                  f"{report.seconds:.1f} s")


COMMANDS = [check]
