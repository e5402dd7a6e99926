import microseg, pandas as pd

class HighSpenders(microseg.SegmentationMethod):
    name = "high-spenders"                      # how configs refer to it
    def __init__(self, *, threshold: float = 100.0):   # keyword-only params
        self.threshold = threshold
    def fit(self, customers: pd.DataFrame) -> "HighSpenders":
        return self                             # learn from the customer-level frame
    def assign(self, customers: pd.DataFrame) -> pd.Series:
        # one label per customer, index = customer id
        return pd.Series(["high" if m > self.threshold else "other"
                          for m in customers["monetary"]], index=customers.index)

@microseg.hookimpl
def register_methods(register):
    register(HighSpenders)
