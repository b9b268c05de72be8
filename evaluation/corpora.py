"""The document sets the retrieval benches measure on, ingested synchronously into collections of their own.

The bundled sample corpus, and Debian manuals found installed (HTML pages of a
documentation package, one public collection each). A second run reuses what is
already ingested; `reingest` re-reads the stored files after a parser or
chunking change.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from pathlib import Path

from knowledge.collections import collection_ensure
from knowledge.demo import SAMPLE_COLLECTIONS, sample_corpus_install
from knowledge.lifecycle import document_delete
from knowledge.models import Collection, Document, DocumentStatus
from knowledge.pipeline import document_ingest
from knowledge.selectors import ReaderScope
from knowledge.uploads import document_upload

from .metrics import QAItem


@dataclass(frozen=True)
class Manual:
    """A Debian documentation package whose HTML pages become one public collection."""

    slug: str
    package: str
    folder: Path
    # Pages that are only a pointer to an image description or similar, not prose.
    skip_prefixes: tuple[str, ...] = ()
    pattern: str = "*.html"

    def files(self) -> list[Path]:
        pages = sorted(
            p
            for p in self.folder.glob(self.pattern)
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
    # Held out: its QA set was written from the pages and is never used to tune answering
    # (bench/answer_accuracy.py). Only the tutorial folder: 17 pages, not the whole library.
    Manual("python-tutorial", "python3.11-doc", Path("/usr/share/doc/python3.11/html/tutorial")),
    # Held out too: rules stated as "must" and "should", as a company's policies are. Its
    # QA set was written from the pages by someone who never saw Docent's answers.
    Manual(
        "debian-policy",
        "debian-policy",
        Path("/usr/share/doc/debian-policy/policy.html"),
        skip_prefixes=("index", "genindex", "search"),  # contents, index, search page
    ),
)


# A folder of the manuals converted to another format (bench/convert_manuals.py writes
# var/converted/<format>/<slug>/): set, the benches read those instead of the HTML pages,
# under the same slugs and QA sets.
CONVERTED_ENV = "DOCENT_BENCH_CONVERTED"


def manuals() -> tuple[Manual, ...]:
    """The QA sets' manuals as the benches read them: HTML pages, or their conversions."""
    converted = os.environ.get(CONVERTED_ENV)
    if not converted:
        return MANUALS
    return tuple(
        replace(m, folder=Path(converted) / m.slug, pattern=f"*.{_suffix()}", skip_prefixes=())
        for m in MANUALS
    )


def as_read(items: list[QAItem]) -> list[QAItem]:
    """A manual's QA set's expected pages named as the benches read them (a converted page
    keeps its name, with the format's extension). The sample set is never converted."""
    if not os.environ.get(CONVERTED_ENV):
        return items
    return [replace(i, expected=tuple(_converted_name(name) for name in i.expected)) for i in items]


def _suffix() -> str:
    """The format of the converted folder: its name (pdf, docx, md)."""
    return Path(os.environ[CONVERTED_ENV]).name


def _converted_name(name: str) -> str:
    return f"{name[: -len('.html')]}.{_suffix()}" if name.endswith(".html") else name


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


# Large manuals for benches that need thousands of chunks (bench/exact_terms.py); no QA sets.
LARGE_MANUALS = (
    Manual(
        "debian-reference",
        "debian-reference-en",
        Path("/usr/share/debian-reference"),
        pattern="*.en.html",
    ),
    Manual("debian-handbook", "debian-handbook", Path("/usr/share/doc/debian-handbook/html/en-US")),
)
