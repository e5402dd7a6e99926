"""Progress of long steps, reported to whoever listens — a no-op unless a reporter is installed.

The pipeline opens one task per step; a method's long loop reports within it::

    from microseg import progress

    with progress.task("bootstrap refits", total=n) as task:
        for b in range(n):
            ...
            task.advance()

    for chunk in progress.track(chunks, "scoring"):      # the same, around an iterable
        ...

Tasks nest (a method's task shows under the pipeline step that runs it). The reporter lives in a
context variable: the CLI installs a rich display (spinner or bar, elapsed time) on a terminal;
under ``--json``, when standard error is not a terminal, and from Python nothing is shown unless
a reporter is installed with :func:`reporting`. Reporting costs a function call per ``advance``
when nobody listens, so call it per chunk or per model fit, not per row.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class Reporter(Protocol):
    """What receives progress: the CLI's rich display, or a test's recorder."""

    def start(self, label: str, total: float | None, depth: int) -> Any:
        """A task began (``total`` None: unknown, show a spinner); returns a handle."""

    def update(self, handle: Any, completed: float, total: float | None) -> None:
        """The task advanced."""

    def finish(self, handle: Any) -> None:
        """The task ended (normally or by an error)."""


_reporter: ContextVar[Reporter | None] = ContextVar("microseg_progress_reporter", default=None)
_depth: ContextVar[int] = ContextVar("microseg_progress_depth", default=0)


class Task:
    """One running task; :meth:`advance` moves it on (a no-op without a reporter)."""

    def __init__(self, reporter: Reporter | None, handle: Any, total: float | None) -> None:
        self._reporter, self._handle = reporter, handle
        self.total = total
        self.completed = 0.0

    def advance(self, amount: float = 1) -> None:
        self.completed += amount
        if self._reporter is not None:
            self._reporter.update(self._handle, self.completed, self.total)

    def set_total(self, total: float | None) -> None:
        """Give (or change) the total once it is known."""
        self.total = total
        if self._reporter is not None:
            self._reporter.update(self._handle, self.completed, total)


@contextlib.contextmanager
def task(label: str, total: float | None = None) -> Iterator[Task]:
    """A task for the duration of the block; nested tasks show under their parent."""
    reporter = _reporter.get()
    if reporter is None:
        yield Task(None, None, total)
        return
    depth = _depth.get()
    handle = reporter.start(label, total, depth)
    token = _depth.set(depth + 1)
    try:
        yield Task(reporter, handle, total)
    finally:
        _depth.reset(token)
        reporter.finish(handle)


def track(items: Iterable[T], label: str, total: float | None = None) -> Iterator[T]:
    """Iterate over ``items`` as one task advancing by one per item (``total``: ``len(items)`` if it has one)."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with task(label, total) as t:
        for item in items:
            yield item
            t.advance()


@contextlib.contextmanager
def reporting(reporter: Reporter | None) -> Iterator[None]:
    """Send the progress of everything run inside the block to ``reporter`` (None: silence)."""
    token = _reporter.set(reporter)
    depth = _depth.set(0)
    try:
        yield
    finally:
        _depth.reset(depth)
        _reporter.reset(token)


def active() -> bool:
    """Whether anyone listens (skip building expensive labels when not)."""
    return _reporter.get() is not None
