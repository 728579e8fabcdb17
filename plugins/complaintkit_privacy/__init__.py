"""Personal data in complaints: finding and masking it in free text (:mod:`.masking`) and in a
whole complaint (:mod:`.complaints`), applied to every output by the ``mask_complaint`` hook."""

from .masking import (
    KINDS,
    Finding,
    find_personal_data,
    mask_address,
    mask_card,
    mask_email,
    mask_id_card,
    mask_name,
    mask_phone,
    mask_text,
)

__all__ = [
    "KINDS",
    "Finding",
    "find_personal_data",
    "mask_address",
    "mask_card",
    "mask_email",
    "mask_id_card",
    "mask_name",
    "mask_phone",
    "mask_text",
]
