"""Shared CLI options and helpers."""
from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:  # the CLI imports the store and the registry only when a command needs them
    from microseg.registry import Registry
    from microseg.store import Store

db_option = click.option("--db", "db", metavar="URL",
                         help="Store: SQLAlchemy URL or SQLite path (default: $MICROSEG_DATABASE_URL, "
                              "the config's [store] url, or ./microseg.db).")
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
config_key_option = click.option("--config", "config", type=click.Path(dir_okay=False),
                                 help="Config whose [privacy] key to use (default: $MICROSEG_KEY).")


class Choice(click.Choice):
    """``click.Choice`` whose error names the closest choice."""

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter as exc:
            from microseg.suggest import did_you_mean
            exc.message = exc.message.rstrip(".") + did_you_mean(str(value), [str(c) for c in self.choices])
            raise


def load_secret(config: str | None, why: str) -> tuple[bytes, Any]:
    """The pseudonymisation key (``--config``'s key file, else ``$MICROSEG_KEY``) and the config.
    ``why`` completes "… needs the pseudonymisation key" in the error."""
    keyring, cfg = load_keys(config, why)
    return keyring.current, cfg


def load_keys(config: str | None, why: str) -> tuple[Any, Any]:
    """The current and retired pseudonymisation keys (a :class:`~microseg.privacy.keyring.Keyring`)
    and the config; an error in words when the current key is missing."""
    from pathlib import Path

    from microseg.config import load_config
    from microseg.errors import ConfigError, InputError
    from microseg.privacy.keyring import load_keyring
    from microseg.privacy.policy import PrivacyPolicy
    cfg = load_config(config) if config else None
    try:
        return load_keyring(cfg.privacy if cfg else PrivacyPolicy(), cfg.base_dir if cfg else Path(".")), cfg
    except ConfigError as exc:
        raise InputError(f"{why} needs the pseudonymisation key ({exc}); pass --config CONFIG or set "
                         "$MICROSEG_KEY") from None


def registry_from(ctx: click.Context) -> "Registry":
    from microseg.registry import get_registry
    return get_registry(tuple((ctx.obj or {}).get("plugins", ())))


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, default=str, ensure_ascii=False))


@contextlib.contextmanager
def library_output_to_stderr() -> Iterator[None]:
    """While a run works, what libraries and the processes it starts (Dask workers, LightGBM's
    network set-up) write to standard output goes to standard error instead: standard output
    carries only microseg's own result, so ``--json`` stays parseable."""
    try:
        out_fd, err_fd = sys.stdout.fileno(), sys.stderr.fileno()
    except (AttributeError, ValueError, io.UnsupportedOperation):     # no real file (e.g. a test runner)
        with contextlib.redirect_stdout(sys.stderr):
            yield
        return
    sys.stdout.flush()
    saved = os.dup(out_fd)
    try:
        os.dup2(err_fd, out_fd)
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved, out_fd)
        os.close(saved)
