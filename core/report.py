"""Render a run's (already gate-checked) report as Markdown."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def render_markdown(report: dict[str, Any]) -> str:
    lines = [f"# microseg run {report.get('run_id', '')}", "",
             f"Customers: {report['customers']} · k = {report['k']} · gate: "
             + ", ".join(f"{v} {k}" for k, v in sorted(report.get("gate", {}).items())), "",
             "## Released segments", "", "| family | segment | size | description |", "|---|---|---:|---|"]
    for s in report["segments"]:
        if s["status"] == "released":
            lines.append(f"| {s['family']} | {s['label']} | {s['size']} | {s['description']} |")
    lines += ["", "## Withheld by the gate", "", "| family | segment | status | released as | reason |",
              "|---|---|---|---|---|"]
    for s in report["segments"]:
        if s["status"] != "released":
            lines.append(f"| {s['family']} | {s['label']} | {s['status']} | {s.get('released_as') or '-'} | "
                         f"{s.get('reason', '')} |")
    loss = report.get("release")
    if loss:
        lines += ["", "## What the gate coarsened", "",
                  f"Released customers: {loss['released_customers']}; share with some value coarsened: "
                  f"{loss['coarsened_share']:.1%}; checked with earlier runs: "
                  f"{', '.join(map(str, loss['scope'].get('earlier_runs', []))) or 'none'}", "",
                  "| column | coarsened | withheld (*) | held from an earlier run |", "|---|---:|---:|---:|"]
        for name, v in loss["per_column"].items():
            lines.append(f"| {name} | {v['coarsened_share']:.1%} | {v['withheld_share']:.1%} | {v['held_share']:.1%} |")
    lines += ["", "## Personal data found and what was done", "", "| column | kind | entity | action |",
              "|---|---|---|---|"]
    for c in report["privacy"]["columns"]:
        if c["kind"] != "none":
            action = report["privacy"]["actions"].get(c["column"], c["action"])
            lines.append(f"| {c['column']} | {c['kind']} | {c.get('entity') or '-'} | {action} |")
    lines += ["", f"Consent: {report['privacy']['consent']}", "", "## Method figures", ""]
    for mid, rep in report["methods"].items():
        if rep:
            lines += [f"### {mid}", "", "```json", json.dumps(rep, indent=2, default=str)[:4000], "```", ""]
    return "\n".join(lines) + "\n"


def write_report(report: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_markdown(report), encoding="utf-8")
    path.with_suffix(".json").write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    return path
