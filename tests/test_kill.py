"""Kill safety: a real ``microseg run`` is SIGKILLed at every checkpoint of a run — before and
after each pipeline step (loading, the privacy scan, each method's training, the gate, the store
write) and inside the store's write transaction (after the run row, after customer rows, after
the release cells and the audit events, just before commit) — and at seeded random times.

After each kill the store is as it was (same runs, rows and audit events; ``audit --verify``
accepts it) — or, killed after the commit, holds the whole run — and the next run succeeds.

Runs are ``microseg run`` processes: most are forked from a "zygote" process that imported
microseg and ran once on another store (a kill costs a fraction of a second instead of the
imports), a few are started
from the console script and killed at random times (also while importing). Two lanes, each on
its own store, run at the same time.
"""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from helpers import write_shop_config
from microseg.privacy.audit_report import audit_run
from microseg.store import AuditEvent, Run, RunCustomer, Segment, Store

KEY = "test-key-0123456789abcdef"
STEPS = ["plugins", "load", "protect", "consent", "features", "method:recent", "method:recent90", "quality",
         "compose", "gate", "prepare", "store"]
STORE_POINTS = ["store.begin", "store.run", "store.rows", "store.cells", "store.audit", "store.commit"]
POINTS = [f"{when}:{step}:1" for step in STEPS for when in ("step", "done")] + [f"{p}:1" for p in STORE_POINTS]
COMMITTED = {"done:store:1"}                 # killed after the commit: the run is stored, whole
RANDOM_FORKED, RANDOM_COLD = 6, 2
SEED = 14

ZYGOTE = """
import json, os, sys, traceback
from microseg import api
from microseg.cli import cli
api.run(sys.argv[1], db=sys.argv[2]).store.engine.dispose()     # import and warm up once; each run is a fork
for line in sys.stdin:
    job = json.loads(line)
    pid = os.fork()
    if pid == 0:
        if job["kill_at"]:
            os.environ["MICROSEG_TEST_KILL_AT"] = job["kill_at"]
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
        code = 0
        try:
            cli.main(job["args"], prog_name="microseg", standalone_mode=False)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            traceback.print_exc()
            code = 3
        os._exit(code)
    print(json.dumps({"pid": pid}), flush=True)
    _, status = os.waitpid(pid, 0)
    print(json.dumps({"signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0,
                      "code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None}), flush=True)
"""


class Lane:
    """A store and the zygote that forks the runs on it."""

    def __init__(self, cfg: Path, db: str, env: dict[str, str]) -> None:
        self.cfg, self.db, self.env = cfg, db, env
        warm = cfg.parent / f"warm-{uuid.uuid4().hex[:8]}.db"            # the zygote's own run
        self.zygote = subprocess.Popen([sys.executable, "-c", ZYGOTE, str(cfg), str(warm)], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, text=True, env=env)
        self.args = ["run", str(cfg), "--db", str(db), "--no-report", "--json"]

    def start(self, kill_at: str | None) -> int:
        self.zygote.stdin.write(json.dumps({"kill_at": kill_at, "args": self.args}) + "\n")
        self.zygote.stdin.flush()
        return json.loads(self.zygote.stdout.readline())["pid"]

    def outcome(self) -> dict:
        return json.loads(self.zygote.stdout.readline())

    def cold(self, delay: float) -> int | None:
        """A console-script run killed after ``delay`` seconds; its exit code (None: killed)."""
        script = Path(sys.executable).with_name("microseg")
        command = [str(script)] if script.exists() else [sys.executable, "-c", "from microseg.cli import cli; cli()"]
        proc = subprocess.Popen([*command, *self.args], env=self.env, stdout=subprocess.DEVNULL)
        try:
            proc.wait(delay)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
        return None if proc.returncode == -signal.SIGKILL else proc.returncode

    def close(self) -> None:
        self.zygote.stdin.close()
        self.zygote.wait(30)


def _state(db: str) -> dict[str, int]:
    """What the store holds, checked: counts of every table; complete runs; a verified audit trail."""
    store = Store(db)
    try:
        state = {model.__name__: store.count(model) for model in (Run, Segment, RunCustomer, AuditEvent)}
        if state["Run"]:
            doc = audit_run(store, None, verify=True, secret=KEY.encode())
            assert doc["chain"]["ok"], doc["chain"]["problems"]
            assert not doc["violations"], doc["violations"]
        assert all(r.status == "complete" for r in store.runs())
    finally:
        store.engine.dispose()
    return state


