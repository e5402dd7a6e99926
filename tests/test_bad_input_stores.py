"""Store faults through the CLI, one row each: exit code, the words the message must hold, no
traceback, no password, and the store (every file beside it) byte-for-byte as it was.

Placeholders in a row's command: ``{cfg}`` a small shop config, ``{db}`` an SQLite store holding
one run, ``{tmp}`` the test's folder, ``{port}`` a local port (``closed``: nothing listens;
``silent``: a listener that accepts and never answers), ``{pg}`` a fresh PostgreSQL schema.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import write_shop_config
from microseg.cli import cli

SECRET = "s3cretpw"
RUN = ["run", "{cfg}", "--no-report"]

# id, command, setup, exit code, words the message must hold
CASES = [
    ("unknown-dialect", ["segments", "--db", f"foo://u:{SECRET}@x/db"], "", 2,
     ["'foo' is not a database kind", "SQLite path"]),
    ("unknown-dialect-in-config", RUN, "config-url", 2, ["'foo' is not a database kind"]),
    ("missing-driver", ["audit", "--db", f"mysql://u:{SECRET}@127.0.0.1/x"], "", 2,
     ["driver for mysql is not installed"]),
    ("unreachable-server", ["segments", "--db", f"postgresql://u:{SECRET}@127.0.0.1:{{port}}/x"], "closed", 2,
     ["no database server answered at 127.0.0.1:", "connection refused"]),
    ("silent-server", ["audit", "--db", f"postgresql://u:{SECRET}@127.0.0.1:{{port}}/x"], "silent", 2,
     ["no database server answered at 127.0.0.1:", "within 2 s", "connect_timeout"]),
    ("silent-server-run", [*RUN, "--db", f"postgresql://u:{SECRET}@127.0.0.1:{{port}}/x"], "silent", 2,
     ["no database server answered", "within 2 s"]),
    ("read-only-file", [*RUN, "--db", "sqlite:///file:{db}?mode=ro&uri=true"], "", 2,
     ["is read-only", "writable", "another store"]),
    ("read-only-permissions", [*RUN, "--db", "{db}"], "chmod", 2, ["is read-only", "writable"]),
    ("directory-as-store", [*RUN, "--db", "{tmp}"], "", 2, ["is a folder, not an SQLite file", "microseg.db"]),
    ("directory-as-store-read", ["segments", "--db", "{tmp}"], "", 2, ["is a folder"]),
    ("parent-missing", [*RUN, "--db", "{tmp}/no/such/folder/runs.db"], "", 2,
     ["the folder", "does not exist", "create it"]),
    ("not-a-database", ["segments", "--db", "{tmp}/customers.csv"], "", 2, ["is not an SQLite database"]),
    ("locked-sqlite", [*RUN, "--db", "{db}"], "lock-sqlite", 2,
     ["the store is busy with another run; retry", "waited 1 s"]),
    ("locked-postgres", [*RUN, "--db", "{pg}"], "lock-pg", 2, ["the store is busy with another run; retry"]),
    ("unknown-user", ["segments", "--db", f"postgresql://nosuchuser14b:{SECRET}@127.0.0.1:5432/test"], "pg-up", 2,
     ["refused the login of user 'nosuchuser14b'", "check the user and password"]),
    ("unknown-host", ["segments", "--db", f"postgresql://u:{SECRET}@no-such-host.invalid/x"], "", 2,
     ["the database host 'no-such-host.invalid' is not known"]),
    ("bad-timeout-setting", ["segments", "--db", "{db}"], "bad-env", 2,
     ["$MICROSEG_CONNECT_TIMEOUT", "is not a number of seconds"]),
    ("unknown-database", ["segments", "--db", "postgresql://postgres@127.0.0.1:5432/no_such_db_14b"], "pg-up", 2,
     ["the database 'no_such_db_14b' does not exist", "create it"]),
]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite store holding one complete run (copied for each case)."""
    folder = tmp_path_factory.mktemp("template")
    cfg = write_shop_config(folder, k=20)
    db = folder / "store.db"
    result = CliRunner().invoke(cli, ["run", str(cfg), "--db", str(db), "--no-report"],
                                env={"MICROSEG_KEY": "test-key-0123456789abcdef"})
    assert result.exit_code == 0, result.output
    return db


