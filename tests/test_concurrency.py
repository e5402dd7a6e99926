"""Two runs at once on one store, with real processes: a new store and an existing one, on SQLite
and PostgreSQL, ten rounds each.

Each scenario starts two long-lived workers that import microseg once and warm up; every round
the test writes the round's store to both workers' standard input back to back (the barrier), so
both start a run on it at the same instant. After each round: both runs completed with identical
results, or one failed with "the store is busy with another run; retry" and stored nothing;
never a traceback or a database error; the audit trail and every release it recorded verify.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from conftest import PG_BASE
from helpers import write_shop_config
from microseg.privacy.audit_report import audit_run
from microseg.store import Run, Store

ROUNDS = 10
KEY = "test-key-0123456789abcdef"
BUSY = "the store is busy with another run; retry"

WORKER = """
import json, sys, traceback
from microseg import api
from microseg.errors import MicrosegError
cfg = sys.argv[1]
api.run(cfg, db=sys.argv[2])                                     # warm up: imports, plugin, first fit
print("ready", flush=True)
for line in sys.stdin:
    try:
        result = api.run(cfg, db=json.loads(line)["db"])
        released = sorted((s["key"], s["size"]) for s in result.report["segments"] if s["status"] == "released")
        out = {"ok": True, "run_id": result.run_id, "released": released}
    except MicrosegError as exc:
        out = {"ok": False, "error": str(exc), "kind": type(exc).__name__}
    except BaseException as exc:                                  # a defect: the test shows it
        out = {"ok": False, "error": traceback.format_exc(), "kind": type(exc).__name__}
    print(json.dumps(out), flush=True)
"""


class Workers:
    """Two worker processes running the same config."""

    def __init__(self, cfg: Path, folder: Path) -> None:
        env = {**__import__("os").environ, "MICROSEG_KEY": KEY, "MICROSEG_BUSY_TIMEOUT": "20",
               "MICROSEG_CONNECT_TIMEOUT": "5"}
        self.procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(cfg), str(folder / f"warm{i}.db")],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
                      for i in range(2)]
        for p in self.procs:
            assert p.stdout.readline().strip() == "ready"

    def round(self, db: str) -> list[dict]:
        line = json.dumps({"db": db}) + "\n"
        for p in self.procs:                       # the barrier: both read their line at once
            p.stdin.write(line)
        for p in self.procs:
            p.stdin.flush()
        return [json.loads(p.stdout.readline()) for p in self.procs]

    def one(self, db: str) -> list[dict]:
        """A run by the first worker alone."""
        self.procs[0].stdin.write(json.dumps({"db": db}) + "\n")
        self.procs[0].stdin.flush()
        return [json.loads(self.procs[0].stdout.readline())]

    def close(self) -> None:
        for p in self.procs:
            p.stdin.close()
            p.wait(30)


def _check_round(db: str, outcomes: list[dict], runs_before: int) -> tuple[int, int]:
    """Both complete identically, or one is busy and stored nothing; the store verifies."""
    for o in outcomes:
        assert o["ok"] or (BUSY in o["error"] and o["kind"] == "StoreError"), o
        assert "Traceback" not in json.dumps(o)
    done = [o for o in outcomes if o["ok"]]
    assert done, f"both runs failed: {outcomes}"
    if len(done) == 2:
        assert done[0]["released"] == done[1]["released"]
    store = Store(db)
    try:
        assert store.count(Run) == runs_before + len(done), "a failed run left rows"
        for o in done:
            assert store.run(o["run_id"]).status == "complete"
            doc = audit_run(store, o["run_id"], verify=True, secret=KEY.encode())
            assert doc["chain"]["ok"], doc["chain"]
            assert not doc["violations"], doc["violations"]
    finally:
        store.engine.dispose()
    return len(done), len(outcomes) - len(done)


def _new_schema() -> str:
    import psycopg
    schema = f"c_{uuid.uuid4().hex[:12]}"
    with psycopg.connect("host=127.0.0.1 port=5432 dbname=test user=postgres", autocommit=True) as con:
        con.execute(f"CREATE SCHEMA {schema}")
    return schema


def _drop(schemas: list[str]) -> None:
    import psycopg
    with psycopg.connect("host=127.0.0.1 port=5432 dbname=test user=postgres", autocommit=True) as con:
        for schema in schemas:
            con.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture(scope="module")
def workers(tmp_path_factory: pytest.TempPathFactory):
    """Two workers for all scenarios (started once: importing and warming up is most of the cost)."""
    folder = tmp_path_factory.mktemp("workers")
    pool = Workers(write_shop_config(folder, k=20, n=300), folder)
    yield pool
    pool.close()


@pytest.mark.parametrize("dialect, existing", [
    pytest.param("sqlite", False, id="sqlite-new"), pytest.param("sqlite", True, id="sqlite-existing"),
    pytest.param("postgresql", False, id="postgresql-new", marks=pytest.mark.postgres),
    pytest.param("postgresql", True, id="postgresql-existing", marks=pytest.mark.postgres)])
def test_two_runs_at_once(dialect: str, existing: bool, tmp_path: Path, request: pytest.FixtureRequest,
                          workers: Workers) -> None:
    if dialect == "postgresql":
        request.getfixturevalue("pg_url")                    # skips without a server
    schemas: list[str] = []

    def fresh(i: int) -> str:
        if dialect == "sqlite":
            return f"sqlite:///{tmp_path / f'round{i}.db'}"
        schemas.append(_new_schema())
        return f"{PG_BASE}?options=-csearch_path%3D{schemas[-1]}"

    started = time.monotonic()
    try:
        shared = fresh(0) if existing else None
        runs = 0
        if shared:                                            # an existing store: one run in it already
            runs = _check_round(shared, workers.one(shared), 0)[0]
        totals = [0, 0]
        for i in range(1, ROUNDS + 1):
            db = shared or fresh(i)
            done, busy = _check_round(db, workers.round(db), runs if shared else 0)
            runs += done if shared else 0
            totals[0] += done
            totals[1] += busy
    finally:
        if schemas:
            _drop(schemas)
        shutil.rmtree(tmp_path, ignore_errors=True)
    elapsed = time.monotonic() - started
    print(f"{dialect} {'existing' if existing else 'new'}: {totals[0]} runs stored, {totals[1]} busy, {elapsed:.1f} s")
    # no time bound: each worker has its own timeout (a hang fails); CI load varies
