"""The ``microseg`` command line: a thin click layer over the Python API.

Exit codes: 0 ok, 1 a compliance violation (audit), 2 bad input or usage, 3 an internal error
(a bug: named by its type only, the traceback with ``--debug``). See docs/reliability.md.
"""
from __future__ import annotations

import os
import sys
from typing import Any

from microseg.cli.memory import collect_garbage_less_often, release_freed_memory

release_freed_memory()              # before pyarrow loads: see microseg.cli.memory

import click  # noqa: E402

from microseg.errors import MicrosegError  # noqa: E402

INTERNAL_ERROR = 3


class MicrosegGroup(click.Group):
    """Turns every failure into one line on standard error and an exit code (tracebacks only with
    --debug or $MICROSEG_DEBUG): microseg errors keep their message and code; an operating-system
    error (a file that cannot be written, a full disk) names the file, exit 2; anything else is a
    bug, named by its type only (its message may quote data), exit 3."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:  # noqa: BLE001 - the one place an error becomes a message
            if (ctx.obj or {}).get("debug") or os.environ.get("MICROSEG_DEBUG"):
                raise
            message, code = describe_failure(exc)
            click.echo(f"Error: {message}", err=True)
            sys.exit(code)

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        """An unknown command gets the closest one."""
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as exc:
            name = args[0] if args else ""
            if name and self.get_command(ctx, name) is None and "did you mean" not in exc.message.lower():
                from microseg.suggest import did_you_mean
                hint = did_you_mean(name, self.list_commands(ctx))
                if hint:
                    raise click.UsageError(exc.message.rstrip(".") + hint, ctx) from None
            raise


def describe_failure(exc: Exception) -> tuple[str, int]:
    """The message and exit code for a failure that reached the command line."""
    if isinstance(exc, MicrosegError):
        return str(exc), exc.exit_code
    if isinstance(exc, MemoryError):
        return ("out of memory: run on a machine with more memory, or with the Dask engine (engine = \"dask\", "
                "docs/scaling.md)"), 2
    if isinstance(exc, OSError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror}", 2
    return (f"microseg failed with {type(exc).__name__} (an internal error: its message is not shown, as it may "
            "quote your data). Run again with --debug for the traceback, and report it"), INTERNAL_ERROR


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


def main() -> None:
    """The ``microseg`` console command: :data:`cli` with fewer garbage-collector passes
    (:func:`~microseg.cli.memory.collect_garbage_less_often`) and lighter third-party imports
    (:mod:`microseg.cli.light_imports`), then the process ends without the interpreter's teardown
    where nothing needs it (:mod:`microseg.cli.fast_exit`)."""
    from microseg.cli import light_imports
    from microseg.cli.fast_exit import leave
    collect_garbage_less_often()
    light_imports.install()
    try:
        cli.main(prog_name="microseg")
    except SystemExit as exc:
        leave(exc.code)
    leave(0)
