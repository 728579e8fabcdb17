"""Text → n-gram features, the same at training and at prediction, in plain Python.

Two kinds of n-gram, kept in separate vocabularies so that one can never be mistaken for the
other:

* **character n-grams** (2 to 4 characters by default) of the folded text — they work for
  Chinese, which has no spaces between words, and for English word endings and misspellings;
* **word n-grams** (1 and 2 words) of the ASCII words of the folded text.

Folding lower-cases the text, reads every whitespace character as a space and every digit as
``0``, one character for one character, so an offset in the folded text is the same offset in
the original and evidence can be cut out of the complaint's own words (:func:`locate`).

The loops run in C (``map`` over precomputed slices, ``Counter`` of an iterable), which keeps a
prediction within a small factor of the keyword rules' single pass.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain
from typing import Any

import attrs

from complaintkit.i18n import text_language

__all__ = [
    "FeatureSpec",
    "fold",
    "batch_grams",
    "batch_hashes",
    "gram_hashes",
    "is_chinese",
    "language",
    "locate",
]

_WORD = re.compile(r"[a-z0][a-z0']*")
#: @mentions and links: addresses, not what the complaint is about.
_ADDRESS = re.compile(r"@\w+|https?://\S+")
_TRANSLATE = {ord(c): " " for c in "\t\n\r\x0b\x0c\u3000\xa0"} | {ord(d): "0" for d in "123456789"}


def fold(text: str) -> str:
    """Lower case, whitespace as a space, digits as ``0``, @mentions and links blanked out;
    one character for one character.

    A character whose lower case is longer than itself (e.g. "İ") is kept as it is, so offsets
    stay aligned with ``text``.
    """
    folded = text.lower()
    if len(folded) != len(text):
        folded = "".join(low if len(low := ch.lower()) == 1 else ch for ch in text)
    folded = folded.translate(_TRANSLATE)
    if "@" in folded or "http" in folded:
        folded = _ADDRESS.sub(lambda match: " " * len(match.group()), folded)
    return folded


def is_chinese(text: str) -> bool:
    """True when the text counts as Chinese (:func:`complaintkit.text_language`)."""
    return text_language(text) == "zh"


def language(text: str) -> str:
    """``zh`` or ``en``: :func:`complaintkit.text_language`, the rule ``evaluate`` uses too."""
    return text_language(text)


@attrs.frozen
class FeatureSpec:
    """Which n-grams a model reads. ``max_chars`` caps the text read (0: all of it), so a
    very long narrative costs no more than its beginning."""

    char_min: int = 2
    char_max: int = 4
    word_min: int = 1
    word_max: int = 2
    max_chars: int = 3000

    def __attrs_post_init__(self) -> None:
        if not 1 <= self.char_min <= self.char_max <= 8:
            raise ValueError(f"character n-grams {self.char_min}-{self.char_max}: use 1 to 8")
        if not 0 <= self.word_min <= self.word_max <= 4:
            raise ValueError(f"word n-grams {self.word_min}-{self.word_max}: use 0 to 4")
        if self.max_chars < 0:
            raise ValueError("max_chars must be 0 (no limit) or more")

    def to_dict(self) -> dict[str, int]:
        """Plain data for the model file."""
        return attrs.asdict(self)

    def prepared(self, text: str) -> str:
        """The folded text the n-grams are taken from."""
        if self.max_chars and len(text) > self.max_chars:
            text = text[: self.max_chars]
        return fold(text)

    def char_stream(self, folded: str) -> Iterator[str]:
        """Every character n-gram of ``folded``, as often as it occurs."""
        size = len(folded)
        return chain.from_iterable(
            map(folded.__getitem__, _slices(n, size - n + 1))
            for n in range(self.char_min, self.char_max + 1)
            if size >= n
        )

    def char_hashes(self, folded: str) -> Any:
        """The 64-bit hash (:func:`gram_hashes`) of every character n-gram of ``folded``, as
        often as it occurs, computed in numpy — what prediction looks up instead of strings."""
        return _window_hashes(folded, self.char_min, self.char_max)

    def word_stream(self, folded: str) -> list[str]:
        """Every word n-gram of ``folded`` (words joined by one space), as often as it occurs."""
        if self.word_max == 0:
            return []
        words = _WORD.findall(folded)
        grams: list[str] = []
        for n in range(max(self.word_min, 1), self.word_max + 1):
            if n == 1:
                grams += words
            elif len(words) >= n:
                grams += map(" ".join, zip(*(words[i:] for i in range(n)), strict=False))
        return grams

    def analyse(self, text: str) -> tuple[Counter[str], Counter[str]]:
        """(character n-gram counts, word n-gram counts) of one text."""
        folded = self.prepared(text)
        return Counter(self.char_stream(folded)), Counter(self.word_stream(folded))


_PRIME = 0x100000001B3  # the 64-bit FNV prime: odd, so multiplying by it loses nothing


def _window_hashes(text: str, shortest: int, longest: int) -> Any:
    """The hash of every window of ``shortest`` to ``longest`` code points of ``text``.

    A window's hash is ``h = 1; h = h·P + c`` for each of its code points ``c``, modulo 2**64:
    each length's hashes are the previous length's times P plus the next code point, so all
    lengths cost one multiplication and one addition per character each.
    """
    import numpy as np

    codes = np.frombuffer(text.encode("utf-32-le"), dtype="<u4").astype(np.uint64)
    prime = np.uint64(_PRIME)
    hashes = codes + prime  # length 1: 1·P + c
    parts = []
    for n in range(1, longest + 1):
        if n > len(codes):
            break
        if n > 1:
            hashes = hashes[:-1] * prime + codes[n - 1 :]
        if n >= shortest:
            parts.append(hashes)
    return np.concatenate(parts) if parts else np.zeros(0, np.uint64)


def _windows_inside(
    folded: Sequence[str], shortest: int, longest: int, doc_type: Any
) -> list[tuple[int, Any, Any, Any]]:
    """``(n, starts, hashes, text numbers)`` for each length ``n`` from ``shortest`` to
    ``longest``: the windows of ``n`` code points of ``"".join(folded)`` that stay inside one
    text, a start being the window's offset in the joined text (one code point a character)."""
    import numpy as np

    lengths = np.fromiter(map(len, folded), np.int64, len(folded))
    codes = np.frombuffer("".join(folded).encode("utf-32-le"), dtype="<u4").astype(np.uint64)
    doc = np.repeat(np.arange(len(folded), dtype=doc_type), lengths)
    ends = np.repeat(np.cumsum(lengths), lengths)  # where each position's text ends
    prime = np.uint64(_PRIME)
    hashes = codes + prime
    found = []
    for n in range(1, longest + 1):
        if n > len(codes):
            break
        if n > 1:
            hashes = hashes[:-1] * prime + codes[n - 1 :]
        if n >= shortest:
            starts = np.flatnonzero(np.arange(len(hashes)) + n <= ends[: len(hashes)])
            found.append((n, starts, hashes[starts], doc[starts]))
    return found


