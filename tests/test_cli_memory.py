"""The command line's allocator settings (microseg.cli.memory): freed memory is handed back."""
from __future__ import annotations

import subprocess
import sys

import pytest

from microseg.cli import memory


class _Libc:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

        def mallopt(param: int, value: int) -> int:
            self.calls.append((param, value))
            return 1
        self.mallopt = mallopt


def test_glibc_mmap_threshold_is_fixed(monkeypatch):
    libc = _Libc()
    monkeypatch.setattr(memory.sys, "platform", "linux")
    monkeypatch.setattr(memory.ctypes, "CDLL", lambda name: libc)
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    memory.release_freed_memory()
    assert libc.calls == [(memory.M_MMAP_THRESHOLD, memory.MMAP_THRESHOLD)]


@pytest.mark.parametrize("env, platform", [({"MALLOC_MMAP_THRESHOLD_": "65536"}, "linux"), ({}, "darwin")])
def test_user_setting_or_other_platform_is_left_alone(monkeypatch, env, platform):
    libc = _Libc()
    monkeypatch.setattr(memory.sys, "platform", platform)
    monkeypatch.setattr(memory.ctypes, "CDLL", lambda name: libc)
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    memory.release_freed_memory()
    assert libc.calls == []


def test_not_glibc_is_skipped(monkeypatch):
    monkeypatch.setattr(memory.sys, "platform", "linux")
    monkeypatch.setattr(memory.ctypes, "CDLL", lambda name: object())      # no mallopt (musl …)
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    memory.release_freed_memory()


@pytest.mark.parametrize("env, backend", [(None, "system"), ("mimalloc", "mimalloc")])
def test_arrow_buffers_come_from_the_c_allocator_unless_the_user_says(env, backend):
    """The command line sets Arrow's pool before pyarrow loads; a pool the user names wins."""
    import os
    child_env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    if env:
        child_env["ARROW_DEFAULT_MEMORY_POOL"] = env
    code = "import microseg.cli, pyarrow; print(pyarrow.default_memory_pool().backend_name)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=child_env, check=True)
    assert out.stdout.strip() == backend


def test_the_console_command_collects_garbage_less_often() -> None:
    """``microseg`` (main) sets the thresholds in its own process; importing the command line
    from Python leaves the interpreter's own."""
    probe = ("import gc, microseg.cli as c; print(gc.get_threshold()); "
             "c.cli.main = lambda **kw: print(gc.get_threshold()); c.main()")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    imported, in_main = done.stdout.split("\n")[:2]
    assert imported == "(700, 10, 10)" and in_main == str(memory.GC_THRESHOLDS)
