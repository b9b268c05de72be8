"""The ingest pipeline: upload -> preflight -> parse -> chunk -> embed -> store -> finish.

Safe to run twice: an advisory lock per document keeps two workers apart (and
is released by PostgreSQL if a worker dies), a task for an outdated version
does nothing, and chunks are replaced in one transaction, so readers see the
old version or the new one, never a mix.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from knowledge import events
from knowledge.chunking import ChunkDraft, chunk_document
from knowledge.models import Chunk, Collection, Document, DocumentStatus, DocumentVersion
from knowledge.parsers.base import ParseError
from knowledge.parsers.registry import SUPPORTED_EXTENSIONS

log = logging.getLogger(__name__)


class UploadRejected(Exception):
    """The file is refused before it is stored; the message says why (without the name)."""


@dataclass(frozen=True)
class UploadResult:
    document: Document
    outcome: Literal["queued", "duplicate"]


# --- Upload -----------------------------------------------------------------------------------


def human_size(size: int) -> str:
    """50 MB, 1.5 MB, 12 KB, 900 bytes: limits and sizes as people read them."""
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


def _copy_and_hash(source: BinaryIO, target: BinaryIO) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    for block in iter(lambda: source.read(1024 * 1024), b""):
        size += len(block)
        if size > settings.UPLOAD_MAX_BYTES:
            raise UploadRejected(
                f"The file is larger than the limit of {human_size(settings.UPLOAD_MAX_BYTES)}."
            )
        digest.update(block)
        target.write(block)
    return digest.hexdigest(), size


def document_upload(
    *,
    collection: Collection,
    content: BinaryIO,
    original_name: str,
    uploaded_by=None,  # type: ignore[no-untyped-def]
    enqueue: bool = True,
) -> UploadResult:
    """Store a file as a new document or a new version of the same-named one, and queue it.

    The same bytes already in the collection are not stored again.
    """
    original_name = Path(original_name).name[:500]
    if Path(original_name).suffix.lower() not in SUPPORTED_EXTENSIONS:
        kind = Path(original_name).suffix.lower() or "without an extension"
        raise UploadRejected(
            f"Unsupported file type ({kind}). Docent reads {', '.join(SUPPORTED_EXTENSIONS)}."
        )
    with tempfile.TemporaryFile() as spool:
        sha256, size = _copy_and_hash(content, spool)
        if size == 0:
            raise UploadRejected("The file is empty.")
        # A failed document's bytes may be sent again: that is a retry, not a duplicate.
        duplicate = (
            Document.objects.filter(collection=collection, sha256=sha256)
            .exclude(status=DocumentStatus.FAILED)
            .first()
        )
        if duplicate is not None:
            return UploadResult(document=duplicate, outcome="duplicate")
        store = functools.partial(
            _version_store,
            collection=collection,
            spool=spool,
            original_name=original_name,
            sha256=sha256,
            size=size,
            uploaded_by=uploaded_by,
            enqueue=enqueue,
        )
        try:
            document = store()
        except IntegrityError:
            # Two uploads of one new name raced; the loser becomes the next version.
            document = store()
    return UploadResult(document=document, outcome="queued")


def _version_store(
    *,
    collection: Collection,
    spool: BinaryIO,
    original_name: str,
    sha256: str,
    size: int,
    uploaded_by,  # type: ignore[no-untyped-def]
    enqueue: bool,
) -> Document:
    spool.seek(0)
    with transaction.atomic():
        document = (
            Document.objects.select_for_update()
            .filter(collection=collection, original_name=original_name)
            .first()
        )
        if document is None:
            document = Document(collection=collection, original_name=original_name, version=0)
        document.version += 1
        document.sha256, document.size = sha256, size
        document.status, document.progress, document.error = DocumentStatus.QUEUED, 0, ""
        document.attempts = 0
        document.uploaded_by = uploaded_by
        document.file.save(original_name, File(spool, name=original_name), save=False)
        document.save()
        DocumentVersion.objects.create(
            document=document,
            version=document.version,
            sha256=sha256,
            size=size,
            file=document.file.name,
            uploaded_by=uploaded_by,
        )
        message = events.progress_message(document)
        transaction.on_commit(lambda: events.publish(message))
        if enqueue:
            _enqueue_on_commit(document)
    return document


def _enqueue_on_commit(document: Document) -> None:
    from knowledge.tasks import ingest_document

    document_id, version = document.pk, document.version
    transaction.on_commit(lambda: ingest_document.delay(document_id, version))


# --- Ingest -----------------------------------------------------------------------------------


@contextlib.contextmanager
def _document_lock(document_id: int) -> Iterator[bool]:
    """A session advisory lock: held while one worker ingests, freed if that worker dies."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [0x6B6E, document_id])
        acquired = bool(cursor.fetchone()[0])
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [0x6B6E, document_id])


class _Superseded(Exception):
    """A newer version was uploaded, or the document deleted, while this one was ingested."""


