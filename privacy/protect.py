"""The privacy step of a run, the same on every engine: erase, scan, mask, fold.

:func:`protect` takes the loaded data (any engine) and returns it protected:

1. **erasure** — customers on the erasure list (keyed hashes, :mod:`microseg.privacy.erasure`)
   are removed from every table;
2. **scan** — every table (customers, transactions, events, and any table an engine adds) is
   scanned column by column (:mod:`microseg.privacy.scan`);
3. **mask** — each column gets its action (:mod:`microseg.privacy.kinds`: the policy's
   ``[privacy] columns`` over the scan's proposal); drop, redact, pseudonymise and hash happen
   here, before any feature or method;
4. **fold** — every text level that is not held by at least k customers or fails the value scan
   becomes ``"other"`` (:mod:`microseg.privacy.vocabulary`), so no rare or personal value can
   name a feature, label, score, report or audit entry;
5. **declared levels** — the levels of customers columns that the methods' own level tests name
   (a rule ``Country in ('Iceland', 'Malta')``) are kept aside, per customer, for those methods
   alone (:mod:`microseg.privacy.declared`).

An engine provides four operations on its data (``CustomerData`` for pandas, the Dask engine's
on its workers): ``table_names()``, ``scan_table(name, registry)``, ``summarise(name, fn)``
(``fn`` on each partition, customer ids as the column ``customer_id``) and
``transformed(fn, erased)`` (every table through ``fn(name, partition)``, erased customers
removed). The pipeline calls :func:`protect` and never asks which engine ran.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pandas as pd

from microseg.privacy.declared import Declared, LevelTest, by_column, declared_values
from microseg.privacy.kinds import MASKING_ACTIONS
from microseg.privacy.masking import column_actions, mask_table
from microseg.privacy.policy import PrivacyPolicy
from microseg.privacy.scan import ColumnFinding, personal_values, qualified_name
from microseg.privacy.vocabulary import Vocabulary, choose_levels, combine_holders, level_holders, text_columns


@dataclass
class Protected:
    """The protected data and what was done (column names, kinds, actions, counts — no values)."""

    data: Any
    findings: list[ColumnFinding]
    actions: dict[str, str]                      # "col" (customers) / "table.col" → action
    vocabulary: Vocabulary = field(default_factory=Vocabulary)
    erased: int = 0                              # customers removed by the erasure list
    declared: Declared = field(default_factory=Declared)   # folded levels the methods' tests name

    @property
    def applied(self) -> dict[str, str]:
        """Customers columns whose raw values are gone (dropped, redacted, pseudonymised, hashed)."""
        return {c: a for c, a in self.actions.items() if a in MASKING_ACTIONS and "." not in c}

    def summary(self) -> dict[str, Any]:
        return {"folded": self.vocabulary.counts}


@dataclass(frozen=True)
class ProtectionPlan:
    """What :func:`protect` applies to each partition of each table (picklable: the Dask engine
    ships it to its workers)."""

    actions: dict[str, dict[str, str]]           # table → column → action
    vocabulary: Vocabulary
    key: bytes

    def __call__(self, table: str, frame: pd.DataFrame) -> pd.DataFrame:
        masked = mask_table(frame, {c: a for c, a in self.actions.get(table, {}).items() if c != "customer_id"},
                            self.key)
        return self.vocabulary.fold(table, masked)


def protect(data: Any, policy: PrivacyPolicy, key: bytes, registry: Any, *,
            erased: pd.Index | None = None, tests: tuple[LevelTest, ...] = ()) -> Protected:
    """Erase, scan, mask and fold every table of ``data``; keep aside the folded levels of the
    customers table that ``tests`` name (see the module docstring)."""
    findings: list[ColumnFinding] = []
    for table in data.table_names():
        for f in data.scan_table(table, registry):
            f.table = table
            findings.append(f)
    actions = column_actions(findings, policy)
    per_table: dict[str, dict[str, str]] = {}
    for f in findings:
        per_table.setdefault(f.table, {})[f.column] = actions[f.qualified]
    for name, action in policy.columns.items():       # policy columns the scan did not see
        table, _, col = name.rpartition(".")
        per_table.setdefault(table or "customers", {}).setdefault(col, action)
    vocabulary = _vocabulary(data, per_table, policy, registry, erased)
    declared = _declared(data, per_table.get("customers", {}), vocabulary, tests, erased)
    plan = ProtectionPlan(actions=per_table, vocabulary=vocabulary, key=key)
    out = data.transformed(plan, erased if erased is not None and len(erased) else None)
    return Protected(data=out, findings=findings, actions=actions, vocabulary=vocabulary,
                     erased=int(len(erased)) if erased is not None else 0, declared=declared)


def protect_run(data: Any, cfg: Any, store: Any, registry: Any, keyring: Any,
                tests: tuple[LevelTest, ...] = ()) -> tuple[Protected, dict[str, Any]]:
    """:func:`protect` for a governed run: the store's erasure list applied under ``keyring``;
    returns the protected data and the run's erasure record (key id, entries applied)."""
    from microseg.privacy.erasure import erased_ids, erasure_list, run_record
    entries = erasure_list(store)
    erased = erased_ids(data.ids, entries, keyring)
    return (protect(data, cfg.privacy, keyring.current, registry, erased=erased, tests=tests),
            run_record(entries, keyring))


def _declared(data: Any, actions: dict[str, str], vocabulary: Vocabulary, tests: tuple[LevelTest, ...],
              erased: pd.Index | None) -> Declared:
    """The raw levels of the customers table that ``tests`` name and folding removes (columns
    whose values are masked are left as masked: a test on them sees what every method sees)."""
    kept = vocabulary.kept.get("customers", {})
    wanted = {c: ts for c, ts in by_column(tests).items() if c in kept and actions.get(c) not in MASKING_ACTIONS}
    if not wanted or "customers" not in data.table_names():
        return Declared()
    parts = data.summarise("customers", partial(declared_values, tests=wanted, kept=kept, erased=erased))
    return Declared.combine(parts)


def _vocabulary(data: Any, actions: dict[str, dict[str, str]], policy: PrivacyPolicy, registry: Any,
                erased: pd.Index | None) -> Vocabulary:
    """Which levels of which text columns may name something (held by >= k customers, no
    personal data inside)."""
    k = policy.min_segment_size
    consent = set(policy.consent.values())
    kept: dict[str, dict[str, frozenset]] = {}
    counts: dict[str, dict[str, int]] = {}
    for table in data.table_names():
        exempt = {c for c, a in actions.get(table, {}).items() if a in MASKING_ACTIONS}
        if table == "customers":
            exempt |= consent
        parts = data.summarise(table, partial(_holders_of, exempt=frozenset(exempt), cap=k, erased=erased))
        holders = combine_holders(parts, k)
        candidates = sorted({str(lv) for levels in holders.values() for lv, n in levels.items() if n >= k})
        unsafe = personal_values(candidates, registry=registry) if candidates else set()
        chosen, table_counts = choose_levels(holders, k, unsafe)
        kept[table] = chosen
        counts.update({qualified_name(table, c) if table != "customers" else f"customers.{c}": n
                       for c, n in table_counts.items()})
    return Vocabulary(kept=kept, counts=counts)


def _holders_of(frame: pd.DataFrame, *, exempt: frozenset, cap: int, erased: pd.Index | None) -> dict:
    return level_holders(frame, text_columns(frame, exempt), cap, erased)
