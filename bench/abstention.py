"""How well the abstention threshold (ABSTAIN_BELOW) separates answerable from unanswerable.

Uses whatever is ingested in the current database (run `make run` once, or
`manage.py ingest knowledge/sample/handbook --collection handbook --public --sync`).
Prints, per threshold, answerable questions that would be refused and
unanswerable ones that would reach the model. Figures only; nothing passes or fails.

    .venv/bin/python bench/abstention.py [QA.jsonl] [UNANSWERABLE.txt]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from _bootstrap import django_setup  # bench/ is on the path: the scripts run as files

ROOT = django_setup()

from django.conf import settings  # noqa: E402

from accounts.readers import OPERATOR  # noqa: E402
from knowledge.embeddings import embed_query  # noqa: E402
from knowledge.search import chunk_search  # noqa: E402
from knowledge.selectors import reader_scope  # noqa: E402


def best_similarity(question: str) -> float:
    hits = chunk_search(
        scope=reader_scope(OPERATOR), query=question, vector=embed_query(question), k=12
    )
    return max((hit.similarity for hit in hits), default=0.0)


def main() -> None:
    qa = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "knowledge/sample/qa.jsonl")
    off_topic = Path(sys.argv[2] if len(sys.argv) > 2 else ROOT / "bench/qa/unanswerable.txt")
    answerable = [
        best_similarity(json.loads(line)["question"]) for line in qa.open() if line.strip()
    ]
    unanswerable = [best_similarity(line.strip()) for line in off_topic.open() if line.strip()]
    print(
        f"{len(answerable)} answerable ({qa.name}), {len(unanswerable)} unanswerable ({off_topic.name})"
    )
    print(
        f"best-passage similarity: answerable min {min(answerable):.3f}, "
        f"unanswerable max {max(unanswerable):.3f}"
    )
    print("threshold  answerable refused  unanswerable answered")
    for threshold in (0.20, 0.25, 0.30, 0.35, 0.40, 0.45):
        marker = "  <- ABSTAIN_BELOW" if abs(threshold - settings.ABSTAIN_BELOW) < 1e-9 else ""
        refused = sum(s < threshold for s in answerable)
        answered = sum(s >= threshold for s in unanswerable)
        print(
            f"  {threshold:.2f}     {refused:>3}/{len(answerable):<3}            {answered:>3}/{len(unanswerable)}{marker}"
        )


if __name__ == "__main__":
    main()
