"""After ingest: move or delete a document, delete a collection, or ingest stored documents again.

Each moves the knowledge version of every collection it touches on (at once for a move
or a delete, when the new chunks land for a re-ingest), so no cached answer outlives the
text it quoted. Every writer goes through here: the Knowledge page, the REST API, the
commands and the admin (knowledge.admin).
"""

from __future__ import annotations

from django.db import transaction

from audit.services import Action, audit_record
from knowledge import events
from knowledge.collections import collection_touch
from knowledge.models import Chunk, Collection, Document, DocumentStatus
from knowledge.tasks import ingest_after_commit


def document_delete(*, document: Document) -> None:
    """Delete a document, every version's file and its chunks; it can never be cited again."""
    files = {document.file.name, *document.versions.values_list("file", flat=True)}
    storage = document.file.storage
    message = events.progress_message(document, status="deleted")
    with transaction.atomic():
        collection_id = document.collection_id
        audit_record(actor=None, action=Action.DOCUMENT_DELETE, target=document)
        document.delete()
        collection_touch(collection_id=collection_id)

        def _after() -> None:
            for name in files:
                if name:
                    storage.delete(name)
            events.publish(message)

        transaction.on_commit(_after)


def document_move(*, document: Document, collection: Collection) -> Document:
    """Put a document and its chunks in another collection, in one transaction.

    The chunks carry their collection (the permission filter reads no join), so they
    move with the document: readers of the old collection lose them at the commit.
    Both collections' knowledge versions move on, so cached answers quoting it retire.
    An ingest finishing meanwhile stores its chunks under the row it locks: the new one.
    """
    with transaction.atomic():
        current = Document.objects.select_for_update().get(pk=document.pk)
        source_id = current.collection_id
        if source_id != collection.pk:
            # Open Knowledge pages drop the row, then add it under its new collection.
            left = events.progress_message(current, status="deleted")
            current.collection = collection
            current.save(update_fields=["collection", "updated_at"])
            Chunk.objects.filter(document=current).update(collection=collection)
            collection_touch(collection_id=source_id)
            collection_touch(collection_id=collection.pk)
            moved = events.progress_message(current)

            def _after() -> None:
                events.publish(left)
                events.publish(moved)

            transaction.on_commit(_after)
    return current


def collection_delete(*, collection: Collection) -> None:
    """Delete a collection with every document in it, their files and their chunks."""
    with transaction.atomic():
        for document in Document.objects.filter(collection=collection):
            document_delete(document=document)
        audit_record(actor=None, action=Action.COLLECTION_DELETE, target=collection)
        collection.delete()


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
