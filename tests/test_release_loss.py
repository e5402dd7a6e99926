"""A release's loss figures: computed once, handed out as copies."""
from __future__ import annotations

import numpy as np

from microseg.privacy.columns import Column
from microseg.privacy.gate import GateOutcome
from microseg.privacy.release import Release


def test_loss_is_computed_once_and_each_caller_gets_its_own_copy(monkeypatch):
    truth = np.array([[1, 1, 2, 2]], dtype=np.int32)
    column = Column("c", "family", ["*", "a", "b"], np.vstack([np.zeros_like(truth), truth]))
    outcome = GateOutcome(columns=[column], codes=np.array([[1, 1, 0, 0]], dtype=np.int32),
                          held=np.zeros((1, 4), dtype=bool), rounds=1, k=2)
    release = Release(outcome=outcome, segment_rows=[], members={}, cells=None, scope={}, k=2)
    first = release.loss()
    assert first == outcome.loss() | {"stranded_customers": 0}
    monkeypatch.setattr(GateOutcome, "loss", lambda self: (_ for _ in ()).throw(AssertionError("computed again")))
    first["per_column"]["c"]["withheld_share"] = 99.0                 # one caller's change …
    assert release.loss()["per_column"]["c"]["withheld_share"] == 0.0  # … is not the next caller's
    assert release.audit_summary()["loss"] == release.loss()
