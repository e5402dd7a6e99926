"""Lighter third-party imports for the console command: work done at import time that no
command uses, skipped.

SciPy (loaded with scikit-learn by the clustering, propensity and uplift methods) rewrites the
docstrings of some 600 functions when ``scipy.stats`` is imported: its decorators parse each
docstring (numpydoc's ``FunctionDoc``) to add a table of supported array backends, a note or
the ``axis``/``nan_policy`` parameters. That took ~0.4 s of every run that imports
scikit-learn on the 2-core machine of docs/benchmarks.md, for docstrings nothing reads here.
The console command (:func:`microseg.cli.main`) calls :func:`install`: as each module of
:data:`TARGETS` is first imported, its ``FunctionDoc`` is replaced by :class:`KeptDoc`, which
leaves each docstring as it was (without the additions). Only docstrings differ; where a module
has no ``FunctionDoc`` (another SciPy version), nothing is replaced.
"""
from __future__ import annotations

import sys
from importlib.abc import MetaPathFinder
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any, Sequence

#: the modules whose decorators rewrite docstrings with ``FunctionDoc`` (SciPy 1.15-1.17)
TARGETS = frozenset({"scipy._lib._array_api", "scipy._lib._util", "scipy._lib.deprecation",
                     "scipy.stats._axis_nan_policy"})


class KeptDoc:
    """Stands in for numpydoc's ``FunctionDoc`` where SciPy only adds to a docstring: every
    section reads as empty, additions are dropped, and ``str()`` gives the docstring back
    unchanged (after the one line SciPy removes as the signature). Any other use (a SciPy
    version that asks more of it) gets the real parser's object (:attr:`real`), as without
    the stand-in."""

    #: the class stood in for (set by :func:`lighten`, per module)
    real: Any = None

    def __init__(self, func: Any, *args: Any, **kwargs: Any) -> None:
        self._doc = getattr(func, "__doc__", None) or ""
        self._call = (func, args, kwargs)

    def __getattr__(self, name: str) -> Any:
        """An attribute the stand-in lacks: the real parser's, on the real object."""
        if name.startswith("__") or type(self).real is None:
            raise AttributeError(name)
        func, args, kwargs = self.__dict__["_call"]
        return getattr(type(self).real(func, *args, **kwargs), name)

    def __getitem__(self, section: str) -> list[Any]:
        return []

    def __setitem__(self, section: str, value: Any) -> None:
        pass

    def __str__(self) -> str:
        return "\n" + self._doc


def lighten(module: ModuleType) -> bool:
    """Replace ``module.FunctionDoc`` by :class:`KeptDoc`; False when it has none."""
    real = getattr(module, "FunctionDoc", None)
    if not isinstance(real, type):
        return False
    module.FunctionDoc = type("KeptDoc", (KeptDoc,), {"real": real})
    return True


class _Finder(MetaPathFinder):
    """Finds nothing itself: when a module of :data:`TARGETS` is imported, wraps the real loader
    so that the module is lightened right after it has run (leaves the import system once every
    target is loaded)."""

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
                  ) -> ModuleSpec | None:
        if fullname not in TARGETS:
            return None
        if all(name == fullname or name in sys.modules for name in TARGETS):
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
    if not TARGETS <= set(sys.modules) and _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


def uninstall() -> None:
    if _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
