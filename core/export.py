"""``microseg export``: the released table written in a registered format, atomically, audited."""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from microseg.errors import InputError, PluginError
from microseg.export_rows import released_table
from microseg.outputs import ExportFormat, pick_export_format
from microseg.registry import Registry
from microseg.store import Store


@dataclass
class ExportResult:
    path: Path
    format: str
    rows: int
    columns: list[str]

    def as_dict(self) -> dict[str, object]:
        return {"path": str(self.path), "format": self.format, "rows": self.rows, "columns": self.columns}


def export_run(store: Store, run_id: int | None, out: Path, registry: Registry, *, fmt: str | None = None,
               include_scores: bool = True) -> ExportResult:
    """Write ``run_id``'s released table (default: the latest run) to ``out`` in the format named
    ``fmt`` or claimed by ``out``'s suffix, and record the export in the audit trail."""
    from microseg.privacy.audit import append_events
    writer = pick_export_format(registry.export_formats, out, fmt)
    run_id = store.run(run_id).id
    table = released_table(store, run_id, include_scores=include_scores)
    write_atomically(writer, table, out)
    columns = [str(c) for c in table.columns]
    with store.engine.begin() as conn:
        append_events(conn, [("export", run_id, {"rows": len(table), "columns": columns, "format": writer.name})])
    return ExportResult(path=out, format=writer.name, rows=len(table), columns=columns)


def write_atomically(writer: ExportFormat, table: object, out: Path) -> None:
    """``writer.write`` into a temporary file beside ``out``, renamed on success (removed on failure)."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=".microseg-export-")
    except OSError as exc:
        raise InputError(f"--out: cannot write in {out.parent}: {exc.strerror}") from None
    os.close(fd)
    try:
        writer.write(table, Path(tmp))
        os.replace(tmp, out)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise InputError(f"--out: cannot write {out}: {exc.strerror or exc}") from None
    except Exception as exc:  # noqa: BLE001 - a format's own failure, named
        Path(tmp).unlink(missing_ok=True)
        raise PluginError(f"export format {writer.name!r} failed writing {out.name}: {exc}") from exc
