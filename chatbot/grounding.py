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


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if len(s.strip()) > 12]


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
    cited = cited_passages(answer, [hit.text for hit in hits])
    if cited and not quote:
        return answer, cited
    pool = cited or list(range(1, min(2, len(hits)) + 1))
    best = best_sentence(question_vector=question_vector, hits=[(n, hits[n - 1]) for n in pool])
    if best is None:
        return answer, cited
    number, sentence = best
    title = hits[number - 1].title
    if not cited:
        return f"According to “{title}”: {sentence}", [number]
    if sentence in answer:
        return answer, cited
    return f"{answer}\n\n“{sentence}” ({title})", cited