def batch_hashes(folded: Sequence[str], shortest: int, longest: int) -> tuple[Any, Any]:
    """(hashes, text numbers) of every character n-gram of every text in ``folded``, computed
    over all the texts at once: windows that would cross from one text into the next are left
    out, so each text gets exactly the n-grams :meth:`FeatureSpec.char_hashes` gives it."""
    import numpy as np

    found = _windows_inside(folded, shortest, longest, np.int64)
    if not found:
        return np.zeros(0, np.uint64), np.zeros(0, np.int64)
    return np.concatenate([f[2] for f in found]), np.concatenate([f[3] for f in found])


def batch_grams(folded: Sequence[str], shortest: int, longest: int) -> tuple[Any, Any, Any, Any]:
    """As :func:`batch_hashes`, with where each n-gram is: ``(hashes, text numbers, starts,
    lengths)``, a start being the offset in ``"".join(folded)`` (one code point a character),
    so that training can name the n-grams it keeps without building a string for every one."""
    import numpy as np

    found = _windows_inside(folded, shortest, longest, np.int32)
    if not found:
        empty = np.zeros(0, np.int64)
        return np.zeros(0, np.uint64), empty.astype(np.int32), empty, empty.astype(np.int8)
    return (
        np.concatenate([hashes for _, _, hashes, _ in found]),
        np.concatenate([docs for _, _, _, docs in found]),
        np.concatenate([starts for _, starts, _, _ in found]),
        np.concatenate([np.full(len(starts), n, np.int8) for n, starts, _, _ in found]),
    )


def gram_hashes(grams: Sequence[str]) -> Any:
    """The hash :meth:`FeatureSpec.char_hashes` gives each of ``grams`` (for a vocabulary),
    computed a length at a time over all grams of that length."""
    import numpy as np

    result = np.zeros(len(grams), np.uint64)
    prime = np.uint64(_PRIME)
    by_length: dict[int, list[int]] = {}
    for position, gram in enumerate(grams):
        by_length.setdefault(len(gram), []).append(position)
    for length, positions in by_length.items():
        if not length:
            continue
        joined = "".join(grams[p] for p in positions)
        codes = np.frombuffer(joined.encode("utf-32-le"), dtype="<u4").astype(np.uint64)
        codes = codes.reshape(len(positions), length)
        hashes = codes[:, 0] + prime
        for k in range(1, length):
            hashes = hashes * prime + codes[:, k]
        result[positions] = hashes
    return result


_SLICES: dict[int, list[slice]] = {}


def _slices(n: int, count: int) -> Iterable[slice]:
    """``slice(i, i + n)`` for i in 0..count-1, from a cache grown as longer texts come."""
    cached = _SLICES.get(n)
    if cached is None or len(cached) < count:
        size = max(count, 2 * len(cached or ()), 256)
        cached = _SLICES[n] = list(map(slice, range(size), range(n, size + n)))
    return cached[:count] if count < len(cached) else cached


def _whole(folded: str, start: int, stop: int) -> bool:
    """True when ``folded[start:stop]`` is not part of a longer word."""
    before = folded[start - 1] if start > 0 else " "
    after = folded[stop] if stop < len(folded) else " "
    return not (_in_word(before) or _in_word(after))


_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0")


def _in_word(ch: str) -> bool:
    return ch in _WORD_CHARS


def locate(folded: str, gram: str, *, word: bool) -> tuple[int, int] | None:
    """Where ``gram`` (a feature of ``folded``) first occurs, widened to whole words.

    A word n-gram is found as whole words; a character n-gram inside English words is widened
    to the whole words it touches, so the evidence reads "delayed" rather than "laye"; Chinese
    characters are taken as they are. Cut the text at the span for the complaint's own words
    (folding keeps offsets).
    """
    if word:
        start = folded.find(gram)
        while start >= 0 and not _whole(folded, start, start + len(gram)):
            start = folded.find(gram, start + 1)
        if start < 0:
            return None
        return start, start + len(gram)
    start = folded.find(gram)
    if start < 0:
        return None
    stop = start + len(gram)
    while start > 0 and folded[start - 1] in _WORD_CHARS:
        start -= 1
    size = len(folded)
    while stop < size and folded[stop] in _WORD_CHARS:
        stop += 1
    return start, stop
