"""Markdown: headings (# ..., or a line underlined with === or ---) become the heading path of
the text below them; a paragraph's lines are joined, as a viewer shows them.

Many Markdown files are written with lines cut at 72 or 80 characters. A viewer joins a
paragraph's lines; so does this reader, so that a quote is the paragraph's sentence and
a short line cut mid-sentence is never taken for a term of its own. List items, table
rows, quotes, code and lines ending in a hard break keep their lines.

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
# An underline under a paragraph makes it a heading: === level 1, --- level 2.
_SETEXT = re.compile(r"^ {0,3}(=+|-+)\s*$")
# A line that starts a block of its own rather than continuing a paragraph: a list item,
# a table row, a quote, a heading, HTML, a fence.
_BLOCK_START = re.compile(r"^\s*(?:[-*+]\s|\d{1,9}[.)]\s|\||>|#|<|```|~~~)")
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
    code: set[int] = set()  # the places in `buffer` of code lines, kept as they stand
    first_h1: str | None = None
    in_fence = in_comment = False
    # Whether the last line in `buffer` is a paragraph's (or list item's) text that the next
    # line may continue.
    open_paragraph = False
    headings: list[str] = []

    def flush() -> None:
        # Inline markup is read once a paragraph is whole: a link may span its lines.
        body = "\n".join(line if n in code else plain(line) for n, line in enumerate(buffer))
        body = body.strip()
        if body:
            sections.append(Section(text=body, heading_path=tuple(h for _, h in stack)))
        buffer.clear()
        code.clear()

    for line in text.splitlines():
        if not in_fence:
            commented = in_comment or _COMMENT_OPEN in line
            line, in_comment = _without_comments(line, in_comment)
            if commented and not line.strip():
                continue  # a line that held only (part of) a comment is no line at all
        fence = _FENCE.match(line.strip()) is not None
        if fence:
            in_fence = not in_fence
        if in_fence or fence:
            code.add(len(buffer))
            buffer.append(line)
            open_paragraph = False
            continue
        match = _HEADING.match(line)
        # A list item's text underlined is a list and a rule, not a heading.
        under_text = open_paragraph and match is None and not _BLOCK_START.match(buffer[-1])
        underline = _SETEXT.match(line) if under_text else None
        if underline is not None:
            level, heading = (1 if underline.group(1)[0] == "=" else 2), plain(buffer.pop()).strip()
        elif match is not None:
            level, heading = len(match.group(1)), plain(match.group(2)).strip()
        else:
            continues = not _BLOCK_START.match(line) and not _SETEXT.match(line)
            if open_paragraph and line.strip() and continues:
                buffer[-1] = f"{buffer[-1].rstrip()} {line.strip()}"
            else:
                buffer.append(line)
            # Two trailing spaces or a backslash are a hard line break: the line stays. Table
            # rows and HTML are never continued.
            hard_break = line.endswith(("  ", "\\"))
            open_paragraph = bool(line.strip()) and not hard_break and line.lstrip()[:1] not in "|<"
            continue
        open_paragraph = False
        flush()
        if level == 1 and first_h1 is None:
            first_h1 = heading
        headings.append(heading)
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, heading))
    flush()
    if not sections and headings:
        # A page of headings only (an index page, an outline) is read as its headings.
        sections.append(Section(text="\n".join(headings)))
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
