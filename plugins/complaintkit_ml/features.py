"""Text → n-gram features, the same at training and at prediction, in plain Python.

Two kinds of n-gram, kept in separate vocabularies so that one can never be mistaken for the
other:

* **character n-grams** (2 to 4 characters by default) of the folded text — they work for
  Chinese, which has no spaces between words, and for English word endings and misspellings;
* **word n-grams** (1 and 2 words) of the ASCII words of the folded text.

Folding lower-cases the text, reads every whitespace character as a space and every digit as
``0``, one character for one character, so an offset in the folded text is the same offset in
the original and evidence can be cut out of the complaint's own words (:meth:`Batch.widened`).

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
    "WORD_SEED",
    "Batch",
    "char_windows",
    "batch_grams",
    "batch_words",
    "gram_hashes",
    "is_chinese",
    "language",
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
    return _lowered(text).translate(_TRANSLATE)


def _lowered(text: str) -> str:
    """:func:`fold`'s part done on the string: lower case, @mentions and links blanked out
    (whitespace and digits are the same characters to :data:`_ADDRESS` before and after
    :data:`_TRANSLATE`, so it can come first or last)."""
    folded = text.lower()
    if len(folded) != len(text):
        folded = "".join(low if len(low := ch.lower()) == 1 else ch for ch in text)
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

    def batch(self, texts: Sequence[str]) -> Batch:
        """The :class:`Batch` of the :meth:`prepared` texts, folded together: the texts (cut
        to ``max_chars``) joined by a line break (which no n-gram, @mention or link runs
        across) are lower-cased and their links blanked out as one string, and the rest of
        :func:`fold` (whitespace as a space, digits as ``0``) is done on the code points in
        numpy, where the line breaks are left out."""
        cut = self.max_chars
        if cut:
            texts = [text[:cut] if len(text) > cut else text for text in texts]
        return Batch.folded("\n".join(texts), texts)

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
    parts = [hashes for _, hashes in _rolling_hashes(codes, shortest, longest)]
    return np.concatenate(parts) if parts else np.zeros(0, np.uint64)


def _rolling_hashes(codes: Any, shortest: int, longest: int) -> Iterator[tuple[int, Any]]:
    """``(n, hashes)`` for each length ``n`` from ``shortest`` to ``longest`` (while there are
    windows that long): the hash of the window of ``n`` code points starting at each position
    of ``codes``, as :func:`_window_hashes` defines it. The next length is computed from the
    array given, after the caller is done with it (:func:`char_windows` zeroes windows that
    run past a text's end; they run past it at every longer length too)."""
    import numpy as np

    prime = np.uint64(_PRIME)
    hashes = codes + prime  # length 1: 1·P + c
    for n in range(1, longest + 1):
        if n > len(codes):
            break
        if n > 1:
            hashes = hashes[:-1] * prime + codes[n - 1 :]
        if n >= shortest:
            yield n, hashes


def _windows_inside(
    batch: Batch, shortest: int, longest: int, doc_type: Any
) -> list[tuple[int, Any, Any, Any]]:
    """``(n, starts, hashes, text numbers)`` for each length ``n`` from ``shortest`` to
    ``longest``: the windows of ``n`` code points of the batch's joined texts that stay inside
    one text, a start being the window's offset in the joined text (one code point a
    character)."""
    import numpy as np

    codes = batch.codes
    doc = batch.doc.astype(doc_type)
    ends = np.repeat(batch.offsets + batch.lengths, batch.lengths)  # where each text ends
    found = []
    for n, hashes in _rolling_hashes(codes, shortest, longest):
        starts = np.flatnonzero(np.arange(len(hashes)) + n <= ends[: len(hashes)])
        found.append((n, starts, hashes[starts], doc[starts]))
    return found


def char_windows(batch: Batch, shortest: int, longest: int) -> Iterator[tuple[int, Any]]:
    """``(n, hashes)`` for each length ``n`` from ``shortest`` to ``longest``: the hash of
    the window of ``n`` code points starting at each position of the batch's joined texts (as
    many as there are such windows), those that would cross from one text into the next given
    the hash 0 instead, so that no n-gram of a vocabulary matches them (:class:`Predictor`
    keeps none whose hash is 0). Each text so gets exactly the n-grams
    :meth:`FeatureSpec.char_hashes` gives it, at their offsets in the joined texts."""
    import numpy as np

    codes = batch.codes
    ends = (batch.offsets + batch.lengths)[batch.lengths > 0]
    for n, hashes in _rolling_hashes(codes, shortest, longest):
        # the windows starting in the last n - 1 positions of a text run past its end
        crossing = (ends[:, None] - np.arange(1, n)).ravel()
        hashes[crossing[crossing < len(hashes)]] = 0
        yield n, hashes


def batch_grams(folded: Sequence[str], shortest: int, longest: int) -> tuple[Any, Any, Any, Any]:
    """As :func:`batch_chars`, with where each n-gram is: ``(hashes, text numbers, starts,
    lengths)``, a start being the offset in ``"".join(folded)`` (one code point a character),
    so that training can name the n-grams it keeps without building a string for every one."""
    import numpy as np

    found = _windows_inside(Batch.of(folded), shortest, longest, np.int32)
    if not found:
        empty = np.zeros(0, np.int64)
        return np.zeros(0, np.uint64), empty.astype(np.int32), empty, empty.astype(np.int8)
    return (
        np.concatenate([hashes for _, _, hashes, _ in found]),
        np.concatenate([docs for _, _, _, docs in found]),
        np.concatenate([starts for _, starts, _, _ in found]),
        np.concatenate([np.full(len(starts), n, np.int8) for n, starts, _, _ in found]),
    )


def gram_hashes(grams: Sequence[str], seed: int = 1) -> Any:
    """The hash :meth:`FeatureSpec.char_hashes` gives each of ``grams`` (for a vocabulary),
    computed a length at a time over all grams of that length. ``seed`` starts each hash:
    1 for character n-grams, :data:`WORD_SEED` for word n-grams (as :func:`batch_words` hashes
    them), so the two kinds never share a hash but by collision."""
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
        hashes = codes[:, 0] + np.uint64(seed) * prime
        for k in range(1, length):
            hashes = hashes * prime + codes[:, k]
        result[positions] = hashes
    return result


#: What a word n-gram's hash starts from (a character n-gram's starts from 1).
WORD_SEED = 2
_INVERSE = pow(_PRIME, -1, 1 << 64)  # P is odd, so it has an inverse modulo 2**64
#: P**k and P**-k modulo 2**64 for k = 0, 1, …, grown as longer batches come.
_POWERS: list[Any] = []


def _powers(count: int) -> tuple[Any, Any]:
    """(P**k, P**-k) modulo 2**64 for k in 0..count-1, from a cache."""
    import numpy as np

    if not _POWERS or len(_POWERS[0]) < count:
        size = max(count, 2 * len(_POWERS[0]) if _POWERS else 0, 1 << 16)
        with np.errstate(over="ignore"):
            up = np.cumprod(np.full(size, _PRIME, np.uint64))
            down = np.cumprod(np.full(size, _INVERSE, np.uint64))
        one = np.ones(1, np.uint64)
        _POWERS[:] = [np.concatenate([one, up[:-1]]), np.concatenate([one, down[:-1]])]
    return _POWERS[0], _POWERS[1]


#: Per code point below 128: 2 for a letter of a word ([a-z0]), 1 for an apostrophe, else 0.
_KIND = (
    bytes(
        2 if ch in "abcdefghijklmnopqrstuvwxyz0" else 1 if ch == "'" else 0
        for ch in map(chr, range(128))
    )
    + b"\x00"
)


#: :data:`_TRANSLATE` as an array: the code point each one below the last it changes becomes.
_FOLD_TABLE: list[Any] = []


def _fold_table() -> Any:
    """:data:`_TRANSLATE` as a table indexed by code point, up to the last one it changes."""
    if not _FOLD_TABLE:
        import numpy as np

        table = np.arange(max(_TRANSLATE) + 1, dtype=np.uint32)
        for code, becomes in _TRANSLATE.items():
            table[code] = ord(becomes)
        _FOLD_TABLE.append(table)
    return _FOLD_TABLE[0]


@attrs.define(eq=False)
class Batch:
    """Folded texts joined into one array of code points, with what every n-gram and every
    piece of evidence needs to know about it: where each text starts and which text each
    position belongs to, and the runs of word letters ([a-z0]) that evidence is widened to."""

    codes: Any  # uint64 code points of "".join(folded)
    lengths: Any  # int64 length of each text
    offsets: Any  # int64 where each text starts
    doc: Any  # int64 text number of each position
    kind: Any  # uint8 _KIND of each position
    _words: tuple[Any, Any] | None = None

    @classmethod
    def of(cls, folded: Sequence[str]) -> Batch:
        """The batch of ``folded`` texts."""
        import numpy as np

        codes = np.frombuffer("".join(folded).encode("utf-32-le"), dtype="<u4")
        return cls._of_codes(codes, np.fromiter(map(len, folded), np.int64, len(folded)))

    @classmethod
    def folded(cls, joined: str, texts: Sequence[str]) -> Batch:
        """The batch of the :func:`fold` of each of ``texts``, given ``joined``: the texts
        joined by one character that is left out (a line break, so that no link runs across)."""
        import numpy as np

        lengths = np.fromiter(map(len, texts), np.int64, len(texts))
        codes = np.frombuffer(_lowered(joined).encode("utf-32-le"), dtype="<u4")
        if len(texts) > 1:
            keep = np.ones(len(codes), bool)
            keep[np.cumsum(lengths[:-1] + 1) - 1] = False  # the joining characters
            codes = codes[keep]
        table = _fold_table()
        last = len(table) - 1
        codes = np.where(codes <= last, table.take(np.minimum(codes, last)), codes)
        return cls._of_codes(codes, lengths)

    @classmethod
    def _of_codes(cls, codes: Any, lengths: Any) -> Batch:
        import numpy as np

        kinds = np.frombuffer(_KIND, np.uint8)
        return cls(
            codes=codes.astype(np.uint64),
            lengths=lengths,
            offsets=np.cumsum(lengths) - lengths,
            doc=np.repeat(np.arange(len(lengths), dtype=np.int64), lengths),
            kind=kinds.take(np.minimum(codes, 128)),
        )

    def words(self) -> tuple[Any, Any]:
        """(starts, stops) of every word of every text, in order: what ``[a-z0][a-z0']*``
        finds, a run of letters and apostrophes inside one text from its first letter on."""
        if self._words is None:
            import numpy as np

            size = len(self.codes)
            inside = self.kind > 0
            first = self.starts_text()[:size]
            continues = np.concatenate([[False], inside[:-1]]) & inside & ~first
            # the runs of [a-z0'] inside one text: where each begins and where it stops
            begins = np.flatnonzero(inside & ~continues)
            stops = np.flatnonzero(inside & ~np.append(continues[1:], False)) + 1
            starts = begins.copy()
            # a word begins at its run's first letter: after any apostrophes leading the run
            for run in np.flatnonzero(self.kind[begins] != 2).tolist():
                at = int(begins[run])
                while at < stops[run] and self.kind[at] != 2:
                    at += 1
                starts[run] = at
            has_letter = starts < stops  # a run of apostrophes alone is no word
            self._words = starts[has_letter], stops[has_letter]
        return self._words

    def starts_text(self) -> Any:
        """True at each position where a text begins."""
        import numpy as np

        first = np.zeros(len(self.codes) + 1, bool)
        first[self.offsets[self.lengths > 0]] = True
        return first

    def widened(self, starts: Any, stops: Any, docs: Any) -> tuple[Any, Any]:
        """The spans ``[starts, stops)`` of texts ``docs`` widened to the whole words ([a-z0]
        runs) they touch at either end, never past their own text: "laye" → "delayed"."""
        import numpy as np

        size = len(self.codes)
        if not size or not len(starts):
            return starts, stops
        letter = self.kind == 2
        first = self.starts_text()[:size]
        # the runs of letters inside one text: the first and the last position of each
        inside = ~first[1:]  # position i + 1 is in the text of position i
        before = np.concatenate([[False], letter[:-1] & inside])  # the previous one is a letter
        after = np.append(letter[1:] & inside, False)  # ...the next one is
        run_firsts = np.flatnonzero(letter & ~before)
        run_lasts = np.flatnonzero(letter & ~after)
        text_start = self.offsets[docs]
        text_stop = text_start + self.lengths[docs]
        left = np.maximum(starts - 1, 0)
        grow = np.flatnonzero((starts > text_start) & letter[left])
        starts = starts.copy()
        starts[grow] = run_firsts[np.searchsorted(run_firsts, left[grow], "right") - 1]
        right = np.minimum(stops, size - 1)
        grow = np.flatnonzero((stops < text_stop) & letter[right])
        stops = stops.copy()
        stops[grow] = run_lasts[np.searchsorted(run_lasts, right[grow])] + 1
        return starts, stops


def batch_words(batch: Batch, shortest: int, longest: int) -> tuple[Any, Any, Any, Any]:
    """(hashes, text numbers, starts, stops) of every word n-gram of every text in ``batch``
    (:meth:`FeatureSpec.word_stream`'s n-grams, computed over all the texts at once): a word
    n-gram's hash is that of its words joined by one space (:func:`gram_hashes` with
    :data:`WORD_SEED`), its span runs from its first word's start to its last word's end.

    A word is what ``[a-z0][a-z0']*`` finds: a run of letters and apostrophes inside one text,
    from its first letter on. A word's hash is found from prefix sums of ``c·P**-k`` (P is
    invertible modulo 2**64), so every word costs a few array operations, not a loop.
    """
    import numpy as np

    empty = np.zeros(0, np.int64)
    size = len(batch.codes)
    if longest == 0 or not size:
        return np.zeros(0, np.uint64), empty, empty, empty
    starts, stops = batch.words()
    if not len(starts):
        return np.zeros(0, np.uint64), empty, empty, empty
    docs = batch.doc[starts]
    up, down = _powers(size + 1)
    with np.errstate(over="ignore"):
        prefix = np.concatenate([[np.uint64(0)], np.cumsum(batch.codes * down[:size])])
        lengths = stops - starts
        # sum over the word of c_j·P**(stop-1-j): the hash's part that its letters make
        raw = up[stops - 1] * (prefix[stops] - prefix[starts])
        prime = np.uint64(_PRIME)
        space = np.uint64(ord(" "))
        hashes = np.uint64(WORD_SEED) * up[lengths] + raw
        found_hashes, found_docs, found_starts, found_stops = [], [], [], []
        grams = hashes
        for n in range(1, longest + 1):
            if n > 1:
                if len(grams) < 2:
                    break
                grams = (grams[:-1] * prime + space) * up[lengths[n - 1 :]] + raw[n - 1 :]
            if n >= shortest:
                same = docs[: len(grams)] == docs[n - 1 :]
                found_hashes.append(grams[same])
                found_docs.append(docs[: len(grams)][same])
                found_starts.append(starts[: len(grams)][same])
                found_stops.append(stops[n - 1 :][same])
    if not found_hashes:
        return np.zeros(0, np.uint64), empty, empty, empty
    return (
        np.concatenate(found_hashes),
        np.concatenate(found_docs),
        np.concatenate(found_starts),
        np.concatenate(found_stops),
    )


_SLICES: dict[int, list[slice]] = {}


def _slices(n: int, count: int) -> Iterable[slice]:
    """``slice(i, i + n)`` for i in 0..count-1, from a cache grown as longer texts come."""
    cached = _SLICES.get(n)
    if cached is None or len(cached) < count:
        size = max(count, 2 * len(cached or ()), 256)
        cached = _SLICES[n] = list(map(slice, range(size), range(n, size + n)))
    return cached[:count] if count < len(cached) else cached
