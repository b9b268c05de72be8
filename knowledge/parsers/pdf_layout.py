"""A PDF's text as its pages lay it out: headings by their size, paragraphs rejoined, running
headers and footers left out.

A PDF states no structure. Its text is glyphs at positions: a heading is only bigger
letters, a paragraph is lines cut where the page was full, and every page repeats its
running header and footer ("Expense policy — confidential", "Page 3 of 12"). The PDF
reader (`knowledge.parsers.pdf`) hands this module each page's text blocks as the layout
analysis grouped them (lines that sit together, with their letters' size and font); this
module gives back what an HTML page gives: sections under a heading path, one paragraph a
line, a code block a line of its own, list items starting "- ". Pure functions over plain
data, so each rule is tested without a PDF.

- **Headings** are blocks of at most a few short lines whose letters are at least
  HEADING_RATIO times the body text's size (the size most of the document's letters have);
  each distinct heading size is a level, larger above smaller.
- **Running headers and footers** are blocks in the top or bottom MARGIN_ZONE of the page
  whose text, digits aside, recurs on at least half of the pages; a lone page number
  ("7", "Page 3 of 12", "3/12") in those zones goes on any page.
- **Paragraphs**: a block's lines are joined with spaces; a new paragraph starts at a list
  marker, or after a line that ends a sentence well short of the block's right edge (a
  document set without space between paragraphs still has its short last lines).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .base import Section

# Letters this many times the body size make a heading. Measured on Chromium's prints of the
# Python tutorial, whose smallest headings are 12 pt over 10.5 pt text (×1.14); a bolder
# callout at body size stays text.
HEADING_RATIO = 1.1
HEADING_MAX_LINES = 3
HEADING_MAX_CHARS = 200
# The top and bottom shares of a page where running headers and footers sit.
MARGIN_ZONE = 0.09
# Lines whose letters differ in size by more than this share belong to different blocks.
SIZE_TOLERANCE = 0.08
# A margin block recurring on this share of the pages (and on two at least) runs on every page.
REPEAT_SHARE = 0.5
# A line ending a sentence this far (in letter heights) short of its block's right edge ends
# its paragraph.
SHORT_LINE_SIZES = 3.0

_LIGATURES = str.maketrans(
    {"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"}
)
_MARKER = re.compile(r"^(?:[•◦▪▫‣⁃●○■□–·*]|\uf0b7|\uf0a7)\s*")
_NUMBERED = re.compile(r"^(?:\d{1,2}|[a-z])[.)]\s+\S")
_SENTENCE_END = re.compile(r"[.!?:]['\"”’)]?$")
_PAGE_NUMBER = re.compile(
    r"^(?:page\s+)?\d{1,5}(?:\s*(?:of|/)\s*\d{1,5})?$|^[-–]\s*\d{1,5}\s*[-–]$", re.I
)
_SPACES = re.compile(r"\s+")
# pdfminer's stand-in for a glyph the font maps to no character.
_UNMAPPED = re.compile(r"\(cid:\d+\)")


@dataclass(frozen=True)
class Line:
    text: str
    size: float  # the size most of its letters have, in points
    mono: bool  # most of its letters are in a fixed-width font: code
    x1: float  # where it ends, in points from the page's left edge


@dataclass(frozen=True)
class Block:
    """Lines the layout analysis found together on one page."""

    lines: tuple[Line, ...]
    x1: float  # the block's right edge, in points
    top: float  # its upper edge, as a share of the page's height from the top (0..1)
    bottom: float  # its lower edge, the same way

    @property
    def text(self) -> str:
        return " ".join(line.text for line in self.lines)

    @property
    def size(self) -> float:
        sizes = Counter[float]()
        for line in self.lines:
            sizes[line.size] += len(line.text)
        return sizes.most_common(1)[0][0] if sizes else 0.0

    @property
    def mono(self) -> bool:
        return sum(len(ln.text) for ln in self.lines if ln.mono) * 2 > len(self.text)


def sections(pages: Sequence[Sequence[Block]]) -> list[Section]:
    """The document's sections in reading order, each on the page where its text stands."""
    pages = [[part for block in page for part in _by_size(_cleaned(block))] for page in pages]
    blocks = [block for page in pages for block in page]
    body = body_size(blocks)
    running = running_blocks(pages)
    levels = _heading_sizes(blocks, body)
    found: list[Section] = []
    path: list[tuple[int, str]] = []
    buffer: list[str] = []

    def flush(page: int) -> None:
        text = "\n".join(buffer).strip()
        if text:
            found.append(Section(text=text, heading_path=tuple(t for _, t in path), page=page))
        buffer.clear()

    for number, page in enumerate(pages, start=1):
        for block in page:
            if _in_margin(block) and (_key(block) in running or _is_page_number(block)):
                continue
            level = levels.get(block.size) if _could_be_heading(block, body) else None
            if level is not None:
                flush(number)
                while path and path[-1][0] >= level:
                    path.pop()
                path.append((level, block.text))
                continue
            buffer.extend(paragraphs(block))
        flush(number)
    return found


