"""Worker processes that end with their parent (placeholder until implemented)."""


def die_with_parent() -> None:
    """ProcessPoolExecutor initializer."""
