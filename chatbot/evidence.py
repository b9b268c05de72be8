"""Evidence: the document's own words that answer the question, chosen by the question.

An answer starts with a span of a retrieved passage (a sentence, a short list
under its heading, or a table row with its header), quoted as it stands. The
span is chosen by the question, not by what a model later says:

- meaning: the span (with the last parts of its heading) embedded and compared
  with the question;
- the question's key terms and qualifiers ("interns", "Canada", "--ignore-case"),
  found in the span or, weaker, in its heading; the words a follow-up added
  weigh double, so "and for interns?" follows interns, not the earlier subject;
- the kind of answer asked for: how many/much wants a number or an amount, when
  wants a time or a date, which option/key/command wants a code-like token;
- a phrase the question quotes (a message, a prompt), found word for word.

Whether a model's sentence may stand beside the evidence is chatbot.agreement's call.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from chatbot.terms import (
    CODE,
    LIST_ITEM,
    holds_phrase,
    key_terms,
    names,
    plain,
    quoted,
)
from knowledge.search import Hit

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
MAX_SPAN_CHARS = 420
# A definition list's term line (an option, a menu command) is at most this long. Keeping
# each term with its description held the fact in 36 of 50 diffutils answers against 32
# (the option reference's "See ..." line was glued to the next option); sample and aptitude
# unchanged.
TERM_CHARS = 60
# A runner-up is shown beside the best span only when it scores nearly as well: a distant
# second is noise, often from another document.
# Measured (bench/answer_accuracy.py's evidence column, no model): always adding the runner-up
# held the fact 0.733/0.680/0.490 (sample/diffutils/aptitude) with a second document among
# the sources in 40/34/49 % of answers; at 0.9, 0.667/0.640/0.471 with 13/24/31 %.
RUNNER_UP_SHARE = 0.9
# One from the same document adds no source the reader did not already get: it needs less.
# Measured (same bench, definition-list entries in): 0.85 held 30/37/22 of 45/50/51 against
# 28/36/22 at 0.9; 0.8 and 0.7 no more, nor looking past the best three spans.
SAME_DOCUMENT_SHARE = 0.85
# The best span is shown with the one before it and up to CONTEXT_AFTER following spans while
# the excerpt stays within CONTEXT_CHARS (excerpts(): 500 and 600 characters held the same
# on the sample, diffutils and tutorial sets, 600 one more aptitude question; 2 after instead
# of 3, one fewer on the sample and diffutils).
CONTEXT_AFTER = 3
CONTEXT_CHARS = 600

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"“(])")
_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_SECTION_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)+\.?\s+[A-Z]")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}")

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


@dataclass(frozen=True)
class Evidence:
    passage: int  # 1-based number of the hit it comes from
    text: str  # the document's own words, as they stand (markdown kept)
    heading: str
    title: str
    score: float
    term_share: float  # share of the question's key terms found in the span or its heading
    similarity: float = 0.0  # cosine of the span (with its heading) and the question
    index: int = 0  # the span's place among its passage's spans


def answer_kind(question: str) -> str | None:
    for kind, pattern in _KINDS:
        if pattern.search(question):
            return kind
    return None


def spans(text: str) -> list[str]:
    """The quotable units of a passage, in order.

    A list that follows an introducing line (ending with ':') or stands alone under its
    heading is kept together when short, since its items answer together ("Full day:
    CAD 85", "Partial day: CAD 45"); a table row keeps the header row above it.
    """
    lines = [line.rstrip() for line in text.splitlines()]
    units: list[str] = []
    header: str | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip() or _TABLE_RULE.match(line) and "|" in line:
            i += 1
            continue
        if _TABLE_ROW.match(line):
            if header is None:
                header = line.strip()
            else:
                units.append(f"{header}\n{line.strip()}")
            i += 1
            continue
        header = None
        if line.lstrip().startswith("```"):
            fence = [line.strip()]
            i += 1
            while i < len(lines) and not lines[i].lstrip().startswith("```"):
                fence.append(lines[i])
                i += 1
            fence.append("```")
            i += 1
            code = "\n".join(fence)
            # A command is quoted with the sentence that introduces it, when it has one.
            intro = units.pop() if units and units[-1].endswith(":") else None
            units.append(f"{intro}\n{code}" if intro else code)
            continue
        if LIST_ITEM.match(line):
            items = []
            while i < len(lines) and LIST_ITEM.match(lines[i]):
                items.append(lines[i].strip())
                i += 1
            intro = units.pop() if units and units[-1].endswith(":") else None
            block = "\n".join(items)
            if len(block) + len(intro or "") <= MAX_SPAN_CHARS:
                units.append(f"{intro}\n{block}" if intro else block)
            else:
                if intro:
                    # The introduction keeps as many of its items as fit: "The following
                    # files are included: - ... - ..." answers with the items, not one.
                    taken = _items_that_fit(intro, items)
                    units.append("\n".join([intro, *items[:taken]]))
                    items = items[taken:]
                units.extend(items)
            continue
        paragraph = [line.strip()]
        i += 1
        while (
            i < len(lines)
            and lines[i].strip()
            and not LIST_ITEM.match(lines[i])
            and not _TABLE_ROW.match(lines[i])
            and not lines[i].lstrip().startswith("```")
        ):
            paragraph.append(lines[i].strip())
            i += 1
        for entry in _entries(paragraph):
            units.extend(_heading_free(_entry_units(entry)))
    return [u for u in units if len(plain(u)) > 8 and not _is_contents(u)]


def _items_that_fit(intro: str, items: list[str]) -> int:
    """How many of a list's items fit with its introduction in one span (at least one)."""
    taken = 1
    while taken < len(items) and len(intro) + len("\n".join(items[: taken + 1])) < MAX_SPAN_CHARS:
        taken += 1
    return taken


def _is_contents(span: str) -> bool:
    """A table of contents ("7.1. Fancier Output 7.1.1. Formatted String Literals ...") says
    where answers are; it answers nothing."""
    contents = span.lstrip("-*# ").lower().startswith("table of contents")
    return contents or len(_SECTION_NUMBER.findall(span)) >= 3


def _is_term(line: str) -> bool:
    """A definition list's term ("-i", "--ignore-case", "Purge: Package → Purge ( _ )"): a short
    line that ends no sentence, on a line of its own before its description."""
    return len(line) <= TERM_CHARS and not line.startswith("#") and line[-1] not in ".!?:;,"


def _entries(paragraph: list[str]) -> list[list[str]]:
    """The paragraph's lines grouped so that each run of term lines starts an entry with the
    description lines that follow it; prose lines before any term stay one group."""
    entries: list[list[str]] = []
    previous_term = False
    for n, line in enumerate(paragraph):
        term = _is_term(line) and n + 1 < len(paragraph)
        if not entries or term and not previous_term:
            entries.append([])
        entries[-1].append(line)
        previous_term = term
    return entries


def _entry_units(entry: list[str]) -> list[str]:
    """A term with its description whole when short (the option and what it does answer
    together), else its sentences, the first one still carrying the term."""
    text = " ".join(entry)
    if _is_term(entry[0]) and len(entry) > 1 and len(text) <= MAX_SPAN_CHARS:
        return [text]
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def _heading_free(sentences: list[str]) -> Iterable[str]:
    # A markdown heading inside the text is context, not an answer.
    return (s for s in sentences if not s.startswith("#"))


def _heading_tail(heading: str, title: str) -> str:
    parts = [p for p in heading.split(" > ") if p and p != title]
    return " > ".join(parts[-3:])


def ranked(
    *,
    question: str,
    hits: Sequence[Hit],
    question_vector: np.ndarray,
    focus: str | None = None,
) -> list[Evidence]:
    """Every span of `hits`, best answer to `question` first."""
    from knowledge.embeddings import embed_passages

    candidates: list[tuple[int, Hit, int, str]] = [
        (n, hit, index, span)
        for n, hit in enumerate(hits, start=1)
        for index, span in enumerate(spans(hit.text))
    ]
    if not candidates:
        return []
    texts = [
        f"{_heading_tail(hit.heading, hit.title)}: {plain(span)}".lstrip(": ")
        for _, hit, _, span in candidates
    ]
    similarity = embed_passages(texts) @ question_vector
    weights = _term_weights(question, focus)
    total = sum(weights.values()) or 1.0
    kind = answer_kind(focus or question) or answer_kind(question)
    asked = names(question) | names(focus or "")
    phrases = quoted(focus or question)
    scored: list[Evidence] = []
    for (n, hit, index, span), sim in zip(candidates, similarity, strict=True):
        in_span = key_terms(span)
        in_heading = key_terms(hit.heading) - in_span
        found = sum(w for t, w in weights.items() if t in in_span)
        found += HEADING_SHARE * sum(w for t, w in weights.items() if t in in_heading)
        share = found / total
        score = float(sim) + TERM_WEIGHT * share + RANK_WEIGHT / n
        if asked:
            score += NAME_WEIGHT * len(asked & (in_span | in_heading)) / len(asked)
        if kind and _KIND_SIGNS[kind].search(plain(span)):
            score += KIND_WEIGHT
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


def excerpts(*, ranked_spans: Sequence[Evidence], hits: Sequence[Hit]) -> list[Evidence]:
    """What the reader is shown: the best span in its context, then the runner-up from
    another place when it scores nearly as well (the best span by score is not always the
    one that answers).

    The context is the span before the best one (a sentence alone often leans on its
    neighbour: "This option...") and the spans after it while the excerpt stays short:
    manuals set a question up before they answer it ("lists are slow for this ... To
    implement a queue, use collections.deque"). Measured on the sample, diffutils, aptitude
    and Python tutorial sets (bench/answer_accuracy.py --no-model): the span alone held
    the fact 0.51/0.30/0.29/- of the time, one span either side 0.667/0.740/0.431/0.649,
    this 0.711/0.760/0.451/0.703 for about 12 % more characters.
    """
    if not ranked_spans:
        return []
    best = ranked_spans[0]
    passage_spans = spans(hits[best.passage - 1].text)
    start, end = _context(passage_spans, best.index)
    around = passage_spans[start:end]
    shown = [replace(best, text=_joined(around) if best.text in around else best.text)]
    for other in ranked_spans[1:3]:
        same_place = other.passage == best.passage and start <= other.index < end
        share = RUNNER_UP_SHARE if other.title != best.title else SAME_DOCUMENT_SHARE
        close = other.score >= share * best.score
        if close and not same_place and other.text not in shown[0].text:
            shown.append(other)
            break
    return shown


def _context(passage_spans: Sequence[str], index: int) -> tuple[int, int]:
    """The slice of `passage_spans` shown around the best span at `index`: one span before,
    one after, and up to CONTEXT_AFTER after while the excerpt stays within CONTEXT_CHARS."""
    start, end = max(0, index - 1), min(len(passage_spans), index + 2)
    while (
        end < len(passage_spans)
        and end <= index + CONTEXT_AFTER
        and len(_joined(passage_spans[start : end + 1])) <= CONTEXT_CHARS
    ):
        end += 1
    return start, end


def _joined(units: Sequence[str]) -> str:
    """Neighbouring spans as one excerpt; rows of one table show its header once."""
    joiner = "\n" if any("\n" in unit for unit in units) else " "
    parts: list[str] = []
    header = None
    for unit in units:
        first, _, rest = unit.partition("\n")
        row = bool(rest) and _TABLE_ROW.match(first) is not None
        parts.append(rest if row and first == header else unit)
        header = first if row else None
    return joiner.join(parts)


def _where(evidence: Evidence) -> str:
    section = _heading_tail(evidence.heading, evidence.title)
    where = f"{evidence.title}, {section.replace(' > ', ' › ')}" if section else evidence.title
    return f"— {where} [{evidence.passage}]"


def quote(*shown: Evidence) -> str:
    """The evidence as markdown quotes, each followed by where it comes from."""
    blocks = []
    for evidence in shown:
        body = "\n".join(f"> {line}" for line in evidence.text.splitlines())
        blocks.append(f"{body}\n\n{_where(evidence)}")
    return "\n\n".join(blocks)
