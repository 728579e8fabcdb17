"""Personal data in complaints: finding and masking it (:mod:`.masking`)."""

from .masking import (
    KINDS,
    Finding,
    find_personal_data,
    mask_email,
    mask_name,
    mask_phone,
    mask_text,
)

__all__ = [
    "KINDS",
    "Finding",
    "find_personal_data",
    "mask_email",
    "mask_name",
    "mask_phone",
    "mask_text",
]
