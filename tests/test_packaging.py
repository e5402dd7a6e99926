"""The three top-level folders install as ONE package; every subpackage is in the wheel."""
from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ROOTS = {"core": "microseg", "plugins": "microseg.plugins", "privacy": "microseg.privacy"}


def _packages_on_disk() -> set[str]:
    found = set()
    for folder, dotted in ROOTS.items():
        for init in (REPO / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(REPO / folder).parts
            found.add(".".join((dotted, *rel)))
    return found


def test_every_subpackage_is_listed_in_pyproject():
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    assert _packages_on_disk() <= listed, f"add to [tool.setuptools] packages: {_packages_on_disk() - listed}"


def test_no_tests_init():
    assert not (REPO / "tests" / "__init__.py").exists()


def test_wheel_contains_every_module(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "-w", str(tmp_path), str(REPO)], check=True)
    wheel = next(tmp_path.glob("microseg-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder, dotted in ROOTS.items():
        for py in (REPO / folder).rglob("*.py"):
            rel = py.relative_to(REPO / folder)
            assert "/".join((*dotted.split("."), *rel.parts)) in names, f"{py} missing from the wheel"
    assert not any(n.startswith(("core/", "plugins/", "privacy/")) for n in names), "generic top-level names leaked"
