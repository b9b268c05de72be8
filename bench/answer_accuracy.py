"""How often the final answer holds the expected fact, and how often it says what its evidence does not.

For each question of a QA file with an "answer" field, asks the whole answering
path as an operator (no cache) and reports, per set:

- final: the final answer (evidence quote + the model's line when kept) holds the
  expected fact. An item's "fact" names it: a list of requirements, each a list of
  alternatives in the document's own words (`[["--ignore-case"]]`, `[["Become root"],
  ["password"]]`), each found as whole words. Items without one fall back to the rough
  word check: the answer's first number, or most of its content words. The rough check's
  final and evidence shares are printed under each set, to compare with earlier runs;
- evidence: the quoted evidence alone holds it;
- top-k passages: the passages retrieval handed on hold it (the ceiling for the two above);
- baseline: evidence chosen by meaning alone (the span closest to the question: no
  key terms, names, quoted phrases, answer kind or rank), measured on the same
  passages in the same run;
- kept: the model's line passed the evidence check and was shown;
- contradicts: the answer states a number its evidence does not hold (target 0);
- first words / model: median milliseconds to the evidence and to the end of the model's line.

    .venv/bin/python bench/answer_accuracy.py [QA.jsonl ...] [--limit N] [--misses] [--no-model]

`--misses` prints, for each question the final answer misses, what was shown and
which passages held the fact (a retrieval miss, an evidence-selection miss or a
refusal). `--no-model` measures the evidence alone (the same retrieval, spans and
refusal rule as answering, without asking the model): final is then the evidence,
in a fraction of the time, for trying evidence rules.

With no files: the sample set and the diffutils and aptitude sets (ingest them first
with bench/retrieval_quality.py; a set whose documents are missing just scores low).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from _bootstrap import django_setup  # bench/ is on the path: the scripts run as files

ROOT = django_setup()

from config import embedded  # noqa: E402

embedded.ensure_services(llm=True)  # answering reads the model worker's URL; a bench starts it

from asgiref.sync import sync_to_async  # noqa: E402
from django.conf import settings  # noqa: E402

from accounts.readers import OPERATOR  # noqa: E402
from chatbot import evidence, followups, terms  # noqa: E402
from chatbot.answering import (  # noqa: E402
    DoneEvent,
    TokenEvent,
    answer_question,
    retrieve,
    should_abstain,
    unknown_words,
)
from chatbot.beginning import Stopwatch  # noqa: E402
from chatbot.citations import without_citations  # noqa: E402
from chatbot.prompts import passage_budget  # noqa: E402
from knowledge.search import Hit  # noqa: E402
from knowledge.selectors import reader_scope  # noqa: E402

_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_WORD = re.compile(r"[a-z]{4,}")
# An expected answer that is only short codes ("--ed (-e).") has no word of four letters:
# its options and words of any length are the fact.
_CODE_OR_WORD = re.compile(r"-{1,2}[a-z][\w-]*|[a-z]+")
DEFAULT_SETS = [
    ROOT / "knowledge/sample/qa.jsonl",
    ROOT / "bench/qa/diffutils.jsonl",
    ROOT / "bench/qa/aptitude.jsonl",
]


@dataclass(frozen=True)
class Expected:
    """A QA item's expected answer, and the fact it must state when the item names one."""

    answer: str
    fact: tuple[tuple[str, ...], ...] = ()

    @classmethod
    def of(cls, item: dict) -> Expected:
        return cls(item["answer"], tuple(tuple(alternatives) for alternatives in item.get("fact") or ()))

    @property
    def rough(self) -> Expected:
        return Expected(self.answer)


def holds(text: str, expected: Expected) -> bool:
    """`text` states the expected fact: every requirement of its "fact" met by one of its
    alternatives, as whole words; without one, the rough word check."""
    if not expected.fact:
        return roughly_holds(text, expected.answer)
    return all(
        any(terms.holds_phrase(text, alternative) for alternative in alternatives)
        for alternatives in expected.fact
    )


