"""The SQLModel store: runs, segments, memberships, customers keys and the audit trail."""
from microseg.store.models import AuditEvent, AuditHead, Membership, Run, RunCustomer, Segment
from microseg.store.store import Store, resolve_url

__all__ = ["AuditEvent", "AuditHead", "Membership", "Run", "RunCustomer", "Segment", "Store", "resolve_url"]
