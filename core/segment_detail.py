"""``microseg show KEY``: one segment as the gate let it out — definition, description, size,
drivers, and for a withheld one the reason in words.

Everything comes from the stored, gate-checked run report (sizes, descriptions, method figures)
and the store's segment rows (method, parent, gate reason); no membership is read.
"""
from __future__ import annotations

from typing import Any

from microseg.compose import KEY_SEP
from microseg.errors import InputError
from microseg.feature_words import in_words
from microseg.report.document import build_document
from microseg.report.words import label_of, reason
from microseg.store import Store
from microseg.suggest import close_matches


def find_segment(segments: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """The report segment whose key is ``key`` — or whose label is, when only one has it."""
    by_key = {s["key"]: s for s in segments}
    if key in by_key:
        return by_key[key]
    named = [s for s in segments if s["label"] == key]
    if len(named) == 1:
        return named[0]
    if named:
        raise InputError(f"KEY: {len(named)} segments are labelled {key!r}; give one of their keys: "
                         + ", ".join(repr(s["key"]) for s in named))
    close = close_matches(key, list(by_key) + [s["label"] for s in segments], n=3)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else \
        "; `microseg segments --all` lists the keys"
    raise InputError(f"KEY: no segment {key!r} in this run{hint}")


def segment_detail(store: Store, key: str, run_id: int | None = None) -> dict[str, Any]:
    doc = build_document(store, run_id, migration=False)
    report, k = doc["report"], int(doc["run"]["k"])
    segments = report.get("segments") or []
    seg = find_segment(segments, key)
    labels = {s["key"]: s["label"] for s in segments}
    family = seg["family"]
    method_report = (report.get("methods") or {}).get(family) or {}
    stored = {s.key: s for s in store.segments(doc["run"]["id"])}
    row = stored.get(seg["key"])
    out: dict[str, Any] = {
        "run_id": doc["run"]["id"], "k": k, "key": seg["key"], "family": family,
        "method": row.method if row else (doc.get("methods") or {}).get(family),
        "label": seg["label"], "status": seg.get("status"), "size": seg.get("size"),
        "description": seg.get("description", ""), "definition": definition(seg, method_report, labels),
        "drivers": drivers(seg["label"], method_report),
    }
    if row is not None and row.parent_key:
        out["parent"] = label_of(row.parent_key, labels)
    if seg.get("status") == "released":
        out["sub_segments"] = [{"label": s["label"], "size": s.get("size")} for s in segments
                               if s["family"] == family and s.get("status") == "released"
                               and stored.get(s["key"]) is not None and stored[s["key"]].parent_key == seg["key"]]
        if seg.get("reason"):
            out["note"] = reason(seg, labels, k)
    else:
        out["released_as"] = label_of(seg.get("released_as"), labels) or None
        out["reason"] = reason(seg, labels, k)
    return out


def definition(seg: dict[str, Any], method_report: dict[str, Any], labels: dict[str, str]) -> str:
    """How membership is decided, as far as the report says: a rule's condition, the chain of a
    microsegment's labels, or the method that assigned the label."""
    if seg["family"] == "micro":
        parts = seg["key"].split(":", 1)[1].split(KEY_SEP)
        return " and ".join(f"“{p}”" for p in parts)
    rules = method_report.get("definitions") or {}
    if seg["label"] in rules:
        return str(rules[seg["label"]])
    if rules:
        return "matches none of the rules " + ", ".join(f"“{name}”" for name in rules)
    return f"label “{seg['label']}” assigned by {seg['family']}"


def drivers(label: str, method_report: dict[str, Any]) -> list[str]:
    """What drives a segment, when the method reports it: its model's top drivers, or a cluster's
    strongest feature deviations (with their direction)."""
    top = (method_report.get("top_drivers") or {}).get(label)
    if top:
        return [str(d) for d in top]
    deviations = ((method_report.get("profiles") or {}).get(label) or {}).get("deviations") or {}
    strongest = sorted(deviations.items(), key=lambda kv: -abs(kv[1]))[:3]
    return [f"{in_words(name)} {'higher' if v > 0 else 'lower'} than average ({v:+.2f})"
            for name, v in strongest if abs(v) >= 0.1]
