"""Read the configured sources into a validated :class:`~microseg.data.CustomerData`.

Errors name the file, column and (1-based data) row, never a value: a customer id or an e-mail
is personal data and must not appear in messages or logs.
"""
from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd
import pyarrow as pa

from microseg.config import Config, CustomersSource, EventsSource, SourceConfig, TransactionsSource
from microseg.data import CustomerData, is_in
from microseg.errors import InputError
from microseg.suggest import did_you_mean

TRUE_WORDS = {"1", "true", "yes", "y", "t"}
FALSE_WORDS = {"0", "false", "no", "n", "f"}


def source_label(cfg: Config, src: SourceConfig) -> str:
    if src.path:
        return str(src.path)
    return f"{src.table or 'query'} at {_redact_url(src.url or '')}"


def _redact_url(url: str) -> str:
    """Hide a password in a SQLAlchemy URL."""
    from sqlalchemy.engine import make_url
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001
        return "<database>"


def read_table(cfg: Config, src: SourceConfig, columns: Iterable[str] | None = None,
               nrows: int | None = None) -> pd.DataFrame:
    """Read one source (CSV, CSV.gz, Parquet, or SQL) as strings/numbers, unvalidated; ``nrows``:
    only the first rows (a sample, for ``microseg check``)."""
    label = source_label(cfg, src)
    if src.url:
        return _read_sql(src, label, nrows)
    path = cfg.resolve(src.path or "")
    files = data_files(path)
    fmt = src.format or ("parquet" if all(f.suffix.lower() in PARQUET_SUFFIXES for f in files) else "csv")
    wanted = set(columns) if columns else None
    try:
        if fmt == "parquet" and nrows is not None:
            df = _parquet_head(files, list(wanted) if wanted else None, nrows)
        elif fmt == "parquet":     # a folder is read as one data set (pyarrow skips "_*" / ".*" files)
            source = path if len(files) == 1 or path.is_dir() else [str(f) for f in files]
            df = pd.read_parquet(source, columns=list(wanted) if wanted else None)
        else:
            parts = [_read_csv(f, src, wanted, nrows) for f in (files if nrows is None else files[:1])]
            df = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
    except InputError:
        raise
    except (ValueError, OSError, EOFError, LookupError, zlib.error, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read {fmt.upper()} file: {read_error(exc)}", source=str(path)) from None
    return _check_nonempty(df, str(path))


def _read_csv(path: Path, src: SourceConfig, wanted: set[str] | None, nrows: int | None) -> pd.DataFrame:
    """One CSV file with the source's options; a header naming a column twice is refused (pandas
    would silently rename the second ``age`` to ``age.1``)."""
    sep = src.sep or ","
    spaced = sep.endswith(" ") and sep.strip() != ""
    options: dict = dict(sep=sep.strip() if spaced else sep, skipinitialspace=spaced, encoding=src.encoding)
    try:
        if src.header and not src.names:
            header = pd.read_csv(path, header=None, nrows=1, dtype=str, keep_default_na=False, **options)
            names = [str(n) for n in header.iloc[0]] if len(header) else []
            twice = next((n for i, n in enumerate(names) if n in names[:i]), None)
            if twice is not None:
                where = [i + 1 for i, n in enumerate(names) if n == twice]
                raise InputError(f"the header names this column twice (columns {where[0]} and {where[1]}): "
                                 "rename one of them", source=str(path), column=twice)
        return pd.read_csv(path, header=0 if src.header else None, names=src.names, na_values=src.na_values or None,
                           usecols=(lambda c: c in wanted) if wanted else None, low_memory=False, nrows=nrows,
                           **options)
    except (ValueError, OSError, EOFError, LookupError, zlib.error, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read CSV file: {read_error(exc)}", source=str(path)) from None


def read_error(exc: BaseException) -> str:
    """A reader's exception in words, with what to do (never a value from the file)."""
    if isinstance(exc, EOFError):
        return "the compressed file is truncated (it ends before its data does): copy or export it again"
    if isinstance(exc, gzip.BadGzipFile) and "not a gzipped file" in str(exc).lower():
        return "not gzip data although its name ends in .gz: rename it without .gz, or compress it with gzip"
    if isinstance(exc, (gzip.BadGzipFile, zlib.error)):
        return f"the compressed data is corrupt (gzip: {error_text(exc)}): copy or export it again"
    if isinstance(exc, pd.errors.EmptyDataError):
        return "the file is empty: no header and no rows"
    if isinstance(exc, UnicodeDecodeError):
        return f"not {exc.encoding} text: set encoding in the config (e.g. encoding = \"cp1252\")"
    if isinstance(exc, LookupError):
        return f"{error_text(exc)}: give a known encoding (utf-8, cp1252, latin-1, utf-16)"
    return f"{type(exc).__name__}: {error_text(exc)}"


PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
GLOB_CHARS = "*?["


def data_files(path: Path) -> list[Path]:
    """The file at ``path``, the files a pattern in its last part matches (``tx/part-*.csv``),
    or the data files of a folder (a partitioned data set, as the Dask engine reads it), in name
    order; in a folder, names starting with ``_`` or ``.`` are not data."""
    if path.is_file():
        return [path]
    if any(ch in path.name for ch in GLOB_CHARS):
        matched = sorted(f for f in path.parent.glob(path.name) if f.is_file())
        if not matched:
            raise InputError("no file matches this pattern", source=str(path))
        return matched
    if path.is_dir():
        files = sorted(f for f in path.rglob("*") if f.is_file()
                       and not any(part.startswith(("_", ".")) for part in f.relative_to(path).parts))
        if not files:
            raise InputError("the folder holds no data file (names starting with _ or . are skipped): check the "
                             "path in the config", source=str(path))
        return files
    raise InputError("file not found: check the path in the config (a relative path is read from the config's "
                     "folder)", source=str(path))


def _parquet_head(files: list[Path], columns: list[str] | None, nrows: int) -> pd.DataFrame:
    """The first ``nrows`` rows of a Parquet data set (row group by row group; a file memory-mapped:
    only the pages of the first rows are read, ~30 % faster than through a read buffer)."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    batches, got = [], 0
    for f in files:
        for batch in pq.ParquetFile(f, memory_map=True).iter_batches(batch_size=min(nrows, 65_536), columns=columns):
            batches.append(batch)
            got += batch.num_rows
            if got >= nrows:
                break
        if got >= nrows:
            break
    return pa.Table.from_batches(batches).to_pandas().head(nrows) if batches else pd.DataFrame()


def _read_sql(src: SourceConfig, label: str, nrows: int | None = None) -> pd.DataFrame:
    import sqlalchemy as sa
    if src.query:
        stmt = sa.text(src.query)
    else:
        schema, _, name = (src.table or "").rpartition(".")
        stmt = sa.select(sa.text("*")).select_from(sa.table(name, schema=schema or None))
    try:
        engine = sa.create_engine(src.url or "")
        with engine.connect() as con:
            df = pd.read_sql(stmt, con) if nrows is None else next(iter(pd.read_sql(stmt, con, chunksize=nrows)),
                                                                   pd.DataFrame())
    except Exception as exc:  # noqa: BLE001 - driver messages may echo values
        raise InputError(f"cannot read from the database: {type(exc).__name__}", source=label) from None
    return _check_nonempty(df, label)


def error_text(exc: Exception) -> str:
    """Parser messages name lines and columns; cut anything after a quote (a value)."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    return text.split("'")[0].split('"')[0].strip()[:200]


def _check_nonempty(df: pd.DataFrame, label: str) -> pd.DataFrame:
    if df.empty:
        raise InputError("the table has no data rows", source=label)
    return df


def require_columns(df: pd.DataFrame, names: Iterable[str | None], label: str) -> None:
    """Every mapped column is in the table, or an error naming it, the closest column and every column."""
    have = [str(c) for c in df.columns]
    for name in names:
        if name and name not in df.columns:
            raise InputError(f"missing column {name!r}{did_you_mean(name, have)} (the file has: {', '.join(have)}); "
                             "fix the column mapping", source=label, column=name)


def normalise_ids(values: pd.Series, label: str, column: str) -> pd.Series:
    """Customer ids as int64 when every id is integral (``17850.0`` → 17850), else as strings."""
    if pd.api.types.is_integer_dtype(values):
        return values.astype("int64")
    if pd.api.types.is_float_dtype(values):
        frac = values.to_numpy() % 1
        if np.all(frac == 0):
            return values.astype("int64")
        row = int(np.argmax(frac != 0))
        raise InputError("customer id is not a whole number", source=label, column=column, row=row + 1)
    if values.isna().any():
        return _ids_from_text(values)
    codes, converted = _distinct_ids(values)
    return pd.Series(converted.to_numpy().take(codes), index=values.index, name=values.name,
                     dtype=converted.dtype)


def _distinct_ids(values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Text ids without a missing one as codes into their distinct values, converted
    (:func:`_ids_from_text`): ids repeat (one per transaction), so each is converted once."""
    codes, uniques = pd.factorize(values)
    return codes, _ids_from_text(pd.Series(uniques, dtype=values.dtype))


def id_column(values: pd.Series, label: str, column: str) -> Any:
    """``normalise_ids(...).to_numpy()`` as a normalised table holds it. Text ids are spread as the
    column a frame infers from the distinct ones (pyarrow strings, pandas' ``str``) instead of as
    Python strings the frame converts back one by one (~0.1 s per 300 000 rows)."""
    if (pd.api.types.is_integer_dtype(values) or pd.api.types.is_float_dtype(values)
            or values.isna().any()):
        return normalise_ids(values, label, column).to_numpy()
    codes, converted = _distinct_ids(values)
    if converted.dtype == object:                     # every one a Python string
        inferred = pd.Series(converted.to_numpy()).array          # the dtype a frame would infer
        if isinstance(inferred, pd.arrays.ArrowStringArray):
            return inferred.take(codes)
    return converted.to_numpy().take(codes)


def plain_column(values: pd.Series) -> Any:
    """``values.to_numpy()`` as a normalised table holds it: a column of pandas' ``str`` dtype with
    a value is kept as its pyarrow strings (a shallow copy; the table may be changed in place)
    instead of Python strings the frame converts back one by one (~0.05 s per 300 000 rows)."""
    if _default_strings(values) and values.notna().any():
        return values.array.copy()
    return values.to_numpy()


def _default_strings(values: pd.Series) -> bool:
    """Whether ``values`` hold what a frame infers from Python strings (with pandas' default
    ``str`` dtype: pyarrow large strings, NaN for missing)."""
    dtype = values.dtype
    return (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow" and dtype.na_value is np.nan
            and isinstance(values.array, pd.arrays.ArrowStringArray)
            and values.array.__arrow_array__().type == pa.large_string()
            and pd.Series(["x"]).dtype == dtype)


def _ids_from_text(values: pd.Series) -> pd.Series:
    """Text ids stripped, as int64 when every one is a whole number, else as strings (at once
    when the first is not a number: ``C00017`` ids are not parsed one by one to learn it)."""
    text = values.astype(str).str.strip()
    if len(text) and pd.to_numeric(text.iloc[:1], errors="coerce").isna().any():
        return text.astype(object)
    as_num = pd.to_numeric(text, errors="coerce")
    if as_num.notna().all() and np.all(as_num.to_numpy() % 1 == 0):
        return as_num.astype("int64")
    return text.astype(object)


def parse_dates(values: pd.Series, src: SourceConfig, label: str, column: str) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    parsed = pd.to_datetime(values, errors="coerce", format=src.date_format, dayfirst=src.dayfirst)
    bad = parsed.isna() & values.notna() & (values.astype(str).str.strip() != "")
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"unparsable date ({int(bad.sum())} such rows): write the column's dates in one format and "
                         "set date_format in the config (e.g. date_format = \"%d/%m/%Y\")",
                         source=label, column=column, row=row + 1)
    return parsed


def parse_numbers(values: pd.Series, label: str, column: str) -> np.ndarray:
    """Finite numbers; an error names the first bad row and, where it can tell, what to change."""
    if pd.api.types.is_numeric_dtype(values):
        out = values.to_numpy(dtype="float64")
    else:
        parsed = pd.to_numeric(values, errors="coerce")
        bad = parsed.isna() & values.notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError("not a number" + _number_hint(str(values.iloc[row])), source=label, column=column,
                             row=row + 1)
        out = parsed.to_numpy(dtype="float64")
    infinite = np.isinf(out)
    if infinite.any():
        row = int(np.flatnonzero(infinite)[0])
        raise InputError(f"not finite (infinity, or too large for a number; {int(infinite.sum())} such rows): fix or "
                         "remove these rows", source=label, column=column, row=row + 1)
    return out


def _number_hint(text: str) -> str:
    """What to change in a value that is not a number (the value itself is never shown)."""
    if re.search(r"[$€£¥₹₽]|\b[A-Z]{3}\b", text):
        return ": remove the currency symbol or code (write 12.50, not €12.50)"
    if re.fullmatch(r"\s*-?\d{1,3}([,.' ]\d{3})+([.,]\d+)?\s*", text):
        return ": remove the thousands separator (write 1234.50, not 1,234.50)"
    if re.fullmatch(r"\s*-?\d+,\d+\s*", text):
        return ": use a point as the decimal separator (write 12.50, not 12,50)"
    return ": fix the value or remove the row"


def parse_bool(values: pd.Series, label: str, column: str, true_value: str | None = None) -> np.ndarray:
    if true_value is not None:
        return (values.astype(str).str.strip() == str(true_value)).to_numpy()
    if pd.api.types.is_bool_dtype(values):
        return values.to_numpy(dtype=bool)
    if pd.api.types.is_numeric_dtype(values):
        return values.fillna(0).to_numpy() != 0
    low = values.astype(str).str.strip().str.lower()
    ok = low.isin(TRUE_WORDS | FALSE_WORDS)
    if not ok.all():
        row = int(np.flatnonzero(~ok.to_numpy())[0])
        raise InputError("expected yes/no, true/false or 1/0", source=label, column=column, row=row + 1)
    return low.isin(TRUE_WORDS).to_numpy()


# --------------------------------------------------------------------------- per role
def load_customers(cfg: Config, src: CustomersSource, df: pd.DataFrame | None = None) -> pd.DataFrame:
    """The customers table, validated (``df``: rows already read, e.g. a notebook's DataFrame)."""
    label = source_label(cfg, src)
    df = read_table(cfg, src) if df is None else _check_nonempty(df, label)
    require_columns(df, [src.customer_id, src.signup_date, *src.dates], label)
    if src.customer_id:
        ids = df[src.customer_id]
        if ids.isna().any():
            row = int(np.flatnonzero(ids.isna().to_numpy())[0])
            raise InputError("missing customer id", source=label, column=src.customer_id, row=row + 1)
        ids = normalise_ids(ids, label, src.customer_id)
        dup = ids.duplicated()
        if dup.any():
            row = int(np.flatnonzero(dup.to_numpy())[0])
            raise InputError(f"duplicate customer id ({int(dup.sum())} duplicate rows; first at this row)",
                             source=label, column=src.customer_id, row=row + 1)
        df = df.drop(columns=[src.customer_id])
        df.index = pd.Index(ids.to_numpy(), name="customer_id")
    else:
        df.index = pd.RangeIndex(len(df), name="customer_id")
    for col in [src.signup_date, *src.dates]:
        if col:
            df[col] = parse_dates(df[col], src, label, col)
    require_finite(df, label)
    return df


def require_finite(df: pd.DataFrame, label: str) -> None:
    """No infinite number in a numeric column (no customer attribute is infinite; a method would fail on it)."""
    for col in df.columns:
        if pd.api.types.is_float_dtype(df[col]):
            infinite = np.isinf(df[col].to_numpy(dtype="float64", na_value=np.nan))
            if infinite.any():
                raise InputError(f"not finite (infinity, or too large for a number; {int(infinite.sum())} such rows): "
                                 "fix or remove these rows", source=label, column=str(col),
                                 row=int(np.flatnonzero(infinite)[0]) + 1)


def normalise_transactions(df: pd.DataFrame, src: TransactionsSource, label: str) -> pd.DataFrame:
    """Rows with a customer id → ``customer_id``, ``ts``, ``amount`` (+ quantity, invoice, channel, category)."""
    out: dict[str, Any] = {"customer_id": id_column(df[src.customer_id], label, src.customer_id)}
    out["ts"] = parse_dates(df[src.timestamp], src, label, src.timestamp).to_numpy()
    if src.amount:
        out["amount"] = parse_numbers(df[src.amount], label, src.amount)
    else:
        quantity = parse_numbers(df[src.quantity], label, src.quantity)
        out["amount"] = quantity * parse_numbers(df[src.unit_price], label, src.unit_price)
        out["quantity"] = quantity          # units per line (basket sizes: Engine.window_baskets)
    nan_amount = np.isnan(out["amount"])
    if nan_amount.any():
        row = int(np.flatnonzero(nan_amount)[0])
        raise InputError(f"missing amount ({int(nan_amount.sum())} such rows): fill it in or remove the row",
                         source=label, column=src.amount or src.quantity, row=row + 1)
    for role in ("invoice", "channel", "category"):
        col = getattr(src, role)
        if col:
            out[role] = plain_column(df[col])
    return _frame(out)


def _frame(columns: dict[str, Any]) -> pd.DataFrame:
    """The normalised table of ``columns``, built once around the arrays made for it (a read-only
    view of the file's frame is copied, so the table can be changed in place like any frame)
    instead of copying each column again as it is added."""
    own = {name: values.copy() if isinstance(values, np.ndarray) and not values.flags.writeable else values
           for name, values in columns.items()}
    return pd.DataFrame(own, copy=False)


def per_distinct(values: pd.Series, fn: Callable[[pd.Series], pd.Series]) -> Any:
    """``fn`` (an element-wise transformation) of every value of ``values``, computed once per
    distinct value and spread to the rows: the same values and dtype as ``fn(values).to_numpy()``
    put in a frame, for a column of few levels (a channel) at the cost of one factorisation."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    done = fn(pd.Series(uniques, dtype=values.dtype)).to_numpy()
    return pd.Series(done).array.take(codes)


def load_transactions(cfg: Config, src: TransactionsSource,
                      df: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame | None, dict]:
    """Normalised transactions, the per-customer ``attributes`` frame, and load statistics
    (``df``: rows already read)."""
    label = source_label(cfg, src)
    roles = {"customer_id": src.customer_id, "ts": src.timestamp, "invoice": src.invoice,
             "channel": src.channel, "category": src.category}
    needed = [c for c in [*roles.values(), src.amount, src.quantity, src.unit_price, *src.attributes] if c]
    df = read_table(cfg, src, columns=needed) if df is None else _check_nonempty(df, label)
    require_columns(df, needed, label)
    n_rows = len(df)
    has_id = df[src.customer_id].notna().to_numpy()
    if not has_id.any():
        raise InputError("no rows with a customer id", source=label, column=src.customer_id)
    if not has_id.all():
        df = df.loc[has_id]
    with file_rows(has_id):
        out = normalise_transactions(df, src, label)
    attrs = None
    if src.attributes:
        latest = df[list(src.attributes)].copy()
        latest["customer_id"] = out["customer_id"].to_numpy()
        latest["ts"] = out["ts"].to_numpy()
        attrs = (latest.sort_values("ts", kind="stable").groupby("customer_id", sort=True)[list(src.attributes)]
                 .last())
    stats = {"rows": n_rows, "rows_without_customer": int((~has_id).sum()),
             "negative_lines": int((out["amount"].to_numpy() < 0).sum())}
    return out, attrs, stats


def load_events(cfg: Config, src: EventsSource, df: pd.DataFrame | None = None) -> pd.DataFrame:
    """Campaign contacts, validated (``df``: rows already read)."""
    label = source_label(cfg, src)
    cols = [src.customer_id, src.timestamp, src.channel, src.responded, src.campaign, src.treatment]
    df = read_table(cfg, src, columns=[c for c in cols if c]) if df is None else _check_nonempty(df, label)
    require_columns(df, cols, label)
    has_id = df[src.customer_id].notna().to_numpy()
    with file_rows(has_id):
        return normalise_events(df.loc[has_id], src, label)


@contextmanager
def file_rows(kept: np.ndarray) -> Iterator[None]:
    """Errors raised on the rows ``kept`` (a mask over the file's rows) name the file's row number."""
    try:
        yield
    except InputError as exc:
        if exc.row is None or kept.all():
            raise
        row = int(np.flatnonzero(kept)[exc.row - 1]) + 1
        raise InputError(exc.detail, source=exc.source, column=exc.column, row=row) from None


def normalise_events(df: pd.DataFrame, src: EventsSource, label: str) -> pd.DataFrame:
    """Campaign contacts → ``customer_id``, ``ts``, ``channel``, ``responded``, ``campaign``, ``treatment``."""
    out: dict[str, Any] = {"customer_id": id_column(df[src.customer_id], label, src.customer_id)}
    if src.timestamp:
        out["ts"] = parse_dates(df[src.timestamp], src, label, src.timestamp).to_numpy()
    if src.channel:
        out["channel"] = per_distinct(df[src.channel], lambda s: s.astype(str).str.strip().str.lower())
    if src.responded:
        out["responded"] = parse_bool(df[src.responded], label, src.responded)
    if src.campaign:
        out["campaign"] = plain_column(df[src.campaign])
    if src.treatment:
        treat = df[src.treatment]
        if src.control_value is not None and src.treatment_value is None:
            out["treatment"] = ~(treat.astype(str).str.strip() == str(src.control_value)).to_numpy()
        else:
            out["treatment"] = parse_bool(treat, label, src.treatment, src.treatment_value)
    return _frame(out)


def load_data(cfg: Config, frames: dict[str, pd.DataFrame] | None = None) -> tuple[CustomerData, dict]:
    """Load every configured source; returns the data and load statistics (no personal data).
    ``frames`` gives rows already read per role (``customers`` …) instead of reading the source."""
    s = cfg.sources
    given = frames or {}
    stats: dict = {}
    customers = load_customers(cfg, s.customers, given.get("customers")) if s.customers else None
    transactions = attrs = None
    if s.transactions:
        transactions, attrs, stats["transactions"] = load_transactions(cfg, s.transactions, given.get("transactions"))
    events = load_events(cfg, s.events, given.get("events")) if s.events else None
    if customers is not None:
        if attrs is not None:
            overlap = [c for c in attrs.columns if c in customers.columns]
            customers = customers.join(attrs.drop(columns=overlap), how="left")
        if transactions is not None:
            known = is_in(transactions["customer_id"], customers.index)
            stats["transactions"]["rows_unknown_customer"] = int((~known).sum())
            if not known.all():
                transactions = transactions.loc[known]
    elif attrs is not None:
        customers = attrs
        customers.index.name = "customer_id"
    as_of = pd.Timestamp(cfg.as_of) if cfg.as_of is not None else None
    data = CustomerData(customers=customers, transactions=transactions, events=events, as_of=as_of,
                        signup_column=s.customers.signup_date if s.customers else None)
    stats["customers"] = int(len(data.ids))
    if events is not None:
        stats["events"] = {"rows": int(len(events))}
    return data, stats


def fingerprint_inputs(cfg: Config) -> dict[str, str]:
    """Size + mtime + sha256 of the first MiB of each input file (cheap and stable)."""
    import hashlib
    out = {}
    for role in ("customers", "transactions", "events"):
        src = getattr(cfg.sources, role)
        if src is None:
            continue
        if src.path and "://" in src.path:      # an object store (Dask engine): only the workers read it
            out[role] = "url:" + hashlib.sha256(src.path.encode()).hexdigest()[:16]
        elif src.path:
            p = cfg.resolve(src.path)
            if p.is_dir() or any(ch in p.name for ch in GLOB_CHARS):   # a partitioned data set: every
                files = data_files(p)                                  # file's name, size, mtime
                base = p if p.is_dir() else p.parent
                listing = "".join(f"{f.relative_to(base)}:{f.stat().st_size}:{int(f.stat().st_mtime)};"
                                  for f in files)
                out[role] = f"{p.name}/:{len(files)} files:{hashlib.sha256(listing.encode()).hexdigest()[:16]}"
                continue
            st = p.stat()
            with p.open("rb") as fh:
                head = hashlib.sha256(fh.read(1 << 20)).hexdigest()[:16]
            out[role] = f"{p.name}:{st.st_size}:{int(st.st_mtime)}:{head}"
        else:
            out[role] = "sql:" + hashlib.sha256((src.query or src.table or "").encode()).hexdigest()[:16]
    return out
