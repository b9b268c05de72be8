"""Evidence: the document's own words that answer the question, chosen by the question.

An answer starts with a span of a retrieved passage (a sentence, a short list
under its heading, or a table row with its header), quoted as it stands. The
span is chosen by the question, not by what a model later says:

- meaning: the span (with the last parts of its heading) embedded and compared
  with the question;
- the question's key terms and qualifiers ("interns", "Canada", "--ignore-case"),
  found in the span or, weaker, in its heading, or weaker still in other words
  ("refresh" as "update"); the words a follow-up added
  weigh double, so "and for interns?" follows interns, not the earlier subject;
  each term weighs more the fewer candidate spans hold it (a local IDF);
- the kind of answer asked for: how many/much wants a number or an amount, when
  wants a time or a date, which option/key/command wants a code-like token;
- a phrase the question quotes (a message, a prompt), found word for word;
- for a how-to question, a sentence that says what to use ("use the --new-file option").

chatbot.excerpts cuts a passage into spans and builds what the reader is shown from the
best ones; chatbot.agreement decides whether a model's sentence may stand beside them.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

from chatbot.excerpts import Evidence, excerpts, heading_tail, quote, spans
from chatbot.terms import CODE, holds_phrase, key_terms, key_words, names, plain, quoted
from knowledge.search import Hit

# Callers read the whole evidence step here: the scoring below and the excerpts it feeds.
__all__ = ["Evidence", "answer_kind", "choose", "excerpts", "quote", "ranked", "spans"]

# Weights of the span score's parts, next to cosine similarity (0..1). Chosen on the sample
# handbook and the diffutils and aptitude QA sets together (bench/answer_accuracy.py): the
# lexical share matters most for qualifiers, the answer-kind bonus breaks ties between a
# section's introduction and the sentence that holds the figure.
TERM_WEIGHT = 0.45
NAME_WEIGHT = 0.25  # the share of the question's names found in the span or its heading
KIND_WEIGHT = 0.12
RANK_WEIGHT = 0.06
HEADING_SHARE = 0.6  # a term found only in the heading counts this much
FOCUS_WEIGHT = 2.0  # words a follow-up added, and the question's names ("Canada", "PgBouncer")
# A phrase the question quotes ('Do you want to continue? [Y/n/?]', 'No newline at end of
# file'), found word for word in a span: a prompt or a message is asked about in its exact
# words. Evidence alone, same passages: aptitude 24 -> 25 of 51 (0.15 changed nothing, 0.3
# and 0.5 the same), sample, diffutils and the held-out tutorial unchanged.
QUOTE_WEIGHT = 0.3
# A question's word may stand in a span in other words ("refresh" as "update", "combine"
# as "merge", "uninstalled" as "removed"): a span word whose embedding is within
# SOFT_MIN of the question word's counts for it at SOFT_SHARE of its weight. Single-word
# cosines: refresh/update 0.59, uninstalled/removed 0.56, combine/merge 0.76, against
# 0.2-0.45 for unrelated pairs (library/package 0.42). Evidence alone, facts named
# (bench/answer_accuracy.py --no-model): sample 32 -> 34 of 45, aptitude 30 of 51 unchanged,
# tutorial 23 -> 24 of 37, diffutils 32 of 50 unchanged; SOFT_MIN 0.5-0.6 and SOFT_SHARE
# 0.5-0.8 gave 118-120 of 183 against 117 without.
SOFT_MIN = 0.55
SOFT_SHARE = 0.6
# A how-to question ("How do I ...?", "Which option ...?") is answered by the sentence that
# says what to use ("To do this, use the --new-file (-N) option", "you can use Undo → Undo
# (Control+u)") more than by an option list's entry that names as many of its words: an
# instruction verb, then within a few words an option, a code, a variable, a key in
# brackets or the word "option". Evidence alone, facts named: diffutils 32 -> 35 of 50,
# aptitude 31 -> 34 of 51; the sample (34 of 45) and the held-out tutorial (24 of 37) and
# Debian Policy (23 of 40) unchanged. At 0.1 diffutils 32 and aptitude 34, at 0.3 34 and 34.
INSTRUCTION_WEIGHT = 0.2
_HOW_TO = re.compile(
    r"\bhow (?:do|can|should|would|to) (?:i|we|you)?\b|\b(?:which|what) (?:option|setting|flag|key|"
    r"command|parameter|variable|switch|operator|field|target|term)s?\b",
    re.I,
)
_INSTRUCTION = re.compile(
    r"\b(?:use|using|with|run|press|type|set|select|choose|specify|put|place|add)\b[^.;!?]{0,40}?"
    r"(?:(?<![\w-])--?[A-Za-z][\w-]*|`[^`]+`|\$\{[^}]+\}|\?[a-z][\w-]*|"
    r"\((?:[A-Z]|Control\+\w|F\d+|[-+=_]|-\w)\)|\boption\b)",
    re.I,
)

_CURRENCY = r"(?:EUR|USD|CAD|GBP|CHF|AUD|JPY|[$€£¥])"
_KINDS: list[tuple[str, re.Pattern[str]]] = [
    (
        "money",
        re.compile(
            r"\bhow much\b.*\b(?:spend|cost|pay|paid|get|claim|expense|reimburs\w*|budget|allowance|"
            r"salary|worth|charge|fee)\b|\b(?:cost|price|budget|allowance|per diem|salary|fee|"
            r"reimburs\w*|stipend|bonus)\b.*\bhow much\b",
            re.I,
        ),
    ),
    ("clock", re.compile(r"\bwhat time\b|\bat what hour\b|\bhours\b|\bonline during\b", re.I)),
    (
        "amount",
        re.compile(
            r"\bhow (?:many|much|long|often|far|big|large|old)\b|\b(?:amount|limit|number|cost|price|"
            r"rate|percent(?:age)?|budget|allowance|maximum|minimum|max|min|per diem|size)\b",
            re.I,
        ),
    ),
    (
        "time",
        re.compile(
            r"\bwhen\b|\bwhich (?:day|date|month)\b|\bdeadline\b|\bby when\b|\bhow soon\b", re.I
        ),
    ),
    (
        "code",
        re.compile(
            r"\b(?:which|what) (?:option|setting|flag|key|command|parameter|variable|switch|file)\b|"
            r"\bhow (?:do|can|would) i\b|\bwhat (?:do i|should i) (?:type|press|run)\b",
            re.I,
        ),
    ),
    ("who", re.compile(r"\bwho\b|\bwhom\b|\bwhich team\b|\bcontact\b", re.I)),
]
_KIND_SIGNS: dict[str, re.Pattern[str]] = {
    "money": re.compile(
        rf"{_CURRENCY}\s?\d|\d\s?{_CURRENCY}|\d+\s?(?:euros?|dollars?|percent|%)", re.I
    ),
    "clock": re.compile(
        r"\b\d{1,2}[:.]\d{2}\b|\b\d{1,2}\s?(?:am|pm)\b|\bnoon\b|\bmidnight\b", re.I
    ),
    "amount": re.compile(
        r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|twelve|half|unlimited|no limit)\b",
        re.I,
    ),
    "time": re.compile(
        r"\d|\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|march|"
        r"april|may|june|july|august|september|october|november|december|morning|noon|evening|"
        r"daily|weekly|monthly|annually|before|after|within)\b",
        re.I,
    ),
    "code": CODE,
    "who": re.compile(
        r"\b(?:team|manager|department|desk|office|lead|officer|@)|[A-Z][a-z]+ [A-Z][a-z]+"
    ),
}


def answer_kind(question: str) -> str | None:
    for kind, pattern in _KINDS:
        if pattern.search(question):
            return kind
    return None


def ranked(
    *,
    question: str,
    hits: Sequence[Hit],
    question_vector: np.ndarray,
    focus: str | None = None,
) -> list[Evidence]:
    """Every span of `hits`, best answer to `question` first."""
    from knowledge.embeddings import embed_spans

    candidates: list[tuple[int, Hit, int, str]] = [
        (n, hit, index, span)
        for n, hit in enumerate(hits, start=1)
        for index, span in enumerate(spans(hit.text))
    ]
    if not candidates:
        return []
    texts = [
        f"{heading_tail(hit.heading, hit.title)}: {plain(span)}".lstrip(": ")
        for _, hit, _, span in candidates
    ]
    similarity = embed_spans(texts) @ question_vector
    weights = _term_weights(question, focus)
    held = [_held_terms(span, hit.heading) for _, hit, _, span in candidates]
    rare = _rarity_weights(weights, [in_span | in_heading for in_span, in_heading in held])
    in_other_words = _in_other_words(
        f"{question} {focus or ''}", weights, [span for *_, span in candidates]
    )
    kind = answer_kind(focus or question) or answer_kind(question)
    asked = names(question) | names(focus or "")
    phrases = quoted(focus or question)
    how_to = _HOW_TO.search(focus or question) is not None
    scored: list[Evidence] = []
    for (n, hit, index, span), sim, (in_span, in_heading), near in zip(
        candidates, similarity, held, in_other_words, strict=True
    ):
        # The refusal rule reads the plain share; the score weighs terms by rarity and
        # counts a term found in other words too.
        share = _found_share(weights, in_span, in_heading)
        score = float(sim) + TERM_WEIGHT * _found_share(rare, in_span, in_heading, near)
        score += RANK_WEIGHT / n
        if asked:
            score += NAME_WEIGHT * len(asked & (in_span | in_heading)) / len(asked)
        if kind and _KIND_SIGNS[kind].search(plain(span)):
            score += KIND_WEIGHT
        if how_to and _INSTRUCTION.search(span):
            score += INSTRUCTION_WEIGHT
        if phrases:
            score += QUOTE_WEIGHT * sum(holds_phrase(span, p) for p in phrases) / len(phrases)
        scored.append(
            Evidence(
                passage=n,
                text=span,
                heading=hit.heading,
                title=hit.title,
                score=round(score, 4),
                term_share=round(share, 3),
                similarity=round(float(sim), 4),
                index=index,
            )
        )
    return sorted(scored, key=lambda e: (-e.score, e.passage))


def choose(
    *,
    question: str,
    hits: Sequence[Hit],
    question_vector: np.ndarray,
    focus: str | None = None,
) -> Evidence | None:
    """The span of `hits` that best answers `question`, or None when they hold no text."""
    spans_ranked = ranked(
        question=question, hits=hits, question_vector=question_vector, focus=focus
    )
    return spans_ranked[0] if spans_ranked else None


def _term_weights(question: str, focus: str | None) -> dict[str, float]:
    weights = {term: 1.0 for term in key_terms(question)}
    for term in key_terms(focus or "") | (names(question) & set(weights)):
        weights[term] = FOCUS_WEIGHT
    return weights


def _held_terms(span: str, heading: str) -> tuple[set[str], set[str]]:
    """The key terms of a span, and those only its heading holds."""
    in_span = key_terms(span)
    return in_span, key_terms(heading) - in_span


def _found_share(
    weights: dict[str, float],
    in_span: set[str],
    in_heading: set[str],
    near: frozenset[str] = frozenset(),
) -> float:
    """The weighted share of the question's terms a span holds (its heading's count less,
    a term the span holds only in other words less again)."""
    total = sum(weights.values()) or 1.0
    found = sum(w for t, w in weights.items() if t in in_span)
    found += HEADING_SHARE * sum(w for t, w in weights.items() if t in in_heading)
    found += SOFT_SHARE * sum(
        w for t, w in weights.items() if t in near and t not in in_span | in_heading
    )
    return found / total


def _in_other_words(
    question: str, weights: dict[str, float], texts: Sequence[str]
) -> list[frozenset[str]]:
    """For each text, the question's terms it holds in other words: one of its words lies
    within SOFT_MIN of the question's word."""
    from knowledge.embeddings import embed_words

    asked = {term: word for term, word in key_words(question).items() if term in weights}
    per_text = [set(key_words(text).values()) for text in texts]
    vocabulary = sorted(set().union(*per_text))
    if not asked or not vocabulary:
        return [frozenset() for _ in texts]
    vectors = embed_words([*vocabulary, *asked.values()])
    matrix = np.stack([vectors[word] for word in vocabulary])
    close = {
        term: {vocabulary[i] for i in np.flatnonzero(matrix @ vectors[word] >= SOFT_MIN)}
        for term, word in asked.items()
    }
    return [frozenset(t for t, near in close.items() if near & words) for words in per_text]


def _rarity_weights(weights: dict[str, float], held: Sequence[set[str]]) -> dict[str, float]:
    """`weights` times how rare each term is among the candidate spans (each span's terms
    with its heading's): sqrt(log((N + 1) / (df + 1)) + 1).

    A word most spans hold ("package", "file") tells them apart less than one few hold
    ("experimental", "interns"). Counted over the retrieved spans themselves, so it needs
    no query and reads no text beyond what the reader was given. The square root keeps a
    common word from counting for nothing: full IDF lost a sample and a diffutils answer
    whose common words were the point ("online during the day", "patch ... package").
    """
    spans_holding = Counter(term for terms in held for term in terms if term in weights)
    count = len(held)
    return {
        term: weight * math.sqrt(math.log((count + 1) / (spans_holding[term] + 1)) + 1)
        for term, weight in weights.items()
    }
