"""CSV: a table whose header row goes with every piece, in any encoding or delimiter.

Exports from European Excel use ';', others use tabs or '|'; the dialect is
sniffed from the start of the file and falls back to plain commas.
"""

from __future__ import annotations

import csv
import io
from itertools import islice

from .base import ParseContext, ParsedDocument, ParseError, ParserSpec, title_from_name
from .office import render_row, table_sections
from .text import read_text

# Rows read, empty ones included: bounds the work on a huge export.
MAX_ROWS = 100_000
# Enough rows for the sniffer to see the pattern; more only slows it down.
SNIFF_CHARS = 16_384
_DELIMITERS = ",;\t|"


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    sample = text[:SNIFF_CHARS]
    if len(text) > SNIFF_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n")]  # a cut-off last line confuses the sniffer
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS)
    except csv.Error:
        # One column, or too irregular to tell: commas are the common case.
        return csv.excel


def parse(ctx: ParseContext) -> ParsedDocument:
    text = read_text(ctx.path).lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), _dialect(text))
    try:
        sections = table_sections(render_row(row) for row in islice(reader, MAX_ROWS))
    except csv.Error as exc:
        raise ParseError(f"The CSV file is malformed near line {reader.line_num} ({exc}).") from exc
    return ParsedDocument(title=title_from_name(ctx.original_name), sections=sections)


SPEC = ParserSpec(
    label="CSV",
    mime_types=("text/csv",),
    extensions=(".csv",),
    parse=parse,
)
