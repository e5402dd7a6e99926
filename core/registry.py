"""The plugin registry: built-in plugins, entry-point plugins and local plugin files.

Built-in methods live under ``microseg.plugins`` and are registered through the same hooks as
third-party packages (entry-point group ``microseg``) and local files (``--plugin PATH``).

Environment switches:

``MICROSEG_LOAD_PLUGINS``
    Comma-separated allow-list of external (entry-point) plugin names to load; set it to an
    empty string to load none. Unset: load all installed ones.
``MICROSEG_TRACE_HOOKS``
    When set, every hook call is printed to stderr (handy when writing a plugin).
"""
from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pluggy

from microseg import hookspecs
from microseg.errors import PluginError

ENTRY_POINT_GROUP = "microseg"

DEFAULT_PLUGINS: tuple[str, ...] = (
    "microseg.plugins.rules",
    "microseg.plugins.rfm",
    "microseg.plugins.clusters",
    "microseg.plugins.clv_decline",
    "microseg.plugins.campaign_response",
    "microseg.privacy.recognizers",
    "microseg.formats",
    "microseg.report.renderers",
)


@dataclass
class PluginInfo:
    """What ``microseg plugins`` shows about one plugin."""

    name: str
    version: str | None
    source: str  # "builtin", "entry point", or the file path
    methods: list[str] = field(default_factory=list)
    recognizers: list[str] = field(default_factory=list)
    hooks: list[str] = field(default_factory=list)
    export_formats: list[str] = field(default_factory=list)
    report_renderers: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "source": self.source,
                "methods": self.methods, "recognizers": self.recognizers, "hooks": self.hooks,
                "export_formats": self.export_formats, "report_renderers": self.report_renderers}


