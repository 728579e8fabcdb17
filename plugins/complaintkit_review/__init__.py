"""People in the loop of classification: which automatic labels need a person's look
(``[review]`` thresholds), and recording the person's decisions (see :mod:`.queue`)."""

from .queue import (
    DEFAULT_THRESHOLD,
    MANUAL,
    DecisionOutcome,
    ReviewItem,
    ReviewSettings,
    apply_decisions,
    decide,
    decision_reason,
    due_for_review,
    queue,
    review_record,
    review_records,
)

__all__ = [
    "DEFAULT_THRESHOLD",
    "MANUAL",
    "DecisionOutcome",
    "ReviewItem",
    "ReviewSettings",
    "apply_decisions",
    "decide",
    "decision_reason",
    "due_for_review",
    "queue",
    "review_record",
    "review_records",
]
