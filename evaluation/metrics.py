"""Measured retrieval quality: hit@1, hit@5 and MRR@10 at document level.

A QA set is JSON lines, `{"question": ..., "expected": [<file name or title>, ...]}`.
Each question goes to one or more retrievers (Docent's hybrid search, and the
plain recipe of `evaluation.baseline` in the same run, see `evaluation.run`); the hits of each are
reduced to documents in rank order, and the rank of the first expected
document gives the figures. A question whose expected documents the reader
may not read simply finds nothing: it counts as a miss, which is how
permissions show up in the numbers.

Both systems get the same question embedding and the same number of chunk
hits (`k`); document-level figures are taken from those hits, so a system
whose top chunks all come from one document shows fewer documents, as its
prompt would.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MRR_DEPTH = 10
METRICS = ("hit@1", "hit@5", "mrr@10")


class QASetError(ValueError):
    """The QA file cannot be used; the message names the line."""


@dataclass(frozen=True)
class QAItem:
    question: str
    expected: tuple[str, ...]


@dataclass(frozen=True)
class RankedDocument:
    id: int
    path: str
    title: str

    def matches(self, expected: Iterable[str]) -> bool:
        names = {self.path.casefold(), self.title.casefold()}
        return any(e.strip().casefold() in names for e in expected)


# (question, its embedding, k) -> the k best chunks' documents, best first (documents may repeat).
Retriever = Callable[[str, np.ndarray, int], list[RankedDocument]]


def qa_load(path: Path) -> list[QAItem]:
    items: list[QAItem] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            question, expected = row["question"], row["expected"]
        except (ValueError, KeyError, TypeError) as exc:
            raise QASetError(f"{path}:{number}: not a QA line ({exc}).") from exc
        if isinstance(expected, str):
            expected = [expected]
        if not isinstance(question, str) or not question.strip() or not expected:
            raise QASetError(
                f"{path}:{number}: needs a question and at least one expected document."
            )
        items.append(QAItem(question=question.strip(), expected=tuple(str(e) for e in expected)))
    if not items:
        raise QASetError(f"{path}: no questions.")
    return items


def documents_in_order(hits: Iterable[RankedDocument]) -> list[RankedDocument]:
    """Each document once, where its best chunk ranked."""
    seen: set[int] = set()
    ordered: list[RankedDocument] = []
    for hit in hits:
        if hit.id not in seen:
            seen.add(hit.id)
            ordered.append(hit)
    return ordered


@dataclass(frozen=True)
class QuestionResult:
    item: QAItem
    documents: tuple[RankedDocument, ...]

    @property
    def rank(self) -> int | None:
        """1-based rank of the first expected document within MRR_DEPTH; None if absent."""
        for rank, document in enumerate(self.documents[:MRR_DEPTH], start=1):
            if document.matches(self.item.expected):
                return rank
        return None

    @property
    def first(self) -> str | None:
        return self.documents[0].path if self.documents else None


@dataclass
class SystemRun:
    name: str
    results: list[QuestionResult]
    notes: dict[str, object] = field(default_factory=dict)

    @property
    def metrics(self) -> dict[str, float]:
        ranks = [r.rank for r in self.results]
        count = max(1, len(ranks))
        return {
            "hit@1": sum(1 for r in ranks if r == 1) / count,
            "hit@5": sum(1 for r in ranks if r is not None and r <= 5) / count,
            "mrr@10": sum(1 / r for r in ranks if r is not None) / count,
        }

    @property
    def misses(self) -> list[QuestionResult]:
        return [r for r in self.results if r.rank != 1]


@dataclass
class Evaluation:
    qa: str
    reader: str
    k: int
    runs: list[SystemRun]

    def difference(self, a: str = "docent", b: str = "baseline") -> dict[str, float] | None:
        by_name = {run.name: run for run in self.runs}
        if a not in by_name or b not in by_name:
            return None
        ma, mb = by_name[a].metrics, by_name[b].metrics
        return {m: ma[m] - mb[m] for m in METRICS}

    def as_json(self) -> dict:
        """The `evaluate --json` contract."""
        rows: list[dict] = []
        for n, first_run_result in enumerate(self.runs[0].results if self.runs else []):
            row: dict = {
                "question": first_run_result.item.question,
                "expected": list(first_run_result.item.expected),
            }
            for run in self.runs:
                result = run.results[n]
                row[run.name] = {
                    "rank": result.rank,
                    "first": result.first,
                    "documents": [d.path for d in result.documents[:MRR_DEPTH]],
                }
            rows.append(row)
        difference = self.difference()
        return {
            "qa": self.qa,
            "reader": self.reader,
            "k": self.k,
            "questions": len(rows),
            "systems": {
                run.name: {**{m: round(v, 4) for m, v in run.metrics.items()}, **run.notes}
                for run in self.runs
            },
            "difference": {m: round(v, 4) for m, v in difference.items()} if difference else None,
            "results": rows,
        }


def report_text(evaluation: Evaluation, *, misses: Collection[str] | None = None) -> str:
    """The table (with the docent - baseline line), then the misses of the systems named in
    `misses` (all by default): questions whose expected document was not ranked first."""
    width = max([12, *(len(run.name) + 2 for run in evaluation.runs)])
    lines = [
        f"{evaluation.qa or 'QA set'}: {len(evaluation.runs[0].results)} questions, "
        f"reader {evaluation.reader}, top {evaluation.k} chunks per question",
        f"{'':<{width}}{'hit@1':>8}{'hit@5':>8}{'MRR@10':>8}",
    ]
    difference = evaluation.difference()
    for run in evaluation.runs:
        m = run.metrics
        lines.append(f"{run.name:<{width}}" + "".join(f"{m[name]:>8.3f}" for name in METRICS))
        if run.name == "baseline" and difference is not None:
            lines.append(
                f"{'difference':<{width}}" + "".join(f"{difference[n]:>+8.3f}" for n in METRICS)
            )
    for run in evaluation.runs:
        if misses is not None and run.name not in misses:
            continue
        lines.append("")
        lines.append(f"{run.name} misses ({len(run.misses)}):")
        for result in run.misses:
            where = f"rank {result.rank}" if result.rank else f"not in top {MRR_DEPTH}"
            lines.append(
                f"  - {result.item.question}\n"
                f"    expected {', '.join(result.item.expected)}; {where}; first: {result.first or '-'}"
            )
    return "\n".join(lines)
