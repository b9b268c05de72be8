"""Excerpts: a passage cut into quotable spans, and what of it the reader is shown.

A passage's spans are its sentences, a short list with the line that introduces it, a
table row with its header, a code block with the sentence before it, and a definition
list's term with its description (`spans`). Once chatbot.evidence has scored them, the
reader is shown the best span in its context and, when one scores nearly as well, a
runner-up from another place (`excerpts`), quoted with where each comes from (`quote`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from chatbot.terms import LIST_ITEM, plain
from knowledge.search import Hit

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


@dataclass(frozen=True)
class Evidence:
    """A span of a retrieved passage, scored as an answer to the question (chatbot.evidence)."""

    passage: int  # 1-based number of the hit it comes from
    text: str  # the document's own words, as they stand (markdown kept)
    heading: str
    title: str
    score: float
    term_share: float  # share of the question's key terms found in the span or its heading
    similarity: float = 0.0  # cosine of the span (with its heading) and the question
    index: int = 0  # the span's place among its passage's spans


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


def heading_tail(heading: str, title: str) -> str:
    parts = [p for p in heading.split(" > ") if p and p != title]
    return " > ".join(parts[-3:])


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
    section = heading_tail(evidence.heading, evidence.title)
    where = f"{evidence.title}, {section.replace(' > ', ' › ')}" if section else evidence.title
    return f"— {where} [{evidence.passage}]"


def quote(*shown: Evidence) -> str:
    """The evidence as markdown quotes, each followed by where it comes from."""
    blocks = []
    for evidence in shown:
        body = "\n".join(f"> {line}" for line in evidence.text.splitlines())
        blocks.append(f"{body}\n\n{_where(evidence)}")
    return "\n\n".join(blocks)
