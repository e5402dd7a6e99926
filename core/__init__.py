"""microseg — governed customer microsegmentation.

Public API::

    import microseg
    microseg.SegmentationMethod   # base class of segmentation methods
    microseg.hookimpl             # decorator for plugin hook implementations
    microseg.CustomerData         # the run's data on the pandas engine (microseg.engine.Engine)
    microseg.clone                # a new, unfitted method with the same parameters
    microseg.NotFittedError       # assign / scores before fit
    microseg.testing.check_method # checks a method class against the contract
"""
from __future__ import annotations

from microseg.data import CustomerData
from microseg.hookspecs import hookimpl
from microseg.method import Assignment, NotFittedError, SegmentationMethod, clone

__version__ = "0.1.0"

__all__ = ["Assignment", "CustomerData", "NotFittedError", "SegmentationMethod", "__version__", "clone", "hookimpl"]
