"""The built-in export formats, registered through the same hook as a plugin's."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from microseg.hookspecs import hookimpl
from microseg.outputs import ExportFormat


def write_csv(table: Any, path: Path) -> None:
    table.to_csv(path, index=False)


def write_parquet(table: Any, path: Path) -> None:
    table.to_parquet(path, index=False)


CSV = ExportFormat(name="csv", suffixes=(".csv",), write=write_csv, description="comma-separated text, UTF-8")
PARQUET = ExportFormat(name="parquet", suffixes=(".parquet", ".pq"), write=write_parquet,
                       description="Apache Parquet (typed columns)")


@hookimpl
def register_export_formats(register):
    register(CSV)
    register(PARQUET)
