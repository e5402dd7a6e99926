"""Progress: the reporter API, what a run reports, and the CLI's display (terminal only)."""
from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import write_small_shop
from microseg import progress
from microseg.cli import cli


class Recorder:
    """A reporter that remembers every task: label, depth, total, advances, start and end."""

    def __init__(self) -> None:
        self.tasks: list[dict] = []

    def start(self, label, total, depth):
        self.tasks.append({"label": label, "depth": depth, "total": total, "completed": 0, "updates": 0,
                           "t0": time.perf_counter(), "t1": None})
        return len(self.tasks) - 1

    def update(self, handle, completed, total):
        self.tasks[handle].update(completed=completed, total=total, updates=self.tasks[handle]["updates"] + 1)

    def finish(self, handle):
        self.tasks[handle]["t1"] = time.perf_counter()


def test_tasks_nest_advance_and_finish():
    rec = Recorder()
    with progress.reporting(rec):
        with progress.task("outer") as outer:
            for _ in progress.track(range(3), "inner"):
                pass
            outer.advance(2)
    assert [(t["label"], t["depth"]) for t in rec.tasks] == [("outer", 0), ("inner", 1)]
    assert rec.tasks[1]["total"] == 3 and rec.tasks[1]["completed"] == 3 and rec.tasks[1]["updates"] == 3
    assert rec.tasks[0]["completed"] == 2 and all(t["t1"] is not None for t in rec.tasks)


def test_tasks_finish_when_the_block_raises():
    rec = Recorder()
    with pytest.raises(ValueError), progress.reporting(rec), progress.task("failing"):
        raise ValueError("x")
    assert rec.tasks[0]["t1"] is not None


def test_without_a_reporter_nothing_is_reported():
    assert not progress.active()
    with progress.task("quiet", total=2) as t:
        t.advance()
    assert t.completed == 1                                   # still counts, reports to nobody


CLUSTER_CONFIG = """
as_of = "2025-01-01"
[sources.customers]
path = "customers.csv"
customer_id = "customer_id"
[sources.transactions]
path = "transactions.csv"
customer_id = "customer_id"
timestamp = "ts"
amount = "amount"
[[methods]]
id = "behaviour"
method = "clusters"
params = { k_range = [2, 3], n_bootstrap = 2 }
[privacy]
min_segment_size = 20
"""


def test_a_run_reports_every_step_and_advances_within_long_ones(tmp_path):
    import microseg
    write_small_shop(tmp_path, n=600)
    cfg = tmp_path / "microseg.toml"
    cfg.write_text(CLUSTER_CONFIG)
    rec = Recorder()
    with progress.reporting(rec):
        result = microseg.run(cfg, db=str(tmp_path / "s.db"))
    top = [t["label"] for t in rec.tasks if t["depth"] == 0]
    assert top[0].startswith("check") and set(result.timings) <= set(top)
    choosing = [t for t in rec.tasks if t["label"] == "choosing the number of clusters"]
    assert choosing and choosing[0]["depth"] == 1 and choosing[0]["completed"] == choosing[0]["total"] == 2
    refits = [t for t in rec.tasks if t["label"] == "stability refits"]
    assert refits and refits[0]["completed"] == 2
    written = [t for t in rec.tasks if t["label"].startswith("writing")]
    assert written and written[0]["completed"] == written[0]["total"] > 0


def test_cli_run_is_silent_on_stderr_when_not_a_terminal(tmp_path):
    write_small_shop(tmp_path, n=300)
    cfg = tmp_path / "microseg.toml"
    cfg.write_text(CLUSTER_CONFIG.replace("n_bootstrap = 3", "n_bootstrap = 0"))
    result = CliRunner().invoke(cli, ["run", str(cfg), "--db", str(tmp_path / "s.db")])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


def _in_terminal(args: list[str], cwd: Path) -> str:
    """Run the CLI with a pseudo-terminal as stdout and stderr; returns what it drew."""
    main, child = pty.openpty()
    env = {**os.environ, "COLUMNS": "120", "TERM": "xterm"}
    env.pop("MICROSEG_PROGRESS", None)
    proc = subprocess.Popen([sys.executable, "-m", "microseg.cli", *args], cwd=cwd, stdin=child, stdout=child,
                            stderr=child, env=env, close_fds=True)
    os.close(child)
    out = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    proc.wait(timeout=120)
    os.close(main)
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.decode("utf-8", "replace"))


RULES_CONFIG = CLUSTER_CONFIG.replace('''id = "behaviour"
method = "clusters"
params = { k_range = [2, 3], n_bootstrap = 2 }''', '''id = "city"
method = "rules"
params = { segments = [{ name = "Oslo", when = "city == 'Oslo'" }] }''')
ELAPSED = r"\d:\d\d:\d\d"


@pytest.mark.slow
def test_cli_run_shows_progress_with_elapsed_time_on_a_terminal(tmp_path):
    write_small_shop(tmp_path, n=300)
    (tmp_path / "microseg.toml").write_text(RULES_CONFIG)
    drawn = _in_terminal(["run", "microseg.toml", "--db", "s.db"], tmp_path)
    assert "Released segments" in drawn
    for step in ("check", "load", "protect", "method:city", "store"):
        assert re.search(rf"{re.escape(step)}\s.*{ELAPSED}", drawn), step
    quiet = _in_terminal(["run", "microseg.toml", "--db", "t.db", "--json"], tmp_path)
    assert '"segments"' in quiet and not re.search(ELAPSED, quiet)
