"""After ingest: delete a document, or ingest stored documents again.

Both move the collection's knowledge version on (at once for a delete, when
the new chunks land for a re-ingest), so no cached answer outlives the text it
quoted.
"""

from __future__ import annotations

from django.db import transaction

from knowledge import events
from knowledge.collections import collection_touch
from knowledge.models import Document, DocumentStatus
from knowledge.tasks import ingest_after_commit


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


def documents_reindex(
    *, collection_slug: str | None = None, enqueue: bool = True
) -> list[tuple[int, int]]:
    """Mark every document (or one collection's) queued again and queue it after the commit.

    Returns (id, version) of each; with `enqueue=False` the caller runs
    `knowledge.pipeline.document_ingest` on them itself. The version is kept:
    until each new set of chunks replaces the old one, in one transaction, the
    old stays searchable.
    """
    documents = Document.objects.all()
    if collection_slug:
        documents = documents.filter(collection__slug=collection_slug)
    with transaction.atomic():
        rows = list(documents.values_list("pk", "version"))
        Document.objects.filter(pk__in=[pk for pk, _ in rows]).update(
            status=DocumentStatus.QUEUED, progress=0, error=""
        )
        if enqueue:
            for document_id, version in rows:
                ingest_after_commit(document_id=document_id, version=version)
    return rows
