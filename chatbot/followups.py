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


_FOLLOW_UP_PRONOUN = re.compile(r"\b(it|its|they|them|their|that|this|those|these|he|she|there)\b", re.I)


@dataclass(frozen=True)
class Standalone:
    text: str  # what retrieval, the prompt and the answer cache see
    focus: str | None = None  # the follow-up's own words, when it was one


def looks_like_follow_up(question: str) -> bool:
    words = question.split()
    return len(words) <= 6 or bool(_FOLLOW_UP.search(question))


# "and for interns?", "what about Canada?": the lead-in carries no meaning of its own.
_LEAD_IN = re.compile(
    r"^\s*(?:(?:and|but|also|or|ok|okay|so)\s+)*(?:what|how)\s+about\s+|^\s*(?:and|but|also|or|same)"
    r"(?:\s+(?:what|how)\s+about|\s+for\s+that|\s+if)?\s+",
    re.I,
)
# The people a question is about: "do full-time employees get", "can contractors take".
_SUBJECT = re.compile(
    r"\b(do|does|can|are|is|may|should|will|must)\s+((?!(?:i|we|you|they|it)\b)[\w-]+(?:\s+[\w-]+)?)"
    r"\s+(get|have|receive|earn|need|take|pay|claim|work|use|bring|keep|carry)\b",
    re.I,
)
_QUALIFIER = re.compile(r"^(for|in|at|on|with|during|as|from|to|by|under|without)\s+(.+)$", re.I)


def _phrase_replaced(previous: str, preposition: str, phrase: str) -> str | None:
    """`previous` with its own `preposition ...` qualifier swapped for the new one, if it has one."""
    pattern = re.compile(rf"\b{preposition}\s+[^,;?!.]+", re.I)
    # The last such phrase is the qualifier ("days off for employees in Germany").
    found = list(pattern.finditer(previous))
    if not found:
        return None
    match = found[-1]
    return f"{previous[: match.start()]}{preposition} {phrase}{previous[match.end():]}"


def standalone(*, question: str, history: list[tuple[str, str]]) -> Standalone:
    """The question as it would be asked alone.

    A follow-up that names a new qualifier ("and for interns?") replaces the earlier
    question's qualifier with the same preposition ("... for full-time employees?"
    becomes "... for interns?") or is added to it; anything else is appended whole. The
    follow-up's own words are kept as the focus, which retrieval and evidence weigh higher.
    """
    previous = [text for role, text in history if role == "user"]
    if not previous or not looks_like_follow_up(question):
        return Standalone(text=question)
    earlier = previous[-1].strip().rstrip(" ?.!")
    focus = _LEAD_IN.sub("", question.strip()).strip().rstrip(" ?.!") or question.strip()
    qualifier = _QUALIFIER.match(focus)
    if qualifier and len(focus.split()) <= 6:
        preposition, phrase = qualifier.group(1).lower(), qualifier.group(2)
        subject = _SUBJECT.search(earlier) if preposition == "for" else None
        if subject:
            # "do full-time employees get" + "for interns" -> "do interns get"
            text = f"{earlier[: subject.start(2)]}{phrase}{earlier[subject.end(2):]}"
            return Standalone(text=f"{text}?", focus=phrase)
        replaced = _phrase_replaced(earlier, preposition, phrase)
        text = replaced if replaced is not None else f"{earlier} {preposition} {phrase}"
        return Standalone(text=f"{text}?", focus=focus)
    if len(focus.split()) <= 3 and not _FOLLOW_UP_PRONOUN.search(focus):
        # "interns?" / "the US?": a bare subject, asked about as before, in place of the
        # earlier question's own "in ..."/"for ..." qualifier when it has one.
        bare = re.sub(r"^(?:the|a|an)\s+", "", focus, flags=re.I)
        subject = _SUBJECT.search(earlier)
        if subject:
            text = f"{earlier[: subject.start(2)]}{bare}{earlier[subject.end(2):]}"
            return Standalone(text=f"{text}?", focus=bare)
        for preposition in ("in", "for"):
            replaced = _phrase_replaced(earlier, preposition, focus)
            if replaced is not None:
                return Standalone(text=f"{replaced}?", focus=bare)
        return Standalone(text=f"{earlier}: {focus}?", focus=bare)
    return Standalone(text=f"{earlier}? {question.strip()}", focus=focus)


def query_vector(rewrite: Standalone) -> np.ndarray:
    """The retrieval vector: the stand-alone question's, pulled towards the follow-up's words."""
    from knowledge.embeddings import embed_query

    vector = embed_query(rewrite.text)
    if rewrite.focus:
        vector = vector + embed_query(rewrite.focus)
        vector = vector / np.linalg.norm(vector)
    return vector
