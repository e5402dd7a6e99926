"""The SQLModel store: runs, segments, released customers with their segments, and the audit trail."""
from microseg.store.models import AuditEvent, AuditHead, ReleaseCells, Run, RunCustomer, Segment
from microseg.store.store import Store, open_store, resolve_url, store_timeouts

__all__ = ["AuditEvent", "AuditHead", "ReleaseCells", "Run", "RunCustomer", "Segment", "Store", "open_store",
           "resolve_url", "store_timeouts"]
