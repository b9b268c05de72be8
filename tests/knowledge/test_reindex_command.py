"""`manage.py reindex` ingests stored documents again, after a parser, chunking or model change."""

from __future__ import annotations

import io
import time

import pytest
from django.core.management import call_command

from knowledge.models import Chunk, Collection, Document
from tests.support.corpus import HANDBOOK_VACATION, HR_SALARY, ingest_text

# One long section: a smaller chunk budget cuts it into more chunks.
POLICY = "# Travel policy\n\n## Booking\n" + " ".join(
    f"Trips of type {n} are booked {n} weeks ahead through the travel desk, "
    f"and receipts for type {n} are filed within {n + 2} days of return."
    for n in range(1, 13)
)

def chunk_ids(document: Document) -> set[int]:
    return set(Chunk.objects.filter(document=document).values_list("pk", flat=True))


def reindex(*args: str) -> str:
    out = io.StringIO()
    call_command("reindex", *args, stdout=out)
    return out.getvalue()


def test_it_rebuilds_the_chunks_of_every_document_with_the_current_settings(
    handbook: Collection, hr: Collection, settings
) -> None:
    policy = ingest_text(handbook, "travel.md", POLICY)
    salary = ingest_text(hr, "salary-bands.md", HR_SALARY)
    before = Chunk.objects.filter(document=policy).count()
    settings.CHUNK_TOKENS, settings.CHUNK_OVERLAP_TOKENS = 40, 5

    output = reindex("--sync")

    assert "2 documents re-ingested" in output
    policy.refresh_from_db()
    assert policy.status == "ready" and policy.version == 1
    assert policy.chunk_count == Chunk.objects.filter(document=policy).count() > before
    assert Document.objects.get(pk=salary.pk).status == "ready"


def test_one_collection_is_reindexed_and_the_others_are_left_alone(
    handbook: Collection, hr: Collection, settings
) -> None:
    vacation = ingest_text(handbook, "vacation.md", HANDBOOK_VACATION)
    salary = ingest_text(hr, "salary-bands.md", HR_SALARY)
    untouched, rebuilt = chunk_ids(vacation), chunk_ids(salary)

    output = reindex("--collection", "hr", "--sync")

    assert "1 documents re-ingested" in output
    assert chunk_ids(vacation) == untouched
    assert chunk_ids(salary).isdisjoint(rebuilt) and chunk_ids(salary)


@pytest.mark.django_db(transaction=True)
def test_without_sync_the_workers_reindex_every_document(celery_worker, handbook: Collection) -> None:
    vacation = ingest_text(handbook, "vacation.md", HANDBOOK_VACATION)
    before = chunk_ids(vacation)

    output = reindex()

    assert "1 documents queued" in output
    deadline = time.monotonic() + 180  # a bound on waiting, not a speed assertion
    while chunk_ids(vacation) & before and time.monotonic() < deadline:
        time.sleep(0.3)
    vacation.refresh_from_db()
    assert vacation.status == "ready", vacation.error
    assert chunk_ids(vacation) and chunk_ids(vacation).isdisjoint(before)
