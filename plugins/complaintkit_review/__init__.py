"""People in the loop of classification: which automatic labels need a person's look
(``[review]`` thresholds), and recording the person's decisions (see :mod:`.queue`)."""

from .queue import (
    DEFAULT_THRESHOLD,
    MANUAL,
    ReviewItem,
    ReviewSettings,
    decide,
    due_for_review,
    queue,
)

__all__ = [
    "DEFAULT_THRESHOLD",
    "MANUAL",
    "ReviewItem",
    "ReviewSettings",
    "decide",
    "due_for_review",
    "queue",
]
