"""``microseg scan FILE``: which columns hold personal data."""
from __future__ import annotations

import click

from microseg.cli.common import echo_json, json_option, registry_from
from microseg.cli.progress_display import working


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@json_option
@click.option("--sep", default=None, help="Field separator (default: sniffed from the header line).")
@click.option("--no-header", is_flag=True, help="The file has no header line (give --names).")
@click.option("--names", default=None, help="Comma-separated column names for a file without a header.")
@click.option("--sample-size", default=200, show_default=True, type=click.IntRange(10, 100_000),
              help="Distinct values sampled per column.")
@click.pass_context
def scan(ctx: click.Context, file: str, as_json: bool, sep: str | None, no_header: bool, names: str | None,
         sample_size: int) -> None:
    """Classify FILE's columns: identifier, direct, quasi, sensitive or none (offline).

    \b
    Examples:
      microseg scan data/customers.csv
      microseg scan contacts.csv.gz --sep ";" --json
    """
    import zlib
    from pathlib import Path

    from microseg.errors import InputError
    from microseg.loading import read_error
    from microseg.source_sample import text_problem
    from microseg.privacy.scan import scan_file
    col_names = [n.strip() for n in names.split(",")] if names else None
    path = Path(file)
    if path.is_file() and path.suffix.lower() not in (".parquet", ".pq"):
        problem = text_problem(path, None)            # the run's own check: binary, UTF-16, encoding, empty
        if problem:
            raise InputError(problem)
    with working(f"scanning {file}", as_json):
        try:
            findings = scan_file(file, sep=sep, header=not no_header, names=col_names, registry=registry_from(ctx),
                                 sample_size=sample_size)
        except (EOFError, zlib.error) as exc:                # a damaged compressed file
            raise InputError(read_error(exc), source=file) from None
    if as_json:
        echo_json([f.as_dict() for f in findings])
        return
    from rich.console import Console
    from rich.table import Table
    table = Table(title=f"PII scan of {file}")
    for col in ("column", "kind", "entity", "share", "confidence", "action"):
        table.add_column(col)
    for f in findings:
        table.add_row(f.column, f.kind, f.entity or "-", f"{f.share:.0%}", f"{f.score:.2f}", f.action)
    Console().print(table)
