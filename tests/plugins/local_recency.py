"""A local plugin file, loaded with ``--plugin tests/plugins/local_recency.py``."""
import pandas as pd

import microseg

__version__ = "0.0.1"


class RecentBuyers(microseg.SegmentationMethod):
    name = "recent-buyers"
    summary = "Bought within the last N days"

    def __init__(self, *, days: int = 30):
        self.days = days

    def assign(self, customers: pd.DataFrame) -> pd.Series:
        recent = customers["recency_days"].fillna(1e9) <= self.days
        return pd.Series(["recent" if r else "not recent" for r in recent], index=customers.index)

    def scores(self, customers: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"recency_days": customers["recency_days"]})

    def describe(self, label: str) -> str:
        return f"bought in the last {self.days} days" if label == "recent" else f"no purchase in {self.days} days"


@microseg.hookimpl
def register_methods(register):
    register(RecentBuyers)
