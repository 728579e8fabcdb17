"""The stated train/test split ``--split`` applies to a labelled file (complaintkit.commands)."""

from __future__ import annotations

import hashlib

import pytest

from complaintkit.commands import SPLITS, in_split

TEXTS = [f"complaint number {n}: the parcel {n * 7} never came" for n in range(2000)]


def test_every_text_is_in_exactly_one_part() -> None:
    for text in TEXTS:
        assert in_split(text, "train") != in_split(text, "test")


def test_the_test_part_is_about_a_fifth() -> None:
    share = sum(in_split(text, "test") for text in TEXTS) / len(TEXTS)
    assert 0.17 < share < 0.23


def test_the_part_is_the_stated_hash_of_the_stripped_lower_cased_text() -> None:
    for text in TEXTS[:200]:
        digest = hashlib.sha1(text.lower().encode("utf-8")).hexdigest()
        assert in_split(text, "test") == (int(digest[:8], 16) % 5 == 0)
        assert in_split(f"  {text.upper()}\n", "test") == in_split(text, "test")


def test_an_unknown_part_is_refused() -> None:
    assert SPLITS == ("train", "test")
    with pytest.raises(ValueError, match="unknown split 'dev'"):
        in_split("text", "dev")
