"""The held-back table's reasons: quoted segment keys become labels, a piece without quotes is kept."""
from __future__ import annotations

from microseg.report.words import reason

LABELS = {"micro:A|B": "A × B", "micro:A": "A", "rules:vip": "vip"}


def test_quoted_keys_become_labels_longest_first():
    seg = {"status": "withheld", "reason": "kept apart from 'micro:A|B' and 'micro:A' (its parent): < k"}
    assert reason(seg, LABELS, 50) == "Kept apart from “A × B” and “A” (its parent): fewer than 50; not released"


def test_a_piece_without_quotes_is_kept_as_it_is():
    seg = {"status": "released", "reason": "partly released: some customers are released with a coarser value"}
    assert reason(seg, LABELS, 50) == "Partly released: some customers are released with a coarser value"


def test_an_unknown_quoted_key_is_left_quoted():
    seg = {"status": "withheld", "reason": "differs from 'rules:gone' by < k"}
    assert reason(seg, LABELS, 50) == "Differs from 'rules:gone' by fewer than 50; not released"
