"""Tables. Customers appear only as keyed pseudonyms (or not at all); never raw ids."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Column, Index, Text
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
    report: str = Field(sa_column=Column(Text))              # JSON, gate-checked


class Segment(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id", index=True)
    key: str
    family: str                                   # method instance id, or "micro"
    method: str                                   # method name ("rfm", ...) or "microsegments"
    label: str
    description: str = Field(sa_column=Column(Text))
    parent_key: str | None = None
    size: int                                     # true size (audit only; printing goes through the gate)
    status: str                                   # released | suppressed | merged
    released_as: str | None = None
    reason: str = ""
    released_size: int = 0


class RunCustomer(SQLModel, table=True):
    """A run's released customers, one row each: position, key and released segments.

    ``customer_key`` is a keyed pseudonym, the original id, or empty (``release.customer_ids``);
    ``segment_ids`` is a JSON array of the ``segment.id`` values the customer is released in
    (one row per customer instead of one per customer × segment: SQLite ``json_each`` and
    PostgreSQL ``::jsonb`` read it in SQL).
    """

    __table_args__ = (Index("ix_runcustomer_key", "customer_key"),)
    run_id: int = Field(foreign_key="run.id", primary_key=True)
    customer_no: int = Field(primary_key=True)
    customer_key: str | None = None
    segment_ids: str = Field(sa_column=Column(Text, nullable=False))
    scores: str | None = Field(default=None, sa_column=Column(Text))  # JSON when the policy allows


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
    """The chain head: last sequence number and hash (detects a deleted tail)."""

    id: int = Field(default=1, primary_key=True)
    seq: int
    hash: str
