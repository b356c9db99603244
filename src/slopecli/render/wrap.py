"""Where a line of table text may break, and how wide it is on a terminal. Plain strings only:
:mod:`slopecli.render.layout` applies this to cells.

Math (numbers, vectors, formulas) breaks only between terms: after the comma of a vector or a
colon, before an operator (``+ − = / ×``) that a space follows, and between two words of
letters, so ``(2/5)·[539.325,`` may end a line but ``539.`` or ``Σ x·`` never does. Prose
(names, paths, messages) breaks at any space and after the ``/`` of a path. A header line
never breaks.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

TERMS = re.compile(r"(?<=[,:]) | (?=[+−=/×] )|(?<=[A-Za-z)]) (?=[A-Za-z(])")
PROSE = re.compile(r" |(?<=/)(?=[^/ ])")
WHOLE = re.compile(r"(?!)")
_OPERATOR_START = re.compile(r"[+−=/×] ")
# The last resort for a word wider than a whole line (a product of two long factors): after a "·"
# or a space inside it.
_INSIDE = re.compile(r"·| ")
# What a word too wide for any line is never folded inside of.
_NUMBER = re.compile(r"[-−+]?(?:[0-9][0-9,]*(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")

Slice = tuple[int, int, int]
"""One output line: spaces to indent it by, and where it starts and ends in the text."""


def cells(text: str) -> int:
    """Terminal columns ``text`` takes: two for a wide (East Asian) character, none for a combining one."""
    if text.isascii():
        return len(text)
    return sum(_char_cells(c) for c in text)


@cache
def _char_cells(char: str) -> int:
    if unicodedata.category(char) == "Cc":
        return 1  # drawn as a symbol (slopecli.text.visible), as the ASCII path above counts it
    if unicodedata.combining(char) or unicodedata.category(char) == "Cf":
        return 0
    return 2 if unicodedata.east_asian_width(char) in "WF" else 1


def wrap(text: str, width: int, pattern: re.Pattern[str] = TERMS) -> list[Slice]:
    """``text`` in lines at most ``width`` wide, broken only where ``pattern`` allows.

    A line's continuation hangs under its first term after ``= `` (a derivation's right-hand
    side), or under its own indentation. When a word would not fit there, every line of the
    cell moves left by the same amount, so that the ``=`` of a derivation still line up. A word
    wider than a whole line is broken after a ``·``, and only then, when there is no other way
    (a name in a tiny width), folded.
    """
    paragraphs: list[tuple[int, int, list[tuple[int, int, int, int]]]] = []  # lead, hang, words
    offset = 0
    shift = 0
    for line in text.split("\n"):
        stripped = line.lstrip(" ")
        lead = len(line) - len(stripped)
        start, gap = offset + lead, 0
        words: list[tuple[int, int, int, int]] = []  # start, end, width, width of the break before
        for match in pattern.finditer(stripped):
            end = offset + lead + match.start()
            words.append((start, end, cells(text[start:end]), gap))
            start, gap = offset + lead + match.end(), len(match.group())
        words.append((start, offset + len(line), cells(text[start : offset + len(line)]), gap))
        hang = lead + _hang(text, words)
        need = max(lead + words[0][2], max((hang + w for _, _, w, _ in words[1:]), default=0))
        shift = max(shift, need - width)
        paragraphs.append((lead, hang, words))
        offset += len(line) + 1
    out: list[Slice] = []
    for lead, hang, words in paragraphs:
        lead, hang = max(lead - shift, 0), max(hang - shift, 0)
        current: list[int] | None = None  # indent, start, end, width
        for s, e, size, gap in words:
            if current is not None and current[3] + gap + size <= width:
                current[2], current[3] = e, current[3] + gap + size
                continue
            if current is not None:
                out.append((current[0], current[1], current[2]))
            indent = lead if current is None else hang
            if size > width - indent:
                indent = 0
            if size > width:
                pieces = _split_word(text, s, e, width)
                out.extend((0, a, b) for a, b in pieces[:-1])
                s = pieces[-1][0]
                size = cells(text[s:e])
            current = [indent, s, e, indent + size]
        assert current is not None  # every paragraph has a word, if only an empty one
        out.append((current[0], current[1], current[2]))
    return out


def wrap_simple(text: str, width: int, pattern: re.Pattern[str]) -> tuple[list[tuple[int, str]], int] | None:
    """:func:`wrap` for the common case, as strings (and the widest word): one line of math,
    whose breaks are all single spaces. None for anything else."""
    if pattern is not TERMS or "\n" in text or text.startswith(" "):
        return None
    words = pattern.split(text)
    sizes = [cells(w) for w in words]
    widest = max(sizes)
    if widest > width:
        return None
    hang = (
        2 if _OPERATOR_START.match(words[0]) else sizes[0] + 3 if words[1:2] and words[1][:2] == "= " else 0
    )
    if len(words) > 1:
        hang = min(hang, width - max(sizes[1:]))
    out: list[tuple[int, str]] = []
    indent, line, size = 0, words[0], sizes[0]
    for word, n in zip(words[1:], sizes[1:], strict=True):
        if size + 1 + n <= width:
            line += " " + word
            size += 1 + n
        else:
            out.append((indent, line))
            indent, line, size = hang, word, hang + n
    out.append((indent, line))
    return out, widest


def _hang(text: str, words: list[tuple[int, int, int, int]]) -> int:
    first = text[words[0][0] : words[0][1]]
    if _OPERATOR_START.match(first):
        return 2
    if len(words) > 1 and text.startswith("= ", words[1][0]):
        return cells(first) + 3
    return 0


def _split_word(text: str, start: int, end: int, width: int) -> list[tuple[int, int]]:
    """A word too wide for any line: cut after a ``·`` or at a space inside it where possible,
    and only a part with neither (a name in a tiny width) is folded."""
    # Each cut: where a part may end, and where the next one then starts (after a space).
    cuts = [(m.start() if m.group() == " " else m.end(), m.end()) for m in _INSIDE.finditer(text, start, end)]
    cuts = [(a, b) for a, b in cuts if start < a and b < end] + [(end, end)]
    numbers = [m.span() for m in _NUMBER.finditer(text, start, end)]
    parts: list[tuple[int, int]] = []
    a, last = start, None
    for stop, resume in cuts:
        if cells(text[a:stop]) <= width:
            last = (stop, resume)
            continue
        if last is not None:
            parts.append((a, last[0]))
            a, last = last[1], None
        while cells(text[a:stop]) > width:  # nowhere to cut: fold, by terminal columns
            b = _fold(text, a, stop, width, numbers)
            parts.append((a, b))
            a = b
        last = (stop, resume)
    parts.append((a, end))
    return [p for p in parts if p[1] > p[0]]


def _fold(text: str, start: int, stop: int, width: int, numbers: list[tuple[int, int]]) -> int:
    """Where to fold ``text[start:stop]`` so that its first part is at most ``width`` wide: as far
    along as fits, but never inside a number. A number wider than the line is kept whole (its line
    runs past the edge, and the terminal folds it there: slopecli never splits one itself)."""
    end = start + 1
    while end < stop and cells(text[start : end + 1]) <= width:
        end += 1
    for first, last in numbers:
        if first < end < last:  # inside this number: fold before it, or after it if it leads
            return first if first > start else last
    return end


def text_width(text: str) -> int:
    """The width of ``text`` on lines of its own making (its newlines only)."""
    if "\n" not in text:
        return cells(text)
    return max(cells(line) for line in text.split("\n"))


def widest_number(text: str) -> int:
    """The width of the longest number in ``text`` (0 if it has none): the least room it needs."""
    return max((len(m) for m in _NUMBER.findall(text)), default=0)


def widest_word(text: str, pattern: re.Pattern[str]) -> int:
    """The narrowest ``text`` can be wrapped to without breaking a word (indentation gives way)."""
    if not text:
        return 0
    return max(cells(word) for line in text.split("\n") for word in pattern.split(line.lstrip(" ")))
