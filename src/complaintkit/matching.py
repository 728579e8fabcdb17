"""Conditions on a complaint, written in configuration: which policy, route or fast channel applies.

A :class:`Match` is structured from a TOML table (:mod:`complaintkit.settings`) such as::

    match = { labels = ["severity=serious", "behaviour=extreme"], channels = ["phone"] }

Within one key the values are alternatives (any may match); across keys every key must match.
An empty match matches every complaint. Keys:

* ``labels`` — ``"scheme=label"`` pairs;
* ``channels`` — channel values (phone, email, wechat, …) or their names in English or Chinese;
* ``products`` — exact product names;
* ``tags`` — tags the complaint carries;
* ``has_order`` — true: the complainant bought something (after-sale); false: no order (pre-sale).
"""

from __future__ import annotations

import attrs

from .model import Channel, Complaint

__all__ = ["Match"]


@attrs.frozen
class Match:
    """A condition on a complaint (see the module docstring)."""

    labels: tuple[tuple[str, str], ...] = ()
    channels: frozenset[Channel] = frozenset()
    products: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    has_order: bool | None = None

    def matches(self, c: Complaint) -> bool:
        """True if ``c`` satisfies every key of the condition."""
        if self.labels and not any(c.label(scheme) == label for scheme, label in self.labels):
            return False
        if self.channels and c.channel not in self.channels:
            return False
        if self.products and c.product not in self.products:
            return False
        if self.tags and not self.tags.intersection(c.tags):
            return False
        return self.has_order is None or bool(c.order) == self.has_order

    def describe(self) -> str:
        """A short human-readable form, for explanations in events and output."""
        parts = []
        if self.labels:
            parts.append(" or ".join(f"{s}={lb}" for s, lb in self.labels))
        if self.channels:
            parts.append("channel " + " or ".join(sorted(c.value for c in self.channels)))
        if self.products:
            parts.append("product " + " or ".join(sorted(self.products)))
        if self.tags:
            parts.append("tag " + " or ".join(sorted(self.tags)))
        if self.has_order is not None:
            parts.append("with an order" if self.has_order else "without an order")
        return ", ".join(parts) or "every complaint"
