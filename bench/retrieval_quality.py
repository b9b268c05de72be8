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
scratch copies of the search SQL (bench/search_variants.py) to show what a
tuning would change; knowledge/search.py itself is not touched.

This prints figures; it never passes or fails.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from knowledge.collections import collection_ensure  # noqa: E402
from knowledge.evaluation import METRICS, Evaluation, evaluation_run, qa_load, report_text  # noqa: E402
from knowledge.demo import SAMPLE_COLLECTIONS, SAMPLE_DIR, sample_corpus_install  # noqa: E402
from knowledge.lifecycle import document_delete  # noqa: E402
from knowledge.models import Chunk, Collection, Document, DocumentStatus  # noqa: E402
from knowledge.pipeline import document_ingest  # noqa: E402
from knowledge.selectors import ReaderScope  # noqa: E402
from knowledge.uploads import document_upload  # noqa: E402

QA_DIR = ROOT / "bench" / "qa"


@dataclass(frozen=True)
class Manual:
    """A Debian documentation package whose HTML pages become one public collection."""

    slug: str
    package: str
    folder: Path
    # Pages that are only a pointer to an image description or similar, not prose.
    skip_prefixes: tuple[str, ...] = ()

    def files(self) -> list[Path]:
        pages = sorted(
            p
            for p in self.folder.glob("*.html")
            if not p.name.startswith(self.skip_prefixes) and not _is_redirect(p)
        )
        names = [p.name for p in pages]
        # Documents keep only their base name, and QA sets name files by it: it must be unique.
        assert len(names) == len(set(names)), f"{self.slug}: duplicate page names"
        return pages


def _is_redirect(path: Path) -> bool:
    """Texinfo leaves a stub page per node that only redirects to its chapter: no content.

    The whole file is read: the refresh comes after a long licence comment.
    """
    return 'http-equiv="refresh"' in path.read_text(errors="replace").lower()


MANUALS = (
    Manual("diffutils", "diffutils-doc", Path("/usr/share/doc/diffutils")),
    Manual(
        "aptitude",
        "aptitude-doc-en",
        Path("/usr/share/doc/aptitude/html/en"),
        skip_prefixes=("ld-",),  # DocBook "long description" stubs for screenshots
    ),
)


def ingest_sample() -> list[int]:
    started, count = time.monotonic(), 0
    for result in sample_corpus_install(enqueue=False):
        document = result.document
        if document.status != DocumentStatus.READY:
            document_ingest(document_id=document.pk, version=document.version)
            count += 1
    print(f"sample corpus: {count} documents ingested in {time.monotonic() - started:.0f} s")
    return list(Collection.objects.filter(slug__in=SAMPLE_COLLECTIONS).values_list("pk", flat=True))


def ingest_manual(manual: Manual) -> list[int] | None:
    if not manual.folder.is_dir():
        print(f"{manual.slug}: not installed (apt-get install {manual.package}); skipped")
        return None
    collection = collection_ensure(slug=manual.slug, name=f"{manual.package} manual", public=True)
    started, count = time.monotonic(), 0
    files = manual.files()
    # Pages no longer part of the set (a changed filter, a new package version) go.
    for stale in Document.objects.filter(collection=collection).exclude(
        original_name__in=[p.name for p in files]
    ):
        document_delete(document=stale)
    for path in files:
        with path.open("rb") as content:
            result = document_upload(
                collection=collection, content=content, original_name=path.name, enqueue=False
            )
        document = result.document
        if document.status != DocumentStatus.READY:
            outcome = document_ingest(document_id=document.pk, version=document.version)
            count += 1
            if outcome != "ready":
                document.refresh_from_db()
                print(f"  {path.name}: {outcome} {document.error}")
    ready = Document.objects.filter(collection=collection, status=DocumentStatus.READY)
    chunks = sum(ready.values_list("chunk_count", flat=True))
    print(
        f"{manual.slug}: {count} documents ingested in {time.monotonic() - started:.0f} s "
        f"({ready.count()} ready, {chunks} chunks)"
    )
    return [collection.pk]


def reingest(collection_ids: list[int]) -> None:
    """Ingest the stored files again, so Docent's chunks come from today's parsers and chunker,
    as the baseline's do (it parses afresh on every run)."""
    started = time.monotonic()
    documents = Document.objects.filter(collection_id__in=collection_ids)
    rows = list(documents.values_list("pk", "version"))
    documents.update(status=DocumentStatus.QUEUED, progress=0, error="")
    for document_id, version in rows:
        document_ingest(document_id=document_id, version=version)
    print(f"  re-ingested {len(rows)} documents in {time.monotonic() - started:.0f} s")


def scope_of(collection_ids: list[int]) -> ReaderScope:
    """An operator limited to one set's collections (the versions matter only to caches)."""
    return ReaderScope(collection_ids=tuple(sorted(collection_ids)), versions=())


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
    for manual in MANUALS:
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
            from search_variants import VARIANTS, variant_retriever  # bench/, next to this file

            chosen = args.variant or list(VARIANTS)
            extra = {label: variant_retriever(scope, **VARIANTS[label]) for label in chosen}
        started = time.monotonic()
        evaluation = evaluation_run(
            items=qa_load(qa_path),
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
