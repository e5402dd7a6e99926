"""Open the store's database with bounded waits, and say in words why it could not be used.

Two bounds, each ``$MICROSEG_…`` > config ``[store]`` key > default:

- ``connect_timeout`` (``$MICROSEG_CONNECT_TIMEOUT``, default 15 s): how long a database server
  may take to answer a connection (PostgreSQL's ``connect_timeout``; at least 2 s there).
- ``busy_timeout`` (``$MICROSEG_BUSY_TIMEOUT``, default 60 s): how long a write waits for
  another run's write to the same store (SQLite's busy timeout, PostgreSQL's ``lock_timeout``).

Errors never repeat a driver's message (it may hold a host name, user or value): they are
composed from the URL with its password masked.
"""
from __future__ import annotations

import atexit
import math
import os
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

from microseg.errors import InputError

DEFAULT_CONNECT_TIMEOUT = 15.0
DEFAULT_BUSY_TIMEOUT = 60.0
BUSY = "the store is busy with another run; retry"
WRITE = {"microseg_write": True}           # execution option: this transaction writes (SQLite: BEGIN IMMEDIATE)


#: every engine made here, so that their connections are closed when the process exits (SQLite then
#: folds its write-ahead log into the file and removes it, also when the command line leaves
#: without the interpreter's teardown: microseg.cli.fast_exit)
_ENGINES: "weakref.WeakSet[Engine]" = weakref.WeakSet()


def _close_engines() -> None:
    for engine in list(_ENGINES):
        engine.dispose()


atexit.register(_close_engines)


class StoreError(InputError):
    """The store cannot be opened or written; the message says what failed and what to do (exit code 2)."""


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait for a database server to answer, and for another run's write."""

    connect: float = DEFAULT_CONNECT_TIMEOUT
    busy: float = DEFAULT_BUSY_TIMEOUT


def timeouts(connect: float | None = None, busy: float | None = None) -> Timeouts:
    """The bounds in force: ``$MICROSEG_CONNECT_TIMEOUT`` / ``$MICROSEG_BUSY_TIMEOUT`` > the given
    (config) values > the defaults."""
    return Timeouts(_seconds("MICROSEG_CONNECT_TIMEOUT", connect, DEFAULT_CONNECT_TIMEOUT),
                    _seconds("MICROSEG_BUSY_TIMEOUT", busy, DEFAULT_BUSY_TIMEOUT))


def _seconds(env: str, given: float | None, default: float) -> float:
    text = os.environ.get(env)
    if text is None or not text.strip():
        return float(given) if given is not None else default
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"${env}: {text[:20]!r} is not a number of seconds") from None
    if not 0 < value < math.inf:
        raise InputError(f"${env}: give a positive number of seconds")
    return value


def display_url(url: str | URL) -> str:
    """The URL with its password (also one given as a query parameter) masked."""
    parsed = make_url(url) if isinstance(url, str) else url
    if any(k.lower() == "password" for k in parsed.query):
        parsed = parsed.update_query_dict({k: "***" for k in parsed.query if k.lower() == "password"})
    return parsed.render_as_string(hide_password=True)


def sqlite_path(parsed: URL) -> Path | None:
    """The file of an SQLite URL (None: in memory)."""
    database = parsed.database or ""
    if database.startswith("file:"):
        database = database[5:].split("?", 1)[0]
    return None if database in ("", ":memory:") or parsed.query.get("mode") == "memory" else Path(database)


def check_sqlite_path(path: Path) -> None:
    """A folder given as the store, or a file in a folder that does not exist, in words."""
    if path.is_dir():
        raise StoreError(f"the store {path} is a folder, not an SQLite file: give a file path such as "
                         f"{path / 'microseg.db'}")
    if not path.parent.is_dir():
        raise StoreError(f"the folder {path.parent} of the store {path.name} does not exist: create it, "
                         "or choose another store (--db)")


