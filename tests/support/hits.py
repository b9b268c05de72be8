"""Search hits built in memory, for unit tests of what consumes them (no database)."""

from __future__ import annotations

from knowledge.search import Hit


def make_hit(n: int, text: str, *, heading: str = "", score: float | None = None) -> Hit:
    """Hit number `n` of a made-up result list: document and chunk `n`, ranked by `score`."""
    return Hit(
        chunk=n,
        document=n,
        position=0,
        heading=heading,
        page=None,
        text=text,
        title=f"Doc {n}",
        path=f"doc{n}.md",
        score=1.0 / (60 + n) if score is None else score,
        similarity=0.5,
    )
