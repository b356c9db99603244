"""Text for people: counts in messages and titles ("1 weight", "1,000 rows"), and data-derived
text made safe to show on a terminal."""

import re

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