def _kill(lane: Lane, kind: str, point: str | None, delay: float) -> dict:
    """Start a run on ``lane`` and kill it (at ``point``, or after ``delay`` seconds); its outcome."""
    if kind == "cold":
        code = lane.cold(delay)
        return {"signal": signal.SIGKILL if code is None else 0, "code": code}
    pid = lane.start(point)
    if kind == "forked":
        time.sleep(delay)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:                           # it had finished
            pass
    return lane.outcome()


def _lane_kills(lane: Lane, kills: list[tuple[str, str | None, float]]) -> int:
    """Kill runs on ``lane`` one after the other; after each, check the store and run once more."""
    killed = 0
    lane.start(None)                                         # the store holds one run before the kills
    assert lane.outcome() == {"signal": 0, "code": 0}
    before = _state(lane.db)
    for kind, point, delay in kills:
        name = point or f"{kind} random kill"
        outcome = _kill(lane, kind, point, delay)
        if kind == "point":
            assert outcome["signal"] == signal.SIGKILL, f"{point}: the run did not reach it ({outcome})"
        else:
            assert outcome["signal"] == signal.SIGKILL or outcome["code"] == 0, f"{name}: {outcome}"
        killed += outcome["signal"] == signal.SIGKILL
        now = _state(lane.db)
        if point in COMMITTED or (kind != "point" and now["Run"] == before["Run"] + 1):
            assert now["Run"] == before["Run"] + 1, f"{name}: the run was not stored whole"
        else:
            assert now == before, f"{name}: the store changed"
        lane.start(None)                                     # the next run succeeds
        assert lane.outcome() == {"signal": 0, "code": 0}, f"the run after {name} failed"
        before = _state(lane.db)
        assert before["Run"] == now["Run"] + 1
    return killed


@pytest.mark.slow
def test_killed_runs_leave_the_store_as_it_was(tmp_path: Path) -> None:
    started = time.monotonic()
    cfg = write_shop_config(tmp_path, k=20, n=200)
    env = {**os.environ, "MICROSEG_KEY": KEY}
    env.pop("MICROSEG_TEST_KILL_AT", None)
    rng = random.Random(SEED)
    kills: list[tuple[str, str | None, float]] = [("point", p, 0.0) for p in POINTS]
    kills += [("forked", None, rng.uniform(0.0, 0.6)) for _ in range(RANDOM_FORKED)]
    kills += [("cold", None, rng.uniform(0.5, 3.0)) for _ in range(RANDOM_COLD)]
    lanes = [Lane(cfg, f"sqlite:///{tmp_path / name}", env) for name in ("a.db", "b.db")]
    try:
        with ThreadPoolExecutor(2) as pool:                  # two kills at a time, each lane on its store
            killed = sum(pool.map(_lane_kills, lanes, [kills[0::2], kills[1::2]]))
    finally:
        for lane in lanes:
            lane.close()
    assert len(POINTS) >= 20 and killed >= len(POINTS) + 2, killed
    elapsed = time.monotonic() - started
    # no time bound here: every subprocess has its own timeout (a hang fails), CI load varies
    print(f"{killed} of {len(kills)} runs killed, {elapsed:.1f} s")


@pytest.mark.postgres
def test_killed_writes_leave_a_postgresql_store_as_it_was(tmp_path: Path, pg_url: str) -> None:
    """The same inside PostgreSQL's write transaction (customer rows go by COPY there)."""
    cfg = write_shop_config(tmp_path, k=20, n=200)
    env = {**os.environ, "MICROSEG_KEY": KEY}
    env.pop("MICROSEG_TEST_KILL_AT", None)
    lane = Lane(cfg, pg_url, env)
    try:
        killed = _lane_kills(lane, [("point", f"{p}:1", 0.0) for p in STORE_POINTS] + [("point", "done:store:1", 0.0)])
    finally:
        lane.close()
    assert killed == len(STORE_POINTS) + 1


@pytest.mark.parametrize("spec", ["", "nothing:1", "store.rows:x"])
def test_killpoints_do_nothing_unless_asked(spec: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from microseg import killpoints
    monkeypatch.setenv(killpoints.ENV, spec)
    for _ in range(3):
        killpoints.checkpoint("store.rows")                  # still alive
