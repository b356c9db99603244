"""Text for people: counts in messages and titles ("1 weight", "1,000 rows"), and data-derived
text made safe to show on a terminal."""

# C0 controls as the Unicode "control pictures" (ESC as ␛), DEL as ␡, C1 controls as �: a
# column named with an escape sequence must not recolour or retitle the user's terminal.
_VISIBLE = {c: 0x2400 + c for c in range(0x20)} | {0x7F: 0x2421} | dict.fromkeys(range(0x80, 0xA0), 0xFFFD)


def count(n: int, noun: str) -> str:
    """``n`` and ``noun``, plural unless n is 1 (nouns here all take an "s")."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def visible(text: str) -> str:
    """``text`` with every control character (newlines too) shown as a symbol of one column."""
    return text.translate(_VISIBLE)
