"""microseg — governed customer microsegmentation.

Public API::

    import microseg
    microseg.SegmentationMethod   # base class of segmentation methods
    microseg.hookimpl             # decorator for plugin hook implementations
    microseg.CustomerData         # the run's data: customers, transactions, campaign events
"""
from __future__ import annotations

from microseg.data import CustomerData
from microseg.hookspecs import hookimpl
from microseg.method import Assignment, SegmentationMethod

__version__ = "0.1.0"

__all__ = ["Assignment", "CustomerData", "SegmentationMethod", "__version__", "hookimpl"]
