"""The console command ends without the interpreter's teardown, and loses nothing by it
(microseg.cli.fast_exit): exit codes, output, exit handlers and the SQLite store are as after a
normal exit."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from microseg.cli.fast_exit import SKIP_ENV, exit_code
from tests.helpers import write_shop_config


def _microseg(args: list[str], cwd: Path, full_exit: bool) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != SKIP_ENV} | ({SKIP_ENV: "1"} if full_exit else {})
    return subprocess.run([sys.executable, "-m", "microseg", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=300)


def test_a_run_ends_as_after_a_normal_exit(tmp_path: Path) -> None:
    """The same run with and without the teardown: same exit code and output, the same runs in
    the store, and no SQLite write-ahead log left beside it."""
    cfg = write_shop_config(tmp_path / "shop")
    outputs = {}
    for full_exit in (True, False):
        db = tmp_path / f"full-{full_exit}.db"
        run = _microseg(["run", str(cfg), "--db", str(db), "--json"], tmp_path, full_exit)
        assert run.returncode == 0, run.stderr
        assert sorted(p.name for p in tmp_path.glob(f"{db.name}*")) == [db.name]     # no -wal, no -shm
        shown = _microseg(["segments", "--db", str(db), "--json"], tmp_path, full_exit)
        assert shown.returncode == 0, shown.stderr
        outputs[full_exit] = shown.stdout
    assert outputs[True] == outputs[False] and '"segments"' in outputs[False]


def test_an_error_keeps_its_message_and_exit_code(tmp_path: Path) -> None:
    for full_exit in (True, False):
        done = _microseg(["run", str(tmp_path / "missing.toml")], tmp_path, full_exit)
        assert done.returncode == 2 and "missing.toml" in done.stderr and "Traceback" not in done.stderr


def test_exit_handlers_run_and_output_is_flushed(tmp_path: Path) -> None:
    """What was registered with atexit runs, buffered output reaches a pipe, the code is kept."""
    marker = tmp_path / "handler-ran"
    script = textwrap.dedent(f"""
        import atexit, pathlib, sys
        from microseg.cli.fast_exit import leave
        atexit.register(lambda: pathlib.Path({str(marker)!r}).write_text("yes"))
        sys.stdout.write("x" * 100_000)           # more than one buffer, none of it flushed yet
        sys.stderr.write("bye")
        leave(4)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          env={k: v for k, v in os.environ.items() if k != SKIP_ENV})
    assert done.returncode == 4 and done.stdout == "x" * 100_000 and done.stderr == "bye"
    assert marker.read_text() == "yes"


@pytest.mark.parametrize(("code", "status"), [(None, 0), (0, 0), (2, 2), ("a message", 1)])
def test_exit_codes_are_those_of_system_exit(code: object, status: int, capsys: pytest.CaptureFixture) -> None:
    assert exit_code(code) == status
    assert capsys.readouterr().err == ("a message\n" if isinstance(code, str) else "")


def test_the_teardown_is_kept_while_something_may_still_run(tmp_path: Path) -> None:
    """Another non-daemon thread, a tracer or profiler (coverage, pyinstrument, a debugger), a
    child process, or the environment variable: the usual exit (checked in a fresh process)."""
    script = textwrap.dedent("""
        import multiprocessing, os, sys, threading, time
        from microseg.cli.fast_exit import SKIP_ENV, can_skip_teardown
        seen = {"plain": can_skip_teardown()}
        os.environ[SKIP_ENV] = "1"
        seen["env"] = can_skip_teardown()
        del os.environ[SKIP_ENV]
        stop = threading.Event()
        worker = threading.Thread(target=stop.wait, daemon=False)
        worker.start()
        seen["thread"] = can_skip_teardown()
        stop.set(); worker.join()
        daemon = threading.Thread(target=threading.Event().wait, daemon=True)
        daemon.start()
        seen["daemon thread"] = can_skip_teardown()
        sys.setprofile(lambda *a: None)
        seen["profiler"] = can_skip_teardown()
        sys.setprofile(None)
        sys.settrace(lambda *a: None)
        seen["tracer"] = can_skip_teardown()
        sys.settrace(None)
        child = multiprocessing.get_context("fork").Process(target=time.sleep, args=(60,))
        child.start()
        seen["child"] = can_skip_teardown()
        child.terminate(); child.join()
        seen["after"] = can_skip_teardown()
        print(seen)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=tmp_path,
                          env={k: v for k, v in os.environ.items() if k != SKIP_ENV})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str({"plain": True, "env": False, "thread": False, "daemon thread": True,
                                       "profiler": False, "tracer": False, "child": False, "after": True})
