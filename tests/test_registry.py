"""The plugin registry, and datasette-style guard tests over every hook."""
from __future__ import annotations

import inspect
import re
import sys
import types
from pathlib import Path

import pandas as pd
import pytest

import microseg
from microseg import hookspecs
from microseg.errors import PluginError
from microseg.registry import DEFAULT_PLUGINS, Registry

REPO = Path(__file__).resolve().parents[1]
HOOKS = [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
         if hasattr(fn, "microseg_spec")]


def _method(name: str) -> type:
    return type(f"M_{name}", (microseg.SegmentationMethod,),
                {"name": name, "assign": lambda self, c: pd.Series("x", index=c.index)})


def _plugin(**hooks) -> types.SimpleNamespace:
    ns = types.SimpleNamespace()
    for hook, fn in hooks.items():
        setattr(ns, hook, microseg.hookimpl(fn))
    return ns


def test_hooks_exist():
    assert set(HOOKS) >= {"register_methods", "register_recognizers"}


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_test(hook):
    tests = "\n".join(p.read_text() for p in (REPO / "tests").glob("test_*.py"))
    assert re.search(rf"def test_hook_{hook}\b", tests), f"no test named test_hook_{hook}"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented(hook):
    docs = (REPO / "docs" / "plugins.md").read_text()
    params = ", ".join(inspect.signature(getattr(hookspecs, hook)).parameters)
    assert f"### {hook}({params})" in docs, f"docs/plugins.md needs a '### {hook}({params})' section"


def test_hook_register_methods():
    reg = Registry(builtins=False, entry_points=False)
    cls = _method("thing")
    reg.register(_plugin(register_methods=lambda register: register(cls)), name="p1", version="1.0")
    assert reg.methods == {"thing": cls}
    info = {p.name: p for p in reg.plugins()}["p1"]
    assert info.methods == ["thing"] and info.version == "1.0" and info.hooks == ["register_methods"]


def test_hook_register_recognizers():
    reg = Registry(builtins=False, entry_points=False)
    rec = types.SimpleNamespace(name="LOYALTY_CARD")
    reg.register(_plugin(register_recognizers=lambda register: register(rec)), name="p2")
    assert reg.recognizers == [("p2", rec)]
    assert {p.name: p for p in reg.plugins()}["p2"].recognizers == ["LOYALTY_CARD"]


def test_builtins_register_through_the_same_hooks(registry):
    names = {p.name for p in registry.plugins()}
    assert set(DEFAULT_PLUGINS) <= names
    assert {"rules", "rfm", "clusters", "clv-decline", "campaign-response"} <= set(registry.methods)
    for name, cls in registry.methods.items():
        assert issubclass(cls, microseg.SegmentationMethod) and cls.name == name
    assert registry.recognizers, "built-in recognizers are registered through register_recognizers"


def test_duplicate_method_names_are_an_error():
    reg = Registry(builtins=False, entry_points=False)
    reg.register(_plugin(register_methods=lambda register: register(_method("dup"))), name="a")
    reg.register(_plugin(register_methods=lambda register: register(_method("dup"))), name="b")
    with pytest.raises(PluginError, match="two plugins register a method named 'dup'"):
        reg.methods  # noqa: B018


def test_not_a_method_class_is_rejected():
    reg = Registry(builtins=False, entry_points=False)
    reg.register(_plugin(register_methods=lambda register: register(object)), name="bad")
    with pytest.raises(PluginError, match="not a microseg.SegmentationMethod"):
        reg.methods  # noqa: B018


def test_unknown_hook_name_is_caught():
    reg = Registry(builtins=False, entry_points=False)
    with pytest.raises(PluginError, match="invalid"):
        reg.register(_plugin(register_methodz=lambda register: None), name="typo")


def test_file_plugin_failing_import_is_named(tmp_path):
    bad = tmp_path / "broken_plugin.py"
    bad.write_text("import does_not_exist_anywhere\n")
    with pytest.raises(PluginError, match="broken_plugin.py"):
        Registry(builtins=False, entry_points=False, files=(bad,))


def test_file_plugin_loads(tmp_path):
    plugin = REPO / "tests" / "plugins" / "local_recency.py"
    reg = Registry(builtins=False, entry_points=False, files=(plugin,))
    assert "recent-buyers" in reg.methods
    info = [p for p in reg.plugins() if p.source == str(plugin)][0]
    assert info.version == "0.0.1"


class _FakeEP:
    def __init__(self, name, obj=None, exc=None):
        self.name, self.value, self._obj, self._exc = name, f"{name}_mod", obj, exc
        self.dist = types.SimpleNamespace(version="9.9")

    def load(self):
        if self._exc:
            raise self._exc
        return self._obj


def test_entry_point_plugins_and_allow_list(monkeypatch):
    good = _plugin(register_methods=lambda register: register(_method("ep-method")))
    eps = [_FakeEP("good", good), _FakeEP("broken", exc=ImportError("boom"))]
    monkeypatch.setattr("importlib.metadata.entry_points", lambda group: eps if group == "microseg" else [])
    with pytest.raises(PluginError, match="Error importing plugin 'broken'"):
        Registry(builtins=False)
    monkeypatch.setenv("MICROSEG_LOAD_PLUGINS", "good")
    reg = Registry(builtins=False)
    assert "ep-method" in reg.methods
    assert {p.name: p for p in reg.plugins()}["good"].version == "9.9"
    monkeypatch.setenv("MICROSEG_LOAD_PLUGINS", "")
    assert "ep-method" not in Registry(builtins=False).methods


def test_method_params_follow_sklearn_conventions(registry):
    for name, cls in registry.methods.items():
        sig = inspect.signature(cls.__init__)
        params = [p for p in sig.parameters.values() if p.name != "self"]
        assert all(p.kind is p.KEYWORD_ONLY for p in params), f"{name}: params must be keyword-only"
        inst = cls()
        assert set(inst.get_params()) == {p.name for p in params}
