"""The ingest pipeline: claim -> preflight -> parse -> chunk -> embed -> store -> finish.

Safe to run twice: an advisory lock per document keeps two workers apart (and
is released by PostgreSQL if a worker dies), a task for an outdated version
does nothing, and chunks are replaced in one transaction, so readers see the
old version or the new one, never a mix. A version whose runs keep dying with
their worker fails for good after INGEST_MAX_ATTEMPTS, and the limits per
document (text, passages, the parser's reply) fail it with the figures.

Uploads (`knowledge.uploads`) queue this pipeline; `knowledge.tasks` runs it on
a worker; `knowledge.lifecycle` deletes and re-ingests.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Literal

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone

from config import metrics
from knowledge import events
from knowledge.chunking import ChunkDraft, chunk_document
from knowledge.collections import collection_touch
from knowledge.embeddings import embed_batch, passage_batches, token_counts
from knowledge.models import Chunk, Document, DocumentStatus
from knowledge.parsers.base import ParsedDocument, ParseError
from knowledge.parsers.sandbox import Limits, parse_file

# What one run of the pipeline did to the version it was given.
IngestOutcome = Literal["ready", "failed", "skipped", "busy"]
# The steps a caller can time (bench/ingest_throughput.py does).
Stage = Literal["parsing", "chunking", "embedding", "storing"]

FINAL_STATUSES = (DocumentStatus.READY, DocumentStatus.FAILED)
# Namespace of the advisory locks, so they cannot meet another feature's.
_LOCK_SPACE = 0x6B6E


class IngestStopped(Exception):
    """The document cannot be ingested; the message is the reason people are shown."""


class _Superseded(Exception):
    """A newer version was uploaded, or the document deleted, while this one was ingested."""


@contextlib.contextmanager
def _document_lock(document_id: int) -> Iterator[bool]:
    """A session advisory lock: held while one worker ingests, freed if that worker dies."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_SPACE, document_id])
        acquired = bool(cursor.fetchone()[0])
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_SPACE, document_id])


def document_ingest(
    *, document_id: int, version: int, on_stage: Callable[[Stage], None] | None = None
) -> IngestOutcome:
    """Ingest one version of a document and say what happened.

    `on_stage` is called as each timed step starts.
    """
    with _document_lock(document_id) as acquired:
        if not acquired:
            return "busy"
        if _give_up_if_tried_enough(document_id=document_id, version=version):
            return "failed"
        document = _claim(document_id=document_id, version=version)
        if document is None:
            return "skipped"
        try:
            with metrics.ingest_stages(on_stage) as timed:
                _run(document, on_stage=timed)
        except IngestStopped as exc:
            _fail(document, str(exc))
            return "failed"
        except _Superseded:
            return "skipped"
        return "ready"


def _give_up_if_tried_enough(*, document_id: int, version: int) -> bool:
    """Fail a version whose last INGEST_MAX_ATTEMPTS runs all died with their worker.

    A document queued by a person (upload, reindex) is `queued`; a run that ends
    leaves it ready or failed. Found in any other state, its last run died with
    its worker, killed for memory perhaps by this very file; the task comes back
    (acks_late, and the re-queue when a worker starts) and would kill worker after
    worker for ever. We hold the document's lock, so no run of it is under way.
    """
    limit = settings.INGEST_MAX_ATTEMPTS
    document = (
        Document.objects.filter(pk=document_id, version=version, attempts__gte=limit)
        .exclude(status__in=(*FINAL_STATUSES, DocumentStatus.QUEUED))
        .first()
    )
    if document is None:
        return False
    _fail(
        document,
        f"Docent gave up after {document.attempts} attempts: the worker stopped "
        "(killed, or out of memory) each time while processing this file.",
    )
    return True


def _claim(*, document_id: int, version: int) -> Document | None:
    """Only the current version of a document not yet ready or failed is worked on.

    `attempts` counts the runs since a person queued the document: the first run
    after that starts at one, a run after one that died adds one.
    """
    claimed = (
        Document.objects.filter(pk=document_id, version=version)
        .exclude(status__in=FINAL_STATUSES)
        .update(
            status=DocumentStatus.PARSING,
            progress=5,
            attempts=Case(
                When(status=DocumentStatus.QUEUED, then=Value(1)), default=F("attempts") + 1
            ),
        )
    )
    if claimed != 1:
        return None
    document = Document.objects.select_related("collection").get(pk=document_id)
    events.publish(events.progress_message(document))
    return document


