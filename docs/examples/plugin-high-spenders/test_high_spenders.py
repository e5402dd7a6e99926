"""The plugin's own tests: microseg's contract checks, then what the method means."""
import pandas as pd
from microseg.testing import check_method, synthetic_data
from microseg_high_spenders import HighSpenders


def test_high_spenders_keeps_the_method_contract():
    check_method(HighSpenders)
    check_method(HighSpenders, params={"threshold": 500.0})


def test_high_spenders_labels():
    data = synthetic_data()
    customers = data.features()
    labels = HighSpenders(threshold=500.0).fit(customers).assign(customers)
    assert (labels == "high").sum() == (customers["monetary"] > 500.0).sum() > 0