def body_size(blocks: Iterable[Block]) -> float:
    """The size most of the document's prose letters have (code aside)."""
    sizes = Counter[float]()
    for block in blocks:
        for line in block.lines:
            if not line.mono:
                sizes[line.size] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else 0.0


def running_blocks(pages: Sequence[Sequence[Block]]) -> set[str]:
    """The keys of margin blocks that recur on at least half of the pages."""
    if len(pages) < 2:
        return set()
    seen = Counter[str]()
    for page in pages:
        seen.update({_key(block) for block in page if _in_margin(block)})
    needed = max(2, math.ceil(REPEAT_SHARE * len(pages)))
    return {key for key, count in seen.items() if count >= needed}


def paragraphs(block: Block) -> list[str]:
    """The block's text, one paragraph (or list item) a string."""
    if block.mono:
        # Code is one line of its own, as the HTML reader keeps a <pre>: spans quote it whole.
        return [_SPACES.sub(" ", block.text).strip()]
    found: list[str] = []
    previous: Line | None = None
    for line in block.lines:
        text = line.text
        marker = _MARKER.match(text)
        if marker:
            text = f"- {text[marker.end() :]}"
        starts = (
            previous is None
            or marker is not None
            or _NUMBERED.match(text) is not None
            or _ends_paragraph(previous, block)
        )
        if starts or not found:
            found.append(text)
        else:
            found[-1] = _joined(found[-1], text)
        previous = line
    return [p for p in found if p.strip()]


def _cleaned(block: Block) -> Block:
    lines = tuple(
        Line(text=text, size=line.size, mono=line.mono, x1=line.x1)
        for line in block.lines
        if (text := _SPACES.sub(" ", _UNMAPPED.sub("", line.text.translate(_LIGATURES))).strip())
    )
    return Block(lines=lines, x1=block.x1, top=block.top, bottom=block.bottom)


def _by_size(block: Block) -> list[Block]:
    """The block cut where its letters change size: the layout analysis may set a heading
    in one block with the paragraph under it when the two sit close."""
    runs: list[list[Line]] = []
    for line in block.lines:
        if not runs or abs(line.size - runs[-1][-1].size) > SIZE_TOLERANCE * max(line.size, 1.0):
            runs.append([])
        runs[-1].append(line)
    if len(runs) < 2:
        return [block] if block.lines else []
    height = (block.bottom - block.top) / len(block.lines)
    parts, row = [], 0
    for run in runs:
        top = block.top + row * height
        parts.append(Block(lines=tuple(run), x1=block.x1, top=top, bottom=top + len(run) * height))
        row += len(run)
    return parts


def _key(block: Block) -> str:
    """A block's text with its numbers and case aside: "Page 3 of 12" is "page # of #"."""
    return re.sub(r"\d+", "#", block.text.casefold())


def _in_margin(block: Block) -> bool:
    return block.bottom <= MARGIN_ZONE or block.top >= 1 - MARGIN_ZONE


def _is_page_number(block: Block) -> bool:
    return _PAGE_NUMBER.match(block.text.strip()) is not None


def _could_be_heading(block: Block, body: float) -> bool:
    text = block.text
    return (
        body > 0
        and block.size >= HEADING_RATIO * body
        and not block.mono
        and len(block.lines) <= HEADING_MAX_LINES
        and len(text) <= HEADING_MAX_CHARS
        and any(c.isalpha() for c in text)
        and not text.endswith((".", ",", ";", ":"))
    )


def _heading_sizes(blocks: Iterable[Block], body: float) -> dict[float, int]:
    """Each size a heading has, and its level: the largest is 1."""
    sizes = sorted({b.size for b in blocks if _could_be_heading(b, body)}, reverse=True)
    return {size: level for level, size in enumerate(sizes, start=1)}


def _ends_paragraph(line: Line, block: Block) -> bool:
    short = line.x1 < block.x1 - SHORT_LINE_SIZES * max(line.size, 1.0)
    return short and _SENTENCE_END.search(line.text) is not None


def _joined(left: str, right: str) -> str:
    # A line ending in a hyphen is a word cut in two or a hyphenated word: either way no
    # space (most office documents are not hyphenated, so the hyphen stays).
    return f"{left}{right}" if left.endswith("-") else f"{left} {right}"
