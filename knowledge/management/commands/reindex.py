"""Ingest stored documents again, after a parser, chunking or embedding change."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from config import embedded
from knowledge.ingestion import document_ingest
from knowledge.models import Document, DocumentStatus


class Command(BaseCommand):
    help = "Re-ingest every document (or one collection's) from its stored file."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--collection", metavar="SLUG")
        parser.add_argument("--sync", action="store_true", help="in this process, not on the workers")

    def handle(self, *args: object, collection: str | None, sync: bool, **options: object) -> None:
        embedded.ensure_services(redis=True)  # the broker, and progress events
        from knowledge.tasks import ingest_document

        documents = Document.objects.all()
        if collection:
            documents = documents.filter(collection__slug=collection)
        # Until each new set of chunks replaces the old one (atomically), the old stays searchable.
        rows = list(documents.values_list("pk", "version"))
        documents.update(status=DocumentStatus.QUEUED, progress=0, error="")
        for document_id, version in rows:
            if sync:
                outcome = document_ingest(document_id=document_id, version=version)
                self.stdout.write(f"{outcome:<8} document {document_id}")
            else:
                ingest_document.delay(document_id, version)
        self.stdout.write(f"{len(rows)} documents {'re-ingested' if sync else 'queued'}")
