"""microseg — governed customer microsegmentation.

Public API (imported lazily: ``import microseg`` is cheap, pandas and the models load on first use)::

    import microseg
    result = microseg.run("microseg.toml")        # a governed run, stored (see microseg.api)
    result.segments                               # released segments as a DataFrame
    result.memberships()                          # released memberships, one row per customer x segment
    microseg.check("microseg.toml")               # the preflight `microseg check` prints
    data = microseg.customer_data(transactions=tx, customer_id="CustomerID", timestamp="InvoiceDate",
                                  quantity="Quantity", unit_price="UnitPrice")
    microseg.SegmentationMethod                   # base class of segmentation methods
    microseg.hookimpl                             # decorator for plugin hook implementations
    microseg.CustomerData                         # the run's data on the pandas engine (microseg.engine.Engine)
    microseg.clone                                # a new, unfitted method with the same parameters
    microseg.NotFittedError                       # assign / scores before fit
    microseg.testing.check_method                 # checks a method class against the contract
    microseg.progress                             # progress reporting for long loops in methods
    microseg.errors                               # ConfigError, InputError: what methods raise on bad input
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: public name -> (module, attribute or None for the module itself)
_LAZY: dict[str, tuple[str, str | None]] = {
    "Assignment": ("microseg.method", "Assignment"),
    "NotFittedError": ("microseg.method", "NotFittedError"),
    "SegmentationMethod": ("microseg.method", "SegmentationMethod"),
    "clone": ("microseg.method", "clone"),
    "CustomerData": ("microseg.data", "CustomerData"),
    "hookimpl": ("microseg.hookspecs", "hookimpl"),
    "run": ("microseg.api", "run"),
    "open_store": ("microseg.api", "open_store"),
    "check": ("microseg.preflight", "check"),
    "customer_data": ("microseg.frames", "customer_data"),
    "RunResult": ("microseg.pipeline", "RunResult"),
    "api": ("microseg.api", None),
    "errors": ("microseg.errors", None),
    "testing": ("microseg.testing", None),
    "progress": ("microseg.progress", None),
}

__all__ = sorted([*_LAZY, "__version__"])

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from microseg import api, errors, progress, testing
    from microseg.api import open_store, run
    from microseg.data import CustomerData
    from microseg.frames import customer_data
    from microseg.hookspecs import hookimpl
    from microseg.method import Assignment, NotFittedError, SegmentationMethod, clone
    from microseg.pipeline import RunResult
    from microseg.preflight import check


def __getattr__(name: str) -> Any:
    """Import a public name on first use (PEP 562)."""
    try:
        module_name, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'microseg' has no attribute {name!r}") from None
    module = importlib.import_module(module_name)
    value = module if attr is None else getattr(module, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
