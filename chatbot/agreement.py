"""Whether a model's sentence may stand beside the evidence it follows.

A sentence is shown only when it says what the evidence holds: its numbers, names and
codes appear there (a figure for the place asked stands beside that place), it adds a
word of the evidence instead of echoing the question, and it adds or drops no negation.
Streamed text is cut into sentences first, so each is checked before it is sent.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from chatbot.excerpts import spans
from chatbot.terms import CODE, LIST_ITEM, NAME, key_terms, names, numbers, plain, stem

_NEGATION = re.compile(
    r"\b(?:not|no|never|cannot|can't|isn't|aren't|don't|doesn't|won't|none|nor)\b|n't\b", re.I
)

_PREAMBLE = re.compile(r"^\s*(?:answer|a|response)\s*:\s*", re.I)


def tidy(line: str) -> str:
    """A model line without list markers, 'Answer:' prefixes and stray quotes."""
    line = LIST_ITEM.sub("", line.strip())
    line = _PREAMBLE.sub("", line)
    return line.strip().strip('"“”').strip()


_SENTENCE_BREAK = re.compile(r"(?<=[.!?])(?:\s*\[\d+(?:\s*,\s*\d+)*\])?\s+|\n+")


def split_sentences(text: str) -> list[str]:
    """Complete sentences of streamed text, then the unfinished rest (possibly "")."""
    parts: list[str] = []
    start = 0
    for match in _SENTENCE_BREAK.finditer(text):
        if match.end() == len(text) or text[match.end()] == "[":
            break  # a citation may still follow: "... days. [" waits for "2]"
        sentence = text[start : match.start()] + match.group(0).rstrip()
        if sentence.strip():
            parts.append(sentence.strip())
        start = match.end()
    return [*parts, text[start:]]


def agrees(
    line: str,
    *,
    evidence_text: str,
    question: str,
    polarity: bool = True,
    sections: Sequence[tuple[str, str]] = (),
) -> bool:
    """Whether `line` says only what `evidence_text` holds, in a sentence of its own.

    Its numbers, names and codes must appear in the evidence; most of its content words
    must come from the evidence or the question; it must add at least one word of the
    evidence (not merely echo the question); and it may not add or drop a negation.
    """
    line = tidy(line)
    if len(line) < 8 or line.lower().startswith(("q:", "question:", "context:")):
        return False
    # Numbers must come from the text itself: a heading's numbering ("5. Learning days") is
    # not a fact a sentence may state.
    source = plain(evidence_text)
    if not numbers(line) <= numbers(source):
        return False
    headings = " ".join(heading for heading, _ in sections)
    source_lower = f"{source}\n{headings}".lower()
    known = key_terms(source) | key_terms(headings) | key_terms(question)
    for token in NAME.findall(line) + [t.strip() for t in CODE.findall(line)]:
        token = token.strip("`").lower()
        if token not in source_lower and stem(token) not in known:
            return False
    # A line about another place or party than the one asked for ("Lisbon" when Berlin was
    # asked) does not answer, even when the evidence mentions both.
    asked = names(question)
    if asked and not asked & key_terms(line) and (names(line) - asked) & key_terms(source):
        return False
    if asked and numbers(line) and asked & key_terms(line):
        # A figure stated for the place or party asked about ("in London ... EUR 130") must
        # stand beside it in the source, not merely somewhere in it.
        if not any(
            numbers(line) <= numbers(unit) and asked & (key_terms(unit) | key_terms(heading))
            for heading, text in (sections or [("", source)])
            for unit in spans(text)
        ):
            return False
    words = key_terms(line)
    if not words:
        return False
    if len(words & known) < 0.75 * len(words):
        return False
    if not (words & key_terms(source)) - key_terms(question):
        return False
    return not polarity or bool(_NEGATION.search(line)) == bool(_NEGATION.search(source))