def roughly_holds(text: str, expected: str) -> bool:
    text = terms.plain(text).lower().replace(",", "")
    numbers = _NUMBER.findall(expected.replace(",", ""))
    if numbers:  # the first number is the fact asked for; later ones are qualifications
        return re.search(rf"(?<![\d.]){re.escape(numbers[0])}(?![\d])", text) is not None
    words = set(_WORD.findall(expected.lower())) or set(_CODE_OR_WORD.findall(expected.lower()))
    return bool(words) and len([w for w in words if w in text]) >= 0.6 * len(words)


@dataclass
class Outcome:
    final: bool
    evidence: bool
    passages: bool
    baseline: bool
    kept: bool
    contradicts: bool
    first_words: float
    total: float
    look: Look | None = None
    rough_final: bool = False  # the rough word check's verdicts, to compare with earlier runs
    rough_evidence: bool = False


@dataclass
class Look:
    """What the evidence step sees for a question, without the model."""

    hits: list[Hit]
    ranked: list[evidence.Evidence]
    shown: list[evidence.Evidence]
    abstained: bool
    baseline: str  # the span closest in meaning alone

    def quote(self) -> str:
        return "" if self.abstained or not self.shown else evidence.quote(*self.shown)


# The parts of the span score besides meaning: the baseline turns every one of them off.
_NOT_MEANING = ("TERM_WEIGHT", "NAME_WEIGHT", "KIND_WEIGHT", "RANK_WEIGHT", "QUOTE_WEIGHT")


def _by_meaning_alone(
    *, question: str, hits: list[Hit], vector: np.ndarray
) -> evidence.Evidence | None:
    """The span closest in meaning to the question: no key terms, names, quoted phrases,
    answer kind or retrieval rank."""
    kept = {name: getattr(evidence, name) for name in _NOT_MEANING}
    for name in _NOT_MEANING:
        setattr(evidence, name, 0.0)
    try:
        return evidence.choose(question=question, hits=hits, question_vector=vector)
    finally:
        for name, weight in kept.items():
            setattr(evidence, name, weight)


async def look(question: str) -> Look:
    """Retrieval, the ranked spans, what is shown and the refusal rule, as answering does them."""
    rewrite = followups.standalone(question=question, history=[])
    vector = followups.query_vector(rewrite)
    scope = await sync_to_async(reader_scope)(OPERATOR)
    hits = await retrieve(
        scope=scope, question=rewrite.text, vector=vector,
        budget=passage_budget(question=rewrite.text), watch=Stopwatch(),
    )
    ranked = evidence.ranked(question=rewrite.text, hits=hits, question_vector=vector)
    shown = evidence.excerpts(ranked_spans=ranked, hits=hits)
    unknown = await sync_to_async(unknown_words)(scope=scope, question=rewrite.text)
    abstained = should_abstain(hits, shown[0] if shown else None, unknown=unknown)
    chosen = _by_meaning_alone(question=rewrite.text, hits=hits, vector=vector)
    return Look(hits, ranked, shown, abstained, chosen.text if chosen else "")


async def ask(question: str, expected: Expected, *, model: bool = True) -> Outcome:
    seen = await look(question)
    passages = "\n".join(hit.text for hit in seen.hits)
    if not model:
        quote = seen.quote()
        return Outcome(
            final=holds(quote, expected), evidence=holds(quote, expected),
            passages=holds(passages, expected), baseline=holds(seen.baseline, expected),
            kept=False, contradicts=False, first_words=0.0, total=0.0, look=seen,
            rough_final=holds(quote, expected.rough), rough_evidence=holds(quote, expected.rough),
        )
    tokens: list[str] = []
    done: DoneEvent | None = None
    async for event in answer_question(user=OPERATOR, question=question, save=False):
        if isinstance(event, TokenEvent):
            tokens.append(event.text)
        elif isinstance(event, DoneEvent):
            done = event
    assert done is not None
    quote, model_line = tokens[0], "".join(tokens[1:])
    return Outcome(
        final=holds(done.answer, expected),
        evidence=holds(quote, expected),
        passages=holds(passages, expected),
        baseline=holds(seen.baseline, expected),
        kept=bool(model_line.strip()),
        contradicts=bool(terms.numbers(without_citations(model_line)) - terms.numbers(quote)),
        first_words=done.timings.get("first_token", 0.0),
        total=done.timings.get("total", 0.0),
        look=seen,
        rough_final=holds(done.answer, expected.rough),
        rough_evidence=holds(quote, expected.rough),
    )