def _run(document: Document, *, on_stage: Callable[[Stage], None]) -> None:
    on_stage("parsing")
    path = _preflight(document)
    parsed = _parse(document, path)
    on_stage("chunking")
    _set_progress(document, DocumentStatus.CHUNKING, 30)
    drafts = _chunk(parsed)
    on_stage("embedding")
    _set_progress(document, DocumentStatus.EMBEDDING, 40)
    vectors = _embed(document, drafts)
    on_stage("storing")
    with transaction.atomic():
        current = _store(document, drafts=drafts, vectors=vectors)
        _finish(current, title=parsed.title, chunk_count=len(drafts))


def _preflight(document: Document) -> Path:
    """The stored file of this version, or why there is none."""
    name = document.file.name
    if not name or not document.file.storage.exists(name):
        # Deleted (files go after the commit) or replaced since this task was queued.
        if not Document.objects.filter(pk=document.pk, version=document.version).exists():
            raise _Superseded
        raise IngestStopped("The stored file is missing; upload it again.")
    return Path(document.file.path)


def _parse(document: Document, path: Path) -> ParsedDocument:
    try:
        return parse_file(
            path=path,
            original_name=document.original_name,
            limits=parse_limits(),
            max_text_chars=settings.DOCUMENT_MAX_TEXT_CHARS,
        )
    except ParseError as exc:
        raise IngestStopped(str(exc)) from exc


def parse_limits() -> Limits:
    """The sandbox limits the settings ask for (docs/configuration.md, Knowledge)."""
    return Limits(
        timeout=settings.PARSE_TIMEOUT_SECONDS,
        memory_bytes=settings.PARSE_MEMORY_BYTES,
        output_bytes=settings.PARSE_MAX_OUTPUT_BYTES,
    )


def _chunk(parsed: ParsedDocument) -> list[ChunkDraft]:
    drafts = chunk_document(
        parsed, tokens=settings.CHUNK_TOKENS, overlap=settings.CHUNK_OVERLAP_TOKENS
    )
    if not drafts:
        raise IngestStopped("No text could be found in the file.")
    if len(drafts) > settings.DOCUMENT_MAX_CHUNKS:
        raise IngestStopped(
            f"The file makes {len(drafts):,} passages, more than the limit of "
            f"{settings.DOCUMENT_MAX_CHUNKS:,} for one document; split it into smaller files."
        )
    return drafts


def _embed(document: Document, drafts: list[ChunkDraft]) -> list[np.ndarray]:
    # Batches of like token counts (no compute spent on padding), all kept in memory until
    # _store writes them in one transaction: a document is indexed whole or not at all.
    texts = [draft.embedding_text for draft in drafts]
    vectors: list[np.ndarray | None] = [None] * len(drafts)
    done = 0
    for batch in passage_batches(_embedding_token_counts(drafts)):
        for i, vector in zip(batch, embed_batch([texts[i] for i in batch]), strict=True):
            vectors[i] = vector
        done += len(batch)
        _embedding_progress(document, done=done, total=len(drafts))
    return [v for v in vectors if v is not None]


def _embedding_token_counts(drafts: list[ChunkDraft]) -> list[int]:
    """Each draft's tokens as embedded, from the counts chunking made: the text's, plus its
    heading's once per heading (tokenising every text again costs ~1 % of the embedding)."""
    headings = sorted({draft.heading for draft in drafts})
    heading_tokens = dict(zip(headings, token_counts(headings), strict=True))
    return [draft.token_count + heading_tokens[draft.heading] for draft in drafts]


def _embedding_progress(document: Document, *, done: int, total: int) -> None:
    """Announce embedding progress (40 to 95 %) when the figure people see moves."""
    progress = 40 + 55 * done // total
    if progress != document.progress:
        _set_progress(document, DocumentStatus.EMBEDDING, progress)


