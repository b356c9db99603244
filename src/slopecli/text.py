"""Words for counts in messages and titles: "1 weight", "2 weights", "1,000 rows"."""


def count(n: int, noun: str) -> str:
    """``n`` and ``noun``, plural unless n is 1 (nouns here all take an "s")."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"
