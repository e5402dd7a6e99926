"""Exceptions with the exit codes the CLI maps them to.

Messages name the file, column, row, key or option at fault — never a personal value.
"""
from __future__ import annotations


class MicrosegError(Exception):
    """Base class for all microseg errors."""

    exit_code = 1


class InputError(MicrosegError):
    """Bad input: a file, column, row, option or config key is wrong (exit code 2)."""

    exit_code = 2

    def __init__(self, message: str, *, source: str | None = None, column: str | None = None,
                 row: int | None = None) -> None:
        self.source, self.column, self.row, self.detail = source, column, row, message
        where = []
        if source:
            where.append(str(source))
        if column:
            where.append(f"column {column!r}")
        if row is not None:
            where.append(f"row {row}")
        super().__init__(f"{': '.join([', '.join(where), message]) if where else message}")


class ConfigError(InputError):
    """An invalid config value; the message names the key."""

    def __init__(self, message: str, *, key: str | None = None, source: str | None = None) -> None:
        self.key = key
        super().__init__(f"{key}: {message}" if key else message, source=source)


class PluginError(InputError):
    """A plugin failed to load, or two plugins registered the same name."""


class ComplianceViolation(MicrosegError):
    """The audit found a violation of the privacy policy (exit code 1)."""

    exit_code = 1
