"""Shared Office checks: zip bombs refused before any XML is read, tables cut with their header."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import docx
import pytest

from knowledge.parsers import docx as docx_parser
from knowledge.parsers.base import ParseContext, ParseError
from knowledge.parsers.office import cell_text, check_zip, render_row, table_sections

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MB = 1024 * 1024


def ctx(path: Path, **kwargs: int) -> ParseContext:
    return ParseContext(path=path, mime=DOCX_MIME, original_name=path.name, **kwargs)


def test_it_refuses_a_document_that_expands_past_the_limit_as_a_zip_bomb(zip_bomb):
    bomb = zip_bomb("docx")
    assert bomb.stat().st_size < 2 * MB  # small on disk, 300 MB unpacked

    with pytest.raises(
        ParseError, match="expands to over 200 MB when unpacked; it may be a zip bomb"
    ):
        docx_parser.parse(ctx(bomb))


def test_it_refuses_one_absurdly_compressed_part_even_under_the_total_limit(tmp_path, zeros_zip):
    path = zeros_zip(tmp_path / "ratio.docx", "word/document.xml", 20 * MB)

    with pytest.raises(ParseError, match="times when unpacked .*zip bomb"):
        check_zip(ctx(path))


def test_it_refuses_an_archive_with_more_than_ten_thousand_parts(tmp_path):
    path = tmp_path / "many.docx"
    with zipfile.ZipFile(path, "w") as archive:
        for number in range(10_001):
            archive.writestr(f"word/part{number}.xml", b"")

    with pytest.raises(ParseError, match="over 10,000 parts; it may be a zip bomb"):
        check_zip(ctx(path))


def test_it_uses_the_limit_given_in_the_context(tmp_path):
    path = tmp_path / "long.docx"
    document = docx.Document()
    for number in range(2_000):
        document.add_paragraph(f"Paragraph {number} of a long but perfectly ordinary document.")
    document.save(path)

    check_zip(ctx(path))  # fine under the default 200 MB
    with pytest.raises(ParseError, match="over 97 KB when unpacked"):
        check_zip(ctx(path, max_uncompressed_bytes=100_000))


def test_it_names_the_kind_of_document_when_the_archive_is_damaged(tmp_path):
    path = tmp_path / "broken.docx"
    path.write_bytes(b"PK\x03\x04 this is not really a zip")

    with pytest.raises(ParseError, match="The Word document is damaged or incomplete"):
        check_zip(ctx(path))


def test_it_keeps_the_header_row_with_every_table_chunk():
    rows = ["| Name | Team |"] + [f"| Person {n} | Team {n % 3} |" for n in range(70)]

    sections = table_sections(rows, heading_path=("Staff",), page=2)

    assert [s.text.count("\n") + 1 for s in sections] == [30, 30, 10]
    assert all(s.table_header == "| Name | Team |\n| --- | --- |" for s in sections)
    assert all(s.heading_path == ("Staff",) and s.page == 2 for s in sections)
    assert "Name | Team" not in sections[0].text  # the chunker adds it; not twice
    assert sections[2].text.endswith("| Person 69 | Team 0 |")


def test_a_table_with_very_long_rows_is_cut_into_smaller_pieces():
    rows = ["Header"] + ["x" * 1_000 for _ in range(20)]

    sections = table_sections(rows)

    assert len(sections) > 1
    assert all(len(s.text) <= 6_000 for s in sections)


def test_a_table_that_is_only_a_header_row_is_kept_as_text():
    sections = table_sections(["", "Only | a | header", ""])

    assert [(s.text, s.table_header) for s in sections] == [("Only | a | header", None)]


def test_empty_rows_and_trailing_empty_cells_are_dropped():
    assert render_row(["a", None, "c", None, ""]) == "| a |  | c |"
    assert render_row([None, "", "  "]) == ""


def test_cells_read_the_way_a_spreadsheet_shows_them():
    assert cell_text(3.0) == "3"
    assert cell_text(2.5) == "2.5"
    assert cell_text(dt.datetime(2024, 3, 1)) == "2024-03-01"
    assert cell_text(dt.datetime(2024, 3, 1, 9, 30)) == "2024-03-01T09:30:00"
    assert cell_text(True) == "TRUE"
    assert cell_text(None) == ""
    assert cell_text("two\nlines  here") == "two lines here"
