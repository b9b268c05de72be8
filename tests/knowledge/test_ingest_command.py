"""`manage.py ingest ... --json`: the contract tools outside the code rely on."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from knowledge.models import Collection
from knowledge.parsers.registry import UNSUPPORTED_MESSAGE
from tests.support import files

pytestmark = pytest.mark.django_db

KEYS = {"path", "document", "status", "chunks", "error"}


def ingest(*args: str) -> tuple[str, list[dict]]:
    """Run the command; return (its error, "" if none, and the JSON lines it printed).

    From a shell, a CommandError is printed to stderr and exits with status 1.
    """
    out = io.StringIO()
    error = ""
    try:
        call_command("ingest", *args, "--sync", "--json", stdout=out)
    except CommandError as exc:
        error = str(exc)
    return error, [json.loads(line) for line in out.getvalue().splitlines()]


def test_it_prints_one_json_line_per_file_and_fails_when_any_file_failed(tmp_path):
    folder = tmp_path / "policies"
    (folder / "nested").mkdir(parents=True)
    files.write_markdown(folder / "travel.md")
    files.write_pages_pdf(folder / "nested" / "guide.pdf", pages=2)
    (folder / "notes.docx").write_text("not really a Word document")
    (folder / "empty.md").write_bytes(b"")

    error, rows = ingest(str(folder), "--collection", "policies", "--public")

    assert error == "2 of 4 files failed."
    assert all(set(row) == KEYS for row in rows)
    by_name = {row["path"].rsplit("/", 1)[-1]: row for row in rows}
    assert sorted(by_name) == ["empty.md", "guide.pdf", "notes.docx", "travel.md"]
    for name in ("travel.md", "guide.pdf"):
        assert by_name[name]["status"] == "ready"
        assert by_name[name]["chunks"] > 0 and by_name[name]["error"] == ""
        assert isinstance(by_name[name]["document"], int)
    assert by_name["notes.docx"]["status"] == "failed"
    assert "contains plain text" in by_name["notes.docx"]["error"]
    assert (by_name["empty.md"]["status"], by_name["empty.md"]["document"]) == ("failed", None)
    assert by_name["empty.md"]["error"] == "The file is empty."
    assert Collection.objects.get(slug="policies").is_public


def test_a_second_run_reports_duplicates_and_succeeds(tmp_path):
    path = files.write_markdown(tmp_path / "travel.md")
    _, [first] = ingest(str(path), "--collection", "policies")

    error, [again] = ingest(str(path), "--collection", "policies")

    assert error == ""
    assert again == {**first, "status": "duplicate"}


def test_files_of_a_type_it_cannot_read_are_reported_as_skipped_with_the_reason(tmp_path):
    folder = tmp_path / "shared drive"
    folder.mkdir()
    files.write_markdown(folder / "travel.md")
    (folder / "diagram.vsdx").write_bytes(b"PK\x03\x04 not for us")
    (folder / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0 a photo")
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")  # hidden: not looked into

    error, rows = ingest(str(folder), "--collection", "policies")

    assert error == ""  # skipping is not failing
    assert [(row["path"].rsplit("/", 1)[-1], row["status"]) for row in rows] == [
        ("diagram.vsdx", "skipped"),
        ("photo.jpg", "skipped"),
        ("travel.md", "ready"),
    ]
    assert rows[0]["error"] == UNSUPPORTED_MESSAGE
    assert rows[0]["document"] is None and rows[0]["chunks"] == 0


def test_the_text_report_names_each_skipped_file_and_why(tmp_path):
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0 a photo")
    out = io.StringIO()

    call_command("ingest", str(tmp_path), "--collection", "policies", "--sync", stdout=out)

    assert out.getvalue() == f"skipped   {tmp_path / 'photo.jpg'}  {UNSUPPORTED_MESSAGE}\n"


def test_an_empty_folder_is_an_error_not_a_silent_success(tmp_path):
    with pytest.raises(CommandError, match="No files found in"):
        call_command("ingest", str(tmp_path), "--collection", "policies", "--sync")
