"""Gate reasons worded once per distinct (reason, status, released_as)."""
from __future__ import annotations

from microseg.report.words import reason, reasons

LABELS = {"micro:a|x": "A × X", "micro:a": "A", "rfm:Champions": "Champions"}


def test_reasons_match_reason_one_by_one():
    segments = [
        {"reason": "size < k", "status": "withheld"},
        {"reason": "size < k", "status": "merged", "released_as": "micro:a"},
        {"reason": "size < k", "status": "merged", "released_as": "micro:a|x"},
        {"reason": "size < k", "status": "withheld"},
        {"reason": "differencing with 'rfm:Champions': difference < k", "status": "withheld"},
        {"reason": "size < k; no ancestor reached k", "status": "suppressed"},
        {"status": "merged", "released_as": "micro:a"},
        {"reason": "", "status": "released"},
        {"reason": "size < k", "status": "merged", "released_as": "micro:a"},
        {"reason": ["size < k"], "status": "withheld"},           # not a string: still worded, as by reason()
        {"reason": None, "status": "withheld", "released_as": None},
    ]
    assert reasons(segments, LABELS, 50) == [reason(s, LABELS, 50) for s in segments]
    assert reasons([], LABELS, 50) == []
