"""Excel (XLSX): each sheet as a table whose header row goes with every piece.

Cells are read as their last computed values (data_only), since a formula
means nothing to a reader. Read-only mode streams rows instead of building
the whole workbook in memory.
"""

from __future__ import annotations

import zipfile
from itertools import islice
from typing import TYPE_CHECKING

from .base import ParseContext, ParsedDocument, ParseError, ParserSpec, Section, title_from_name
from .office import check_zip, render_row, table_sections

if TYPE_CHECKING:
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

# Rows read per sheet, empty ones included: bounds the work on a sheet that is
# mostly formatting stretched over a million rows. No note is made of the cut.
MAX_ROWS_PER_SHEET = 100_000


def _sheet_sections(sheet: ReadOnlyWorksheet) -> list[Section]:
    # Read-only rows are padded to the declared used range, which can be wrong
    # or absurd (A1:XFD1048576: 16,384 cells a row); forget it, take rows as stored.
    sheet.reset_dimensions()
    rows = islice(sheet.iter_rows(values_only=True), MAX_ROWS_PER_SHEET)
    return table_sections((render_row(row) for row in rows), heading_path=(sheet.title,))


def parse(ctx: ParseContext) -> ParsedDocument:
    # The library is imported here, not at the top: the registry imports every parser
    # module and the sandbox starts a new interpreter per file, so each file pays
    # only for its own format's library (all four at the top cost ~0.3 s a file).
    from lxml.etree import LxmlError
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    damaged = (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, TypeError, LxmlError)
    check_zip(ctx)
    workbook = None
    try:
        workbook = load_workbook(ctx.path, read_only=True, data_only=True)
        sections: list[Section] = []
        # Hidden sheets are read too: they often hold the lists the visible ones refer to.
        for sheet in workbook.worksheets:
            sections.extend(_sheet_sections(sheet))
        core_title = (workbook.properties.title or "").strip()
    except damaged as exc:
        raise ParseError(
            f"The Excel workbook is damaged or incomplete and could not be read ({exc}); "
            "open it in Excel and save it again."
        ) from exc
    finally:
        # Read-only workbooks keep the archive open until closed.
        if workbook is not None:
            workbook.close()
    return ParsedDocument(title=core_title or title_from_name(ctx.original_name), sections=sections)


SPEC = ParserSpec(
    label="Excel",
    mime_types=("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",),
    extensions=(".xlsx",),
    parse=parse,
    zip_member="xl/workbook.xml",
)
