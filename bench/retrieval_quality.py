"""Retrieval quality on real document sets: Docent's hybrid search against the plain recipe.

    DOCENT_VAR_DIR=var/bench .venv/bin/python bench/retrieval_quality.py \
        [--reingest] [--variants | --variant LABEL ...] [--no-misses] [--only SET] [-k 10]

Ingests, synchronously and into collections of their own, the bundled sample
corpus and the Debian manuals found installed (apt-get install diffutils-doc
aptitude-doc-en), then evaluates each QA set under bench/qa/ (and the sample's
own) with the baseline in the same run, and prints the figures. Each set is
searched only within its own collections, so the sets do not disturb each
other. A second run reuses what is already ingested (`--reingest` after a parser
or chunking change: the baseline always parses afresh). `--variants` also runs
the real search with other knobs (evaluation/variants.py, each a
knowledge.search.SearchTuning) to show what a tuning would change.

This prints figures; it never passes or fails.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from _bootstrap import django_setup  # bench/ is on the path: the scripts run as files

ROOT = django_setup()

from django.core.management import call_command  # noqa: E402

from evaluation.corpora import (  # noqa: E402
    as_read,
    ingest_manual,
    ingest_sample,
    manuals,
    reingest,
    scope_of,
)
from evaluation.metrics import METRICS, Evaluation, qa_load, report_text  # noqa: E402
from evaluation.run import docent_retriever, evaluation_run  # noqa: E402
from evaluation.variants import VARIANTS  # noqa: E402
from knowledge.demo import SAMPLE_DIR  # noqa: E402
from knowledge.models import Chunk  # noqa: E402

QA_DIR = ROOT / "bench" / "qa"


def summary(evaluations: list[tuple[str, Evaluation]]) -> str:
    lines = ["", "Summary", f"{'set':<12}{'system':<26}{'hit@1':>8}{'hit@5':>8}{'MRR@10':>8}"]
    for name, evaluation in evaluations:
        for run in evaluation.runs:
            m = run.metrics
            lines.append(f"{name:<12}{run.name:<26}" + "".join(f"{m[x]:>8.3f}" for x in METRICS))
        difference = evaluation.difference()
        if difference:
            lines.append(
                f"{name:<12}{'docent - baseline':<26}"
                + "".join(f"{difference[x]:>+8.3f}" for x in METRICS)
            )
    return "\n".join(lines)


def losses(evaluation: Evaluation) -> str:
    """The questions where Docent ranks the expected document lower than the baseline does."""
    runs = {run.name: run for run in evaluation.runs}
    if "baseline" not in runs:
        return ""
    worse = [
        (d, b)
        for d, b in zip(runs["docent"].results, runs["baseline"].results, strict=True)
        if (d.rank or 99) > (b.rank or 99)
    ]
    lines = [f"docent ranks lower than the baseline on {len(worse)} questions:"]
    for d, b in worse:
        lines.append(
            f"  - {d.item.question}  (docent {d.rank or '-'}, baseline {b.rank}; "
            f"docent's first: {d.first})"
        )
    return "\n".join(lines)


def chunk_sizes(collection_ids: list[int]) -> str:
    """Docent's chunks as stored: the count, and the median length in characters and tokens."""
    chunks = Chunk.objects.filter(collection_id__in=collection_ids)
    lengths = sorted(len(t) for t in chunks.values_list("text", flat=True))
    tokens = sorted(chunks.values_list("token_count", flat=True))
    if not lengths:
        return "(docent: no chunks)"
    return (
        f"(docent: {len(lengths)} chunks, median {lengths[len(lengths) // 2]} characters, "
        f"stored token_count median {tokens[len(tokens) // 2]}, min {tokens[0]}, max {tokens[-1]})"
    )


def main() -> None:
    # Progress lines should appear as they happen, also when the output goes to a file.
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variants", action="store_true", help="also run every scratch variant")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="LABEL",
        help="run this variant (repeatable)",
    )
    parser.add_argument("--no-misses", action="store_true", help="print the tables only")
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("--only", help="run only this set (sample, diffutils, aptitude)")
    parser.add_argument(
        "--reingest",
        action="store_true",
        help="ingest every set's documents again first (after a parser or chunking change)",
    )
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    sets: list[tuple[str, Path, list[int]]] = []
    if args.only in (None, "sample"):
        sets.append(("sample", SAMPLE_DIR / "qa.jsonl", ingest_sample()))
    for manual in manuals():
        if args.only not in (None, manual.slug):
            continue
        collections = ingest_manual(manual)
        if collections is not None:
            sets.append((manual.slug, QA_DIR / f"{manual.slug}.jsonl", collections))

    evaluations = []
    for name, qa_path, collections in sets:
        if args.reingest:
            reingest(collections)
        scope = scope_of(collections)
        extra = {}
        if args.variants or args.variant:
            chosen = args.variant or list(VARIANTS)
            extra = {label: docent_retriever(scope, VARIANTS[label]) for label in chosen}
        started = time.monotonic()
        evaluation = evaluation_run(
            items=qa_load(qa_path) if name == "sample" else as_read(qa_load(qa_path)),
            scope=scope,
            qa=str(qa_path.relative_to(ROOT)) if qa_path.is_relative_to(ROOT) else str(qa_path),
            k=args.k,
            extra=extra,
        )
        print()
        print(report_text(evaluation, misses=() if args.no_misses else ("docent", "baseline")))
        print(losses(evaluation))
        base = next((r for r in evaluation.runs if r.name == "baseline"), None)
        if base is not None:
            print(
                f"(baseline: {base.notes['chunks']} chunks from {base.notes['documents']} documents, "
                f"built in {base.notes['build_seconds']} s; run {time.monotonic() - started:.0f} s)"
            )
        print(chunk_sizes(collections))
        evaluations.append((name, evaluation))
    print(summary(evaluations))


if __name__ == "__main__":
    main()