def _set_progress(document: Document, status: DocumentStatus, progress: int) -> None:
    """Record and announce progress; stop early if the version was replaced or deleted."""
    document.status, document.progress = status, progress
    updated = Document.objects.filter(pk=document.pk, version=document.version).update(
        status=status, progress=progress, updated_at=timezone.now()
    )
    if not updated:
        raise _Superseded
    events.publish(events.progress_message(document))


def document_ingest(
    *, document_id: int, version: int, on_stage: Callable[[str], None] | None = None
) -> str:
    """Ingest one version of a document. Returns what happened: ready, failed, skipped or busy.

    `on_stage` is called with "parsing", "chunking", "embedding" and "storing" as each
    stage starts (the benchmark times stages with it).
    """
    with _document_lock(document_id) as acquired:
        if not acquired:
            return "busy"
        # Claim: only a current version that is not yet ready is worked on.
        claimed = (
            Document.objects.filter(pk=document_id, version=version)
            .exclude(status__in=[DocumentStatus.READY, DocumentStatus.FAILED])
            .update(status=DocumentStatus.PARSING, progress=5, attempts=F("attempts") + 1)
        )
        if claimed != 1:
            return "skipped"
        document = Document.objects.select_related("collection").get(pk=document_id)
        events.publish(events.progress_message(document))
        try:
            _run_pipeline(document, on_stage=on_stage or (lambda stage: None))
        except ParseError as exc:
            _fail(document, str(exc))
            return "failed"
        except _Superseded:
            return "skipped"
        return "ready"


def _run_pipeline(document: Document, *, on_stage: Callable[[str], None]) -> None:
    from knowledge.embeddings import embed_passages
    from knowledge.parsers.sandbox import parse_file

    on_stage("parsing")
    if not document.file.storage.exists(document.file.name):
        # Deleted (files go after the commit) or replaced since this task was queued.
        if not Document.objects.filter(pk=document.pk, version=document.version).exists():
            raise _Superseded
        raise ParseError("The stored file is missing; upload it again.")
    parsed = parse_file(
        path=Path(document.file.path),
        original_name=document.original_name,
        timeout=settings.PARSE_TIMEOUT_SECONDS,
        memory_bytes=settings.PARSE_MEMORY_BYTES,
    )
    on_stage("chunking")
    _set_progress(document, DocumentStatus.CHUNKING, 30)
    drafts = chunk_document(
        parsed, tokens=settings.CHUNK_TOKENS, overlap=settings.CHUNK_OVERLAP_TOKENS
    )
    if not drafts:
        raise ParseError("No text could be found in the file.")
    on_stage("embedding")
    _set_progress(document, DocumentStatus.EMBEDDING, 40)
    # Windows of texts of like length, longest first, as one encode call would sort them:
    # batches waste no time on padding, and progress still moves window by window.
    order = sorted(range(len(drafts)), key=lambda i: len(drafts[i].embedding_text), reverse=True)
    vectors: list = [None] * len(drafts)
    window = max(1, settings.EMBEDDING_BATCH_SIZE * 4)
    for start in range(0, len(order), window):
        ids = order[start : start + window]
        for i, vector in zip(
            ids, embed_passages([drafts[i].embedding_text for i in ids]), strict=True
        ):
            vectors[i] = vector
        done = min(start + window, len(drafts))
        _set_progress(document, DocumentStatus.EMBEDDING, 40 + 55 * done // len(drafts))
    on_stage("storing")
    _store(document, title=parsed.title, drafts=drafts, vectors=vectors)


def _store(document: Document, *, title: str, drafts: list[ChunkDraft], vectors: list) -> None:
    with transaction.atomic():
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
        current.title = title[:500]
        current.status, current.progress, current.error = DocumentStatus.READY, 100, ""
        current.chunk_count, current.ingested_at = len(drafts), timezone.now()
        current.save()
        collection_touch(collection_id=current.collection_id)
        message = events.progress_message(current)
        transaction.on_commit(lambda: events.publish(message))


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


def collection_touch(*, collection_id: int) -> None:
    """Move the collection's knowledge version on: answers cached on the old text retire."""
    Collection.objects.filter(pk=collection_id).update(knowledge_version=F("knowledge_version") + 1)


def document_delete(*, document: Document) -> None:
    """Delete a document, every version's file and its chunks; it can never be cited again."""
    files = {document.file.name, *document.versions.values_list("file", flat=True)}
    storage = document.file.storage
    message = events.progress_message(document, status="deleted")
    with transaction.atomic():
        collection_id = document.collection_id
        document.delete()
        collection_touch(collection_id=collection_id)

        def _after() -> None:
            for name in files:
                if name:
                    storage.delete(name)
            events.publish(message)

        transaction.on_commit(_after)


def documents_requeue_pending() -> int:
    """Queue again every document left queued or half-done (after a broker or worker loss)."""
    from knowledge.tasks import ingest_document

    pending = Document.objects.exclude(status__in=[DocumentStatus.READY, DocumentStatus.FAILED])
    count = 0
    for document_id, version in pending.values_list("pk", "version"):
        ingest_document.delay(document_id, version)
        count += 1
    return count
