"""``microseg.customer_data``: a :class:`~microseg.data.CustomerData` from your own DataFrames or
files, with your column names — the notebook route to the frame every method receives.

It maps columns exactly as ``[sources.*]`` does in ``microseg.toml`` and validates them with the
loader's own code (ids, dates, numbers; errors name the table, column and row), so methods used
from a notebook see the same documented columns as in a run (``docs/customer-frame.md``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from microseg.errors import ConfigError

ROLES = ("customers", "transactions", "events")


def customer_data(customers: Any = None, transactions: Any = None, events: Any = None, *,
                  customer_id: str | None = "customer_id", timestamp: str | None = None, amount: str | None = None,
                  quantity: str | None = None, unit_price: str | None = None, invoice: str | None = None,
                  channel: str | None = None, category: str | None = None, attributes: list[str] | None = None,
                  signup_date: str | None = None, dates: list[str] | None = None,
                  events_columns: dict[str, str] | None = None, as_of: Any = None) -> Any:
    """Customers, transactions and campaign events (DataFrames or file paths) as CustomerData.

    ``customer_id`` names the id column of every table given (``events_columns`` may override it
    for events); ``timestamp``, ``amount`` (or ``quantity`` and ``unit_price``), ``invoice``,
    ``channel``, ``category`` and ``attributes`` map the transactions' columns; ``signup_date``
    and ``dates`` the customers'; ``events_columns`` the events' (keys as in ``[sources.events]``:
    timestamp, channel, responded, campaign, treatment, treatment_value, control_value).

    >>> data = microseg.customer_data(transactions=tx, customer_id="CustomerID",   # doctest: +SKIP
    ...                               timestamp="InvoiceDate", quantity="Quantity", unit_price="UnitPrice")
    >>> frame = data.features()                                                    # doctest: +SKIP
    """
    from pydantic import ValidationError

    from microseg.config import Config, explain
    from microseg.loading import load_data
    given = {"customers": customers, "transactions": transactions, "events": events}
    sources: dict[str, dict[str, Any]] = {}
    frames = {}
    for role, value in given.items():
        if value is None:
            continue
        if isinstance(value, (str, Path)):
            sources[role] = {"path": str(value)}
        else:
            sources[role] = {"path": f"<{role} DataFrame>"}
            frames[role] = value
    if "customers" in sources:
        sources["customers"] |= _given(customer_id=customer_id, signup_date=signup_date, dates=dates)
    if "transactions" in sources:
        sources["transactions"] |= _given(customer_id=customer_id, timestamp=timestamp, amount=amount,
                                          quantity=quantity, unit_price=unit_price, invoice=invoice, channel=channel,
                                          category=category, attributes=attributes)
    if "events" in sources:
        sources["events"] |= _given(customer_id=customer_id) | dict(events_columns or {})
    raw = {"sources": sources} | ({"as_of": as_of} if as_of is not None else {})
    try:
        cfg = Config.model_validate(raw)
    except ValidationError as exc:
        key, message = explain(exc.errors()[0])
        raise ConfigError(message, key=key) from None
    cfg.base_dir = Path.cwd()
    data, _ = load_data(cfg, frames)
    return data


def _given(**mapping: Any) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if v is not None}
