"""The run report as Markdown: the HTML report's tables without the charts."""
from __future__ import annotations

from typing import Any

from microseg.outputs import ReportDocument
from microseg.report.words import ACTION_WORDS, KIND_WORDS, count, flatten, is_count, reasons, value_text


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(_cell(c) for c in r) + " |" for r in rows]
    return out + [""]


def render_markdown(doc: ReportDocument) -> str:
    rep, run = doc.get("report") or {}, doc["run"]
    k = int(run["k"])
    segments = rep.get("segments") or []
    labels = {s["key"]: s["label"] for s in segments}
    released = [s for s in segments if s.get("status") == "released"]
    withheld = [s for s in segments if s.get("status") != "released"]
    gate = ", ".join(f"{count(v)} {name}" for name, v in sorted((rep.get("gate") or {}).items()) if not isinstance(v, dict))
    lines = [f"# microseg run {run['id']} (as of {run.get('as_of', '')})", "",
             f"Customers: {count(rep.get('customers'))} · k = {k} · gate: {gate}", "",
             f"Every size below went through the release gate: segments smaller than {k} are not released, "
             "and method figures are computed on every customer the methods profiled.", "",
             "## Released segments", ""]
    lines += _table(["method", "segment", "customers", "description"],
                    [[s["family"], s["label"], count(s.get("size")), s.get("description", "")]
                     for s in sorted(released, key=lambda s: (s["family"] == "micro", s["family"],
                                                             -(s["size"] if is_count(s.get("size")) else 0)))])
    lines += ["## Withheld by the gate", ""]
    lines += _table(["method", "segment", "customers", "decision", "why"],
                    [[s["family"], s["label"], count(s.get("size")), s.get("status", ""), why]
                     for s, why in zip(withheld, reasons(withheld, labels, k))]) \
        if withheld else ["The gate released every segment.", ""]
    loss = rep.get("loss") or {}
    if loss.get("per_column"):
        lines += ["## What the gate coarsened", "",
                  f"Released customers: {count(loss.get('released_customers'))}; with some value coarsened: "
                  f"{loss.get('coarsened_share', 0):.1%}.", ""]
        lines += _table(["column", "coarsened", "withheld (*)", "held at an earlier run's value"],
                        [[name, f"{v['coarsened_share']:.1%}", f"{v['withheld_share']:.1%}", f"{v['held_share']:.1%}"]
                         for name, v in loss["per_column"].items()])
    priv = rep.get("privacy") or {}
    actions = priv.get("actions") or {}
    lines += ["## Personal data found and what was done", ""]
    lines += _table(["column", "what it is", "what was done"],
                    [[c["column"], KIND_WORDS.get(c["kind"], c["kind"]),
                      ACTION_WORDS.get(actions.get(c["column"], c.get("action")), actions.get(c["column"], c.get("action")))]
                     for c in priv.get("columns") or [] if c.get("kind") != "none"])
    consent = priv.get("consent") or {}
    if consent:
        lines += ["## Consent", ""] + _table(["consent", "customers"],
                                             [[name.replace("_", " "), count(v)] for name, v in consent.items()])
    lines += ["## Method figures", ""]
    for family, figures in (rep.get("methods") or {}).items():
        rows = [[name, value_text(v)] for name, v in flatten(figures)
                if not name.startswith(("segment_sizes", "cluster_sizes", "curves", "profiles", "grid"))]
        if rows:
            lines += [f"### {family}", ""] + _table(["figure", "value"], rows)
    return "\n".join(lines) + "\n"

