"""End to end through the sandboxed child process, as the ingest pipeline runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import docx
import pytest

from knowledge.parsers.base import ParseError
from knowledge.parsers.sandbox import parse_file

PROJECT = Path(__file__).resolve().parents[3]


def test_a_docx_is_read_through_the_sandbox(tmp_path):
    document = docx.Document()
    document.add_heading("Security", level=1)
    document.add_paragraph("Lock your screen.")
    document.save(tmp_path / "policy.docx")

    parsed = parse_file(path=tmp_path / "policy.docx", original_name="IT policy.docx")

    assert parsed.title == "Security"
    assert [(s.heading_path, s.text) for s in parsed.sections] == [
        (("Security",), "Lock your screen.")
    ]


@pytest.mark.parametrize("kind", ["docx", "xlsx"])
def test_a_zip_bomb_is_refused_in_the_sandbox(zip_bomb, kind):
    with pytest.raises(ParseError, match="it may be a zip bomb"):
        parse_file(path=zip_bomb(kind), original_name=f"report.{kind}")


def test_a_hand_made_pdf_is_read_through_the_sandbox(pdf_file):
    parsed = parse_file(path=pdf_file, original_name="hello.pdf")

    assert [(s.page, s.text) for s in parsed.sections] == [(1, "Hello from Docent")]


def test_a_truncated_pdf_fails_readably_in_the_sandbox(tmp_path, pdf_file):
    data = pdf_file.read_bytes()
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(data[: len(data) // 2])

    with pytest.raises(ParseError) as failure:
        parse_file(path=cut, original_name="cut.pdf")

    assert str(failure.value).startswith("The PDF is damaged or incomplete")


def test_a_text_file_renamed_docx_is_refused_with_a_clear_message(tmp_path):
    path = tmp_path / "notes.docx"
    path.write_text("These are just notes typed in a text editor.\n", encoding="utf-8")

    with pytest.raises(ParseError, match=r"named \.docx but contains plain text"):
        parse_file(path=path, original_name="notes.docx")


def test_a_truncated_docx_is_refused_before_any_parsing(tmp_path):
    document = docx.Document()
    document.add_paragraph("Some text. " * 200)
    document.save(tmp_path / "full.docx")
    data = (tmp_path / "full.docx").read_bytes()
    (tmp_path / "cut.docx").write_bytes(data[: len(data) // 2])

    with pytest.raises(ParseError, match="looks like an Office document but is damaged"):
        parse_file(path=tmp_path / "cut.docx", original_name="cut.docx")


def test_an_empty_file_is_refused(tmp_path):
    (tmp_path / "empty.xlsx").write_bytes(b"")

    with pytest.raises(ParseError, match="The file is empty"):
        parse_file(path=tmp_path / "empty.xlsx", original_name="empty.xlsx")


def test_the_parsers_do_not_import_django():
    modules = ["csv", "docx", "email", "html", "office", "pptx", "xlsx", "sandbox", "registry"]
    imports = "; ".join(f"import knowledge.parsers.{name}" for name in modules)
    check = f"{imports}; import sys; assert 'django' not in sys.modules, 'django imported'"

    result = subprocess.run(
        [sys.executable, "-c", check], cwd=PROJECT, capture_output=True, text=True
    )

    assert result.returncode == 0, result.stderr
