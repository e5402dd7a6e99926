"""The README's examples work as written in a fresh clone.

The test copies what a clone has (the files git tracks, plus new ones not ignored) to a temporary
folder, links this environment as its ``.venv`` (what ``make`` would create) and runs every
``sh`` and ``python`` block in order, as a new user would: no ``MICROSEG_KEY``, the venv not on
``PATH`` until the block activates it. A block preceded by ``<!-- readme-test: skip: REASON -->``
is not run (the reason is required); one preceded by ``<!-- readme-test: needs ../shared/data -->``
runs only in the ``realdata`` test, with ``../shared`` next to the clone as on the project's machines.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import SHARED_DATA

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
MARK = re.compile(r"<!--\s*readme-test:\s*(?P<what>skip|needs ../shared/data)\s*(?::\s*(?P<reason>.*?))?\s*-->")


@dataclass
class Block:
    lang: str
    code: str
    skip: str | None
    needs_shared: bool
    line: int


def readme_blocks(text: str) -> list[Block]:
    blocks, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        fence = re.match(r"^```(\w+)\s*$", lines[i])
        if not fence:
            i += 1
            continue
        j = i + 1
        while not lines[j].startswith("```"):
            j += 1
        mark = MARK.search(lines[i - 1]) if i else None
        skip = (mark.group("reason") or "") if mark and mark.group("what") == "skip" else None
        blocks.append(Block(fence.group(1), "\n".join(lines[i + 1:j]), skip,
                            bool(mark and mark.group("what").startswith("needs")), i + 1))
        i = j + 1
    return blocks


def test_skipped_blocks_give_a_reason_and_every_block_has_a_language():
    blocks = readme_blocks(README.read_text())
    assert blocks and all(b.lang in ("sh", "python", "toml", "text") for b in blocks)
    assert all(b.skip.strip() for b in blocks if b.skip is not None)
    assert any(b.lang == "sh" and "microseg init" in b.code and b.skip is None for b in blocks)


def test_the_documentation_list_links_every_docs_page():
    text = README.read_text()
    for page in sorted((REPO / "docs").glob("*.md")):
        assert f"(docs/{page.name})" in text, f"README's documentation list misses docs/{page.name}"


def fresh_clone(tmp: Path, with_shared: bool) -> Path:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, text=True, check=True).stdout.splitlines()
    clone = tmp / "work" / "microseg"
    for rel in listed:
        src = REPO / rel
        if src.is_file():
            (clone / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, clone / rel)
    (clone / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    if with_shared and SHARED_DATA.parent.is_dir():
        (tmp / "work" / "shared").symlink_to(SHARED_DATA.parent, target_is_directory=True)
    return clone


def user_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("MICROSEG_KEY", "MICROSEG_DATABASE_URL", "VIRTUAL_ENV")}
    venv_bin = str(Path(sys.prefix) / "bin")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != venv_bin)
    return env


def run_blocks(tmp_path: Path, with_shared: bool, clone: Path | None = None) -> Path:
    """The runnable blocks in one shell session, as a user types them into one terminal. Given the
    ``clone`` a first session left, only the blocks that need ../shared, in a terminal where the
    environment is activated as the README's first block does."""
    parts = [". .venv/bin/activate"] if clone is not None else []
    only_shared = clone is not None
    clone = clone or fresh_clone(tmp_path, with_shared)
    for block in readme_blocks(README.read_text()):
        if block.skip is not None or block.lang not in ("sh", "python") or (block.needs_shared and not with_shared):
            continue
        if only_shared and not block.needs_shared:
            continue
        parts.append(f"echo '@@ README block at line {block.line}' >&2")
        parts.append(block.code if block.lang == "sh" else f"python - <<'README_PYTHON'\n{block.code}\nREADME_PYTHON")
    script = "\n".join(parts)
    done = subprocess.run(["bash", "-e", "-u", "-o", "pipefail", "-c", script], cwd=clone, env=user_env(),
                          capture_output=True, text=True, timeout=900)
    last = re.findall(r"@@ README block at line \d+", done.stderr)
    assert done.returncode == 0, (f"{last[-1] if last else 'README'} failed ({done.returncode})\n--- stdout\n"
                                  f"{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}")
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    return clone


@pytest.mark.slow
def test_readme_examples_run_as_written_in_a_fresh_clone(tmp_path):
    if SHARED_DATA.is_dir():
        pytest.skip("../shared/data is here: test_readme_examples_with_the_real_data runs these blocks first, "
                    "without ../shared beside the clone, then the blocks that need it")
    run_blocks(tmp_path, with_shared=False)


@pytest.mark.slow
@pytest.mark.realdata
def test_readme_examples_with_the_real_data(tmp_path):
    """Every block without ../shared beside the clone (as a user without the data), then the blocks
    that need ../shared/data in that clone once ../shared is there (they use the key from `microseg
    init` and the activated environment)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not available: {SHARED_DATA} (only CI and the project's machines have ../shared)")
    clone = run_blocks(tmp_path, with_shared=False)
    (tmp_path / "work" / "shared").symlink_to(SHARED_DATA.parent, target_is_directory=True)
    run_blocks(tmp_path, with_shared=True, clone=clone)
