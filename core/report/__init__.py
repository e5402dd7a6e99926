"""Run reports: the report document (:mod:`microseg.report.document`) rendered by a registered
renderer (HTML by default) into one file."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from sqlalchemy.engine import make_url

from microseg.errors import InputError, PluginError
from microseg.outputs import ReportDocument, ReportRenderer


def default_report_path(store_url: str, run_id: int, suffix: str = ".html") -> Path:
    """``report-run-<id><suffix>`` in the SQLite store's folder, else in the current folder."""
    url = make_url(store_url)
    folder = Path(url.database).expanduser().resolve().parent \
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") else Path.cwd()
    return folder / f"report-run-{run_id}{suffix}"


def write_report(doc: ReportDocument, renderer: ReportRenderer, out: Path) -> Path:
    """Render ``doc`` and write it to ``out`` atomically (nothing is left behind on failure)."""
    try:
        content = renderer.render(doc)
    except Exception as exc:  # noqa: BLE001 - a renderer's own failure, named
        raise PluginError(f"report renderer {renderer.name!r} failed: {exc}") from exc
    data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=".microseg-report-")
    except OSError as exc:
        raise InputError(f"--out: cannot write in {out.parent}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)                 # a report is for sharing: it holds only released figures
        os.replace(tmp, out)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise InputError(f"--out: cannot write {out}: {exc.strerror or exc}") from None
    return out
