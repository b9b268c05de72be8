"""Celery tasks: thin shells around knowledge.ingestion."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import worker_ready
from django.db import InterfaceError, OperationalError

from knowledge import ingestion

log = logging.getLogger(__name__)


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=5,
)
def ingest_document(self, document_id: int, version: int) -> str:  # type: ignore[no-untyped-def]
    try:
        return ingestion.document_ingest(document_id=document_id, version=version)
    except (OperationalError, InterfaceError):
        raise  # transient: retried by Celery
    except Exception as exc:
        log.exception("ingest of document %s v%s failed", document_id, version)
        ingestion.document_fail(
            document_id=document_id,
            version=version,
            reason=f"Docent could not process this file ({type(exc).__name__}). The error was logged.",
        )
        return "failed"


@worker_ready.connect
def requeue_pending_documents(**_: object) -> None:
    count = ingestion.documents_requeue_pending()
    if count:
        log.info("re-queued %d pending documents", count)
