"""Replace one `## ...` section of docs/benchmarks.md, keeping the rest."""
from __future__ import annotations

from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def replace_section(heading: str, body: str) -> None:
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n\nMeasured figures, each with the command that produced it.\n"
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == heading), None)
    block = [heading, "", *body.strip().splitlines(), ""]
    if start is None:
        lines += ["", *block]
    else:
        end = next((j for j in range(start + 1, len(lines)) if lines[j].startswith("## ")), len(lines))
        lines[start:end] = block
    DOC.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
