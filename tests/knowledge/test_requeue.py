"""A document whose task was lost with the broker's queue (Redis restarted, keeping nothing)
is queued again by a running worker, and ingested: no ingestion is lost."""

from __future__ import annotations

import io
import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from knowledge.models import Document, DocumentStatus
from knowledge.uploads import document_upload
from tests.conftest import worker_popen

pytestmark = pytest.mark.django_db(transaction=True)

POLICY = b"# Parking\n\nThe Lisbon office has no parking; the garage on Rua Augusta gives 20 % off.\n"


def queued_without_a_task(collection, name: str, minutes_ago: int) -> Document:
    """Queued in the database, with no task in the broker (as after Redis lost its queue)."""
    content = POLICY + f"({name})\n".encode()  # distinct files: the same bytes are one document
    upload = document_upload(
        collection=collection, content=io.BytesIO(content), original_name=name, enqueue=False
    )
    Document.objects.filter(pk=upload.document.pk).update(
        updated_at=timezone.now() - timedelta(minutes=minutes_ago)
    )
    return Document.objects.get(pk=upload.document.pk)


def test_only_documents_left_queued_long_enough_are_found_and_once_per_round(handbook) -> None:
    from knowledge.pipeline import documents_stalled

    lost = queued_without_a_task(handbook, "lost.md", minutes_ago=30)
    queued_without_a_task(handbook, "just-queued.md", minutes_ago=0)

    assert documents_stalled(older_than=timedelta(minutes=15)) == [(lost.pk, lost.version)]
    # Marked: the next round waits another interval before asking again.
    assert documents_stalled(older_than=timedelta(minutes=15)) == []


def test_a_running_worker_ingests_a_document_whose_task_was_lost(handbook) -> None:
    worker = worker_popen("requeue", INGEST_REQUEUE_SECONDS="2")
    try:
        for line in worker.stdout:  # type: ignore[union-attr]
            if "ready." in line:
                break
        threading.Thread(target=lambda: [None for _ in worker.stdout], daemon=True).start()  # type: ignore[union-attr]
        # After the worker started (so not its start-up re-queue): the task is simply gone.
        document = queued_without_a_task(handbook, "lost.md", minutes_ago=30)

        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            document.refresh_from_db()
            if document.status in (DocumentStatus.READY, DocumentStatus.FAILED):
                break
            time.sleep(0.5)
        assert document.status == DocumentStatus.READY, document.error
        assert document.chunk_count > 0
    finally:
        worker.terminate()
        worker.wait(timeout=30)
