"""``load_data_dask``: the sources onto the cluster, every row validated before anything runs."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from microseg.config import Config, EventsSource, TransactionsSource
from microseg.dask_engine.bycustomer import SHUFFLE, RowTable, cluster_room, collect, graph_constant
from microseg.dask_engine.customers import CustomersLoad
from microseg.dask_engine.frame import DaskCustomerData
from microseg.dask_engine.reading import checked, located, partition_bytes, read_source
from microseg.dask_engine.rows import (MAX_LEVELS, event_rows, event_stats, event_stats_meta, rows_with_id, tx_rows,
                                       tx_stats, tx_stats_meta)
from microseg.errors import ConfigError, InputError
from microseg.features import mix_levels
from microseg.loading import source_label


def n_workers(client: Any) -> int:
    return max(1, len(client.scheduler_info().get("workers", {})))


def _validated(client: Any, raw: Any, stats_fn: Callable[..., pd.DataFrame], meta: pd.DataFrame, src: Any,
               label: str, fmt: str, known: Any, *extra: Any) -> tuple[pd.DataFrame, bool]:
    """Per-partition statistics (every row parsed and checked) and whether ids are text.

    Ids are integers when every id of the input is a whole number, as in the pandas engine; when
    only some partitions hold text ids, the pass is repeated with every id read as text.
    """
    def counts() -> list[int]:
        parts = collect(client, raw.map_partitions(rows_with_id, src.customer_id,
                                                   meta=pd.DataFrame({"n": pd.Series(dtype="int64")})))
        return [int(p["n"].iloc[0]) for p in parts]
    def stats(as_text: bool) -> pd.DataFrame:
        return pd.concat(collect(client, raw.map_partitions(located(stats_fn), src, label, as_text, known, *extra,
                                                            meta=meta)))

    first = checked(lambda: stats(False), counts, label, fmt)
    text = first["text_ids"].to_numpy(dtype=bool)
    if not text.any() or text.all():
        return first, bool(text.any())
    return checked(lambda: stats(True), counts, label, fmt), True


def _text_levels(stats: pd.DataFrame, roles: tuple[str, ...]) -> dict[str, list]:
    """Every distinct value of each text role (for categorical encoding), unless too many."""
    out = {}
    for role in roles:
        col = f"{role}_values"
        if col in stats.columns:
            values = pd.unique(pd.Series([v for vs in stats[col] for v in vs], dtype=object))
            if len(values) <= MAX_LEVELS:
                out[role] = sorted(values, key=str)
    return out


def _share_levels(spend_dicts: pd.Series) -> list:
    """The share-column levels from per-partition {level: positive spend} (ties: by level)."""
    spend: dict = {}
    for d in spend_dicts:
        for level, value in d.items():
            spend[level] = spend.get(level, 0.0) + float(value)
    levels = sorted(spend, key=str)
    return mix_levels(np.array(levels, dtype=object), np.array([spend[v] for v in levels], dtype="float64"))


def _layout(stats: pd.DataFrame, levels: dict[str, list], roles: tuple[str, ...],
            coded: bool) -> tuple[int, pd.Timestamp | None]:
    """Memory of the rows as shuffled, and the origin their times are counted from when they
    are whole seconds within int32 range (else None: nanoseconds, 8 bytes)."""
    kept = int(stats["kept"].sum())
    origin = None
    if len(stats) and stats["whole_seconds"].all() and stats["ts_min"].notna().any():
        lo, hi = pd.Timestamp(stats["ts_min"].min()), pd.Timestamp(stats["ts_max"].max())
        if (hi - lo).total_seconds() < 2**31 - 1:
            origin = lo
    n = int(stats["bytes"].sum())
    if coded:                                   # ids travel as int32 positions
        n += 4 * kept - int(stats["id_bytes"].sum())
    if origin is not None:
        n -= 4 * kept
    for role in roles:
        if f"{role}_bytes" in stats.columns:
            n += kept if role in levels else int(stats[f"{role}_bytes"].sum())
    return n, origin


def load_transactions_dask(cfg: Config, src: TransactionsSource, client: Any, known: Any, target: int,
                           levels_before: pd.Timestamp | None) -> tuple[RowTable, dict, dict | None, tuple | None]:
    """Transactions validated on the workers: the row table, load statistics, the share-column
    levels for ``levels_before`` (all rows when None; None when a role has too many levels to
    sum here) and the date range."""
    label = source_label(cfg, src)
    if src.attributes:
        raise ConfigError("the Dask engine does not carry transaction attributes yet; put them in a customers "
                          "table", key="sources.transactions.attributes")
    cols = list(dict.fromkeys(c for c in [src.customer_id, src.timestamp, src.amount, src.quantity, src.unit_price,
                                          src.invoice, src.channel, src.category] if c))
    workers = n_workers(client)
    raw, fmt = read_source(cfg, src, cols, target, min_partitions=2 * workers)
    stats, as_text = _validated(client, raw, tx_stats, tx_stats_meta(src), src, label, fmt, known, levels_before)
    if int(stats["rows"].sum()) == int(stats["rows_without_customer"].sum()):
        raise InputError("no rows with a customer id", source=label, column=src.customer_id)
    roles = ("channel", "category")
    levels = _text_levels(stats, roles)
    meta = tx_rows(raw._meta, src, label, as_text, None, levels)
    rows = raw.map_partitions(located(tx_rows), src, label, as_text, known, levels, meta=meta)
    nbytes, origin = _layout(stats, levels, roles, known is not None)
    table = RowTable(rows=rows, nbytes=nbytes, partition_bytes=target, workers=workers, origin=origin)
    load_stats = {k: int(stats[k].sum()) for k in ("rows", "rows_without_customer", "negative_lines")}
    if known is not None:
        load_stats["rows_unknown_customer"] = int(stats["rows_unknown_customer"].sum())
    spends = {role: stats[f"{role}_spend"] for role in roles if f"{role}_spend" in stats}
    share_levels = {role: _share_levels(sp) for role, sp in spends.items()} \
        if all(d is not None for sp in spends.values() for d in sp) else None
    date_range = None
    if stats["ts_min"].notna().any():
        date_range = (pd.Timestamp(stats["ts_min"].min()), pd.Timestamp(stats["ts_max"].max()))
    return table, load_stats, share_levels, date_range


def load_events_dask(cfg: Config, src: EventsSource, client: Any, known: Any, target: int) -> tuple[RowTable, dict]:
    label = source_label(cfg, src)
    cols = list(dict.fromkeys(c for c in [src.customer_id, src.timestamp, src.channel, src.responded, src.campaign,
                                          src.treatment] if c))
    workers = n_workers(client)
    raw, fmt = read_source(cfg, src, cols, target, min_partitions=2 * workers)
    stats, as_text = _validated(client, raw, event_stats, event_stats_meta(src), src, label, fmt, known)
    levels = _text_levels(stats, ("channel",))
    meta = event_rows(raw._meta, src, label, as_text, None, levels)
    rows = raw.map_partitions(located(event_rows), src, label, as_text, known, levels, meta=meta)
    nbytes, origin = _layout(stats, levels, ("channel",), known is not None)
    table = RowTable(rows=rows, nbytes=nbytes, partition_bytes=target, workers=workers, origin=origin)
    return table, {"rows": int(stats["rows"].sum())}


def _transaction_customers(client: Any, tx: RowTable) -> pd.Index:
    """The customers with transactions, sorted (the run's customers without a customers table)."""
    unique = tx.rows[["customer_id"]].drop_duplicates(split_out=tx.npartitions, shuffle_method=SHUFFLE)
    parts = collect(client, unique)
    return pd.Index(np.sort(pd.unique(pd.concat(parts)["customer_id"].to_numpy())), name="customer_id")


def load_data_dask(cfg: Config, client: Any, registry: Any = None) -> tuple[DaskCustomerData, dict]:
    """Read and validate the sources onto the cluster (the Dask engine's ``load``).

    The customers table stays on the workers until the privacy step protects it there (only the
    protected table comes back: :mod:`microseg.dask_engine.scan_tables`); transactions and events stay there, held in memory when they fit, else re-read from the
    files at each pass. Statistics have the pandas loader's keys, plus ``engine``.
    """
    s = cfg.sources
    stats: dict = {}
    target = partition_bytes(client)
    as_of = pd.Timestamp(cfg.as_of) if cfg.as_of is not None else None
    pending = CustomersLoad(cfg, s.customers, client, registry, target) if s.customers else None
    ids = pending.ids if pending is not None else None
    known = graph_constant(ids) if ids is not None else None
    tx = ev = None
    levels: dict = {}
    date_range = None
    if s.transactions:
        tx, stats["transactions"], share_levels, date_range = load_transactions_dask(
            cfg, s.transactions, client, known, target, as_of)
        tx.ids, tx.index = ids, known
        if as_of is None:
            as_of = (date_range[1].normalize() + pd.Timedelta(days=1)) if date_range else \
                pd.Timestamp.today().normalize()
        if share_levels is not None:
            levels[as_of] = share_levels
    if s.events:
        ev, stats["events"] = load_events_dask(cfg, s.events, client, known, target)
        ev.ids, ev.index = ids, known
    if pending is not None:
        ids = pending.ids
    elif tx is not None:
        ids = _transaction_customers(client, tx)
    else:
        raise ConfigError("CustomerData needs customers or transactions", key="sources")
    room = cluster_room(client)
    engine: dict[str, Any] = {"name": "dask", "workers": n_workers(client), "partition_bytes": target}
    for name, table in (("transactions", tx), ("events", ev)):
        if table is not None:
            room -= table.plan(room)
            engine[name] = {"partitions": int(table.rows.npartitions), "bytes": int(table.nbytes),
                            "held_in_memory": table.held is not None}
    stats["engine"] = engine
    if as_of is None:
        as_of = pd.Timestamp.today().normalize()
    data = DaskCustomerData(
        client=client, customers=None, tx=tx, ev=ev, as_of=as_of, ids=ids,
        signup_column=s.customers.signup_date if s.customers else None, date_range=date_range, levels=levels,
        pending=pending)
    stats["customers"] = len(ids)
    return data, stats