def miss_report(question: str, expected: Expected, outcome: Outcome) -> str:
    """Why the answer missed: refused, passages without the fact, or the wrong span shown."""
    seen = outcome.look
    assert seen is not None
    holding = [n for n, hit in enumerate(seen.hits, start=1) if holds(hit.text, expected)]
    if seen.abstained:
        why = "refused"
    elif not holding:
        why = "retrieval"
    else:
        why = "evidence"
    if outcome.rough_final:
        why += ", the rough word check passes it"
    lines = [f"  miss ({why}): {question}", f"    expected: {expected.answer}  fact: {expected.fact}"]
    lines.append("    passages: " + "; ".join(
        f"[{n}]{'*' if n in holding else ''} {hit.title} > {hit.heading[-50:]}"
        for n, hit in enumerate(seen.hits, start=1)
    ))
    best = seen.ranked[0].score if seen.ranked else 0.0
    for e in seen.shown:
        lines.append(f"    shown [{e.passage}] {e.score:.3f} sim {e.similarity:.3f} "
                     f"terms {e.term_share:.2f}: {' '.join(e.text.split())[:400]}")
    for place, e in enumerate(seen.ranked, start=1):
        if holds(e.text, expected):
            lines.append(f"    first holding span: #{place} [{e.passage}] {e.score:.3f} "
                         f"({e.score / best if best else 0:.2f} of best) sim {e.similarity:.3f} "
                         f"terms {e.term_share:.2f}: {' '.join(e.text.split())[:400]}")
            break
    return "\n".join(lines)


def share(outcomes: list[Outcome], name: str) -> str:
    return f"{sum(getattr(o, name) for o in outcomes) / max(1, len(outcomes)):.3f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("qa", nargs="*", type=Path, default=DEFAULT_SETS)
    parser.add_argument("--limit", type=int, default=0, help="only the first N questions of each set")
    parser.add_argument("--misses", action="store_true", help="print the questions the answer misses, and why")
    parser.add_argument("--no-model", action="store_true", help="the evidence alone, without the model")
    args = parser.parse_args()
    settings.ANSWER_CACHE_ENABLED = False
    print(f"prompt {settings.LLM_PROMPT}, model {settings.LLM_MODEL_PATH or 'bundled'}, "
          f"top k {settings.RETRIEVAL_TOP_K}, at most {settings.RETRIEVAL_PER_SECTION or 'all'} a section")
    columns = ("final", "evidence", "passages", "baseline", "kept", "contradicts")
    print(f"{'set':<12} {'n':>3} " + " ".join(f"{c:>11}" for c in columns)
          + f" {'first words':>12} {'total':>8}  (ms, median)")
    for path in args.qa:
        items = [json.loads(line) for line in path.open() if line.strip()]
        items = [i for i in items if i.get("answer")][: args.limit or None]
        outcomes = []
        for item in items:
            expected = Expected.of(item)
            outcome = asyncio.run(ask(item["question"], expected, model=not args.no_model))
            outcomes.append(outcome)
            if args.misses and not outcome.final:
                print(miss_report(item["question"], expected, outcome))
        name = path.stem if path.stem != "qa" else "sample"
        print(f"{name:<12} {len(outcomes):>3} " + " ".join(f"{share(outcomes, c):>11}" for c in columns)
              + f" {statistics.median(o.first_words for o in outcomes):>12.0f}"
              + f" {statistics.median(o.total for o in outcomes):>8.0f}")
        base = sum(o.baseline for o in outcomes) or 1
        print(f"{'':<12} final / baseline evidence = {sum(o.final for o in outcomes) / base:.2f}")
        named = sum(bool(item.get("fact")) for item in items)
        print(f"{'':<12} facts named on {named} of {len(items)}; rough word check: final "
              f"{share(outcomes, 'rough_final')}, evidence {share(outcomes, 'rough_evidence')}")


if __name__ == "__main__":
    main()
