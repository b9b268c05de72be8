"""Real files of each format, made on the spot, for the ingest, API and page tests."""

from __future__ import annotations

import zipfile
from pathlib import Path

import docx
import openpyxl

from tests.support.pdfwriter import write_pdf

MB = 1024 * 1024

TRAVEL_MD = """# Travel policy

Book through the travel desk at least two weeks ahead.

## Per diem

### Europe
The per diem in Europe is 45 euros a day, meals included.

### Asia
The per diem in Asia is 50 dollars a day.
"""


def write_markdown(path: Path, text: str = TRAVEL_MD) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def write_html(path: Path) -> Path:
    path.write_text(
        "<!doctype html><html><head><title>Offices</title>"
        "<script>var tracking = 'do not index';</script><style>p{color:red}</style></head>"
        "<body><nav>Home | About</nav><main><h1>Offices</h1>"
        "<p>The Lisbon office opens at 8am and has 40 desks.</p></main></body></html>",
        encoding="utf-8",
    )
    return path


def write_docx(path: Path) -> Path:
    document = docx.Document()
    document.add_heading("Security", level=1)
    document.add_paragraph("Lock your screen when you leave your desk.")
    document.add_heading("Passwords", level=2)
    document.add_paragraph("Passwords have at least 14 characters.")
    document.save(str(path))
    return path


def write_xlsx(path: Path) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Holidays"
    sheet.append(["Country", "Holiday", "Date"])
    sheet.append(["Portugal", "Freedom Day", "25 April"])
    sheet.append(["France", "Bastille Day", "14 July"])
    workbook.save(path)
    return path


def write_pages_pdf(path: Path, pages: int = 3, title: str = "Expense guide") -> Path:
    write_pdf(
        path,
        [
            [f"Page {n} of the expense guide.", f"Receipts rule number {n} applies."]
            for n in range(1, pages + 1)
        ],
        title=title,
    )
    return path


def write_zip_bomb(path: Path, entry: str = "word/document.xml", size: int = 210 * MB) -> Path:
    """A DOCX-shaped ZIP whose one part unpacks to `size` bytes of zeros (~200 KB on disk)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open(entry, "w", force_zip64=True) as f:
            block = bytes(MB)
            for _ in range(size // MB):
                f.write(block)
    return path
