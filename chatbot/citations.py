"""Which passages an answer rests on.

Explicit citations ([1], [2, 3]) win. A small model often cites nothing, so
otherwise a passage counts as cited when the answer repeats its specific
content: its numbers, or several of its less common words. Passages the
answer does not draw on are never shown as sources.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from chatbot.words import STOP_WORDS

_CITATION = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_TOKEN = re.compile(r"[a-z0-9][a-z0-9_.%-]*", re.I)


def explicit_citations(answer: str, available: int) -> list[int]:
    """Passage numbers the answer cites, in order of first citation, within range."""
    seen: list[int] = []
    for group in _CITATION.findall(answer):
        for number in (int(n) for n in group.split(",")):
            if 1 <= number <= available and number not in seen:
                seen.append(number)
    return seen


def _content_tokens(text: str) -> set[str]:
    return {
        t.lower().strip(".-")
        for t in _TOKEN.findall(text)
        if t.lower() not in STOP_WORDS and (len(t) > 2 or t.isdigit())
    }


def supported_passages(answer: str, passages: Sequence[str]) -> list[int]:
    """1-based numbers of passages the answer draws on, best supported first."""
    answer_tokens = _content_tokens(_CITATION.sub(" ", answer))
    if not answer_tokens:
        return []
    scored = []
    for n, passage in enumerate(passages, start=1):
        shared = answer_tokens & _content_tokens(passage)
        numbers = {t for t in shared if any(ch.isdigit() for ch in t)}
        score = len(shared) + 2 * len(numbers)
        if numbers or len(shared) >= 3:
            scored.append((score, n))
    scored.sort(key=lambda item: (-item[0], item[1]))
    if not scored:
        return []
    best = scored[0][0]
    # Keep passages nearly as well supported as the best one; drop incidental overlaps.
    return [n for score, n in scored if score >= best * 0.6]


def cited_passages(answer: str, passages: Sequence[str]) -> list[int]:
    return explicit_citations(answer, len(passages)) or supported_passages(answer, passages)


def without_citations(text: str) -> str:
    """`text` with its [n] markers (and the space before them) taken out."""
    return re.sub(rf"\s*{_CITATION.pattern}", "", text)
