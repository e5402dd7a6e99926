"""The first rows of each configured source, for ``microseg check`` and the start of ``run``.

For every source: its files, encoding (a mismatch is reported with an encoding that fits), the
separator (sniffed from the header and compared with the config), the first ``sample_rows`` rows
read with the loader's own options, and — for estimates — the number of rows of the whole file
(exact up to ``COUNT_LIMIT`` bytes, else from the file size) and, for a transactions-only
population, its distinct customers. Problems are ``(where, message)`` pairs naming the config
table and the file, never a value.
"""
from __future__ import annotations

import codecs
import gzip
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from microseg.errors import MicrosegError

#: exact row counts for files up to this size (bytes read); larger ones are estimated from the sample
COUNT_LIMIT = 64 << 20
ENCODING_PROBE = 1 << 20
#: columns that exist only for levels present in the data (a head sample may miss some)
OPEN_PREFIXES = {"transactions": {"channel": ("share_",), "category": ("share_cat_",)},
                 "events": {"channel": ("contacts_", "responses_")}}


@dataclass
class SourceReport:
    """One source as the sample showed it (``format``: csv, parquet, sql or remote)."""

    role: str
    location: str
    format: str
    separator: str | None = None
    sniffed_separator: str | None = None
    encoding: str | None = None
    columns: list[str] = field(default_factory=list)
    rows_read: int = 0
    rows_total: int | None = None
    rows_total_exact: bool = False
    #: distinct customer ids in the whole source (transactions only; counted when the file is small enough)
    customers_total: int | None = None


@dataclass
class Samples:
    """What :func:`read_samples` read and found."""

    frames: dict[str, Any] | None
    sources: list[SourceReport] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)


def read_samples(cfg: Any, sample_rows: int, count: bool = True) -> Samples:
    """The first ``sample_rows`` rows of every source, what was found about each, and the problems
    (``frames`` is None when a source could not be read). ``count``: count (or estimate) every
    file's rows, and a transactions-only population's distinct customers."""
    from microseg.loading import read_error, read_table, source_label
    report = Samples(frames={})
    frames = report.frames
    failed = False
    for role in ("customers", "transactions", "events"):
        src = getattr(cfg.sources, role)
        if src is None:
            continue
        where = f"sources.{role}"
        if src.path and "://" in src.path:
            report.sources.append(SourceReport(role, source_label(cfg, src), "remote"))
            report.warnings.append((where, "not checked: a remote path is read by the Dask workers only"))
            failed = True
            continue
        info = SourceReport(role, source_label(cfg, src), "sql" if src.url else "")
        report.sources.append(info)
        try:
            files = _files(cfg, src, info)
            if files and info.format == "csv" and not _csv_dialect(src, files[0], info, where, report):
                failed = True
                continue
            df = read_table(cfg, src, nrows=sample_rows)
        except MicrosegError as exc:
            report.problems.append((where, str(exc)))
            failed = True
            continue
        except (OSError, EOFError, zlib.error) as exc:          # the head of a damaged compressed file
            report.problems.append((where, f"{files[0]}: {read_error(exc)}"))
            failed = True
            continue
        info.columns = [str(c) for c in df.columns]
        info.rows_read = len(df)
        if len(df) < sample_rows:
            info.rows_total, info.rows_total_exact = len(df), True
        elif count and files:
            try:
                info.rows_total, info.rows_total_exact = _count_rows(files, info, src.header)
            except (OSError, EOFError, zlib.error) as exc:
                report.problems.append((where, f"{files[0]}: {read_error(exc)}"))
                failed = True
                continue
            if role == "transactions" and cfg.sources.customers is None and info.rows_total_exact:
                info.customers_total = _distinct_ids(cfg, src)
        frames[role] = df
    if failed:
        report.frames = None
    return report


def _files(cfg: Any, src: Any, info: SourceReport) -> list[Path]:
    from microseg.loading import PARQUET_SUFFIXES, data_files
    if src.url:
        return []
    files = data_files(cfg.resolve(src.path))
    parquet = all(f.suffix.lower() in PARQUET_SUFFIXES for f in files)
    info.format = src.format or ("parquet" if parquet else "csv")
    return files


def _head_bytes(path: Path, size: int = ENCODING_PROBE) -> bytes:
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rb") as fh:
        return fh.read(size)


