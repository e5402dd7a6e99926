"""Tables. Customers appear only as keyed pseudonyms (or not at all); never raw ids."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Column, Index, LargeBinary, Text
from sqlmodel import Field, SQLModel


def utcnow() -> str:
    """UTC time as ISO-8601 text (stored as text: identical on every database, hashable)."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


class Run(SQLModel, table=True):
    """One governed segmentation run. Only complete runs are ever stored (atomic write)."""

    id: int | None = Field(default=None, primary_key=True)
    created_at: str = Field(default_factory=utcnow)
    status: str = "complete"                      # complete | needs-rerun
    as_of: str
    engine: str = "pandas"
    config_hash: str
    policy_hash: str
    input_fingerprint: str = Field(sa_column=Column(Text))   # JSON
    plugin_versions: str = Field(sa_column=Column(Text))     # JSON
    timings: str = Field(sa_column=Column(Text))             # JSON, seconds per step
    n_customers: int
    k: int
    customer_ids: str = "pseudonym"              # how RunCustomer.customer_key was written
    key_id: str = ""                              # id of the pseudonymisation key (not the key)
    namespace: str | None = None                  # who can join this run's rows with others' (None: nobody)
    scope: str = Field(default="{}", sa_column=Column(Text))  # JSON: release scope and earlier runs checked
    report: str = Field(sa_column=Column(Text))              # JSON, gate-checked


class Segment(SQLModel, table=True):
    """A candidate segment of a run, or a released value of a column (a score band, an
    attribute value, a family's withheld value ``*``): ``released_size`` customers carry it."""

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id", index=True)
    key: str
    family: str                                   # released column: method instance id, "micro", score, attribute
    method: str                                   # method name, "microsegments", "score band", "attribute", "withheld"
    label: str
    description: str = Field(sa_column=Column(Text))
    parent_key: str | None = None
    size: int                                     # true size (audit only; never printed)
    status: str                                   # released | merged | withheld | not-released
    released_as: str | None = None
    reason: str = ""
    released_size: int = 0


class RunCustomer(SQLModel, table=True):
    """A run's released customers, one row each: position, key and released values.

    ``customer_key`` is a keyed pseudonym, the original id, or empty (``release.customer_ids``);
    ``segment_ids`` is a JSON array of the ``segment.id`` values the customer is released with —
    every released value is a segment row, so this list *is* the customer's released vector
    (one row per customer instead of one per customer × segment: SQLite ``json_each`` and
    PostgreSQL ``::jsonb`` read it in SQL).
    """

    __table_args__ = (Index("ix_runcustomer_key", "customer_key"),)
    run_id: int = Field(foreign_key="run.id", primary_key=True)
    customer_no: int = Field(primary_key=True)
    customer_key: str | None = None
    segment_ids: str = Field(sa_column=Column(Text, nullable=False))


class ReleaseCells(SQLModel, table=True):
    """Per run: each released customer's cell, for checking later runs against this one.

    ``keys`` are 64-bit hashes of the stored customer keys (sorted, big-endian uint64 bytes),
    ``codes`` the cell of each (int32 bytes); ``cells`` (JSON) gives each cell's family values.
    Runs whose rows cannot be joined (``customer_ids = "none"``) store none.
    """

    run_id: int = Field(foreign_key="run.id", primary_key=True)
    namespace: str = Field(index=True)
    keys: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    codes: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    cells: str = Field(sa_column=Column(Text, nullable=False))


class AuditEvent(SQLModel, table=True):
    """Append-only, hash-chained: ``hash = sha256(prev_hash + canonical event)``."""

    seq: int = Field(primary_key=True)
    ts: str = Field(default_factory=utcnow)
    kind: str
    run_id: int | None = None
    payload: str = Field(sa_column=Column(Text))    # JSON, never personal data
    prev_hash: str
    hash: str


class AuditHead(SQLModel, table=True):
    """The chain head: last sequence number and hash, and an HMAC of both under a key derived
    from the pseudonymisation key (not in the store): a deleted tail with a rewritten head is
    detected by whoever holds the key."""

    id: int = Field(default=1, primary_key=True)
    seq: int
    hash: str
    mac: str
    key_id: str
