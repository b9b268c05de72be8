"""Ingest stored documents again, after a parser, chunking or embedding change."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from config import embedded
from config.management.database import database_ready
from knowledge.lifecycle import documents_reindex
from knowledge.pipeline import document_ingest


class Command(BaseCommand):
    help = "Re-ingest every document (or one collection's) from its stored file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--collection", metavar="SLUG")
        parser.add_argument(
            "--sync", action="store_true", help="in this process, not on the workers"
        )

    def handle(self, *args: object, collection: str | None, sync: bool, **options: object) -> None:
        embedded.ensure_services(redis=True)  # the broker, and progress events
        database_ready(notices=self.stderr)
        rows = documents_reindex(collection_slug=collection, enqueue=not sync)
        if sync:
            for document_id, version in rows:
                outcome = document_ingest(document_id=document_id, version=version)
                self.stdout.write(f"{outcome:<8} document {document_id}")
        self.stdout.write(f"{len(rows)} documents {'re-ingested' if sync else 'queued'}")
