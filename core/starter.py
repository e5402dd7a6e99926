"""What ``microseg init`` writes: a commented config that runs as it is.

* :func:`write_starter` — the starter config plus a small synthetic sample data set next to it
  (``data/customers.csv``, ``data/transactions.csv``: made-up people, made-up purchases), so
  ``microseg run microseg.toml`` works straight away; point the sources at your files after.
* :func:`config_for_file` — a config for the user's own file (``init --from FILE``): columns
  mapped by name and type (customer id, timestamp, amount or quantity × unit price, invoice,
  channel, category; consent columns), rules written over its categorical and numeric attributes.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from microseg.errors import InputError

SAMPLE_CUSTOMERS = 2_000
SAMPLE_SEED = 11

STARTER_CONFIG = '''\
# microseg.toml — a governed segmentation run. Reference: docs/config.md
# Paths are relative to this file. `microseg init` wrote a small synthetic sample data set in data/
# (made-up people and purchases) so this runs as it is: microseg check microseg.toml; microseg run microseg.toml
# For your own data, point the sources at your files — or start over with: microseg init --from FILE

# Reference date: features use data strictly before it (default: the day after the last transaction).
# as_of = "2026-01-01"

[sources.customers]                # optional if transactions are given
path = "data/customers.csv"        # CSV (also .gz), Parquet, or: url = "postgresql://..." + table/query
customer_id = "customer_id"        # omit to use the row number
signup_date = "signup_date"        # used for tenure_days
dates = ["birth_date"]             # other date columns to parse
# sep = ";"                        # `microseg check` tells you when the file needs another separator

[sources.transactions]             # optional if customers are given
path = "data/transactions.csv"
customer_id = "customer_id"
timestamp = "ts"
amount = "amount"                  # or: quantity = "Quantity" and unit_price = "UnitPrice"
channel = "channel"                # spend share per channel
# invoice = "InvoiceNo"            # count purchases per invoice, not per line
# attributes = ["Country"]         # carry these columns to the customer level (latest value)

# [sources.events]                 # campaign contacts: enables campaign-response
# path = "contacts.csv"
# customer_id = "customer_id"
# timestamp = "sent_at"
# channel = "channel"
# responded = "responded"
# treatment = "group"              # control group flag, for uplift
# control_value = "control"

[[methods]]                        # each entry: one instance of a registered method (`microseg plugins`)
id = "rfm"
method = "rfm"

[[methods]]
id = "lifestage"
method = "rules"
[methods.params]
mode = "first"                     # first match wins; "multi" = one membership per matching rule
default = "Adults"
segments = [
  { name = "Young adults", when = "age < 30" },
  { name = "Seniors", when = "age >= 65" },
]

[[methods]]
id = "region"
method = "rules"
[methods.params]
default = "Other regions"
segments = [
  { name = "South", when = "region == 'South'" },
  { name = "North", when = "region in ('North', 'Scotland')" },
]

[microsegments]                    # intersections, coarse to fine; the parent drops the last one
dimensions = ["rfm", "region"]

[privacy]
min_segment_size = 50              # k: no released segment is smaller
small_segments = "merge"           # or "suppress"
key_file = ".microseg/key"         # keyed pseudonyms (HMAC-SHA256); or set $MICROSEG_KEY
consent = { profiling = "consent_profiling", marketing = "consent_marketing" }
# columns = { email = "drop", birth_date = "generalise" }

[release]
customer_ids = "pseudonym"         # "original" only for evaluation; "none" for counts only
include_scores = false
# attributes = ["age", "city"]     # released with k-anonymity over quasi-identifiers
'''

SAMPLE_FILES = ("data/customers.csv", "data/transactions.csv")


def write_starter(config: Path, *, force: bool = False) -> list[Path]:
    """Write the starter config and its sample data next to it; returns the files written."""
    from microseg.demo import AS_OF, generate
    folder = config.resolve().parent
    targets = [config, *(folder / f for f in SAMPLE_FILES)]
    existing = [p for p in targets if p.exists()]
    if existing and not force:
        raise InputError(f"{existing[0]} exists; use --force to overwrite")
    frames = generate(SAMPLE_CUSTOMERS, SAMPLE_SEED)
    customers = frames["customers"].drop(columns=["notes"])
    tx = frames["transactions"]
    tx = tx[tx["ts"] < str(AS_OF)]                       # only the past: as_of defaults to the day after
    (folder / "data").mkdir(parents=True, exist_ok=True)
    customers.to_csv(folder / SAMPLE_FILES[0], index=False)
    tx.to_csv(folder / SAMPLE_FILES[1], index=False)
    config.write_text(STARTER_CONFIG, encoding="utf-8")
    return targets


# ---------------------------------------------------------------------------- init --from FILE
ID_NAMES = re.compile(r"^(customer|cust|client|member|user|account|buyer|shopper)(_?(id|no|number|key|code))?$|^id$")
TIME_NAMES = re.compile(r"(^|_)(date|time|ts|timestamp|datetime|created|ordered|purchased|invoice_date|order_date)"
                        r"($|_)")
AMOUNT_NAMES = re.compile(r"^(amount|total|revenue|sales|spend|net_amount|line_total|order_total|value|"
                          r"gross|net|price_total|turnover)$")
QUANTITY_NAMES = re.compile(r"^(quantity|qty|units|unit_count|items)$")
PRICE_NAMES = re.compile(r"^(unit_?price|price|price_each|item_price)$")
INVOICE_NAMES = re.compile(r"^(invoice|order|basket|receipt|ticket|transaction)(_?(id|no|number))?$")
CHANNEL_NAMES = re.compile(r"^(channel|sales_channel|store_type)$")
CATEGORY_NAMES = re.compile(r"^(category|product_category|department|dept)$")
CONSENT_NAMES = re.compile(r"consent|opt_?in|gdpr")


@dataclass
class FileMapping:
    """How ``init --from`` read a file: its kind, separator and the columns given each role."""

    kind: str                                    # "transactions" or "customers"
    sep: str
    encoding: str | None
    roles: dict[str, str] = field(default_factory=dict)
    categorical: list[str] = field(default_factory=list)
    numeric: list[str] = field(default_factory=list)
    dates: list[str] = field(default_factory=list)
    personal: list[str] = field(default_factory=list)
    consent: dict[str, str] = field(default_factory=dict)
    levels: dict[str, list[str]] = field(default_factory=dict)
    cuts: dict[str, float] = field(default_factory=dict)


def map_file(path: Path, *, sample_rows: int = 20_000, registry: Any = None) -> FileMapping:
    """Read the head of ``path`` and give each column a role by its name and values."""
    import pandas as pd

    from microseg.privacy.recognizers import normalise_name
    from microseg.privacy.scan import scan_frame, sniff_separator
    if not path.is_file():
        raise InputError("file not found", source=str(path))
    parquet = path.suffix.lower() in (".parquet", ".pq", ".parq")
    sep, encoding = (",", None) if parquet else (sniff_separator(path), _encoding_of(path))
    try:
        df = _parquet_head(path, sample_rows) if parquet else \
            pd.read_csv(path, sep=sep, encoding=encoding, nrows=sample_rows, low_memory=False)
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read the file: {type(exc).__name__}", source=str(path)) from None
    if df.empty:
        raise InputError("the file has no data rows", source=str(path))
    m = FileMapping(kind="customers", sep=sep, encoding=encoding if encoding != "utf-8" else None)
    names = {c: normalise_name(c) for c in df.columns}
    first = {role: next((c for c, n in names.items() if pattern.search(n)), None)
             for role, pattern in (("customer_id", ID_NAMES), ("amount", AMOUNT_NAMES), ("quantity", QUANTITY_NAMES),
                                   ("unit_price", PRICE_NAMES), ("invoice", INVOICE_NAMES),
                                   ("channel", CHANNEL_NAMES), ("category", CATEGORY_NAMES))}
    numeric = {c for c in df.columns if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])}
    for role in ("amount", "quantity", "unit_price"):
        if first[role] not in numeric:
            first[role] = None
    dates = [c for c in df.columns if c not in numeric and TIME_NAMES.search(names[c]) and _dates(df[c])]
    ident = first["customer_id"]
    money = first["amount"] or (first["quantity"] and first["unit_price"])
    repeats = ident is not None and df[ident].dropna().duplicated().any()
    if ident and dates and money and repeats:
        m.kind = "transactions"
        m.roles = {"customer_id": ident, "timestamp": dates[0]}
        money_roles = ("amount",) if first["amount"] else ("quantity", "unit_price")
        for role in (*money_roles, "invoice", "channel", "category"):
            if first[role]:
                m.roles[role] = first[role]
    elif ident and not repeats:
        m.roles = {"customer_id": ident}
    m.dates = [c for c in dates if c not in m.roles.values()]
    findings = {f.column: f for f in scan_frame(df, registry=registry, sample_size=100)}
    m.personal = [c for c, f in findings.items() if f.kind in ("identifier", "direct", "sensitive")
                  and c not in m.roles.values()]
    for c in df.columns:
        n = names[c]
        if CONSENT_NAMES.search(n):
            purpose = "profiling" if "profil" in n else "marketing" if ("market" in n or "opt" in n) else None
            if purpose and purpose not in m.consent:
                m.consent[purpose] = str(c)
    used = set(m.roles.values()) | set(m.consent.values()) | set(m.personal) | set(m.dates)
    for c in df.columns:
        if c in used:
            continue
        if c in numeric and df[c].nunique() > 5:
            m.numeric.append(str(c))
            m.cuts[str(c)] = float(df[c].median())
        elif c not in numeric and 2 <= df[c].nunique() <= 50:
            counts = df[c].astype(str).value_counts()
            top = [str(v) for v, n in counts.items() if n >= 0.05 * len(df)][:4]
            if len(top) >= 2 or (top and len(counts) > 1):
                m.categorical.append(str(c))
                m.levels[str(c)] = top
    return m


def _parquet_head(path: Path, rows: int) -> Any:
    import pyarrow.parquet as pq
    first = next(pq.ParquetFile(path).iter_batches(batch_size=rows), None)
    if first is None:
        raise InputError("the file has no data rows", source=str(path))
    return first.to_pandas()


def _encoding_of(path: Path) -> str:
    import gzip
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rb") as fh:
        head = fh.read(1 << 20)
    cut = head.rfind(b"\n") if len(head) == 1 << 20 else len(head)
    for encoding in ("utf-8", "cp1252", "latin-1"):
        try:
            head[:cut].decode(encoding)
            return encoding
        except UnicodeDecodeError:
            continue
    return "latin-1"


def _dates(values: Any) -> bool:
    import warnings

    import pandas as pd
    sample = values.dropna().astype(str).head(200)
    if sample.empty or sample.str.fullmatch(r"-?\d+(\.\d+)?").all():
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
    return bool(parsed.notna().mean() >= 0.9)


def config_for_file(file: Path, config: Path, *, registry: Any = None) -> tuple[str, FileMapping]:
    """Config text for ``file`` (paths relative to ``config``'s folder) and how it was mapped."""
    import os
    m = map_file(file, registry=registry)
    rel = Path(os.path.relpath(file.resolve(), config.resolve().parent)).as_posix()
    if rel.startswith("../../"):                         # far away: an absolute path survives moving the config
        rel = file.resolve().as_posix()
    lines = [f"# microseg.toml for {file.name}, written by `microseg init --from`. Reference: docs/config.md",
             "# Check the mapping below, then: microseg check <this file>; microseg run <this file>", ""]
    src = [f"path = {_q(rel)}"]
    if m.sep != ",":
        src.append(f"sep = {_q(m.sep)}")
    if m.encoding:
        src.append(f"encoding = {_q(m.encoding)}")
    methods: list[str] = []
    dims: list[str] = []
    if m.kind == "transactions":
        src += [f"{role} = {_q(col)}" for role, col in m.roles.items()]
        geo = m.categorical[:1]
        if geo:
            src.append(f"attributes = {_list(geo)}")
        lines += ["[sources.transactions]", *src, ""]
        methods.append(_method("rfm", "rfm"))
        dims.append("rfm")
        if geo:
            methods.append(_level_rules(geo[0], m.levels[geo[0]]))
            dims.append(_ident(geo[0]))
        methods.append(_method("activity", "rules", default="Active", segments=[
            ("Lapsed", "recency_days > 180 or recency_days is null"), ("Recent", "recency_days <= 30")]))
    else:
        if "customer_id" in m.roles:
            src.append(f"customer_id = {_q(m.roles['customer_id'])}")
        if m.dates:
            src.append(f"dates = {_list(m.dates)}")
        lines += ["[sources.customers]", *src, ""]
        for col in m.categorical[:2]:
            methods.append(_level_rules(col, m.levels[col]))
            dims.append(_ident(col))
        for col in m.numeric[: max(0, 2 - len(dims))]:
            cut = m.cuts[col]
            methods.append(_method(_ident(col), "rules", default=f"Lower {col}", segments=[
                (f"Higher {col}", f"{_col(col)} >= {cut:g}")]))
            dims.append(_ident(col))
        if not methods:
            raise InputError("no column to segment on: no transactions (customer id, date and amount) and no "
                             "categorical or numeric attribute besides personal data; write the config by hand "
                             "(docs/config.md)", source=str(file))
    lines += methods
    if len(dims) >= 2:
        lines += ["[microsegments]", f"dimensions = {_list(dims[:2])}", ""]
    lines += ["[privacy]", "min_segment_size = 50", 'key_file = ".microseg/key"']
    if m.consent:
        lines.append("consent = { " + ", ".join(f"{p} = {_q(c)}" for p, c in sorted(m.consent.items())) + " }")
    if m.personal:
        lines.append(f"# personal data found by the scan (masked before methods see it): {', '.join(m.personal)}")
    lines += ["", "[release]", 'customer_ids = "pseudonym"', ""]
    return "\n".join(lines), m


def _q(text: str) -> str:
    """A TOML basic string."""
    return json.dumps(str(text), ensure_ascii=False)


def _list(items: list[str]) -> str:
    return "[" + ", ".join(_q(i) for i in items) + "]"


def _ident(column: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", column.lower()).strip("_") or "attribute"


def _col(column: str) -> str:
    """A column reference in a rule expression (backquoted unless a plain name)."""
    return column if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", column) else f"`{column}`"


def _lit(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _method(ident: str, method: str, *, default: str | None = None,
            segments: list[tuple[str, str]] | None = None) -> str:
    out = ["[[methods]]", f"id = {_q(ident)}", f"method = {_q(method)}"]
    if segments is not None:
        out += ["[methods.params]", f"default = {_q(default or 'Other')}", "segments = ["]
        out += [f"  {{ name = {_q(name)}, when = {_q(when)} }}," for name, when in segments]
        out.append("]")
    return "\n".join(out) + "\n"


def _level_rules(column: str, levels: list[str]) -> str:
    return _method(_ident(column), "rules", default=f"Other {column}",
                   segments=[(level, f"{_col(column)} == {_lit(level)}") for level in levels])
