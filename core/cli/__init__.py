"""The ``microseg`` command line: a thin click layer over the Python API.

Exit codes: 0 ok, 1 a compliance violation (audit), 2 bad input or usage.
"""
from __future__ import annotations

import os
import sys
from typing import Any

import click

from microseg.errors import MicrosegError


class MicrosegGroup(click.Group):
    """Turns microseg errors into a one-line message and their exit code (tracebacks with --debug)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MicrosegError as exc:
            if (ctx.obj or {}).get("debug") or os.environ.get("MICROSEG_DEBUG"):
                raise
            click.echo(f"Error: {exc}", err=True)
            sys.exit(exc.exit_code)


@click.group(cls=MicrosegGroup)
@click.version_option(package_name="microseg")
@click.option("--plugin", "plugins", multiple=True, type=click.Path(dir_okay=False),
              help="Load a plugin from a local .py file (repeatable).")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.pass_context
def cli(ctx: click.Context, plugins: tuple[str, ...], debug: bool) -> None:
    """microseg: governed customer microsegmentation.

    Segment a customer base with pluggable methods; nothing leaves except through the
    privacy release gate. RUN arguments default to the latest run; --json prints JSON.

    \b
    Examples:
      microseg init && microseg check && microseg run
      microseg segments --json
    """
    ctx.obj = {"plugins": plugins, "debug": debug}


def _register_commands() -> None:
    from microseg.cli import (check_cmd, demo_cmd, init_cmds, plugins_cmd, privacy_cmds, report_cmds, run_cmds,
                              scan_cmd)
    for module in (init_cmds, check_cmd, run_cmds, plugins_cmd, demo_cmd, privacy_cmds, report_cmds):
        for command in module.COMMANDS:
            cli.add_command(command)
    cli.add_command(scan_cmd.scan)


_register_commands()
