"""Markdown: ATX headings (# ...) become the heading path of the text below them.

HTML comments (<!-- ... -->, over any number of lines) are dropped outside code
fences: every Markdown viewer hides them, so a hostile file could otherwise keep
instructions there that only the model would read.
"""

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
_COMMENT_OPEN, _COMMENT_CLOSE = "<!--", "-->"


def _without_comments(line: str, in_comment: bool) -> tuple[str, bool]:
    """The line with HTML comments removed, and whether a comment is still open at its end.

    A comment never closed hides the rest of the file, as it does in a viewer.
    """
    kept: list[str] = []
    while line:
        if in_comment:
            end = line.find(_COMMENT_CLOSE)
            if end < 0:
                return "".join(kept), True
            line, in_comment = line[end + len(_COMMENT_CLOSE) :], False
        else:
            start = line.find(_COMMENT_OPEN)
            if start < 0:
                kept.append(line)
                break
            kept.append(line[:start])
            line, in_comment = line[start + len(_COMMENT_OPEN) :], True
    return "".join(kept), in_comment


def sections_from_markdown(text: str) -> tuple[str | None, list[Section]]:
    """Split Markdown into sections under their heading path; return (first h1, sections)."""
    stack: list[tuple[int, str]] = []
    sections: list[Section] = []
    buffer: list[str] = []
    first_h1: str | None = None
    in_fence = in_comment = False

    def flush() -> None:
        body = "\n".join(buffer).strip()
        if body:
            sections.append(Section(text=body, heading_path=tuple(h for _, h in stack)))
        buffer.clear()

    for line in text.splitlines():
        if not in_fence:
            commented = in_comment or _COMMENT_OPEN in line
            line, in_comment = _without_comments(line, in_comment)
            if commented and not line.strip():
                continue  # a line that held only (part of) a comment is no line at all
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
