import microseg, pandas as pd

class HighSpenders(microseg.SegmentationMethod):
    name = "high-spenders"                      # how configs refer to it
    def __init__(self, *, threshold: float = 100.0):   # keyword-only params, stored unchanged
        self.threshold = threshold
    def fit(self, customers: pd.DataFrame) -> "HighSpenders":
        # learn from the customer-level frame; fitted attributes end in "_"
        self.share_high_ = float((customers["monetary"] > self.threshold).mean())
        return self
    def assign(self, customers: pd.DataFrame) -> pd.Series:
        # one label per customer, index = customer id; reads, never changes, the method
        return pd.Series(["high" if m > self.threshold else "other"
                          for m in customers["monetary"]], index=customers.index)
    def describe(self, label: str) -> str:
        return f"net spend above {self.threshold}" if label == "high" else f"net spend up to {self.threshold}"

@microseg.hookimpl
def register_methods(register):
    register(HighSpenders)
