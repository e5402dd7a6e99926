"""Feature names in plain words, for the people who read drivers and profiles.

Models and cluster profiles work on column names such as ``purchases_90d_share``; a marketing
lead reads "share of purchases made in the last 90 days". :func:`in_words` is the one place that
turns a feature name into words (segment descriptions, ``microseg show``, the report).
Names it does not know (a customer attribute such as ``region``, a new plugin's feature) read as
the name with underscores as spaces — never an error.
"""
from __future__ import annotations

import re

#: fixed names (see docs/customer-frame.md and the clv-decline feature list)
WORDS: dict[str, str] = {
    "recency_days": "days since the last purchase",
    "frequency": "number of purchases",
    "monetary": "total spend",
    "tenure_days": "days as a customer",
    "avg_basket": "average basket value",
    "interpurchase_days": "usual days between purchases",
    "return_share": "share of spend returned",
    "contacts": "campaign contacts",
    "responses": "campaign responses",
    "response_rate": "campaign response rate",
    "spend_prev_window": "spend in {prev}",
    "window_vs_prev": "change in spend between the last two {periods}",
    "window_share_of_year": "spend in {window} as a share of the year's",
    "spend_per_tenure_day": "spend per day as a customer",
    "recency_vs_gap": "days since the last purchase against the usual gap",
    "window_vs_gap": "{forecast} against the usual gap between purchases",
    "p_alive": "chance the customer is still active (BG/NBD)",
    "expected_purchases": "expected purchases in {next} (BG/NBD)",
    "expected_spend": "expected spend in {next} (BG/NBD)",
    "expected_vs_window": "expected spend against spend in {window}",
    "active_weeks": "share of recent weeks with a purchase",
    "week_concentration": "largest week's share of recent spend",
    "lines_per_invoice": "order lines per order in {window}",
    "units_per_invoice": "items per order in {window}",
    "basket_lines_trend": "change in order lines per order between the last two {periods}",
    "basket_units_trend": "change in items per order between the last two {periods}",
}

#: suffix of clv-decline's cross-sectional ranks (``spend_last_90d_rank``: a level's percentile)
RANK_SUFFIX = "_rank"

#: (pattern, template) for the families of names that carry a number of days or a level
PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), t) for p, t in (
    (r"^spend_(?:last_)?(\d+)d$", "spend in the last {0} days"),
    (r"^spend_prev_(\d+)d$", "spend in the {0} days before the last {0}"),
    (r"^trend_(\d+)d$", "spend trend over {0} days (last against previous)"),
    (r"^purchases_(\d+)d$", "purchases in the last {0} days"),
    (r"^purchases_(\d+)d_share$", "share of purchases made in the last {0} days"),
    (r"^last(\d+)_share_of_window$", "share of spend in {window} made in the last {0} days"),
    (r"^share_cat_(.+)$", "share of spend on {0}"),
    (r"^share_(.+)$", "share of spend via {0}"),
    (r"^contacts_(.+)$", "campaign contacts by {0}"),
    (r"^responses_(.+)$", "campaign responses by {0}"),
))


def in_words(name: str, window_days: int | None = None) -> str:
    """``name`` (a feature column) as a short phrase without commas; ``window_days`` is the
    length of the model's window (clv-decline's horizon), named where a feature compares it."""
    name = str(name)
    periods = ({"window": f"the last {window_days} days", "prev": f"the {window_days} days before the last {window_days}",
                "next": f"the next {window_days} days", "periods": f"{window_days}-day periods",
                "forecast": f"forecast window ({window_days} days)"} if window_days else
               {"window": "the last window", "prev": "the window before the last", "next": "the next window",
                "periods": "windows", "forecast": "forecast window"})
    words = _own_words(name, periods)
    if words is None and name.endswith(RANK_SUFFIX):
        level = _own_words(name[:-len(RANK_SUFFIX)], periods)
        words = None if level is None else f"rank of {level} among active customers"
    return words if words is not None else name.replace("_", " ").replace(",", " ").strip() or name


def _own_words(name: str, periods: dict[str, str]) -> str | None:
    """The words of a known name or family of names (None for any other name)."""
    if name in WORDS:
        return WORDS[name].format(**periods)
    for pattern, template in PATTERNS:
        match = pattern.match(name)
        if match:
            return template.format(*(g.replace("_", " ") for g in match.groups()), **periods)
    return None
