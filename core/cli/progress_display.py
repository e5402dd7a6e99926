"""The CLI's progress display: rich spinners and bars with elapsed time on standard error.

Shown only on a terminal and never under ``--json``; steps stay listed with their duration,
a step's inner tasks (a method's model fits) disappear when they end.
"""
from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

#: set to "always" to show progress even when standard error is not a terminal, "never" to hide it
PROGRESS_ENV = "MICROSEG_PROGRESS"


def wanted(as_json: bool) -> bool:
    """Progress is shown on a terminal, unless ``--json`` (or ``MICROSEG_PROGRESS``) says otherwise."""
    setting = os.environ.get(PROGRESS_ENV, "").lower()
    if as_json or setting == "never":
        return False
    if setting == "always":
        return True
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


class RichReporter:
    """A :class:`microseg.progress.Reporter` drawing on a rich ``Progress``."""

    def __init__(self, progress: Any) -> None:
        self.progress = progress
        self._depth: dict[Any, int] = {}

    def start(self, label: str, total: float | None, depth: int) -> Any:
        handle = self.progress.add_task(("  " * depth) + label, total=total)
        self._depth[handle] = depth
        return handle

    def update(self, handle: Any, completed: float, total: float | None) -> None:
        self.progress.update(handle, completed=completed, total=total)

    def finish(self, handle: Any) -> None:
        if self._depth.pop(handle, 0) > 0:
            self.progress.remove_task(handle)
            return
        task = next((t for t in self.progress.tasks if t.id == handle), None)
        total = (task.total if task is not None else None) or 1
        self.progress.update(handle, total=total, completed=total)
        self.progress.stop_task(handle)


@contextlib.contextmanager
def progress_display(as_json: bool) -> Iterator[None]:
    """Install the rich reporter for the block when progress is wanted; otherwise do nothing."""
    from microseg.progress import reporting
    if not wanted(as_json):
        yield
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TaskProgressColumn, TextColumn, TimeElapsedColumn
    console = Console(stderr=True)
    progress = Progress(SpinnerColumn(finished_text="[green]✓[/]"), TextColumn("{task.description}"),
                        BarColumn(), TaskProgressColumn(), TimeElapsedColumn(), console=console,
                        redirect_stdout=False, redirect_stderr=False, refresh_per_second=8)
    with progress, reporting(RichReporter(progress)):
        yield


@contextlib.contextmanager
def working(label: str, as_json: bool) -> Iterator[None]:
    """One step shown with a spinner and its elapsed time while the block runs (terminal only)."""
    from microseg.progress import task
    with progress_display(as_json), task(label):
        yield
