"""Open a store (SQLite by default, PostgreSQL for teams) and write runs atomically."""
from __future__ import annotations

import os
from contextlib import contextmanager
from itertools import chain, islice, repeat
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator

import numpy as np
from sqlalchemy import Connection, Engine, delete, func, insert, inspect, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel

from microseg import killpoints, progress
from microseg.errors import InputError
from microseg.store.connect import (BUSY, WRITE, StoreError, Timeouts, check_sqlite_path, display_url, explain,
                                    make_engine, sqlite_path, timeouts)
from microseg.store.int_lists import group_int_lists, parse_int_lists
from microseg.store.models import AuditHead, ReleaseCells, Run, RunCustomer, Segment

if TYPE_CHECKING:       # pandas loads when a frame is read or written, not for `segments` / `audit`
    import pandas as pd

DEFAULT_DB = "microseg.db"
CHUNK = 100_000
#: rows per INSERT statement on SQLite (within its bound-variable limit; 2,000 and 8,000 were as fast)
ROWS_PER_INSERT = 4_096


def open_store(db: str | None = None, config_url: str | None = None, bounds: Timeouts | None = None, *,
               create: bool = True) -> "Store":
    """The store named by ``--db``, ``$MICROSEG_DATABASE_URL``, the config's ``[store] url`` or the
    default; ``bounds``: the config's timeouts (:func:`store_timeouts`; default: environment, defaults).
    ``create=False`` (commands that only read): a missing SQLite file is an error, not a new store."""
    return Store(resolve_url(db, config_url), bounds, create=create)


