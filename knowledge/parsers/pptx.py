"""PowerPoint (PPTX): the text of each slide under its title, with the speaker notes.

Slides are numbered like pages so an answer can cite "slide 4". Tables get
Sections of their own carrying the header row; notes often say what the
bullets only hint at, so they are kept, marked "Notes:".
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from .base import ParseContext, ParsedDocument, ParseError, ParserSpec, Section, title_from_name
from .office import check_zip, render_row, table_sections

if TYPE_CHECKING:
    from pptx.shapes.base import BaseShape
    from pptx.slide import Slide

# python-pptx writes this when a file has no title of its own; it names nothing.
_PLACEHOLDER_TITLES = {"powerpoint presentation"}


def _shapes(shapes: Iterable[BaseShape]) -> Iterator[BaseShape]:
    """Every shape, looking inside groups (a group has no text of its own)."""
    from pptx.shapes.group import GroupShape  # loaded by parse() already

    for shape in shapes:
        if isinstance(shape, GroupShape):
            yield from _shapes(shape.shapes)
        else:
            yield shape


def _slide_title(slide: Slide) -> str:
    title = slide.shapes.title
    return title.text_frame.text.strip() if title is not None and title.has_text_frame else ""


def _notes(slide: Slide) -> str:
    if not slide.has_notes_slide:
        return ""
    frame = slide.notes_slide.notes_text_frame
    return frame.text.strip() if frame is not None else ""


def _slide_sections(slide: Slide, number: int) -> list[Section]:
    title = _slide_title(slide)
    path = (title,) if title else ()
    title_shape = slide.shapes.title
    title_id = title_shape.shape_id if title and title_shape is not None else None
    sections: list[Section] = []
    lines: list[str] = []

    def flush() -> None:
        body = "\n".join(lines).strip()
        if body:
            sections.append(Section(body, heading_path=path, page=number))
        lines.clear()

    # Loaded by parse() already. Tables sit in graphic frames, text in (auto)shapes,
    # placeholders and text boxes, which are all Shapes.
    from pptx.shapes.autoshape import Shape
    from pptx.shapes.graphfrm import GraphicFrame

    for shape in _shapes(slide.shapes):
        if shape.shape_id == title_id:
            continue  # already the heading path
        if isinstance(shape, GraphicFrame) and shape.has_table:
            flush()
            # A merged cell is listed once; the cells it spans over are empty stand-ins.
            rows = [
                render_row(cell.text for cell in row.cells if not cell.is_spanned)
                for row in shape.table.rows
            ]
            sections.extend(table_sections(rows, heading_path=path, page=number))
        elif isinstance(shape, Shape) and shape.has_text_frame and shape.text_frame.text.strip():
            lines.append(shape.text_frame.text.strip())
    notes = _notes(slide)
    if notes:
        lines.append(f"Notes: {notes}")
    flush()
    if not sections and title:
        # A section-divider slide: its title is all it says.
        sections.append(Section(title, heading_path=path, page=number))
    return sections


def parse(ctx: ParseContext) -> ParsedDocument:
    # The library is imported here, not at the top: the registry imports every parser
    # module and the sandbox starts a new interpreter per file, so each file pays
    # only for its own format's library (all four at the top cost ~0.3 s a file).
    from lxml.etree import LxmlError
    from pptx import Presentation
    from pptx.exc import PackageNotFoundError

    damaged = (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, LxmlError)
    check_zip(ctx)
    try:
        presentation = Presentation(str(ctx.path))
        sections: list[Section] = []
        first_title = ""
        for number, slide in enumerate(presentation.slides, start=1):
            first_title = first_title or _slide_title(slide)
            sections.extend(_slide_sections(slide, number))
        core_title = (presentation.core_properties.title or "").strip()
    except damaged as exc:
        raise ParseError(
            f"The PowerPoint presentation is damaged or incomplete and could not be read ({exc}); "
            "open it in PowerPoint and save it again."
        ) from exc
    if core_title.lower() in _PLACEHOLDER_TITLES:
        core_title = ""
    title = core_title or first_title or title_from_name(ctx.original_name)
    return ParsedDocument(title=title, sections=sections)


SPEC = ParserSpec(
    label="PowerPoint",
    mime_types=("application/vnd.openxmlformats-officedocument.presentationml.presentation",),
    extensions=(".pptx",),
    parse=parse,
    zip_member="ppt/presentation.xml",
)
