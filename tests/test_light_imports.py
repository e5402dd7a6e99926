"""microseg.cli.light_imports: SciPy's import-time docstring rewriting skipped, nothing else changed."""
from __future__ import annotations

import subprocess
import sys
import types

import pytest

from microseg.cli import light_imports


def _scipy_decorate(f, function_doc):
    """What scipy's ``xp_capabilities`` decorator does with a function's docstring."""
    doc = function_doc(f)
    doc["Notes"].append("a table of array backends")
    f.__doc__ = str(doc).split("\n", 1)[1].lstrip(" \n")
    return f


def test_kept_doc_leaves_the_docstring_as_it_was():
    def f():
        """Sum things.

        Parameters
        ----------
        x : int
        """
    before = f.__doc__
    assert _scipy_decorate(f, light_imports.KeptDoc).__doc__ == before.lstrip(" \n")

    def g():
        pass
    assert _scipy_decorate(g, light_imports.KeptDoc).__doc__ == ""


def test_lighten_replaces_function_doc_only_where_there_is_one():
    with_doc = types.ModuleType("m")
    with_doc.FunctionDoc = type("FunctionDoc", (), {})
    real = with_doc.FunctionDoc
    assert light_imports.lighten(with_doc) and issubclass(with_doc.FunctionDoc, light_imports.KeptDoc)
    assert with_doc.FunctionDoc.real is real
    without = types.ModuleType("n")
    assert not light_imports.lighten(without) and not hasattr(without, "FunctionDoc")


def test_install_lightens_scipy_when_it_is_imported():
    code = """
import sys
from microseg.cli import light_imports
light_imports.install()
import scipy.stats
assert all(issubclass(sys.modules[name].FunctionDoc, light_imports.KeptDoc) for name in light_imports.TARGETS)
assert light_imports._FINDER not in sys.meta_path
r = scipy.stats.ttest_ind([1.0, 2.0, 3.0, 4.0], [2.0, 3.5, 4.0, 6.0])
print(round(float(r.pvalue), 6), "Parameters" in scipy.stats.ttest_ind.__doc__)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    plain = subprocess.run([sys.executable, "-c", "import scipy.stats; print(round(float(scipy.stats.ttest_ind("
                            "[1.0, 2.0, 3.0, 4.0], [2.0, 3.5, 4.0, 6.0]).pvalue), 6))"],
                           capture_output=True, text=True, check=True).stdout.split()
    assert out == [plain[0], "True"]


def test_kept_doc_takes_scipy_s_parameter_edits():
    def f(x, axis=0):
        """Test x."""
    doc = light_imports.KeptDoc(f)
    names = [p.name for p in doc["Parameters"]]
    doc["Parameters"].append("axis : int")
    doc["Notes"] += ["a note"]
    assert names == [] and str(doc).split("\n", 1)[1] == "Test x."


def test_install_does_nothing_once_scipy_is_loaded(monkeypatch):
    for name in light_imports.TARGETS:
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    light_imports.install()
    assert light_imports._FINDER not in sys.meta_path


def test_a_use_the_stand_in_does_not_know_gets_the_real_parser():
    """A SciPy that asks more of ``FunctionDoc`` than the stand-in has gets the real object's answer."""
    class Parser:
        def __init__(self, func):
            self.sections = {"Summary": [func.__doc__]}
    module = types.ModuleType("m")
    module.FunctionDoc = Parser

    def f():
        """Add."""
    assert light_imports.lighten(module)
    doc = module.FunctionDoc(f)
    assert doc.sections == {"Summary": ["Add."]} and str(doc) == "\nAdd."
    with pytest.raises(AttributeError):
        doc.__missing_dunder__                # dunder lookups are not forwarded
