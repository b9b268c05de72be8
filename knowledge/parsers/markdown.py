"""Markdown: ATX headings (# ...) become the heading path of the text below them."""

from __future__ import annotations

import re

from .base import ParseContext, ParsedDocument, ParserSpec, Section, title_from_name
from .text import read_text

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
# Inline markup that readers should not see in quotes: **bold**, __bold__, `code`, [text](url).
_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")


def plain(line: str) -> str:
    return _LINK.sub(r"\1", _EMPHASIS.sub(r"\2", line))


_FENCE = re.compile(r"^(```|~~~)")


def sections_from_markdown(text: str) -> tuple[str | None, list[Section]]:
    """Split Markdown into sections under their heading path; return (first h1, sections)."""
    stack: list[tuple[int, str]] = []
    sections: list[Section] = []
    buffer: list[str] = []
    first_h1: str | None = None
    in_fence = False

    def flush() -> None:
        body = "\n".join(buffer).strip()
        if body:
            sections.append(Section(text=body, heading_path=tuple(h for _, h in stack)))
        buffer.clear()

    for line in text.splitlines():
        if _FENCE.match(line.strip()):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line)
        if match is None:
            buffer.append(line if in_fence else plain(line))
            continue
        flush()
        level, heading = len(match.group(1)), match.group(2).strip()
        if level == 1 and first_h1 is None:
            first_h1 = heading
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, heading))
    flush()
    return first_h1, sections


def parse(ctx: ParseContext) -> ParsedDocument:
    title, sections = sections_from_markdown(read_text(ctx.path))
    return ParsedDocument(title=title or title_from_name(ctx.original_name), sections=sections)


SPEC = ParserSpec(
    label="Markdown",
    mime_types=(
        "text/markdown",
        "text/x-markdown",
    ),
    extensions=(
        ".md",
        ".markdown",
    ),
    parse=parse,
)
