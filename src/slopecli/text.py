"""Text for people: counts in messages and titles ("1 weight", "1,000 rows"), data-derived text
made safe to show on a terminal, and names and values cut to a size a message can quote."""

import re
from collections.abc import Iterable, Sequence

# C0 controls as the Unicode "control pictures" (ESC as ␛), DEL as ␡, C1 controls as �: a
# column named with an escape sequence must not recolour or retitle the user's terminal.
_VISIBLE = (
    {c: 0x2400 + c for c in range(0x20)}
    | {0x7F: 0x2421}
    | dict.fromkeys(range(0x80, 0xA0), 0xFFFD)
    # A file name's bytes that are not UTF-8 (Python's surrogate escapes) would be written raw.
    | dict.fromkeys(range(0xDC80, 0xDD00), 0xFFFD)
)


def count(n: int, noun: str) -> str:
    """``n`` and ``noun``, plural unless n is 1 (nouns here all take an "s")."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def repeated(names: Iterable[str]) -> str | None:
    """The first name that comes a second time, if any: in one pass (40,000 names must not cost
    40,000² comparisons, as ``names.count`` for each would)."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            return name
        seen.add(name)
    return None


SHOWN_CHARACTERS = 40
"""The most characters of one name or value a message quotes: a CSV field, a column name among
them, may be megabytes long, and the message must stay one readable line."""
SHOWN_NAMES = 8
"""The most names a message lists: a header may have 40,000."""


def quoted(text: str) -> str:
    """``text`` as a message quotes it: the repr of its first :data:`SHOWN_CHARACTERS`
    characters, then, when it is longer, its length (``'nnnn'… (1,000,000 characters)``)."""
    if len(text) <= SHOWN_CHARACTERS:
        return repr(text)
    return f"{text[:SHOWN_CHARACTERS]!r}… ({len(text):,} characters)"


def listed(names: Sequence[str]) -> str:
    """Names as a message lists them, unquoted and comma-separated: the first
    :data:`SHOWN_NAMES`, each cut to :data:`SHOWN_CHARACTERS` characters, and how many more."""
    cut = (n if len(n) <= SHOWN_CHARACTERS else n[:SHOWN_CHARACTERS] + "…" for n in names[:SHOWN_NAMES])
    shown = ", ".join(cut)
    more = len(names) - SHOWN_NAMES
    return f"{shown}, … and {more:,} more" if more > 0 else shown


_CONTROL_BUT_NEWLINE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\udc80-\udcff]")


def visible(text: str) -> str:
    """``text`` with every control character (newlines too) shown as a symbol of one column."""
    return text if text.isprintable() else text.translate(_VISIBLE)  # the test is C-fast


def visible_lines(text: str) -> str:
    """Lines of ``text`` each :func:`visible`, the line breaks between them kept (one scan when,
    as almost always, there is nothing to show)."""
    if not _CONTROL_BUT_NEWLINE.search(text):
        return text
    return "\n".join(map(visible, text.split("\n")))