def text_problem(path: Path, encoding: str | None, where: str | None = None) -> str | None:
    """Why the CSV file at ``path`` cannot be read as ``encoding`` text (default utf-8), with what to
    do — binary data, UTF-16, another encoding, an unknown encoding name — or None when it reads.
    ``where`` is the config table to name in the hint (``sources.customers``). Used by ``check``,
    ``run`` (through the preflight) and ``scan``."""
    from microseg.loading import read_error
    encoding = encoding or "utf-8"
    try:
        head = _head_bytes(path)
    except (OSError, EOFError, zlib.error) as exc:          # a damaged compressed file
        return f"{path.name}: {read_error(exc)}"
    cut = head.rfind(b"\n") if len(head) == ENCODING_PROBE else len(head)
    if not head:
        return f"{path.name}: the file is empty (no header, no rows)"
    kind = _binary_kind(head, encoding)
    if kind:
        return f"{path.name}: {kind}"
    try:
        head[: cut if cut > 0 else len(head)].decode(encoding)
    except UnicodeDecodeError as exc:
        line = head[: exc.start].count(b"\n") + 1
        fits = next((e for e in ("utf-8", "cp1252", "latin-1") if e != encoding and _decodes(head[:cut], e)), None)
        hint = (f"; add encoding = \"{fits}\"" + (f" to [{where}]" if where else "")) if fits else ""
        return f"{path.name}: not {encoding} text (line {line}){hint}"
    except LookupError:
        return f"unknown encoding {encoding!r}: give a known one (utf-8, cp1252, latin-1, utf-16)"
    return None


def _csv_dialect(src: Any, path: Path, info: SourceReport, where: str, report: Samples) -> bool:
    """Encoding and separator of a CSV source; False (with a problem) when the config's do not fit."""
    from microseg.privacy.scan import sniff_separator
    encoding = src.encoding or "utf-8"
    info.encoding = encoding
    problem = text_problem(path, encoding, where)
    if problem:
        report.problems.append((where, problem))
        return False
    if not src.header:
        return True
    head = _head_bytes(path)
    cut = head.rfind(b"\n") if len(head) == ENCODING_PROBE else len(head)
    sniffed = sniff_separator(path)
    configured = src.sep or ","
    info.separator, info.sniffed_separator = configured, sniffed
    first = head[: cut if cut > 0 else len(head)].decode(encoding).splitlines()[:1]
    header = first[0] if first else ""
    if sniffed != configured.strip() and header.count(configured.strip() or configured) == 0 and header.count(sniffed):
        report.problems.append((where, f"{path.name}: the header is one column with sep {configured!r}, "
                                              f"but the file looks {sniffed!r}-separated: add sep = {sniffed!r} "
                                              f"to [{where}]"))
        return False
    return True


def _binary_kind(head: bytes, encoding: str) -> str | None:
    """Why ``head`` is not text in ``encoding`` when it is plainly something else: UTF-16 (a byte-order
    mark) or binary data (NUL bytes); None otherwise."""
    utf16 = encoding.lower().replace("_", "-").startswith(("utf-16", "utf16"))
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and not head.startswith(codecs.BOM_UTF32_LE):
        return None if utf16 else 'UTF-16 text (it starts with a UTF-16 byte-order mark): add encoding = "utf-16"'
    if b"\x00" in head and not utf16 and not encoding.lower().startswith("utf-32"):
        return ("a binary file, not CSV text: give a CSV (or CSV.gz) or Parquet file, or set format = \"parquet\" "
                "for Parquet data")
    return None


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _count_rows(files: list[Path], info: SourceReport, header: bool) -> tuple[int | None, bool]:
    """Data rows of the files: exact for Parquet and for files up to ``COUNT_LIMIT`` bytes, else
    estimated from the size and the sampled lines' length."""
    if info.format == "parquet":
        import pyarrow.parquet as pq
        return sum(pq.ParquetFile(f).metadata.num_rows for f in files), True
    total, exact = 0, True
    for f in files:
        size = f.stat().st_size
        if size <= COUNT_LIMIT:
            opener = gzip.open if f.suffix.lower() == ".gz" else open
            with opener(f, "rb") as fh:
                lines = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 22), b""))
        else:
            head = _head_bytes(f, 4 << 20)
            per_line = max(len(head) / max(head.count(b"\n"), 1), 1.0)
            raw = _gzip_size(f) if f.suffix.lower() == ".gz" else size
            lines, exact = int(raw / per_line), False
        total += lines - (1 if header else 0)
    return total, exact


def _distinct_ids(cfg: Any, src: Any) -> int | None:
    """Distinct customer ids of a whole transactions source (its id column only)."""
    from microseg.loading import normalise_ids, read_table, source_label
    try:
        ids = read_table(cfg, src, columns=[src.customer_id])[src.customer_id].dropna()
        return int(normalise_ids(ids, source_label(cfg, src), src.customer_id).nunique())
    except MicrosegError:
        return None


def _gzip_size(path: Path) -> int:
    """Uncompressed size from the gzip trailer (modulo 4 GiB: an estimate for larger files)."""
    with path.open("rb") as fh:
        fh.seek(-4, 2)
        return int.from_bytes(fh.read(4), "little")


def open_prefixes(cfg: Any, sources: list[SourceReport]) -> tuple[str, ...]:
    """Prefixes of data-dependent columns whose levels the sample may not show in full."""
    out: list[str] = []
    for info in sources:
        src = getattr(cfg.sources, info.role)
        if info.rows_total_exact and info.rows_total == info.rows_read:
            continue
        for role, prefixes in OPEN_PREFIXES.get(info.role, {}).items():
            if getattr(src, role, None):
                out += prefixes
    return tuple(out)
