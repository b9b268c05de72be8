"""Plain text in any common encoding, with the headings plain text usually has.

A line set apart by blank lines, short and without a closing full stop, is a
heading: ALL CAPS, numbered ("4. MOBILITY") or underlined with ==== lines open
a top-level section; other short lines ("Bike leasing (Berlin only)") a
section below it. Text with no such lines stays one section.
"""

from __future__ import annotations

import re
from pathlib import Path

from charset_normalizer import from_bytes

from .base import ParseContext, ParsedDocument, ParseError, ParserSpec, Section, title_from_name


def read_text(path: Path) -> str:
    """Decode a text file whatever its encoding (UTF-8/16, Latin-1, Windows-1252...)."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    best = from_bytes(raw).best()
    if best is None:
        raise ParseError("The text's encoding could not be recognised.")
    return str(best)


_NUMBERED = re.compile(r"^\d+(\.\d+)*\.?\s+\S")
_UNDERLINE = re.compile(r"^(=+|-+)\s*$")


def _heading_level(line: str, underline: str | None) -> int | None:
    """1 or 2 for a heading line, None for body text."""
    text = line.strip()
    if not text or len(text) > 80 or text[-1] in ".,;:!?" or len(text.split()) > 10:
        return None
    if underline is not None:
        return 1 if underline.startswith("=") else 2
    letters = [c for c in text if c.isalpha()]
    if (letters and all(c.isupper() for c in letters)) or _NUMBERED.match(text):
        return 1
    return 2


def sections_from_plain_text(text: str) -> tuple[str | None, list[Section]]:
    blocks = [b.strip("\n") for b in re.split(r"\n\s*\n", text) if b.strip()]
    title: str | None = None
    path: list[str] = []
    sections: list[Section] = []
    for index, block in enumerate(blocks):
        lines = block.splitlines()
        underline = lines[1] if len(lines) == 2 and _UNDERLINE.match(lines[1]) else None
        level = _heading_level(lines[0], underline) if len(lines) == 1 or underline else None
        if level is None:
            sections.append(Section(text=block, heading_path=tuple(path)))
            continue
        heading = lines[0].strip()
        if index == 0 and level == 1 and title is None:
            title = heading  # the document's own title, not a section of it
            continue
        path = [heading] if level == 1 or not path else [path[0], heading]
    merged: list[Section] = []
    for section in sections:  # paragraphs under one heading form one section
        if merged and merged[-1].heading_path == section.heading_path:
            merged[-1].text += "\n\n" + section.text
        else:
            merged.append(section)
    return title, merged


def parse(ctx: ParseContext) -> ParsedDocument:
    title, sections = sections_from_plain_text(read_text(ctx.path).replace("\r\n", "\n"))
    return ParsedDocument(
        title=(title or title_from_name(ctx.original_name)).strip(), sections=sections
    )


SPEC = ParserSpec(
    label="text",
    mime_types=("text/plain",),
    extensions=(
        ".txt",
        ".text",
    ),
    parse=parse,
)
