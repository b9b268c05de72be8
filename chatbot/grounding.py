"""Keep answers tied to the passages they come from.

A small model sometimes answers beside its context ("The answer is 5."). An
answer that no passage supports (chatbot.citations finds none) is not shown as
grounded: it is replaced by the sentence of the retrieved passages closest in
meaning to the question, quoted with its source. With the compact prompt (the
bundled 135M model) a supported answer also carries that quote, so a reader
sees the document's own words next to the model's.
"""

from __future__ import annotations

import re

import numpy as np

from chatbot.citations import cited_passages
from knowledge.search import Hit

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


_LIST_MARKER = re.compile(r"^\s*(?:\d+[.)]|[-*•])\s+")


def sentences(text: str) -> list[str]:
    """Sentences of a passage; one that introduces a list (ends with ':') keeps its first item."""
    parts = [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]
    joined: list[str] = []
    for i, part in enumerate(parts):
        if part.endswith(":") and i + 1 < len(parts):
            part = f"{part} {_LIST_MARKER.sub('', parts[i + 1])}"
        part = _LIST_MARKER.sub("", part)
        if len(part) > 12:
            joined.append(part)
    return joined


def best_sentence(*, question_vector: np.ndarray, hits: list[tuple[int, Hit]]) -> tuple[int, str] | None:
    """(passage number, sentence) closest in meaning to the question."""
    from knowledge.embeddings import embed_passages

    candidates = [(n, s) for n, hit in hits for s in sentences(hit.text)]
    if not candidates:
        return None
    vectors = embed_passages([s for _, s in candidates])
    return candidates[int(np.argmax(vectors @ question_vector))]


def ground(*, answer: str, hits: list[Hit], question_vector: np.ndarray, quote: bool) -> tuple[str, list[int]]:
    """The answer to show and the 1-based numbers of the passages it rests on."""
    answer = _LIST_MARKER.sub("", answer).strip()
    cited = cited_passages(answer, [hit.text for hit in hits])
    if cited and not quote:
        return answer, cited
    pool = cited or list(range(1, min(2, len(hits)) + 1))
    target = question_vector
    if cited:
        # The quote should hold what the answer says, not only what was asked.
        from knowledge.embeddings import embed_query

        target = question_vector + embed_query(answer)
    best = best_sentence(question_vector=target, hits=[(n, hits[n - 1]) for n in pool])
    if best is None:
        return answer, cited
    number, sentence = best
    title = hits[number - 1].title
    if not cited:
        return f"According to “{title}”: {sentence}", [number]
    if sentence in answer:
        return answer, cited
    return f"{answer}\n\n“{sentence}” ({title})", cited