def _snapshot(folder: Path) -> dict[str, str]:
    """sha256 of every file (SQLite's -wal/-shm files come and go with readers; committed WAL
    frames reach the store file when its last reader closes, so it is compared too)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.endswith(("-wal", "-shm"))}


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A listener that accepts connections and never sends a byte."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    accepted, stop = [], threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


def _hold(script: str) -> subprocess.Popen:
    """A process that holds a lock until its standard input closes."""
    proc = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


LOCK_SQLITE = """
import sqlite3, sys
con = sqlite3.connect({path!r}, isolation_level=None)
con.execute("BEGIN IMMEDIATE")
print("ready", flush=True)
sys.stdin.read()
"""

LOCK_PG = """
import sys, psycopg
con = psycopg.connect("host=127.0.0.1 port=5432 dbname=test user=postgres options=-csearch_path={schema}")
con.execute("SELECT pg_advisory_xact_lock(hashtext('microseg.store:' || current_schema()))")
print("ready", flush=True)
sys.stdin.read()
"""


@pytest.mark.parametrize("case_id, command, setup, code, words", CASES, ids=[c[0] for c in CASES])
def test_store_fault(case_id: str, command: list[str], setup: str, code: int, words: list[str], tmp_path: Path,
                     template: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = write_shop_config(tmp_path, k=20)
    db = tmp_path / "store.db"
    shutil.copy(template, db)
    values = {"cfg": str(cfg), "db": str(db), "tmp": str(tmp_path), "port": "", "pg": ""}
    monkeypatch.setenv("MICROSEG_CONNECT_TIMEOUT", "2")
    monkeypatch.setenv("MICROSEG_BUSY_TIMEOUT", "1")
    holder = None
    pg_counts = None
    if setup == "bad-env":
        monkeypatch.setenv("MICROSEG_CONNECT_TIMEOUT", "soon")
    elif setup == "config-url":
        cfg.write_text(cfg.read_text() + f'\n[store]\nurl = "foo://u:{SECRET}@x/db"\n')
    elif setup in ("closed", "silent"):
        values["port"] = str(request.getfixturevalue(f"{setup}_port"))
    elif setup == "chmod":
        if os.geteuid() == 0:
            pytest.skip("root writes read-only files; the mode=ro row covers a read-only store")
        db.chmod(0o444)
    elif setup == "lock-sqlite":
        holder = _hold(LOCK_SQLITE.format(path=str(db)))
    elif setup in ("lock-pg", "pg-up"):
        values["pg"] = request.getfixturevalue("pg_url")
        if setup == "lock-pg":
            from microseg.store import AuditEvent, Run, Store
            store = Store(values["pg"])
            pg_counts = (store.count(Run), store.count(AuditEvent))
            store.engine.dispose()
            holder = _hold(LOCK_PG.format(schema=values["pg"].rsplit("%3D", 1)[1]))
    before = _snapshot(tmp_path)
    args = [part.format(**values) for part in command]
    started = time.monotonic()
    try:
        result = CliRunner().invoke(cli, args)
    finally:
        if holder is not None:
            holder.stdin.close()
            holder.wait(10)
    elapsed = time.monotonic() - started
    output = result.output
    assert result.exit_code == code, f"{case_id}: exit {result.exit_code}\n{output}"
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in output and "Error" in output
    for word in words:
        assert word in output, f"{case_id}: {word!r} not in {output!r}"
    assert SECRET not in output
    assert elapsed < 20, f"{case_id}: took {elapsed:.1f} s"
    if setup == "chmod":
        db.chmod(0o644)
    assert _snapshot(tmp_path) == before, f"{case_id}: the folder of the store changed"
    if pg_counts is not None:
        from microseg.store import AuditEvent, Run, Store
        store = Store(values["pg"])
        assert (store.count(Run), store.count(AuditEvent)) == pg_counts
        store.engine.dispose()


@pytest.mark.dask
def test_silent_dask_scheduler_is_named_within_the_connect_timeout(tmp_path: Path, silent_port: int,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("distributed")
    cfg = write_shop_config(tmp_path, k=20)
    monkeypatch.setenv("MICROSEG_CONNECT_TIMEOUT", "2")
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["run", str(cfg), "--no-report", "--db", str(tmp_path / "new.db"),
                                      "--engine", "dask", "--scheduler", f"tcp://127.0.0.1:{silent_port}"])
    assert result.exit_code == 2, result.output
    assert f"the Dask scheduler at tcp://127.0.0.1:{silent_port} did not answer within 2 s" in result.output
    assert "Traceback" not in result.output and time.monotonic() - started < 15


def test_timeouts_come_from_the_environment_then_the_config_then_the_defaults(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from microseg.config import load_config
    from microseg.store import open_store, store_timeouts
    from microseg.store.connect import DEFAULT_BUSY_TIMEOUT, DEFAULT_CONNECT_TIMEOUT
    cfg_path = write_shop_config(tmp_path, k=20)
    assert store_timeouts(None).connect == DEFAULT_CONNECT_TIMEOUT <= 15
    assert store_timeouts(load_config(cfg_path)).busy == DEFAULT_BUSY_TIMEOUT
    cfg_path.write_text(cfg_path.read_text() + "\n[store]\nconnect_timeout = 3\nbusy_timeout = 7.5\n")
    cfg = load_config(cfg_path)
    assert (store_timeouts(cfg).connect, store_timeouts(cfg).busy) == (3, 7.5)
    monkeypatch.setenv("MICROSEG_BUSY_TIMEOUT", "2")
    store = open_store(str(tmp_path / "t.db"), None, store_timeouts(cfg))
    assert (store.bounds.connect, store.bounds.busy) == (3, 2)
    store.engine.dispose()
    cfg_path.write_text(cfg_path.read_text().replace("busy_timeout = 7.5", "busy_timeout = -1"))
    with pytest.raises(Exception, match="busy_timeout"):
        load_config(cfg_path)
