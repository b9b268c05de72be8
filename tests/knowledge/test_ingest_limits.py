"""Limits per document: text, passages, and runs that die with their worker.

Past any of them the document ends `failed` with a reason people can read;
nothing is cut short in silence.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.lifecycle import documents_reindex
from knowledge.models import Collection, Document, DocumentStatus
from knowledge.tasks import ingest_document
from knowledge.uploads import document_upload
from tests.support import files

pytestmark = pytest.mark.django_db

# Six sections of ~60 words: one passage each at the default chunk size.
SIX_SECTIONS = "\n\n".join(
    f"## Rule {n}\n\n" + " ".join(f"Clause {n}.{k} says what to do." for k in range(10))
    for n in range(6)
)


def upload(collection: Collection, path: Path) -> Document:
    with path.open("rb") as content:
        return document_upload(
            collection=collection, content=content, original_name=path.name, enqueue=False
        ).document


def run_task(document: Document) -> Document:
    """The Celery task itself, run here as a worker would run it."""
    ingest_document.apply(args=(document.pk, document.version)).get()
    return Document.objects.get(pk=document.pk)


def test_a_document_with_more_text_than_the_limit_fails_with_the_figures(
    tmp_path, handbook, settings
):
    settings.DOCUMENT_MAX_TEXT_CHARS = 1_000
    document = upload(handbook, files.write_markdown(tmp_path / "rules.md", SIX_SECTIONS))

    document = run_task(document)

    assert document.status == DocumentStatus.FAILED
    assert "characters of text, more than the limit of 1,000 for one document" in document.error
    assert document.chunks.count() == 0


def test_a_document_making_more_passages_than_the_limit_fails_with_the_figures(
    tmp_path, handbook, settings
):
    settings.DOCUMENT_MAX_CHUNKS = 4
    document = upload(handbook, files.write_markdown(tmp_path / "rules.md", SIX_SECTIONS))

    document = run_task(document)

    assert document.status == DocumentStatus.FAILED
    assert document.error.startswith("The file makes 6 passages, more than the limit of 4")
    assert document.chunks.count() == 0


def test_a_reply_past_the_output_cap_fails_the_document(tmp_path, handbook, settings):
    settings.PARSE_MAX_OUTPUT_BYTES = 1_024
    document = upload(handbook, files.write_markdown(tmp_path / "rules.md", SIX_SECTIONS))

    document = run_task(document)

    assert document.status == DocumentStatus.FAILED
    assert document.error.startswith("The text read from the file is larger than the limit of 1 KB")


def died_mid_run(document: Document, *, attempts: int) -> None:
    """What `attempts` runs leave behind when each one's worker is killed while parsing."""
    Document.objects.filter(pk=document.pk).update(
        status=DocumentStatus.PARSING, progress=5, attempts=attempts
    )


def test_a_document_whose_worker_died_on_every_attempt_fails_for_good(tmp_path, handbook, settings):
    settings.INGEST_MAX_ATTEMPTS = 3
    document = upload(handbook, files.write_markdown(tmp_path / "travel.md"))
    died_mid_run(document, attempts=3)

    # The task comes back: redelivered after the kill (acks_late), or re-queued at start.
    document = run_task(document)

    assert (document.status, document.attempts) == (DocumentStatus.FAILED, 3)
    assert document.error == (
        "Docent gave up after 3 attempts: the worker stopped (killed, or out of memory) "
        "each time while processing this file."
    )
    assert document.chunks.count() == 0
    assert run_task(document).status == DocumentStatus.FAILED  # and stays so


def test_a_document_under_the_attempt_limit_is_tried_again(tmp_path, handbook, settings):
    settings.INGEST_MAX_ATTEMPTS = 3
    document = upload(handbook, files.write_markdown(tmp_path / "travel.md"))
    died_mid_run(document, attempts=2)

    document = run_task(document)

    assert (document.status, document.attempts) == (DocumentStatus.READY, 3)


def test_queueing_a_document_again_counts_its_attempts_afresh(tmp_path, handbook, settings):
    settings.INGEST_MAX_ATTEMPTS = 3
    document = run_task(upload(handbook, files.write_markdown(tmp_path / "travel.md")))
    for _ in range(3):
        documents_reindex(enqueue=False)
        document = run_task(document)

    assert (document.status, document.attempts) == (DocumentStatus.READY, 1)
