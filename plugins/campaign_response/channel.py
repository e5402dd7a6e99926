"""Channel preference from campaign contacts, smoothed toward each channel's population rate.

Per customer and channel, the response rate is smoothed with ``prior_strength``
pseudo-contacts at the channel's population rate (one lucky response does not make a
preference). The preferred channel is the one with the highest smoothed rate when it beats the
customer's next-best channel by ``min_lift`` and rests on at least ``min_contacts`` contacts;
customers contacted at least 2 × ``min_contacts`` times whose smoothed overall rate is below two
thirds of the population's are "Unresponsive"; the rest are "No evidence".
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from microseg.errors import ConfigError

UNRESPONSIVE = "Unresponsive"
NO_EVIDENCE = "No evidence"
PREFIX = "Responds to "


def channel_label(channel: str) -> str:
    return f"{PREFIX}{'SMS' if channel == 'sms' else channel}"


def channel_response(customers: pd.DataFrame, events: pd.DataFrame | None) -> dict[str, dict[str, Any]]:
    """Contacts, responses and response rate per channel (treated and control rates when the
    contacts have a control group, ``events``): aggregate figures for the report."""
    out: dict[str, dict[str, Any]] = {}
    if events is not None and "channel" in events.columns:
        for ch, part in events.groupby("channel", sort=True):
            t = part["treatment"].to_numpy(dtype=int)
            r = part["responded"].to_numpy(dtype=float)
            out[str(ch)] = {"contacts": int((t == 1).sum()), "responses": int(r[t == 1].sum()),
                            "response_rate": round(float(r[t == 1].mean()), 4) if (t == 1).any() else None,
                            "control_contacts": int((t == 0).sum()),
                            "control_rate": round(float(r[t == 0].mean()), 4) if (t == 0).any() else None}
        return out
    for col in (c for c in customers.columns if str(c).startswith("contacts_")):
        ch = str(col).removeprefix("contacts_")
        if f"responses_{ch}" in customers.columns:
            sent = float(customers[col].fillna(0).sum())
            got = float(customers[f"responses_{ch}"].fillna(0).sum())
            out[ch] = {"contacts": int(sent), "responses": int(got),
                       "response_rate": round(got / sent, 4) if sent else None}
    return out


@dataclass(frozen=True)
class ChannelPreference:
    """Labels and per-channel smoothed rates from the ``contacts_<channel>`` /
    ``responses_<channel>`` columns of the customer-level frame (nothing to fit)."""

    prior_strength: float = 20.0
    min_contacts: int = 3
    min_lift: float = 1.25

    def labels(self, customers: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
        """Per customer: the label, and scores ``rate_<channel>`` plus ``preferred_channel``."""
        chans = sorted(c.removeprefix("contacts_") for c in customers.columns if str(c).startswith("contacts_"))
        if not chans:
            raise ConfigError("campaign-response: channel segments need campaign events (a [sources.events] "
                              "table with a channel column)")
        sent = customers[[f"contacts_{c}" for c in chans]].to_numpy(dtype=float)
        resp = customers[[f"responses_{c}" for c in chans]].to_numpy(dtype=float)
        pop = resp.sum(axis=0) / np.maximum(sent.sum(axis=0), 1)
        r = (resp + self.prior_strength * pop) / (sent + self.prior_strength)
        order = np.argsort(-r, axis=1)
        best, second = order[:, 0], order[:, 1] if r.shape[1] > 1 else order[:, 0]
        rows = np.arange(len(r))
        best_rate = r[rows, best]
        next_rate = r[rows, second] if r.shape[1] > 1 else np.full(len(r), 0.0)
        enough = sent[rows, best] >= self.min_contacts
        lift_ok = best_rate >= self.min_lift * np.maximum(next_rate, 1e-9) if r.shape[1] > 1 else \
            best_rate >= self.min_lift * pop[0]
        total = sent.sum(axis=1)
        got = resp.sum(axis=1)
        pop_all = got.sum() / max(total.sum(), 1)
        overall = (got + self.prior_strength * pop_all) / (total + self.prior_strength)
        unresponsive = (total >= 2 * self.min_contacts) & (overall < 2 / 3 * pop_all)
        channels = np.array(chans, dtype=object)
        names = np.array([channel_label(c) for c in channels], dtype=object)
        preferred = enough & lift_ok
        labels = np.where(preferred, names[best], np.where(unresponsive, UNRESPONSIVE, NO_EVIDENCE))
        scores = pd.DataFrame(r, index=customers.index, columns=chans).add_prefix("rate_")
        scores["preferred_channel"] = np.where(preferred, channels[best], None)
        return pd.Series(labels, index=customers.index), scores

    def describe(self, label: str) -> str | None:
        if label == UNRESPONSIVE:
            return f"contacted at least {2 * self.min_contacts} times; responds well below the average rate"
        if label == NO_EVIDENCE:
            return "too few contacts or no clear difference between channels"
        if label.startswith(PREFIX):
            return f"prefers {label.removeprefix(PREFIX)}: clearly the best smoothed response rate"
        return None
