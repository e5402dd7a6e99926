"""``microseg plugins``."""
from __future__ import annotations

import click

from microseg.cli.common import echo_json, json_option, registry_from


@click.command()
@json_option
@click.pass_context
def plugins(ctx: click.Context, as_json: bool) -> None:
    """List plugins: version, and the methods and recognizers each registers.

    \b
    Examples:
      microseg plugins
      microseg --plugin my_method.py plugins --json
    """
    infos = registry_from(ctx).plugins()
    if as_json:
        echo_json([p.as_dict() for p in infos])
        return
    from rich.console import Console
    from rich.table import Table
    table = Table(title="microseg plugins")
    for col in ("plugin", "version", "source", "methods", "recognizers"):
        table.add_column(col, overflow="fold")
    for p in infos:
        table.add_row(p.name, p.version or "-", p.source, ", ".join(p.methods) or "-",
                      str(len(p.recognizers)) if p.recognizers else "-")
    Console().print(table)


COMMANDS = [plugins]
