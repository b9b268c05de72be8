"""Word (DOCX): paragraphs under their heading path, and tables with their header row.

The body is read in document order, so a table stays under the heading it
follows. Headers, footers and footnotes are left out: they repeat on every
page and would crowd out the text people ask about. Hidden text (Word's
"Hidden" font effect, w:vanish, set on a run or through its style) is left out
too: a reader of the document never sees it, so a hostile file could otherwise
hide instructions there that only the model would read.
"""

from __future__ import annotations

import re
import zipfile
from typing import TYPE_CHECKING

from .base import ParseContext, ParsedDocument, ParseError, ParserSpec, Section, title_from_name
from .office import check_zip, render_row, table_sections

if TYPE_CHECKING:
    from docx.styles.style import CharacterStyle
    from docx.table import Table
    from docx.text.paragraph import Paragraph
    from docx.text.run import Run

# Word stores built-in style names in English whatever the UI language
# ("heading 1"), and python-docx reports them as "Heading 1".
_HEADING_STYLE = re.compile(r"^heading ([1-6])$", re.IGNORECASE)


def _style_name(paragraph: Paragraph) -> str:
    style = paragraph.style
    return (style.name or "") if style is not None else ""


def _heading_level(paragraph: Paragraph) -> int | None:
    name = _style_name(paragraph)
    # Title is ranked with Heading 1 rather than above it, so the document's
    # own title is not repeated at the head of every heading path.
    if name.lower() == "title":
        return 1
    match = _HEADING_STYLE.match(name)
    return int(match.group(1)) if match else None


def _is_list_item(paragraph: Paragraph) -> bool:
    # Bullets come from a "List ..." style or from direct numbering (numPr).
    if _style_name(paragraph).lower().startswith("list"):
        return True
    properties = paragraph._p.pPr
    return properties is not None and properties.numPr is not None


def _style_hidden(style: CharacterStyle | None) -> bool | None:
    """Whether a style, or the first style it is based on that says, hides its text."""
    while style is not None:
        hidden = style.font.hidden
        if hidden is not None:
            return bool(hidden)
        style = style.base_style
    return None


def _is_hidden(run: Run, paragraph_hidden: bool | None) -> bool:
    # As Word decides: the run's own formatting, then its character style, then the
    # paragraph's style. Only an explicit "not hidden" at a nearer level shows the text.
    for hidden in (run.font.hidden, _style_hidden(run.style) if run._r.style else None):
        if hidden is not None:
            return bool(hidden)
    return bool(paragraph_hidden)


def visible_text(paragraph: Paragraph) -> str:
    """The paragraph's text as Word shows it: hidden runs, even inside links, left out."""
    from docx.text.hyperlink import Hyperlink

    paragraph_hidden = _style_hidden(paragraph.style)
    parts: list[str] = []
    for item in paragraph.iter_inner_content():
        runs = item.runs if isinstance(item, Hyperlink) else [item]
        parts.extend(run.text for run in runs if not _is_hidden(run, paragraph_hidden))
    return "".join(parts)


def _table_rows(table: Table) -> list[str]:
    """Each row as 'a | b | c'; a merged cell is listed once, not once per grid column."""
    rows = []
    for row in table.rows:
        cells, previous = [], None
        for cell in row.cells:
            if previous is not None and cell._tc is previous:
                continue
            previous = cell._tc
            cells.append("\n".join(visible_text(p) for p in cell.paragraphs))
        rows.append(render_row(cells))
    return rows


class _Walker:
    """Collects Sections while tracking the heading path of the current position."""

    def __init__(self) -> None:
        self.stack: list[tuple[int, str]] = []
        self.sections: list[Section] = []
        self.buffer: list[str] = []
        self.first_heading: str | None = None
        self.headings: list[str] = []

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(heading for _, heading in self.stack)

    def flush(self) -> None:
        body = "\n".join(self.buffer).strip()
        if body:
            self.sections.append(Section(body, heading_path=self.path))
        self.buffer.clear()

    def paragraph(self, paragraph: Paragraph) -> None:
        text = visible_text(paragraph).strip()
        if not text:
            return
        level = _heading_level(paragraph)
        if level is None:
            self.buffer.append(("- " if _is_list_item(paragraph) else "") + text)
            return
        self.flush()
        if level == 1 and self.first_heading is None:
            self.first_heading = text
        self.headings.append(text)
        while self.stack and self.stack[-1][0] >= level:
            self.stack.pop()
        self.stack.append((level, text))

    def table(self, table: Table) -> None:
        self.flush()
        self.sections.extend(table_sections(_table_rows(table), heading_path=self.path))

    def finish(self) -> list[Section]:
        self.flush()
        if not self.sections and self.headings:
            # A document of headings only (an outline, a chapter's cover) is read as its headings.
            self.sections.append(Section("\n".join(self.headings)))
        return self.sections


def parse(ctx: ParseContext) -> ParsedDocument:
    # The library is imported here, not at the top: the registry imports every parser
    # module and the sandbox starts a new interpreter per file, so each file pays
    # only for its own format's library (all four at the top cost ~0.3 s a file).
    from docx import Document
    from docx.opc.exceptions import PackageNotFoundError
    from docx.text.paragraph import Paragraph
    from lxml.etree import LxmlError

    # Raised by python-docx and lxml on archives that are ZIPs but not sound Word files.
    damaged = (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, LxmlError)
    check_zip(ctx)
    try:
        document = Document(str(ctx.path))
        walker = _Walker()
        for block in document.iter_inner_content():
            if isinstance(block, Paragraph):
                walker.paragraph(block)
            else:
                walker.table(block)
        sections = walker.finish()
        core_title = (document.core_properties.title or "").strip()
    except damaged as exc:
        raise ParseError(
            f"The Word document is damaged or incomplete and could not be read ({exc}); "
            "open it in Word and save it again."
        ) from exc
    title = core_title or walker.first_heading or title_from_name(ctx.original_name)
    return ParsedDocument(title=title, sections=sections)


SPEC = ParserSpec(
    label="Word",
    mime_types=("application/vnd.openxmlformats-officedocument.wordprocessingml.document",),
    extensions=(".docx",),
    parse=parse,
    zip_member="word/document.xml",
)