def _store(document: Document, *, drafts: list[ChunkDraft], vectors: list[np.ndarray]) -> Document:
    """Replace the document's chunks; inside the caller's transaction, with the row locked."""
    current = Document.objects.select_for_update().filter(pk=document.pk).first()
    if current is None or current.version != document.version:
        raise _Superseded
    Chunk.objects.filter(document=current).delete()
    Chunk.objects.bulk_create(
        [
            Chunk(
                document=current,
                collection_id=current.collection_id,
                position=d.position,
                heading=d.heading[:1000],
                page=d.page,
                text=d.text,
                token_count=d.token_count,
                embedding=vector,
            )
            for d, vector in zip(drafts, vectors, strict=True)
        ],
        batch_size=500,
    )
    return current


def _finish(document: Document, *, title: str, chunk_count: int) -> None:
    """Mark the version ready and retire answers cached on the old text, with the chunks."""
    document.title = title[:500]
    document.status, document.progress, document.error = DocumentStatus.READY, 100, ""
    document.chunk_count, document.ingested_at = chunk_count, timezone.now()
    document.save()
    collection_touch(collection_id=document.collection_id)
    message = events.progress_message(document)
    transaction.on_commit(lambda: events.publish(message))


def _set_progress(document: Document, status: DocumentStatus, progress: int) -> None:
    """Record and announce progress; stop early if the version was replaced or deleted."""
    document.status, document.progress = status, progress
    updated = Document.objects.filter(pk=document.pk, version=document.version).update(
        status=status, progress=progress, updated_at=timezone.now()
    )
    if not updated:
        raise _Superseded
    events.publish(events.progress_message(document))


def _fail(document: Document, reason: str) -> None:
    updated = Document.objects.filter(pk=document.pk, version=document.version).update(
        status=DocumentStatus.FAILED, error=reason[:2000], progress=0, updated_at=timezone.now()
    )
    if updated:
        document.status, document.error, document.progress = DocumentStatus.FAILED, reason, 0
        events.publish(events.progress_message(document))


def document_fail(*, document_id: int, version: int, reason: str) -> None:
    """Give up on a document after an unexpected error, with a reason people can read."""
    document = Document.objects.filter(pk=document_id, version=version).first()
    if document is not None and document.status != DocumentStatus.READY:
        _fail(document, reason)


def documents_pending() -> list[tuple[int, int]]:
    """(id, version) of every document left queued or half-done, to be queued again."""
    pending = Document.objects.exclude(status__in=FINAL_STATUSES)
    return list(pending.values_list("pk", "version"))


def documents_stalled(*, older_than: timedelta) -> list[tuple[int, int]]:
    """(id, version) of documents still queued and untouched for `older_than`, marked touched.

    Their task was most likely lost with the broker's queue (a Redis that restarted keeps
    nothing). Marking them now makes the next look wait another `older_than` before asking
    again, so a long backlog is not queued twice over every time.
    """
    cutoff = timezone.now() - older_than
    stalled = Document.objects.filter(status=DocumentStatus.QUEUED, updated_at__lt=cutoff)
    found = list(stalled.values_list("pk", "version"))
    Document.objects.filter(pk__in=[pk for pk, _ in found]).update(updated_at=timezone.now())
    return found


def documents_wait(
    *,
    versions: Mapping[int, int],
    on_progress: Callable[[int, int], None] | None = None,
    poll_seconds: float = 0.3,
) -> None:
    """Return once each document's version is ready or failed, replaced, or deleted.

    `versions` maps document ids to the versions queued; `on_progress(done, total)`
    is called after each look. The workers do the work; this only reads.
    """
    waiting = dict(versions)
    total = len(waiting)
    while waiting:
        rows = Document.objects.filter(pk__in=waiting).values_list("pk", "version", "status")
        current = {pk: (version, status) for pk, version, status in rows}
        for pk in list(waiting):
            version, status = current.get(pk, (None, None))
            if version is None or version != waiting[pk] or status in FINAL_STATUSES:
                del waiting[pk]
        if on_progress is not None:
            on_progress(total - len(waiting), total)
        if waiting:
            time.sleep(poll_seconds)
