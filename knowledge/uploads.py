"""Uploads: store a file as a document version and queue its ingest after the commit.

What the Knowledge page, the REST API, the `ingest` command and the demo call.
`documents_upload` takes many files at once, each on its own: one refused file
(too big, empty, an unsupported type) is reported with its reason and never
stops the others; each accepted file is stored in its own transaction by
`document_upload`, and the worker (knowledge.tasks) is told once it commits.
"""

from __future__ import annotations

import functools
import hashlib
import tempfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO, Literal, cast

from django.conf import settings
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction

from accounts.models import User
from audit.services import Action, audit_record
from knowledge import events
from knowledge.models import Collection, Document, DocumentStatus, DocumentVersion
from knowledge.parsers.registry import SUPPORTED_EXTENSIONS
from knowledge.tasks import ingest_after_commit

UploadStatus = Literal["queued", "duplicate"]


class UploadRejected(Exception):
    """The file is refused before it is stored; the message says why (without the name)."""


@dataclass(frozen=True)
class UploadResult:
    document: Document
    outcome: UploadStatus


@dataclass(frozen=True)
class UploadOutcome:
    """One file's fate at upload time. `document` is None when the file was refused."""

    path: str
    document: int | None
    status: UploadStatus | Literal["failed"]
    error: str = ""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def as_binary(upload: UploadedFile[bytes]) -> BinaryIO:
    """An uploaded file as the binary file it reads like (its stub's read() takes no size)."""
    return cast(BinaryIO, upload)


def human_size(size: int) -> str:
    """50 MB, 1.5 MB, 12 KB, 900 bytes: limits and sizes as people read them."""
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


def documents_upload(
    *,
    collection: Collection,
    files: Iterable[tuple[str, BinaryIO]],
    uploaded_by: User | None = None,
    enqueue: bool = True,
) -> list[UploadOutcome]:
    """Upload each (name, content) pair into the collection; one outcome per file, in order."""
    outcomes: list[UploadOutcome] = []
    for name, content in files:
        try:
            result = document_upload(
                collection=collection,
                content=content,
                original_name=name,
                uploaded_by=uploaded_by,
                enqueue=enqueue,
            )
        except UploadRejected as exc:
            outcomes.append(
                UploadOutcome(path=name, document=None, status="failed", error=str(exc))
            )
            continue
        outcomes.append(
            UploadOutcome(path=name, document=result.document.pk, status=result.outcome)
        )
    return outcomes


def document_upload(
    *,
    collection: Collection,
    content: BinaryIO,
    original_name: str,
    uploaded_by: User | None = None,
    enqueue: bool = True,
) -> UploadResult:
    """Store a file as a new document or a new version of the same-named one, and queue it.

    The same bytes already in the collection are not stored again. With
    `enqueue=False` the caller runs `knowledge.pipeline.document_ingest` itself.
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
    audit_record(actor=uploaded_by, action=Action.DOCUMENT_UPLOAD, target=document)
    return UploadResult(document=document, outcome="queued")


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


def _version_store(
    *,
    collection: Collection,
    spool: BinaryIO,
    original_name: str,
    sha256: str,
    size: int,
    uploaded_by: User | None,
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
            ingest_after_commit(document_id=document.pk, version=document.version)
    return document