def make_engine(parsed: URL, bounds: Timeouts) -> Engine:
    """An engine for ``parsed`` with the bounds applied; unknown kinds and missing drivers in words."""
    name = parsed.get_backend_name()
    try:
        parsed.get_dialect()
    except Exception:  # noqa: BLE001 — NoSuchModuleError for an unknown kind
        raise StoreError(f"the store {display_url(parsed)}: {name!r} is not a database kind microseg knows; give "
                         "an SQLite path (runs.db) or a URL such as postgresql://user@host/db") from None
    args: dict[str, Any] = {}
    if name == "sqlite":
        args["timeout"] = bounds.busy
    elif name == "postgresql":
        args["connect_timeout"] = max(2, math.ceil(bounds.connect))
    try:
        engine = create_engine(parsed, connect_args=args)
    except ImportError as exc:
        raise StoreError(f"the store {display_url(parsed)}: the Python driver for {name} is not installed "
                         f"({exc.name or 'driver'}); install it (PostgreSQL: pip install 'microseg[postgres]')") \
            from None
    if name == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    _ENGINES.add(engine)
    return engine


def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None          # microseg emits BEGIN itself (see _sqlite_begin)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")     # readers never wait for a writer
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.execute("PRAGMA cache_size=-200000")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    """Writes take the write lock when they begin (waiting up to the busy timeout), so a write
    never fails half-way because another process wrote since it read."""
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("microseg_write") else "BEGIN")


def explain(exc: BaseException, parsed: URL, bounds: Timeouts, doing: str) -> StoreError:
    """A :class:`StoreError` in words for a database error raised while ``doing`` (e.g. "open")."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).lower()
    sqlstate = getattr(orig, "sqlstate", None)
    where = display_url(parsed)
    if parsed.get_backend_name() == "sqlite":
        path = sqlite_path(parsed)
        shown = str(path) if path else where
        if "readonly" in text or "read-only" in text or "read only" in text:
            return StoreError(f"the store {shown} is read-only: make the file (and its folder) writable, or write "
                              "to another store (--db)")
        if "locked" in text or "busy" in text:
            return StoreError(f"{BUSY} (waited {bounds.busy:g} s for {shown}; raise $MICROSEG_BUSY_TIMEOUT or "
                              "[store] busy_timeout to wait longer)")
        if "not a database" in text or "malformed" in text:
            return StoreError(f"the store {shown} is not an SQLite database microseg can read (another kind of "
                              "file, or damaged): give another store (--db)")
        if "unable to open" in text:
            return StoreError(f"cannot {doing} the store {shown}: SQLite cannot open the file; check the path "
                              "and the permissions of the file and its folder")
        if "disk" in text or "full" in text:
            return StoreError(f"cannot {doing} the store {shown}: the disk is full or failing; free space and retry")
        return StoreError(f"cannot {doing} the store {shown}: SQLite refused ({type(orig).__name__}); "
                          "check the file, or write to another store (--db)")
    server = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    if sqlstate in ("55P03", "40P01") or "lock timeout" in text:
        return StoreError(f"{BUSY} (waited {bounds.busy:g} s for {where}; raise $MICROSEG_BUSY_TIMEOUT or "
                          "[store] busy_timeout to wait longer)")
    if sqlstate == "57014":
        return StoreError(f"the database server at {server} did not finish in time; retry, or check the server")
    if "timeout expired" in text or "timed out" in text:
        return StoreError(f"no database server answered at {server} within {max(2, math.ceil(bounds.connect))} s: "
                          "check that it runs and is reachable, or raise $MICROSEG_CONNECT_TIMEOUT or "
                          "[store] connect_timeout")
    if "refused" in text:
        return StoreError(f"no database server answered at {server} (connection refused): start it, or check "
                          "the host and port of the store URL")
    if "translate host name" in text or "name or service not known" in text or "nodename" in text:
        return StoreError(f"the database host {parsed.host!r} is not known: check the store URL")
    if "password" in text or "authentication" in text or "role" in text or sqlstate in ("28P01", "28000"):
        return StoreError(f"the database server at {server} refused the login of user {parsed.username!r}: check "
                          "the user and password of the store URL")
    if sqlstate == "3D000" or ("database" in text and "does not exist" in text):
        return StoreError(f"the database {parsed.database!r} does not exist at {server}: create it, or check the "
                          "store URL")
    if sqlstate == "42501" or "permission denied" in text or "read-only" in text:
        return StoreError(f"the store {where} is read-only for user {parsed.username!r}: grant it the right to "
                          "write, or write to another store (--db)")
    return StoreError(f"cannot {doing} the store {where}: the database refused ({type(orig).__name__}); "
                      "check that the server runs and the URL is right")
