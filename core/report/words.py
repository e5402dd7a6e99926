"""Plain words for what a report shows: counts, gate reasons, PII kinds and actions.

Shared by every built-in renderer so the HTML, Markdown and terminal say the same thing.
"""
from __future__ import annotations

import re
from typing import Any

KIND_WORDS = {
    "identifier": "customer identifier",
    "direct": "directly identifying",
    "quasi": "indirectly identifying (quasi-identifier)",
    "sensitive": "special-category (sensitive)",
    "none": "not personal",
}

ACTION_WORDS = {
    "drop": "removed before any method saw it",
    "redact": "redacted before any method saw it",
    "hash": "hashed for ad-platform audiences only; removed from the methods' input",
    "pseudonymise": "replaced by a keyed pseudonym",
    "generalise": "used by methods; generalised (coarsened) wherever it is released",
    "restrict": "kept out of segmentation and release",
    "keep": "kept",
}


def count(value: Any) -> str:
    """A count as printed: thousands separated; ``"< k"`` and other text unchanged; None as a dash."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float) and value.is_integer():
        return f"{int(value):,}"
    return str(value)


def number(value: Any, digits: int = 3) -> str:
    """A measured figure (AUC, lift, rate) rounded for reading; text unchanged."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) < 1 else f"{value:,.{max(0, digits - 2)}f}"
    if isinstance(value, (list, tuple)):
        return " – ".join(number(v, digits) for v in value)
    return str(value)


def share(value: Any) -> str:
    return "—" if not isinstance(value, (int, float)) else f"{100 * value:.1f}%"


def is_count(value: Any) -> bool:
    """True for a size that may be drawn (an integer, not ``"< k"``)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def label_of(key: str | None, labels: dict[str, str]) -> str:
    """The segment label for a key (``micro:A|B`` → ``A × B`` via ``labels``; unknown keys as given)."""
    if not key:
        return ""
    return labels.get(key, key.split(":", 1)[-1].replace("|", " × "))


def reason(segment: dict[str, Any], labels: dict[str, str], k: int) -> str:
    """Why the gate withheld (or reshaped) a segment, in a sentence a marketing lead can read.

    Known gate reasons are rephrased; anything else (a newer gate's own wording) is shown with
    the segment keys it quotes turned into labels and "< k" into "fewer than k".
    """
    raw = str(segment.get("reason") or "")
    status = segment.get("status", "")
    parts: list[str] = []
    for piece in [p.strip() for p in raw.split(";") if p.strip()]:
        if text := _piece(piece, labels, k):
            parts.append(text)
    if status == "merged" and segment.get("released_as"):
        parts.append(f"its customers are counted in “{label_of(segment['released_as'], labels)}” instead")
    elif status in ("suppressed", "withheld") and not any("not released" in p for p in parts):
        parts.append("not released")
    if not parts:
        return "released" if status == "released" else status
    text = "; ".join(dict.fromkeys(parts))
    return text[0].upper() + text[1:]


def reasons(segments: list[dict[str, Any]], labels: dict[str, str], k: int) -> list[str]:
    """:func:`reason` of each segment, worded once per distinct (reason, status, released_as) —
    the fields it reads: a run's hundreds of withheld microsegments share a few dozen."""
    worded: dict[tuple[str, str, str], str] = {}
    out = []
    for s in segments:
        fields = (str(s.get("reason") or ""), str(s.get("status", "")), str(s.get("released_as") or ""))
        text = worded.get(fields)
        if text is None:
            text = worded[fields] = reason(s, labels, k)
        out.append(text)
    return out


def _piece(piece: str, labels: dict[str, str], k: int) -> str:
    if piece == "size < k":
        return f"fewer than {k} customers"
    if piece == "remainder after its sub-segments < k":
        return f"fewer than {k} customers are left once its released sub-segments are taken out"
    if piece == "merged into the parent":
        return ""
    if piece == "no ancestor reached k":
        return f"no coarser segment reached {k} customers either, so they are not released"
    if piece == "released as the remainder of its released sub-segments":
        return "holds the customers who are not in one of its released sub-segments"
    m = re.fullmatch(r"differencing with '(.+)': difference < k", piece)
    if m:
        return (f"withheld so that comparing it with “{label_of(m.group(1), labels)}” cannot single out "
                f"fewer than {k} customers (differencing)")
    m = re.fullmatch(r"differencing: '(.+)' minus its released sub-segments of '(.+)' leaves < k", piece)
    if m:
        return (f"withheld so that “{label_of(m.group(1), labels)}” minus its released sub-segments cannot "
                f"single out fewer than {k} customers (differencing)")
    quotes = [i for i, ch in enumerate(piece) if ch == "'"] if "'" in piece else []   # keys quoted: between two quotes
    quoted = {piece[i + 1:j] for n, i in enumerate(quotes) for j in quotes[n + 1:]}
    found = [key for key in quoted if key in labels]
    if len(found) > 1:                                              # ties in length: in the labels' order
        found = [key for key in labels if key in quoted]
    for key in sorted(found, key=len, reverse=True):
        piece = piece.replace(f"'{key}'", f"“{labels[key]}”")
    return piece.replace("< k", f"fewer than {k}")


#: names of figures the built-in methods report, in words ("" leaves the level out of the name)
FIGURE_WORDS = {
    "evaluation": "", "k": "clusters (k)", "silhouette": "silhouette (−1 to 1; higher = better separated)",
    "stability_ari": "stability across refits (adjusted Rand index, 0 to 1)", "roc_auc": "ROC AUC",
    "pr_auc": "precision-recall AUC", "top_decile_lift": "lift in the top 10%", "brier": "Brier score (lower = better)",
    "positive_rate": "share of positives", "eligible": "customers evaluated",
    "n_trees": "trees", "cv_qini_train": "Qini AUC on training folds",
    "cv_uplift_at_30_train": "uplift in the top 30% on training folds", "qini_auc": "Qini AUC (held out)",
    "uplift_at_30": "uplift in the top 30%", "validation_auc": "validation AUC", "learner": "learner chosen",
    "protocol": "evaluation protocol", "risk_bounds": "risk thresholds (wavering, declining)",
    "training_cutoffs": "training cut-off dates", "training_rows": "training rows",
    "training_customers": "training customers", "features": "features used", "algorithm": "algorithm",
    "treated_rows": "contacted rows", "control_rows": "control rows",
}


def figure_name(key: Any) -> str:
    key = str(key)
    return FIGURE_WORDS.get(key, key.replace("_", " "))


def flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """(name · sub-name, leaf) pairs of nested dicts, for a figures table, the names in words; a
    list of records becomes one leaf saying how many entries it has."""
    if isinstance(value, dict):
        out: list[tuple[str, Any]] = []
        for key, v in value.items():
            name = figure_name(key)
            out += flatten(v, " · ".join(p for p in (prefix, name) if p))
        return out
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        return [(prefix, f"{len(value)} entries")]
    return [(prefix, value)]


def value_text(value: Any) -> str:
    """A leaf of :func:`flatten` as text: lists joined, floats rounded, counts separated."""
    if isinstance(value, list):
        return ", ".join(value_text(x) for x in value) if value else "—"
    if isinstance(value, float):
        return number(value, 4)
    return count(value)
