"""Excel workbooks: a table per sheet, header row with every chunk, hostile used ranges."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from knowledge.parsers import xlsx as xlsx_parser
from knowledge.parsers.base import ParseContext, ParseError
from knowledge.parsers.office import render_row

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook(path: Path, staff_rows: int = 50) -> Path:
    book = openpyxl.Workbook()
    staff = book.active
    staff.title = "Staff"
    staff.append([])  # a blank line above the header, as people often leave
    staff.append(["Name", "Started", "Salary", None])
    for n in range(staff_rows):
        staff.append([f"Person {n}", dt.datetime(2020, 1, n % 28 + 1), 3000.0 + n])
        if n == 10:
            staff.append([None, None, None])
    rooms = book.create_sheet("Rooms")
    rooms.append(["Room", "Seats"])
    rooms.append(["Oak", 8])
    book.save(path)
    return path


def test_each_sheet_is_read_under_its_name(tmp_path, read):
    sections = read(workbook(tmp_path / "office.xlsx")).sections

    assert [s.heading_path for s in sections] == [("Staff",), ("Staff",), ("Rooms",)]
    assert sections[2].text == "| Oak | 8 |"


def test_the_first_non_empty_row_is_the_header_and_travels_with_every_chunk(tmp_path, read):
    sections = read(workbook(tmp_path / "office.xlsx")).sections

    assert (
        sections[0].table_header
        == sections[1].table_header
        == "| Name | Started | Salary |\n| --- | --- | --- |"
    )
    assert sections[2].table_header == "| Room | Seats |\n| --- | --- |"
    assert [s.text.count("\n") + 1 for s in sections[:2]] == [30, 20]


def test_empty_rows_are_skipped_and_values_read_as_shown(tmp_path, read):
    first = read(workbook(tmp_path / "office.xlsx")).sections[0].text.splitlines()

    assert first[0] == "| Person 0 | 2020-01-01 | 3000 |"
    assert first[11] == "| Person 11 | 2020-01-12 | 3011 |"
    assert "" not in first


def test_a_sheet_is_read_no_further_than_the_row_bound(tmp_path, read, monkeypatch):
    monkeypatch.setattr(xlsx_parser, "MAX_ROWS_PER_SHEET", 10)

    staff = read(workbook(tmp_path / "office.xlsx")).sections[0]

    # Rows 1-10 are read: the blank line, the header and eight people.
    assert staff.text.splitlines()[-1].startswith("| Person 7 |")


def test_an_absurd_declared_used_range_does_not_pad_every_row(tmp_path, read, monkeypatch):
    widths: list[int] = []

    def measuring_render_row(cells):
        cells = list(cells)
        widths.append(len(cells))
        return render_row(cells)

    monkeypatch.setattr(xlsx_parser, "render_row", measuring_render_row)
    path = workbook(tmp_path / "office.xlsx", staff_rows=3)
    rewritten = tmp_path / "wide.xlsx"
    with (
        zipfile.ZipFile(path) as source,
        zipfile.ZipFile(rewritten, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', data)
            target.writestr(item, data)

    sections = read(rewritten).sections

    # Trusting the range would hand over 16,384 cells per row, for every row.
    assert max(widths) <= 4
    assert sections[0].text.splitlines()[0] == "| Person 0 | 2020-01-01 | 3000 |"


def test_a_zip_bomb_workbook_is_refused(zip_bomb):
    path = zip_bomb("xlsx")

    with pytest.raises(ParseError, match="zip bomb"):
        xlsx_parser.parse(ParseContext(path=path, mime=XLSX_MIME, original_name="bomb.xlsx"))


def test_a_damaged_workbook_fails_readably(tmp_path):
    path = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("xl/workbook.xml", b"<workbook")

    with pytest.raises(ParseError, match="The Excel workbook is damaged"):
        xlsx_parser.parse(ParseContext(path=path, mime=XLSX_MIME, original_name="broken.xlsx"))


def test_the_title_comes_from_the_properties_or_the_file_name(tmp_path, read):
    assert read(workbook(tmp_path / "head_count.xlsx")).title == "head count"

    book = openpyxl.Workbook()
    book.properties.title = "Head count 2024"
    book.active.append(["a", "b"])
    book.save(tmp_path / "titled.xlsx")
    assert read(tmp_path / "titled.xlsx").title == "Head count 2024"
