"""Reading a source as a Dask DataFrame of small partitions, and errors from partitions.

Partitions are sized from the workers' memory limit (:func:`partition_bytes`): parsing and
normalising a partition needs several times its size, and a worker of a few hundred MB has
little room above its own ~150–250 MB. Parquet row groups are combined up to that size (never
split); CSV is cut into blocks of text; a compressed CSV cannot be cut (one partition per file).

Errors keep the pandas engine's form — an :class:`~microseg.errors.InputError` naming the file,
column and row, never a value — with the row counted over the whole input.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pandas as pd

from microseg.config import Config, SourceConfig
from microseg.errors import ConfigError, InputError
from microseg.loading import PARQUET_SUFFIXES, error_text, data_files, require_columns, source_label

MIN_PARTITION = 4 << 20
MAX_PARTITION = 64 << 20
#: a partition is this share of the smallest worker memory limit (parsing needs several times it)
PARTITION_SHARE = 1 / 48
COMPRESSED = (".gz", ".bz2", ".xz", ".zip", ".zst")


def require_dask() -> Any:
    """``dask.dataframe``, or a ConfigError saying how to install the extra."""
    try:
        import dask.dataframe as dd
        import distributed  # noqa: F401
    except ImportError:
        raise ConfigError("the Dask engine needs the dask extra: pip install 'microseg[dask]'", key="engine") from None
    return dd


def worker_limits(client: Any) -> list[int]:
    """Each worker's memory limit in bytes (0: none)."""
    return [int(w.get("memory_limit") or 0) for w in client.scheduler_info().get("workers", {}).values()]


def partition_bytes(client: Any) -> int:
    """Target in-memory size of an input partition for this cluster."""
    limits = [m for m in worker_limits(client) if m] or [4 << 30]
    return int(min(MAX_PARTITION, max(MIN_PARTITION, min(limits) * PARTITION_SHARE)))


# --------------------------------------------------------------------------- locating and reading
def locate(cfg: Config, src: SourceConfig) -> tuple[str | list[str], str]:
    """Where a source's data are (a path, a file list or an fsspec URL) and its format."""
    if src.url:
        raise ConfigError("the Dask engine reads files (Parquet or CSV, local or fsspec URLs such as s3://); "
                          "use the pandas engine for SQL sources", key="engine")
    raw = src.path or ""
    if "://" in raw:                                   # object store: only the workers read it
        return raw, src.format or _format_of(raw)
    path = cfg.resolve(raw)
    files = data_files(path)                           # the pandas engine's: a file, a folder, a pattern
    fmt = src.format or _format_of(files[0].name)
    if path.is_file() or (path.is_dir() and fmt == "parquet"):
        return str(path), fmt
    return [str(f) for f in files], fmt


def _format_of(name: str) -> str:
    return "parquet" if name.lower().endswith(PARQUET_SUFFIXES) else "csv"


def _csv_options(src: SourceConfig) -> dict[str, Any]:
    sep = src.sep or ","
    spaced = sep.endswith(" ") and sep.strip() != ""
    opts = {"sep": sep.strip() if spaced else sep, "skipinitialspace": spaced, "header": 0 if src.header else None,
            "names": src.names, "encoding": src.encoding, "na_values": src.na_values or None}
    return {k: v for k, v in opts.items() if v is not None}


def read_source(cfg: Config, src: SourceConfig, columns: list[str] | None, target: int,
                min_partitions: int = 1) -> tuple[Any, str]:
    """The source (only ``columns`` when given; CSV values as text) as a Dask DataFrame of
    partitions of about ``target`` bytes, and its format.

    A Parquet input that gives fewer than ``min_partitions`` that way (a file of a few big row
    groups) is read one row group per partition. A missing column is an :class:`InputError`
    naming it, raised before any data are read.
    """
    dd = require_dask()
    where, fmt = locate(cfg, src)
    label = source_label(cfg, src)
    try:
        if fmt == "parquet":
            frame = dd.read_parquet(where, blocksize=target, split_row_groups="adaptive")
            if frame.npartitions < min_partitions:
                by_group = dd.read_parquet(where, split_row_groups=True)
                frame = by_group if by_group.npartitions > frame.npartitions else frame
            if columns is not None:
                require_columns(frame._meta, columns, label)
                frame = frame[columns]
            return frame, fmt
        opts = _csv_options(src)
        first = where[0] if isinstance(where, list) else where
        header = pd.read_csv(first, nrows=0, **opts)       # pandas reads local files and fsspec URLs
        if columns is not None:
            require_columns(header, columns, label)
        files = where if isinstance(where, list) else [where]
        compressed = any(str(f).lower().endswith(COMPRESSED) for f in files)
        frame = dd.read_csv(where, blocksize=None if compressed else max(1 << 20, target // 2),
                            usecols=columns, dtype=str, **opts)
        return frame, fmt
    except InputError:
        raise
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError, ImportError) as exc:
        raise InputError(f"cannot read {fmt.upper()} input: {type(exc).__name__}: {error_text(exc)}",
                         source=label) from None


# --------------------------------------------------------------------------- errors from partitions
class PartitionInputError(Exception):
    """An InputError raised on a worker, with its partition number (picklable: plain args)."""

    def __init__(self, number: int, message: str, source: str | None, column: str | None,
                 row: int | None) -> None:
        super().__init__(number, message, source, column, row)


def _bare_message(exc: InputError) -> str:
    prefix = str(InputError("", source=exc.source, column=exc.column, row=exc.row))
    text = str(exc)
    return text[len(prefix):] if prefix and text.startswith(prefix) else text


def located(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a partition function so that an InputError carries its partition number."""
    wants_info = "partition_info" in inspect.signature(fn).parameters

    def wrapper(part: pd.DataFrame, *args: Any, partition_info: dict | None = None) -> Any:
        try:
            return fn(part, *args, partition_info=partition_info) if wants_info else fn(part, *args)
        except InputError as exc:
            number = int(partition_info["number"]) if partition_info else 0
            raise PartitionInputError(number, _bare_message(exc), exc.source, exc.column, exc.row) from None
    wrapper.__name__ = fn.__name__
    wrapper.__qualname__ = fn.__qualname__
    wrapper.__module__ = fn.__module__
    return wrapper


def checked(thunk: Callable[[], Any], row_counts: Callable[[], list[int]] | None, label: str, fmt: str) -> Any:
    """``thunk()`` (a computation on the cluster); a partition's InputError becomes the pandas
    engine's, its row counted over the input (``row_counts()``: the rows of each partition, as
    the loader counts them)."""
    try:
        return thunk()
    except PartitionInputError as exc:
        number, message, source, column, row = exc.args
        if row is not None and number > 0 and row_counts is not None:
            row += int(sum(row_counts()[:number]))
        raise InputError(message, source=source, column=column, row=row) from None
    except InputError:
        raise
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read {fmt.upper()} input: {type(exc).__name__}: {error_text(exc)}",
                         source=label) from None
