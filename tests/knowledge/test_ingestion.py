"""The ingest pipeline in-process: formats, versions, deletes, duplicates and hostile files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.contrib.postgres.search import SearchQuery

from knowledge.lifecycle import document_delete
from knowledge.models import Chunk, Collection, Document, DocumentStatus, DocumentVersion
from knowledge.pipeline import document_ingest, documents_wait
from knowledge.uploads import document_upload, documents_upload
from tests.support import files
from tests.support.pdfwriter import write_pdf

pytestmark = pytest.mark.django_db


def upload(collection: Collection, path: Path, name: str | None = None) -> Document:
    with path.open("rb") as content:
        result = document_upload(
            collection=collection, content=content, original_name=name or path.name, enqueue=False
        )
    return result.document


def ingest(collection: Collection, path: Path, name: str | None = None) -> Document:
    document = upload(collection, path, name)
    document_ingest(document_id=document.pk, version=document.version)
    return Document.objects.get(pk=document.pk)


def texts(document: Document) -> str:
    return "\n".join(document.chunks.values_list("text", flat=True))


def knowledge_version(collection: Collection) -> int:
    return Collection.objects.get(pk=collection.pk).knowledge_version


@pytest.mark.parametrize(
    ("name", "write", "phrase"),
    [
        ("travel.md", files.write_markdown, "45 euros a day"),
        ("offices.html", files.write_html, "has 40 desks"),
        ("expenses.pdf", files.write_pages_pdf, "Receipts rule number 2"),
        ("security.docx", files.write_docx, "at least 14 characters"),
        ("holidays.xlsx", files.write_xlsx, "Bastille Day"),
    ],
)
def test_each_common_format_becomes_ready_with_its_text_in_chunks(
    tmp_path, handbook, name, write, phrase
):
    document = ingest(handbook, write(tmp_path / name))

    assert document.status == DocumentStatus.READY, document.error
    assert document.progress == 100
    assert document.chunk_count == document.chunks.count() > 0
    assert phrase in texts(document)


def test_html_scripts_and_navigation_are_not_ingested(tmp_path, handbook):
    document = ingest(handbook, files.write_html(tmp_path / "offices.html"))

    assert "tracking" not in texts(document)
    assert "Home | About" not in texts(document)


def test_pdf_chunks_keep_their_page_numbers(tmp_path, handbook):
    document = ingest(handbook, files.write_pages_pdf(tmp_path / "guide.pdf", pages=3))

    pages = {c.page: c.text for c in document.chunks.all()}
    assert set(pages) == {1, 2, 3}
    assert "Receipts rule number 3" in pages[3]
    assert document.title == "Expense guide"


def test_chunks_keep_their_heading_paths(tmp_path, handbook):
    travel = ingest(handbook, files.write_markdown(tmp_path / "travel.md"))
    security = ingest(handbook, files.write_docx(tmp_path / "security.docx"))

    europe = travel.chunks.get(text__contains="45 euros")
    assert europe.heading == "Travel policy > Per diem > Europe"
    assert security.chunks.get(text__contains="14 characters").heading == "Security > Passwords"


def test_a_document_becoming_ready_moves_its_collections_knowledge_version_on(tmp_path, handbook):
    before = knowledge_version(handbook)

    ingest(handbook, files.write_markdown(tmp_path / "travel.md"))

    assert knowledge_version(handbook) == before + 1


def test_the_same_bytes_in_the_same_collection_are_not_ingested_twice(tmp_path, handbook, hr):
    path = files.write_markdown(tmp_path / "travel.md")
    first = ingest(handbook, path)

    with path.open("rb") as content:
        again = document_upload(
            collection=handbook, content=content, original_name="copy of travel.md", enqueue=False
        )
    with path.open("rb") as content:
        elsewhere = document_upload(
            collection=hr, content=content, original_name="travel.md", enqueue=False
        )

    assert (again.outcome, again.document.pk) == ("duplicate", first.pk)
    assert Document.objects.filter(collection=handbook).count() == 1
    assert first.chunks.count() == first.chunk_count
    assert elsewhere.outcome == "queued"


def test_a_new_version_replaces_the_chunks_and_keeps_the_previous_versions_record(
    tmp_path, handbook
):
    v1 = files.write_markdown(tmp_path / "v1.md", "# Perks\n\nFree croissants every Friday.\n")
    v2 = files.write_markdown(tmp_path / "v2.md", "# Perks\n\nFree fruit every Monday.\n")
    first = ingest(handbook, v1, name="perks.md")
    v1_file = first.file.path
    before = knowledge_version(handbook)

    second = ingest(handbook, v2, name="perks.md")

    assert second.pk == first.pk
    assert (second.version, second.status) == (2, DocumentStatus.READY)
    assert "fruit" in texts(second) and "croissants" not in texts(second)
    old_text = SearchQuery("croissants", search_type="websearch", config="english")
    assert not Chunk.objects.filter(search_vector=old_text).exists()
    assert list(second.versions.order_by("version").values_list("version", flat=True)) == [1, 2]
    assert os.path.exists(v1_file), "the previous version's file is kept with its record"
    assert knowledge_version(handbook) == before + 1


def test_a_new_version_does_not_touch_the_served_chunks_until_it_is_ready(tmp_path, handbook):
    first = ingest(handbook, files.write_markdown(tmp_path / "a.md", "# A\n\nOld rule.\n"), "a.md")
    second = upload(handbook, files.write_markdown(tmp_path / "b.md", "# A\n\nNew rule.\n"), "a.md")
    served: dict[str, str] = {"uploaded": texts(first)}

    outcome = document_ingest(
        document_id=second.pk,
        version=second.version,
        on_stage=lambda stage: served.update({stage: texts(first)}),
    )

    # Each stage starts before its work: "storing" is the last look before the swap.
    assert served == dict.fromkeys(
        ["uploaded", "parsing", "chunking", "embedding", "storing"], "Old rule."
    )
    assert outcome == "ready"
    assert texts(first) == "New rule."


def test_a_task_for_an_outdated_version_does_nothing(tmp_path, handbook):
    v1 = upload(handbook, files.write_markdown(tmp_path / "a.md", "# A\n\nOld rule.\n"), "a.md")
    v2 = upload(handbook, files.write_markdown(tmp_path / "b.md", "# A\n\nNew rule.\n"), "a.md")

    assert document_ingest(document_id=v1.pk, version=1) == "skipped"
    assert document_ingest(document_id=v2.pk, version=2) == "ready"
    assert texts(v2) == "New rule."


def test_deleting_a_document_removes_its_chunks_and_files_and_moves_the_version_on(
    tmp_path, handbook, django_capture_on_commit_callbacks
):
    ingest(handbook, files.write_markdown(tmp_path / "v1.md", "# A\n\nOne.\n"), "a.md")
    document = ingest(handbook, files.write_markdown(tmp_path / "v2.md", "# A\n\nTwo.\n"), "a.md")
    stored = [Path(v.file.path) for v in document.versions.all()]
    assert len(stored) == 2 and all(p.exists() for p in stored)
    before = knowledge_version(handbook)

    with django_capture_on_commit_callbacks(execute=True):
        document_delete(document=document)

    assert not Document.objects.filter(pk=document.pk).exists()
    assert not Chunk.objects.filter(document_id=document.pk).exists()
    assert not DocumentVersion.objects.filter(document_id=document.pk).exists()
    assert not any(p.exists() for p in stored)
    assert knowledge_version(handbook) == before + 1


def test_a_hostile_batch_fails_each_bad_file_with_a_reason_while_the_good_ones_become_ready(
    tmp_path, handbook, settings
):
    settings.UPLOAD_MAX_BYTES = 1024 * 1024
    truncated = files.write_pages_pdf(tmp_path / "full.pdf", pages=4).read_bytes()
    hostile = {
        "empty.md": b"",
        "truncated.pdf": truncated[: len(truncated) // 3],
        "notes.docx": b"These are notes typed in a text editor.\n",
        "firmware.bin": os.urandom(4096),
        "random.txt": b"\x00\x01" + os.urandom(4096),
        "huge.md": b"# Huge\n\n" + b"lorem ipsum " * 100_000,
    }
    for name, data in hostile.items():
        (tmp_path / name).write_bytes(data)
    files.write_pages_pdf(tmp_path / "plain.pdf")
    write_pdf(tmp_path / "locked.pdf", [["Secret salaries."]], encrypt=True)
    files.write_zip_bomb(tmp_path / "bomb.docx")
    files.write_markdown(tmp_path / "travel.md")
    names = [*hostile, "locked.pdf", "bomb.docx", "travel.md", "plain.pdf"]

    opened = [(name, (tmp_path / name).open("rb")) for name in names]
    try:
        outcomes = documents_upload(collection=handbook, files=opened, enqueue=False)
    finally:
        for _, f in opened:
            f.close()
    for outcome in outcomes:
        if outcome.status == "queued" and outcome.document is not None:
            document = Document.objects.get(pk=outcome.document)
            document_ingest(document_id=document.pk, version=document.version)

    refused = {o.path: o.error for o in outcomes if o.status == "failed"}
    failed = dict(Document.objects.filter(status="failed").values_list("original_name", "error"))
    assert refused == {
        "empty.md": "The file is empty.",
        "firmware.bin": refused["firmware.bin"],
        "huge.md": "The file is larger than the limit of 1 MB.",
    }
    assert refused["firmware.bin"].startswith("Unsupported file type (.bin).")
    assert set(failed) == {"truncated.pdf", "notes.docx", "random.txt", "locked.pdf", "bomb.docx"}
    assert failed["truncated.pdf"].startswith("The PDF is damaged or incomplete")
    assert "named .docx but contains plain text" in failed["notes.docx"]
    assert failed["random.txt"].startswith("Unsupported file type")
    assert failed["locked.pdf"] == "The PDF is password-protected; upload an unprotected copy."
    assert "it may be a zip bomb" in failed["bomb.docx"]
    assert set(Document.objects.filter(status="ready").values_list("original_name", flat=True)) == {
        "travel.md",
        "plain.pdf",
    }
    assert not Chunk.objects.filter(document__status="failed").exists()


def test_ingesting_the_same_version_twice_leaves_one_set_of_chunks(tmp_path, handbook):
    document = ingest(handbook, files.write_markdown(tmp_path / "travel.md"))
    chunks = list(document.chunks.values_list("pk", flat=True))

    assert document_ingest(document_id=document.pk, version=document.version) == "skipped"
    assert list(document.chunks.values_list("pk", flat=True)) == chunks


def test_an_ingest_cut_short_mid_way_is_finished_by_the_next_attempt(tmp_path, handbook):
    ingest(handbook, files.write_markdown(tmp_path / "v1.md", "# A\n\nOne.\n"), "a.md")
    document = upload(handbook, files.write_markdown(tmp_path / "v2.md"), "a.md")
    # What a worker killed while embedding version 2 leaves behind.
    Document.objects.filter(pk=document.pk).update(status=DocumentStatus.EMBEDDING, progress=60)

    assert document_ingest(document_id=document.pk, version=2) == "ready"

    document.refresh_from_db()
    positions = list(document.chunks.order_by("position").values_list("position", flat=True))
    assert positions == list(range(document.chunk_count))
    assert "One." not in texts(document)
    assert document.attempts == 1


def test_sending_a_failed_documents_bytes_again_retries_it(tmp_path, handbook):
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog")  # cut short
    first = ingest(handbook, broken)
    assert first.status == DocumentStatus.FAILED and first.error

    with broken.open("rb") as content:
        again = document_upload(
            collection=handbook, content=content, original_name="broken.pdf", enqueue=False
        )

    assert again.outcome == "queued"
    assert again.document.pk == first.pk and again.document.version == 2


def test_waiting_ends_once_each_version_is_final_replaced_or_deleted(tmp_path, handbook):
    ready = ingest(handbook, files.write_markdown(tmp_path / "ready.md"))
    replaced = upload(handbook, files.write_markdown(tmp_path / "a.md", "# A\n\nOne.\n"), "a.md")
    upload(handbook, files.write_markdown(tmp_path / "b.md", "# A\n\nTwo.\n"), "a.md")
    deleted = upload(handbook, files.write_markdown(tmp_path / "c.md", "# C\n\nGone.\n"))
    Document.objects.filter(pk=deleted.pk).delete()
    looks: list[tuple[int, int]] = []

    # No worker runs here: waiting must end on what the database already says.
    documents_wait(
        versions={ready.pk: 1, replaced.pk: 1, deleted.pk: 1},
        on_progress=lambda done, total: looks.append((done, total)),
        poll_seconds=0.01,
    )

    assert looks == [(3, 3)]


def test_waiting_follows_a_queued_version_until_it_is_ingested(tmp_path, handbook):
    queued = upload(handbook, files.write_markdown(tmp_path / "travel.md"))
    looks: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> None:
        looks.append((done, total))
        if len(looks) == 1:  # the first look finds it queued; a worker then ingests it
            document_ingest(document_id=queued.pk, version=queued.version)

    documents_wait(versions={queued.pk: queued.version}, on_progress=progress, poll_seconds=0.01)

    assert looks == [(0, 1), (1, 1)]
