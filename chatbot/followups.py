"""Turn a follow-up ("and for contractors?") into a question that stands alone.

The rewrite is deterministic and costs nothing: the previous question, then
the follow-up. (The bundled 135M model, asked to rewrite, returned its
few-shot examples verbatim; see the answers issue note.) For retrieval the
follow-up's own words also get a vector of their own, averaged with the
combined one, so "contractors" outweighs the earlier turn's "employees".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

_FOLLOW_UP = re.compile(
    r"^(and|but|also|what about|how about|and what|what if|same for|or)\b"
    r"|\b(it|its|they|them|their|that|this|those|these|he|she|there)\b",
    re.I,
)


@dataclass(frozen=True)
class Standalone:
    text: str  # what retrieval, the prompt and the answer cache see
    focus: str | None = None  # the follow-up's own words, when it was one


def looks_like_follow_up(question: str) -> bool:
    words = question.split()
    return len(words) <= 6 or bool(_FOLLOW_UP.search(question))


def standalone(*, question: str, history: list[tuple[str, str]]) -> Standalone:
    previous = [text for role, text in history if role == "user"]
    if not previous or not looks_like_follow_up(question):
        return Standalone(text=question)
    return Standalone(text=f"{previous[-1].rstrip(' ?')}? {question}", focus=question)


def query_vector(rewrite: Standalone) -> np.ndarray:
    """The retrieval vector: the stand-alone question's, pulled towards the follow-up's words."""
    from knowledge.embeddings import embed_query

    vector = embed_query(rewrite.text)
    if rewrite.focus:
        vector = vector + embed_query(rewrite.focus)
        vector = vector / np.linalg.norm(vector)
    return vector
