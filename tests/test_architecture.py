"""Guard tests for the layering described in docs/architecture.md.

Read from the source with ``ast`` (nothing is imported): a rule broken here is a design decision
undone, so the test names the file and line.
"""
from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = {"core": "microseg", "plugins": "microseg.plugins", "privacy": "microseg.privacy"}
ENGINE_MODULES = ("microseg.dask_engine", "dask", "distributed", "microseg.pipeline")
# import name -> distribution name, where they differ
DISTRIBUTIONS = {"sklearn": "scikit-learn", "presidio_analyzer": "presidio-analyzer", "opendp": "opendp"}


def _modules() -> list[tuple[Path, str, ast.Module]]:
    """(path, dotted module name, tree) for every module of the package."""
    out = []
    for folder, package in PACKAGES.items():
        for path in sorted((REPO / folder).rglob("*.py")):
            rel = path.relative_to(REPO / folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            out.append((path, ".".join([package, *parts]), ast.parse(path.read_text(encoding="utf-8"))))
    return out


def _imports(tree: ast.Module, module: str) -> list[tuple[int, str, list[str]]]:
    """(line, absolute module, imported names) of every import in ``tree``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name, []) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")[: -node.level] if not module.endswith("__init__") else module.split(".")
                base = ".".join([*anchor, base]) if base else ".".join(anchor)
            found.append((node.lineno, base, [a.name for a in node.names]))
    return found


def _package_of(module: str) -> str:
    return module.rsplit(".", 1)[0]


def test_no_method_plugin_imports_an_engine() -> None:
    """Methods see the engine protocol (microseg.engine), never an engine or the pipeline."""
    bad = []
    for path, module, tree in _modules():
        if not module.startswith("microseg.plugins"):
            continue
        for line, target, _ in _imports(tree, module):
            if target.startswith(ENGINE_MODULES):
                bad.append(f"{path.relative_to(REPO)}:{line} imports {target}")
    assert not bad, "plugins must use microseg.engine, not an engine:\n" + "\n".join(bad)


def test_no_private_name_crosses_a_module() -> None:
    """A leading underscore means private: a ``_name`` is used only in its own module, and a
    ``_module`` only inside its own package."""
    private = re.compile(r"^_[a-z]")
    bad = []
    for path, module, tree in _modules():
        own_package = _package_of(module)
        for line, target, names in _imports(tree, module):
            if not target.startswith("microseg"):
                continue
            parts = target.split(".")
            for i, part in enumerate(parts):
                if private.match(part) and not own_package.startswith(".".join(parts[:i])):
                    bad.append(f"{path.relative_to(REPO)}:{line} imports private module {target}")
            bad += [f"{path.relative_to(REPO)}:{line} imports private name {name} from {target}"
                    for name in names if private.match(name)]
    assert not bad, "\n".join(bad)


def test_every_imported_distribution_is_declared() -> None:
    """Every third-party module the package imports is a declared dependency (or extra)."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = {re.split(r"[<>=\[ ;]", spec, maxsplit=1)[0].lower()
                for spec in [*project["dependencies"], *sum(project["optional-dependencies"].values(), [])]}
    missing = set()
    for path, module, tree in _modules():
        for _, target, _ in _imports(tree, module):
            top = target.split(".")[0]
            if not top or top == "microseg" or top in sys.stdlib_module_names:
                continue
            dist = DISTRIBUTIONS.get(top, top).lower().replace("_", "-")
            if dist not in declared:
                missing.add(f"{top} (in {path.relative_to(REPO)})")
    assert not missing, "imported but not declared in pyproject.toml: " + ", ".join(sorted(missing))