def _create_exclusively(path: Path) -> Path | None:
    """Create ``path`` (an empty file is an empty SQLite database) if no one has: the path when this
    process created it, else None."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    except FileExistsError:
        return None
    except OSError:
        return None                  # a folder that does not exist or cannot be written: said when opened
    return path


def store_timeouts(config: Any) -> Timeouts:
    """The timeouts of a config's ``[store]`` (``config``: a :class:`~microseg.config.Config`, or
    None), under ``$MICROSEG_CONNECT_TIMEOUT`` / ``$MICROSEG_BUSY_TIMEOUT``."""
    section = getattr(config, "store", None)
    return timeouts(getattr(section, "connect_timeout", None), getattr(section, "busy_timeout", None))


def resolve_url(db: str | None, config_url: str | None = None) -> str:
    """``--db`` > ``MICROSEG_DATABASE_URL`` > config ``[store] url`` > ``sqlite:///microseg.db``.

    A bare path is taken as an SQLite file.
    """
    url = db or os.environ.get("MICROSEG_DATABASE_URL") or config_url or DEFAULT_DB
    if "://" not in url:
        url = f"sqlite:///{Path(url).expanduser()}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _texts(keys: np.ndarray) -> list[str]:
    """Stored customer keys as Python strings: an object array of strings (pseudonyms, original
    ids as text) as it is, anything else converted."""
    if keys.dtype == object:
        values = keys.tolist()
        if set(map(type, values)) <= {str}:
            return values
    return keys.astype(str).tolist()


def _dicts(result: Any) -> list[dict[str, Any]]:
    """A result's rows as dicts (column name → value), fetched at once: the same dicts as
    ``dict(row)`` over ``result.mappings()``, without fetching and wrapping row by row."""
    names = tuple(result.keys())
    return [dict(zip(names, row)) for row in result.all()]


class Store:
    """The run store. All writes of a run happen in one transaction, one run's write at a time."""

    def __init__(self, url: str, bounds: Timeouts | None = None, *, create: bool = True) -> None:
        self.url = url
        try:
            parsed = make_url(url)
        except Exception:  # noqa: BLE001
            raise InputError("--db: not a database URL or SQLite path") from None
        self._parsed, self.bounds = parsed, bounds or timeouts()
        self.dialect = parsed.get_backend_name()
        path = sqlite_path(parsed) if self.dialect == "sqlite" else None
        if path is not None:
            check_sqlite_path(path)
            if not create and not path.exists():
                raise StoreError(f"there is no store at {path}: run `microseg run` first, or name the store "
                                 "with --db")
        #: the SQLite file this object created (removed again by :meth:`discard_if_unused`)
        self.new_file = _create_exclusively(path) if path is not None else None
        self._path = path
        self.engine: Engine = make_engine(parsed, self.bounds)
        self._writer = self.engine.execution_options(**WRITE)
        self._seen: dict[str, int] = {}          # namespace -> newest run id the gate read (see write_run)
        with self._errors("open"):
            inspector = inspect(self.engine)
            tables = set(inspector.get_table_names())
            columns = ({c["name"] for c in inspector.get_columns(RunCustomer.__tablename__)}
                       if RunCustomer.__tablename__ in tables else {"segment_ids"})
            head_columns = ({c["name"] for c in inspector.get_columns(AuditHead.__tablename__)}
                            if AuditHead.__tablename__ in tables else {"mac"})
        if "segment_ids" not in columns:
            raise InputError(f"the store {self.display_url} was written by an older "
                             "microseg (one row per membership); write to a new store (--db)")
        if "mac" not in head_columns or "scores" in columns:
            raise InputError(f"the store {self.display_url} was written by a microseg "
                             "from before the release invariant (its runs were not checked cell by cell, its "
                             "audit trail is not signed); write to a new store (--db) and re-run")
        self._inode = path.stat().st_ino if path is not None and path.exists() else None
        if not set(SQLModel.metadata.tables) <= tables:
            with self.writing("open") as conn:           # one process creates the tables, the others wait
                SQLModel.metadata.create_all(conn)

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        """Database errors raised inside the block, as a :class:`StoreError` in words."""
        try:
            yield
        except DBAPIError as exc:
            raise explain(exc, self._parsed, self.bounds, doing) from None

    @contextmanager
    def writing(self, doing: str = "write to") -> Iterator[Connection]:
        """A write transaction holding the store's write lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: a
        transaction-scoped advisory lock per schema), waiting at most the busy timeout for it."""
        self._check_same_file(doing)
        with self._errors(doing), self._writer.begin() as conn:
            if self.dialect == "postgresql":
                conn.exec_driver_sql(f"SET LOCAL lock_timeout = {int(self.bounds.busy * 1000)}")
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext('microseg.store:' || current_schema()))")
            yield conn

    def check_writable(self) -> None:
        """Fail now, in words, rather than after a long run, when the store cannot be written
        (read-only, or another run's write outlasting the busy timeout); changes nothing."""
        with self.writing("write to") as conn:                # a write, rolled back
            if self.dialect == "sqlite":
                version = conn.exec_driver_sql("PRAGMA user_version").scalar_one()
                conn.exec_driver_sql(f"PRAGMA user_version = {int(version)}")
            elif self.dialect == "postgresql":               # needs the right to write the table
                conn.exec_driver_sql(f"LOCK TABLE {Run.__tablename__} IN ROW EXCLUSIVE MODE")
            conn.rollback()

    def _check_same_file(self, doing: str) -> None:
        """An SQLite file removed or replaced since it was opened is refused: a write would go to a
        file no one can read any more."""
        if self._inode is None or self._path is None:
            return
        try:
            same = self._path.stat().st_ino == self._inode
        except FileNotFoundError:
            same = False
        if not same:
            raise StoreError(f"cannot {doing} the store {self._path}: the file was removed or replaced while this "
                             "command worked; nothing was written — retry")

    def discard_if_unused(self) -> None:
        """After a failed first run: remove the SQLite file this object created if it holds no run,
        so a failed command leaves no empty store behind."""
        path, self.new_file = self.new_file, None
        if path is None:
            return
        try:
            with self.engine.connect() as conn:
                if conn.execute(select(func.count()).select_from(Run)).scalar_one():
                    return
        except DBAPIError:
            pass
        self.engine.dispose()
        for leftover in (path, *(path.with_name(path.name + s) for s in ("-journal", "-wal", "-shm"))):
            leftover.unlink(missing_ok=True)

    @property
    def display_url(self) -> str:
        return display_url(self._parsed)

    # ------------------------------------------------------------------ writing
    def write_run(self, run: dict[str, Any], segments: list[dict[str, Any]],
                  members: dict[str, np.ndarray], customer_keys: np.ndarray | None,
                  cells: dict[str, Any] | None, audit: list[tuple[str, dict[str, Any]]], secret: bytes) -> int:
        """Write a whole run atomically; returns its id.

        ``members`` maps a released segment key to customer positions; ``customer_keys[i]`` is the
        key stored for position ``i`` (pseudonym or original id, per policy) or None. Each released
        customer becomes one ``RunCustomer`` row listing its segments. ``cells`` (a
        :class:`ReleaseCells` row without ``run_id``) records the release for later runs. The
        audit events end with ``run.release``, the record ``audit --verify`` checks the store
        against; ``secret`` signs the trail's head.
        """
        from microseg.privacy.audit import append_events
        from microseg.privacy.release_record import build_record
        with self.writing() as conn:
            killpoints.checkpoint("store.begin")
            self._check_history_unchanged(conn, run.get("namespace"))
            run_id = conn.execute(insert(Run).values(**run).returning(Run.id)).scalar_one()
            killpoints.checkpoint("store.run")
            if segments:                                             # every model withheld: no segment
                fields = tuple(segments[0])                          # key, family, label, … (several)
                self._insert_rows(conn, Segment.__table__, ("run_id", *fields),
                                  [(run_id, *row) for row in map(itemgetter(*fields), segments)])
            # the rows as stored (ids in insertion order): their ids for the memberships, the rows for the record
            stored_segs = _dicts(conn.execute(select(Segment).where(Segment.run_id == run_id).order_by(Segment.id)))
            seg_id = {s["key"]: s["id"] for s in stored_segs}
            positions, lists, key_col = np.array([], dtype=np.int64), [], []
            if members:
                keys = sorted(members, key=seg_id.__getitem__)       # segment ids ascending per customer
                seg_col = np.concatenate([np.full(len(members[k]), seg_id[k], dtype=np.int64) for k in keys])
                cust_col = np.concatenate([np.asarray(members[k], dtype=np.int64) for k in keys])
                positions, lists = group_int_lists(cust_col, seg_col)
                key_col = _texts(customer_keys[positions]) if customer_keys is not None else [None] * len(positions)
                with self._index_after_load(conn, RunCustomer.__table__):
                    self._bulk(conn, RunCustomer.__table__, ("run_id", "customer_no", "customer_key", "segment_ids"),
                               zip(repeat(run_id), positions.tolist(), key_col, lists), total=len(positions))
            if cells is not None:
                conn.execute(insert(ReleaseCells).values(run_id=run_id, **cells))
            killpoints.checkpoint("store.cells")
            stored_run = dict(conn.execute(select(Run).where(Run.id == run_id)).mappings().one())
            record = build_record(secret, stored_run, stored_segs, members, positions, key_col, lists, cells)
            append_events(conn, [*((kind, run_id, payload) for kind, payload in audit),
                                 ("run.release", run_id, record)], secret)
            killpoints.checkpoint("store.audit")
            killpoints.checkpoint("store.commit")
        return run_id

    def _check_history_unchanged(self, conn: Connection, namespace: str | None) -> None:
        """Refuse the write when a run joined ``namespace`` after this run's gate read its history
        (two runs at once): this run's release was not checked against that run's."""
        if namespace is None or namespace not in self._seen:
            return
        newest = conn.execute(select(func.max(ReleaseCells.run_id)).where(ReleaseCells.namespace == namespace)
                              ).scalar_one_or_none() or 0
        if newest > self._seen[namespace]:
            raise StoreError(f"{BUSY} (run {newest} was stored while this run was working; this run's release "
                             "must be checked against it, so nothing was stored)")

    @contextmanager
    def _index_after_load(self, conn: Connection, table: Any) -> Iterator[None]:
        """SQLite, into an empty table: its secondary indexes are dropped for the block and built
        again after it, in the same transaction (one sort instead of an index insert per random
        key). A table that holds rows keeps its indexes (rebuilding them would cost every earlier
        run's rows); a failed write rolls the drop back with everything else."""
        if self.dialect != "sqlite" or not table.indexes or \
                conn.execute(select(1).select_from(table).limit(1)).first() is not None:
            yield
            return
        indexes = sorted(table.indexes, key=lambda i: i.name)
        for index in indexes:
            index.drop(conn)
        yield
        for index in indexes:
            index.create(conn)

    def _bulk(self, conn: Any, table: Any, columns: tuple[str, ...], rows: Iterable[tuple],
              total: int | None = None) -> None:
        """Chunked executemany through SQLAlchemy Core (COPY on PostgreSQL)."""
        if self.dialect == "postgresql":
            raw = conn.connection.driver_connection
            with raw.cursor() as cur, cur.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as cp, \
                    progress.task(f"copying {table.name} rows", total) as written:
                for i, row in enumerate(rows, 1):
                    cp.write_row(row)
                    if i % CHUNK == 0:
                        written.advance(CHUNK)
                        killpoints.checkpoint("store.rows")
                killpoints.checkpoint("store.rows")                  # the last rows, still inside COPY
            return
        # Core executemany of plain tuples in chunks (one transaction: the caller's)
        rows = iter(rows)
        with progress.task(f"writing {table.name} rows", total) as written:
            while chunk := list(islice(rows, CHUNK)):
                self._insert_rows(conn, table, columns, chunk)
                written.advance(len(chunk))
                killpoints.checkpoint("store.rows")

    def _insert_rows(self, conn: Any, table: Any, columns: tuple[str, ...], rows: list[tuple]) -> None:
        """Plain tuples (values as the driver takes them: text, numbers, None) inserted in order,
        without SQLAlchemy's per-row parameter processing (987 segment rows: ~8 ms of it). SQLite:
        up to :data:`ROWS_PER_INSERT` rows per statement (one VALUES list; the same rows and row
        order as an executemany, 30,000 customer rows 39 -> 16 ms); else one executemany."""
        names = ", ".join(conn.dialect.identifier_preparer.quote(c) for c in columns)
        one = f"({', '.join('?' * len(columns))})"
        sql = f"INSERT INTO {table.name} ({names}) VALUES "
        if self.dialect != "sqlite":
            conn.exec_driver_sql((sql + one).replace("?", "%s"), rows)
            return
        import sqlite3
        limit = conn.connection.driver_connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        per = max(1, min(ROWS_PER_INSERT, limit // len(columns)))
        for at in range(0, len(rows), per):
            chunk = rows[at:at + per]
            conn.exec_driver_sql(sql + ", ".join([one] * len(chunk)), tuple(chain.from_iterable(chunk)))

    # ------------------------------------------------------------------ reading
    def runs(self) -> list[Run]:
        with self.engine.connect() as conn:
            return [Run(**r) for r in conn.execute(select(Run).order_by(Run.id)).mappings()]

    def run(self, run_id: int | None = None) -> Run:
        with self.engine.connect() as conn:
            q = select(Run).where(Run.id == run_id) if run_id is not None else select(Run).order_by(Run.id.desc()).limit(1)
            row = conn.execute(q).mappings().first()
        if row is None:
            raise InputError(f"RUN: no run {run_id} in the store" if run_id is not None
                             else "the store has no runs yet; run `microseg run CONFIG` first")
        return Run(**row)

    def segments(self, run_id: int) -> list[Segment]:
        with self.engine.connect() as conn:
            return [Segment(**r) for r in conn.execute(select(Segment).where(Segment.run_id == run_id)
                                                       .order_by(Segment.id)).mappings()]

    def released_customers(self, run_id: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        """A run's released customers — one row each: ``customer_no``, ``customer_key``,
        ``values`` (the stored segment-id list: the released vector) — and their memberships as
        (row of that frame, segment id) arrays."""
        import pandas as pd
        q = (select(RunCustomer.customer_no, RunCustomer.customer_key, RunCustomer.segment_ids)
             .where(RunCustomer.run_id == run_id).order_by(RunCustomer.customer_no))
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        nos, keys, lists = zip(*rows) if rows else ((), (), ())
        frame = pd.DataFrame({"customer_no": np.asarray(nos, dtype=np.int64),
                              "customer_key": np.asarray(keys, dtype=object),
                              "values": np.asarray(lists, dtype=object)})
        row, segment_ids = parse_int_lists(list(lists))
        return frame, row, segment_ids

    def memberships(self, run_id: int) -> pd.DataFrame:
        """Released memberships of a run, one row per customer × segment: customer_no,
        segment_id, customer_key."""
        import pandas as pd
        customers, row, segment_ids = self.released_customers(run_id)
        return pd.DataFrame({"customer_no": customers["customer_no"].to_numpy()[row], "segment_id": segment_ids,
                             "customer_key": customers["customer_key"].to_numpy()[row]})

    def release_cells(self, namespace: str, run_ids: list[int]) -> list[dict[str, Any]]:
        """The stored release cells of ``run_ids`` under ``namespace`` (oldest first)."""
        if not run_ids:
            return []
        with self.engine.connect() as conn:
            rows = conn.execute(select(ReleaseCells).where(ReleaseCells.namespace == namespace,
                                                           ReleaseCells.run_id.in_(run_ids))
                                .order_by(ReleaseCells.run_id)).mappings().all()
        return [dict(r) for r in rows]

    def runs_in_namespace(self, namespace: str) -> list[tuple[int, str]]:
        """``(run id, created_at)`` of the runs whose release cells are under ``namespace``."""
        with self.engine.connect() as conn:
            rows = [(int(r), str(ts)) for r, ts in conn.execute(
                select(Run.id, Run.created_at).join(ReleaseCells, ReleaseCells.run_id == Run.id)
                .where(ReleaseCells.namespace == namespace))]
        self._seen[namespace] = max((r for r, _ in rows), default=0)
        return rows

    def count(self, model: type) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(model)).scalar_one())

    # ------------------------------------------------------------------ erasure
    def forget_keys(self, keys: list[str], audit: list[tuple[str, dict[str, Any]]], secret: bytes) -> list[int]:
        """Remove customers (by stored key) from every run and its release cells; mark those
        runs as needing a re-run. The erasure event records each changed run's new release
        record (``audit --verify`` checks the store against the latest)."""
        from microseg.privacy.audit import append_events
        from microseg.privacy.history import key_hashes
        from microseg.privacy.release_record import record_from_store
        with self.writing() as conn:
            hits = conn.execute(select(RunCustomer.run_id, RunCustomer.customer_no, RunCustomer.segment_ids)
                                .where(RunCustomer.customer_key.in_(keys))).all()
            runs = sorted({r for r, _, _ in hits})
            for run_id, no, lists in hits:
                seg_ids = parse_int_lists([lists])[1].tolist()
                if seg_ids:
                    conn.execute(update(Segment).where(Segment.id.in_(seg_ids))
                                 .values(released_size=Segment.released_size - 1))
                conn.execute(delete(RunCustomer).where(RunCustomer.run_id == run_id, RunCustomer.customer_no == no))
            if runs:
                conn.execute(update(Run).where(Run.id.in_(runs)).values(status="needs-rerun"))
                self._forget_cells(conn, runs, key_hashes(np.asarray(keys, dtype=object)))
            records = {str(r): record_from_store(conn, secret, r) for r in runs}
            append_events(conn, [(kind, None, {**payload, "runs_affected": runs, "releases": records})
                                 for kind, payload in audit], secret)
        return runs

    @staticmethod
    def _forget_cells(conn: Any, runs: list[int], hashes: np.ndarray) -> None:
        for row in conn.execute(select(ReleaseCells.run_id, ReleaseCells.keys, ReleaseCells.codes)
                                .where(ReleaseCells.run_id.in_(runs))).all():
            stored = np.frombuffer(row[1], dtype=">u8")
            keep = ~np.isin(stored, hashes.astype(">u8"))
            if not keep.all():
                codes = np.frombuffer(row[2], dtype="<i4")
                conn.execute(update(ReleaseCells).where(ReleaseCells.run_id == row[0])
                             .values(keys=stored[keep].tobytes(), codes=codes[keep].tobytes()))
