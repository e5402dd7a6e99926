"""The two doors for outputs: export formats and report renderers (public API).

Plugins register instances through the hooks ``register_export_formats`` and
``register_report_renderers`` (the built-ins in :mod:`microseg.formats` and
:mod:`microseg.report.renderers` use the same hooks)::

    from microseg.outputs import ExportFormat

    @microseg.hookimpl
    def register_export_formats(register):
        register(ExportFormat(name="jsonl", suffixes=(".jsonl",),
                              write=lambda table, path: table.to_json(path, orient="records", lines=True)))
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from microseg.errors import InputError
from microseg.suggest import did_you_mean

#: a report document: the run's gate-checked report and what the store adds to it (see docs/plugins.md)
ReportDocument = dict[str, Any]


@dataclass(frozen=True)
class ExportFormat:
    """A file format for ``microseg export``.

    ``write(table, path)`` writes a pandas DataFrame (one row per released customer) to ``path``;
    microseg writes to a temporary file in the target folder and renames it, so a failed write
    leaves nothing behind. ``suffixes`` (lower case, with the dot) pick the format from ``--out``.
    """

    name: str
    suffixes: tuple[str, ...]
    write: Callable[[Any, Path], None]
    description: str = ""


@dataclass(frozen=True)
class ReportRenderer:
    """A run-report renderer for ``microseg report``.

    ``render(document)`` returns the file's content (``str`` is written as UTF-8) from a
    :data:`ReportDocument`; it must show only what the document holds (already through the
    release gate).
    """

    name: str
    suffix: str
    render: Callable[[ReportDocument], str | bytes]
    description: str = ""


def pick_export_format(formats: dict[str, ExportFormat], out: Path, name: str | None = None) -> ExportFormat:
    """The format named ``name``, else the one claiming ``out``'s suffix (CSV for a name without one)."""
    if name is not None:
        if name not in formats:
            raise InputError(f"--format: unknown export format {name!r}{did_you_mean(name, formats)} (known: "
                             f"{', '.join(sorted(formats))})")
        return formats[name]
    suffix = out.suffix.lower()
    for fmt in formats.values():
        if suffix in fmt.suffixes:
            return fmt
    if suffix:
        claimed = ", ".join(sorted(s for f in formats.values() for s in f.suffixes))
        raise InputError(f"--out: no export format writes {suffix!r} files (known suffixes: {claimed}); "
                         "choose one with --format")
    return formats["csv"]


def pick_report_renderer(renderers: dict[str, ReportRenderer], out: Path | None = None,
                         name: str | None = None) -> ReportRenderer:
    """The renderer named ``name``, else the one whose suffix ``out`` has (HTML when none does)."""
    if name is not None:
        if name not in renderers:
            raise InputError(f"--format: unknown report format {name!r}{did_you_mean(name, renderers)} (known: "
                             f"{', '.join(sorted(renderers))})")
        return renderers[name]
    if out is not None:
        for r in renderers.values():
            if out.suffix.lower() == r.suffix.lower():
                return r
    return renderers["html"]