class Registry:
    """A pluggy plugin manager plus the methods and recognizers its plugins registered."""

    def __init__(self, *, builtins: bool = True, entry_points: bool = True,
                 files: tuple[str | Path, ...] = ()) -> None:
        self.pm = pluggy.PluginManager("microseg")
        self.pm.add_hookspecs(hookspecs)
        if os.environ.get("MICROSEG_TRACE_HOOKS"):
            self.pm.trace.root.setwriter(lambda msg: print(msg, end="", file=sys.stderr))
            self.pm.enable_tracing()
        self._info: dict[str, PluginInfo] = {}
        self._methods: dict[str, type] | None = None
        self._method_plugin: dict[str, str] = {}
        self._recognizers: list[tuple[str, object]] | None = None
        self._outputs: dict[str, dict[str, Any]] = {}
        if builtins:
            for module_path in DEFAULT_PLUGINS:
                self._register_module(module_path)
        if entry_points:
            self._load_entry_points()
        for path in files:
            self.load_file(path)

    # ---------------------------------------------------------------- loading
    def _register_module(self, module_path: str) -> None:
        try:
            module = importlib.import_module(module_path)
        except Exception as exc:  # noqa: BLE001 - re-raised with the plugin named
            raise PluginError(f"Error importing built-in plugin {module_path}: {exc}") from exc
        from microseg import __version__
        self.register(module, name=module_path, version=__version__, source="builtin")

    def _load_entry_points(self) -> None:
        allow = os.environ.get("MICROSEG_LOAD_PLUGINS")
        allowed = None if allow is None else {p.strip() for p in allow.split(",") if p.strip()}
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            if allowed is not None and ep.name not in allowed:
                continue
            if self.pm.has_plugin(ep.name):
                continue
            try:
                plugin = ep.load()
            except Exception as exc:  # noqa: BLE001
                raise PluginError(
                    f"Error importing plugin {ep.name!r} (entry point {ep.value}): {exc}; "
                    f"uninstall it or set MICROSEG_LOAD_PLUGINS to skip it") from exc
            dist = ep.dist
            self.register(plugin, name=ep.name, version=dist.version if dist else None,
                          source="entry point")

    def load_file(self, path: str | Path) -> None:
        """Load a plugin from a local ``.py`` file (``--plugin PATH`` / config ``plugins``)."""
        p = Path(path)
        if not p.is_file():
            raise PluginError(f"plugin file not found: {p}")
        name = f"file:{p.resolve()}"
        if self.pm.has_plugin(name):
            return
        module_name = f"microseg_local_plugin_{abs(hash(name)):x}"
        spec = importlib.util.spec_from_file_location(module_name, p)
        if spec is None or spec.loader is None:
            raise PluginError(f"cannot load plugin file {p}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:  # noqa: BLE001
            sys.modules.pop(module_name, None)
            raise PluginError(f"Error importing plugin file {p}: {exc}") from exc
        self.register(module, name=name, version=getattr(module, "__version__", None), source=str(p))

    def register(self, plugin: object, *, name: str, version: str | None = None,
                 source: str = "python") -> None:
        """Register a plugin object (module or instance) under ``name``."""
        try:
            self.pm.register(plugin, name=name)
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            if self.pm.is_registered(plugin):
                self.pm.unregister(plugin)
            raise PluginError(f"plugin {name!r} is invalid: {exc}") from exc
        hooks = sorted(h.name for h in self.pm.get_hookcallers(plugin) or [])
        self._info[name] = PluginInfo(name=name, version=version, source=source, hooks=hooks)
        self._methods = None
        self._recognizers = None
        self._outputs = {}

    def unregister(self, name: str) -> None:
        self.pm.unregister(name=name)
        self._info.pop(name, None)
        self._methods = None
        self._recognizers = None
        self._outputs = {}

    # ---------------------------------------------------------------- what plugins provide
    def _collect(self, hook_name: str) -> list[tuple[str, object]]:
        """Call ``hook_name`` plugin by plugin so each registration is attributed."""
        out: list[tuple[str, object]] = []
        caller = getattr(self.pm.hook, hook_name)
        for impl in reversed(caller.get_hookimpls()):
            plugin_name = impl.plugin_name
            items: list[object] = []
            try:
                impl.function(register=items.append)
            except Exception as exc:  # noqa: BLE001
                raise PluginError(f"plugin {plugin_name!r} failed in {hook_name}: {exc}") from exc
            out.extend((plugin_name, item) for item in items)
        return out

    @property
    def methods(self) -> dict[str, type]:
        """Method name → method class, across all plugins. Duplicate names are an error."""
        if self._methods is None:
            from microseg.method import SegmentationMethod
            found: dict[str, type] = {}
            owner: dict[str, str] = {}
            for info in self._info.values():
                info.methods = []
            for plugin_name, cls in self._collect("register_methods"):
                if not (isinstance(cls, type) and issubclass(cls, SegmentationMethod)):
                    raise PluginError(f"plugin {plugin_name!r} registered {cls!r}, "
                                      "which is not a microseg.SegmentationMethod subclass")
                name = getattr(cls, "name", "")
                if not name:
                    raise PluginError(f"plugin {plugin_name!r}: method class {cls.__name__} has no name")
                if name in found:
                    raise PluginError(f"two plugins register a method named {name!r}: "
                                      f"{owner[name]!r} and {plugin_name!r}")
                found[name], owner[name] = cls, plugin_name
                if plugin_name in self._info:
                    self._info[plugin_name].methods.append(name)
            self._methods, self._method_plugin = found, owner
        return self._methods

    @property
    def recognizers(self) -> list[tuple[str, object]]:
        """(plugin name, recognizer) pairs registered through ``register_recognizers``."""
        if self._recognizers is None:
            for info in self._info.values():
                info.recognizers = []
            found = self._collect("register_recognizers")
            for plugin_name, rec in found:
                if plugin_name in self._info:
                    self._info[plugin_name].recognizers.append(recognizer_name(rec))
            self._recognizers = found
        return self._recognizers

    @property
    def export_formats(self) -> dict[str, Any]:
        """Export format name → :class:`microseg.outputs.ExportFormat`. Duplicate names are an error."""
        from microseg.outputs import ExportFormat
        return self._named_outputs("register_export_formats", ExportFormat, "export format")

    @property
    def report_renderers(self) -> dict[str, Any]:
        """Report renderer name → :class:`microseg.outputs.ReportRenderer`. Duplicate names are an error."""
        from microseg.outputs import ReportRenderer
        return self._named_outputs("register_report_renderers", ReportRenderer, "report renderer")

    def _named_outputs(self, hook_name: str, kind: type, what: str) -> dict[str, Any]:
        if hook_name not in self._outputs:
            found: dict[str, Any] = {}
            owner: dict[str, str] = {}
            attr = hook_name.removeprefix("register_")
            for info in self._info.values():
                setattr(info, attr, [])
            for plugin_name, item in self._collect(hook_name):
                if not isinstance(item, kind):
                    raise PluginError(f"plugin {plugin_name!r} registered {item!r}, which is not a "
                                      f"microseg.outputs.{kind.__name__}")
                name = getattr(item, "name", "")
                if not name:
                    raise PluginError(f"plugin {plugin_name!r}: {what} without a name")
                if name in found:
                    raise PluginError(f"two plugins register {what} {name!r}: {owner[name]!r} and {plugin_name!r}")
                found[name], owner[name] = item, plugin_name
                if plugin_name in self._info:
                    getattr(self._info[plugin_name], attr).append(name)
            self._outputs[hook_name] = found
        return self._outputs[hook_name]

    def method(self, name: str) -> type:
        try:
            return self.methods[name]
        except KeyError:
            known = ", ".join(sorted(self.methods))
            raise PluginError(f"unknown method {name!r}; registered methods: {known}") from None

    def describe_instance(self, instance_id: str, method_name: str) -> str:
        """How errors name a configured method instance: its id, method and plugin."""
        self.methods  # noqa: B018 - fills the owners
        plugin = self._method_plugin.get(method_name, "?")
        return f"method instance {instance_id!r} ({method_name}, plugin {plugin})"

    def plugins(self) -> list[PluginInfo]:
        self.methods  # noqa: B018 - fills the per-plugin lists
        self.recognizers  # noqa: B018
        self.export_formats  # noqa: B018
        self.report_renderers  # noqa: B018
        return list(self._info.values())


def recognizer_name(rec: object) -> str:
    return str(getattr(rec, "name", None) or type(rec).__name__)


def get_registry(files: tuple[str | Path, ...] = ()) -> Registry:
    """A new registry of the built-in and installed plugins plus the local plugin ``files``.

    Each run / API call / command gets its own: nothing registered for one outlives it.
    """
    return Registry(files=files)
