"""Celery tasks: thin shells around knowledge.pipeline.

Imported by uploads and lifecycle to queue work; imports only the pipeline,
so nothing here needs a function-level import to dodge a circle.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from celery import Task, shared_task
from celery.exceptions import MaxRetriesExceededError
from celery.signals import worker_ready
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, transaction

from knowledge.pipeline import (
    IngestOutcome,
    document_fail,
    document_ingest,
    documents_pending,
    documents_stalled,
)

log = logging.getLogger(__name__)

# A document whose lock is held is being ingested elsewhere, or its worker died and
# PostgreSQL has not yet dropped that session: look again later, when it is done or free.
BUSY_RETRY_SECONDS = 60
BUSY_MAX_RETRIES = 30


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=5,
)
def ingest_document(self: Task, document_id: int, version: int) -> IngestOutcome:
    try:
        outcome = document_ingest(document_id=document_id, version=version)
    except (OperationalError, InterfaceError):
        raise  # transient: retried by Celery
    except Exception as exc:
        log.exception("ingest of document %s v%s failed", document_id, version)
        document_fail(
            document_id=document_id,
            version=version,
            reason=f"Docent could not process this file ({type(exc).__name__}). The error was logged.",
        )
        return "failed"
    if outcome == "busy":
        try:
            raise self.retry(countdown=BUSY_RETRY_SECONDS, max_retries=BUSY_MAX_RETRIES)
        except MaxRetriesExceededError:
            # Still pending in the database: the next worker to start queues it again.
            log.warning("document %s v%s stayed locked; giving up for now", document_id, version)
    return outcome


def ingest_after_commit(*, document_id: int, version: int) -> None:
    """Queue the ingest once the current transaction commits, so the worker finds the row."""
    transaction.on_commit(lambda: ingest_document.delay(document_id, version))


@worker_ready.connect
def requeue_pending_documents(**_: object) -> None:
    """The database, not the broker, is the record of pending work: a lost queue loses nothing.

    At start, everything pending is queued again; then, while the worker runs, documents
    left queued for INGEST_REQUEUE_SECONDS (their task lost with a broker that restarted)."""
    pending = documents_pending()
    for document_id, version in pending:
        ingest_document.delay(document_id, version)
    if pending:
        log.info("re-queued %d pending documents", len(pending))
    threading.Thread(target=_requeue_stalled_forever, name="requeue-stalled", daemon=True).start()


def requeue_stalled() -> int:
    """Queue again the documents whose task went missing; how many."""
    stalled = documents_stalled(older_than=timedelta(seconds=settings.INGEST_REQUEUE_SECONDS))
    for document_id, version in stalled:
        ingest_document.delay(document_id, version)
    if stalled:
        log.info("re-queued %d documents left queued too long", len(stalled))
    return len(stalled)


def _requeue_stalled_forever() -> None:
    while True:
        time.sleep(settings.INGEST_REQUEUE_SECONDS)
        close_old_connections()
        try:
            requeue_stalled()
        except Exception:  # noqa: BLE001 - the next round tries again; the worker goes on
            log.warning("could not look for documents left queued", exc_info=True)
