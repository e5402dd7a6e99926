"""Lighter third-party imports for the console command: work done at import time that no
command uses, skipped.

SciPy (loaded with scikit-learn by the clustering, propensity and uplift methods) rewrites the
docstring of every function it marks with ``xp_capabilities`` when ``scipy.stats`` is imported:
it parses each docstring (numpydoc's ``FunctionDoc``) to append a table of supported array
backends. About 470 functions: ~0.4 s of every run that imports scikit-learn on the 2-core
machine of docs/benchmarks.md, for docstrings nothing reads here. The console command
(:func:`microseg.cli.main`) installs :func:`install`: when ``scipy._lib._array_api`` is first
imported, its ``FunctionDoc`` is replaced by :class:`KeptDoc`, which keeps each docstring as it
was (without the backend table). Nothing else changes; where SciPy's module no longer has a
``FunctionDoc`` (another version), nothing is replaced.
"""
from __future__ import annotations

import sys
from importlib.abc import MetaPathFinder
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any, Sequence

TARGET = "scipy._lib._array_api"


class KeptDoc:
    """Stands in for numpydoc's ``FunctionDoc`` where SciPy only adds a note to a docstring: the
    note is dropped and ``str()`` gives the docstring back unchanged (after the one line SciPy
    removes as the signature)."""

    def __init__(self, func: Any, *args: Any, **kwargs: Any) -> None:
        self._doc = getattr(func, "__doc__", None) or ""

    def __getitem__(self, section: str) -> list[str]:
        return []

    def __str__(self) -> str:
        return "\n" + self._doc


def lighten(module: ModuleType) -> bool:
    """Replace ``module.FunctionDoc`` by :class:`KeptDoc`; False when it has none."""
    if not isinstance(getattr(module, "FunctionDoc", None), type):
        return False
    module.FunctionDoc = KeptDoc
    return True


class _Finder(MetaPathFinder):
    """Finds nothing itself: when :data:`TARGET` is imported, wraps the real loader so that the
    module is lightened right after it has run (then leaves the import system)."""

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
                  ) -> ModuleSpec | None:
        if fullname != TARGET:
            return None
        uninstall()
        from importlib.machinery import PathFinder
        spec = PathFinder.find_spec(fullname, path)
        loader = getattr(spec, "loader", None)
        if spec is None or not hasattr(loader, "exec_module"):
            return spec
        run = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run(module)
            lighten(module)
        loader.exec_module = exec_module          # this loader object only: it loads this one module
        return spec


_FINDER = _Finder()


def install() -> None:
    """Lighten SciPy's import when it happens (no effect where it is already imported)."""
    if TARGET not in sys.modules and _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


def uninstall() -> None:
    if _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
