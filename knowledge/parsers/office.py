"""Shared by the Office readers: a zip-bomb check, and turning table rows into Sections.

DOCX, PPTX and XLSX files are ZIP archives of XML. A few kilobytes of ZIP can
declare gigabytes of XML, so every Office reader calls `check_zip` before it
hands the file to python-docx, python-pptx or openpyxl. The check trusts the
sizes the archive declares, and that is enough: Python's zipfile stops
inflating an entry at its declared size, so no entry can unpack to more than
it claims. The row helpers are shared with the CSV reader so that every table,
whatever its source, is cut into pieces the same way.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Iterable

from .base import ParseContext, ParseError, Section

MAX_ENTRIES = 10_000
# A single part may be this compressed only while it is small: real XML
# compresses 10-30:1, so 200:1 on something over 10 MB is a bomb, not a document.
MAX_RATIO = 200
RATIO_CHECK_ABOVE = 10 * 1024 * 1024

# How many rows (or characters) of a table go in one Section. Each Section
# carries the header row, so any piece of a table can be understood alone.
ROWS_PER_SECTION = 30
MAX_SECTION_CHARS = 6_000

_KINDS = {
    "wordprocessingml": "Word document",
    "presentationml": "PowerPoint presentation",
    "spreadsheetml": "Excel workbook",
}
_SPACES = re.compile(r"\s+")


def kind_of(ctx: ParseContext) -> str:
    """'Word document', 'Excel workbook'... for messages admins will read."""
    return next((kind for key, kind in _KINDS.items() if key in ctx.mime), "Office document")


def _size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size // (1024 * 1024)} MB"
    return f"{size // 1024} KB"


def check_zip(ctx: ParseContext) -> None:
    """Refuse a damaged archive or one that would unpack to far more than it weighs."""
    try:
        with zipfile.ZipFile(ctx.path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise ParseError(
            f"The {kind_of(ctx)} is damaged or incomplete and could not be opened; "
            "export or save it again."
        ) from exc
    if len(entries) > MAX_ENTRIES:
        raise ParseError(f"The document contains over {MAX_ENTRIES:,} parts; it may be a zip bomb.")
    # Summing declared sizes also catches archives whose entries overlap, where
    # the same compressed bytes are listed many times under different names.
    if sum(entry.file_size for entry in entries) > ctx.max_uncompressed_bytes:
        raise ParseError(
            f"The document expands to over {_size(ctx.max_uncompressed_bytes)} "
            "when unpacked; it may be a zip bomb."
        )
    for entry in entries:
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size > RATIO_CHECK_ABOVE and ratio > MAX_RATIO:
            raise ParseError(
                f"A part of the document expands {int(ratio):,} times when unpacked "
                f"(to {_size(entry.file_size)}); it may be a zip bomb."
            )


def cell_text(value: object) -> str:
    """One cell as text on a single line: rows are rendered one per line."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 3.0 is shown as 3 in the spreadsheet, so say 3.
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date().isoformat()
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    return _SPACES.sub(" ", str(value)).strip()


def render_row(cells: Iterable[object]) -> str:
    """'| a | b | c |', a Markdown table row, without the empty cells that trail most
    spreadsheet rows. Every reader writes its tables so (the HTML reader too): the evidence
    step quotes a row with its header, and the document view shows a table."""
    values = [cell_text(cell).replace("|", "\\|") for cell in cells]
    while values and not values[-1]:
        values.pop()
    if not any(values):
        return ""
    return f"| {' | '.join(values)} |"


def _with_rule(header: str) -> str:
    """A header row with the rule under it that makes it a Markdown table's header."""
    if "\n" in header:  # the HTML reader writes its own
        return header
    cells = len(re.findall(r"(?<!\\)\|", header)) - 1
    return f"{header}\n|{' --- |' * max(cells, 1)}"


def table_sections(
    rows: Iterable[str], *, heading_path: tuple[str, ...] = (), page: int | None = None
) -> list[Section]:
    """Rendered rows -> Sections: the first non-empty row is the header, kept with every piece.

    The header is not repeated in the text (the chunker adds table_header to
    each chunk); a table that is only a header row becomes plain text.
    """
    header: str | None = None
    sections: list[Section] = []
    group: list[str] = []
    size = 0

    def flush() -> None:
        if group:
            sections.append(
                Section("\n".join(group), heading_path=heading_path, page=page, table_header=header)
            )
        group.clear()

    for row in rows:
        if not row:
            continue
        if header is None:
            header = _with_rule(row)
            continue
        if len(group) >= ROWS_PER_SECTION or (group and size + len(row) > MAX_SECTION_CHARS):
            flush()
            size = 0
        group.append(row)
        size += len(row) + 1
    flush()
    if header is not None and not sections:
        sections.append(Section(header.split("\n")[0], heading_path=heading_path, page=page))
    return sections
