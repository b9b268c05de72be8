"""PDF: text read as its pages lay it out (headings, paragraphs, no running headers),
page numbers kept; encrypted and damaged files fail readably.

pdfminer.six's layout analysis groups each page's glyphs into blocks of lines with their
letters' sizes and fonts; `knowledge.parsers.pdf_layout` turns those into sections. A file
the layout analysis cannot read, or finds no text in, is read as pypdf extracts it: page
by page, as it is drawn, with no structure.
"""

from __future__ import annotations

import re
import resource
import time
from collections import Counter
from pathlib import Path
from typing import Any

from . import pdf_layout
from .base import ParseContext, ParsedDocument, ParseError, ParserSpec, Section, title_from_name

_MONO = re.compile(r"mono|courier|consol|code|menlo|typewriter|fixed", re.I)
_OFFICE_PREFIX = re.compile(r"^Microsoft (?:Word|PowerPoint|Excel) - ", re.I)
_FILE_NAME = re.compile(r"\.(?:docx?|odt|rtf|pptx?|xlsx?|txt|pdf|html?)$", re.I)
_PROTECTED = "The PDF is password-protected; upload an unprotected copy."
# The share of the reader's CPU time limit the layout analysis may take. It reads about 2.5
# times slower than pypdf's plain extraction (7 pages a second against 18 on Chromium's
# print of a Python tutorial page): a document too long for it is read plainly, not refused.
LAYOUT_CPU_SHARE = 0.4


def parse(ctx: ParseContext) -> ParsedDocument:
    # The libraries are imported here, not at the top: the registry imports every parser
    # module and the sandbox starts a new interpreter per file, so each file pays
    # only for its own format's library (all four at the top cost ~0.3 s a file).
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(ctx.path, strict=False)
        if reader.is_encrypted:
            # An empty user password still opens many "protected" PDFs.
            try:
                if not reader.decrypt(""):
                    raise ParseError(_PROTECTED)
            except (NotImplementedError, PdfReadError) as exc:
                raise ParseError(_PROTECTED) from exc
        metadata_title = (reader.metadata.title if reader.metadata else None) or ""
        sections = _laid_out(ctx.path) or _as_drawn(reader)
    except ParseError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise ParseError(f"The PDF is damaged or incomplete ({exc}).") from exc
    return ParsedDocument(title=_title(metadata_title, ctx.original_name), sections=sections)


def _title(metadata_title: str, original_name: str) -> str:
    """The title the file states, unless it is only the name of the file it was made from
    ("Microsoft Word - policy v3.docx"): then the uploaded file's name says as much."""
    title = _OFFICE_PREFIX.sub("", metadata_title.strip())
    if not title or _FILE_NAME.search(title):
        return title_from_name(original_name)
    return title


def _laid_out(path: Path) -> list[Section]:
    """The sections the layout shows, or none when the layout analysis cannot read the file
    (pypdf, more lenient with damaged files, then reads it)."""
    from pdfminer.high_level import extract_pages

    deadline = time.process_time() + LAYOUT_CPU_SHARE * _cpu_limit()
    pages = []
    try:
        for page in extract_pages(path):
            pages.append(_blocks(page))
            if time.process_time() > deadline:
                return []
    except MemoryError:
        raise
    except Exception:  # noqa: BLE001 - a file pdfminer cannot lay out is read by pypdf instead
        return []
    return pdf_layout.sections(pages)


def _cpu_limit() -> float:
    """The CPU seconds this process may use (the sandbox sets them), or a minute."""
    soft, _ = resource.getrlimit(resource.RLIMIT_CPU)
    return float(soft) if soft != resource.RLIM_INFINITY else 60.0


def _blocks(page: Any) -> list[pdf_layout.Block]:
    from pdfminer.layout import LTTextBox

    height = page.height or 1.0
    return [
        pdf_layout.Block(
            lines=tuple(_line(line) for line in box),
            x1=box.x1,
            top=max(0.0, (page.y1 - box.y1) / height),
            bottom=max(0.0, (page.y1 - box.y0) / height),
        )
        for box in page
        if isinstance(box, LTTextBox)
    ]


def _line(line: Any) -> pdf_layout.Line:
    from pdfminer.layout import LTChar

    sizes = Counter[float]()
    mono = letters = 0
    for char in line:
        if isinstance(char, LTChar) and not char.get_text().isspace():
            sizes[round(char.size * 2) / 2] += 1
            letters += 1
            mono += _MONO.search(char.fontname) is not None
    return pdf_layout.Line(
        text=line.get_text().strip(),
        size=sizes.most_common(1)[0][0] if sizes else 0.0,
        mono=mono * 2 > letters,
        x1=line.x1,
    )


def _as_drawn(reader: Any) -> list[Section]:
    sections = []
    for number, page in enumerate(reader.pages, start=1):
        text = (page.extract_text() or "").strip()
        if text:
            sections.append(Section(text=text, page=number))
    return sections


SPEC = ParserSpec(
    label="PDF",
    mime_types=("application/pdf",),
    extensions=(".pdf",),
    parse=parse,
    signature=b"%PDF-",
)
