"""HTML: the main text under its headings; scripts, styles, navigation and hidden text dropped.

Hidden means what a browser does not show: comments, <template>, the hidden
attribute, aria-hidden, and inline styles with display:none, visibility:hidden,
a zero font size or zero opacity. A hostile page could otherwise keep
instructions there that only the model would read. (Text hidden by a class in a
style sheet is not detected: that would take a CSS engine.)

Navigation is dropped whether it is marked up as such (<nav>, ARIA roles) or
only by the conventions of the tools that generate manuals: DocBook XSL's
<div class="navheader"> and "navfooter" tables of Prev / Up / Home / Next
links, and Texinfo's <div class="header"> (or "nav-panel") line "Next: ...,
Previous: ..., Up: ...". Left in, such a line is glued to the end of the
section above it on every page and matches every question about "next".

Text is laid out as a browser shows it: inline elements join as they stand
("<em>immutable</em>." is "immutable.", not "immutable ."; highlighted code
"word[4]", not "word [ 4 ]"), a space falls only where a block or a line
break does, and a <pre> is a line of its own, so a quote is the page's own
words. Text in no paragraph at all (DocBook's option reference is <div>s of
bare text) is read too, a line where a browser would break it. Sphinx's and
MkDocs' permalink signs ("Strings¶") and page footer, DocBook's tables of
contents and "[D]" links, and stray bits without a word ("|") are left out.
"""

from __future__ import annotations

import re

# selectolax 1.0 removed the old Modest backend (selectolax.parser); lexbor has the same API.
from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

from .base import ParseContext, ParsedDocument, ParserSpec, Section, title_from_name
from .office import table_sections
from .text import read_text

_DROP = (
    "script, style, noscript, template, iframe, object, embed, svg, nav, header, footer, aside, "
    # Sphinx's page footer (copyright, "Created using Sphinx"), on every page.
    "div.footer, [role=contentinfo], "
    "form, button, [role=navigation], .navheader, .navfooter, .nav-panel, "
    # Texinfo's and DocBook's menus of a chapter's sections: titles only, each read again
    # under its heading.
    "ul.section-toc, table.menu, div.toc, "
    # DocBook XSL's "[D]" link beside a screenshot, to the image's long description: inside a
    # paragraph or a list item it would join the text, out of reach of the loose-text rule.
    ".longdesc-link, "
    # Sphinx's and MkDocs' permalink after each heading ("¶"), Docusaurus' ("#").
    "a.headerlink, a.hash-link"
)
# Containers that hold navigation in some generators and content in others:
# dropped only when they are made of navigation links (see _is_navigation).
_MAYBE_NAVIGATION = "div.header, table, p"
# rel and accesskey values of links between pages of one manual.
_NAV_RELS = {"next", "prev", "previous", "up", "home", "start", "contents", "index", "top"}
_NAV_KEYS = {"n", "p", "u", "h"}
_NAV_LINE = re.compile(r"^\s*(next|prev(ious)?|up|home)\s*:", re.I)
_HIDDEN_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden"
    r"|(font-size|opacity)\s*:\s*0*\.?0*(px|pt|em|rem|%)?\s*(;|!|$)",
    re.I,
)
_WORDLIKE = re.compile(r"[^\W\d_]{2}")
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_BLOCKS = {"p", "li", "pre", "blockquote", "td", "th", "dd", "dt", "figcaption", "caption"}
# Where a browser breaks the line: the words on either side of these never run together.
_BREAKS = _BLOCKS | set(_HEADINGS) | {
    "br", "hr", "div", "ul", "ol", "dl", "table", "thead", "tbody", "tfoot", "tr", "section",
    "article", "figure", "address", "details", "summary",
}  # fmt: skip


def _is_hidden(node: Node) -> bool:
    attrs = node.attributes
    return (
        "hidden" in attrs
        or attrs.get("aria-hidden") == "true"
        or bool(_HIDDEN_STYLE.search(attrs.get("style") or ""))
    )


def _is_nav_link(link: Node) -> bool:
    attrs = link.attributes
    rels = set((attrs.get("rel") or "").lower().split())
    return bool(rels & _NAV_RELS) or (attrs.get("accesskey") or "").lower() in _NAV_KEYS


def _is_navigation(node: Node) -> bool:
    """Mostly links to the previous, next or parent page: a bar, not content.

    A Texinfo line opens with "Next:" or "Previous:"; a DocBook table holds
    only such links and the titles they point to. Prose that merely contains
    a "next" link keeps far more text than its links, and stays.
    """
    links = node.css("a")
    nav_links = [link for link in links if _is_nav_link(link)]
    if not nav_links:
        return False
    text = _clean(node.text(deep=True, separator=" "))
    if _NAV_LINE.match(text) and node.tag != "table":
        return True
    if node.tag == "p":
        return False
    # Every link leads to a neighbouring page, and the words outside them are few:
    # the titles of those pages. A data table with one such link is content.
    linked = sum(len(_clean(link.text(deep=True, separator=" "))) for link in links)
    return len(nav_links) == len(links) and len(text) - linked <= 2 * max(linked, 40)


def _drop_navigation(candidates: list[Node]) -> None:
    # Decided first, removed after, outermost only: a <p> inside a dropped table
    # must not be touched once its ancestor is gone.
    dropped: set[int] = set()
    for node in candidates:
        if not _inside(node, dropped) and _is_navigation(node):
            dropped.add(node.mem_id)
    for node in candidates:
        if node.mem_id in dropped:
            node.decompose()


def _inside(node: Node, ids: set[int]) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.mem_id in ids:
            return True
        parent = parent.parent
    return False


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _pending(node: Node) -> list[Node]:
    """`node`'s children and text, last first: the order a stack walk pops them in."""
    return list(reversed(list(node.iter(include_text=True))))


def _lines(node: Node) -> list[str]:
    """A block's text as a browser lays it out, whitespace collapsed: inline elements
    joined as they stand, a space where a block or a line break falls, and each <pre>
    inside on a line of its own."""
    lines: list[str] = []
    run: list[str] = []

    def end_run() -> None:
        text = _clean("".join(run))
        if text:
            lines.append(text)
        run.clear()

    def code(pre: Node) -> None:
        # A line of its own, whitespace collapsed like the prose: kept as a fenced block,
        # examples became spans of their own and cost 3 of 50 diffutils answers
        # (docs/quality.md, "HTML as a browser shows it").
        end_run()
        text = _clean(pre.text(deep=True) or "")
        if text:
            lines.append(text)

    def walk(top: Node) -> None:
        # A stack, not recursion: a hostile page may nest elements thousands deep.
        todo: list[Node | str] = [*_pending(top)]
        while todo:
            item = todo.pop()
            if isinstance(item, str):
                run.append(item)
            elif item.tag == "-text":
                run.append(item.text_content or "")
            elif item.tag == "pre":
                code(item)
            else:
                breaks = item.tag in _BREAKS
                if breaks:
                    todo.append(" ")
                todo.extend(_pending(item))
                if breaks:
                    todo.append(" ")

    if node.tag == "pre":
        code(node)
    else:
        walk(node)
        end_run()
    return lines


# A data table's cell is a value or a sentence or two; longer, the table is a page layout.
_CELL_CHARS = 400


def _table_rows(table: Node) -> list[str] | None:
    """A data table as Markdown rows, the first (its header) with the rule under it; None for
    a table that lays a page out (a note's icon beside its text, an image's frame): one
    column, rows of different widths, a nested table, a list or code in a cell."""
    # css() matches the table itself too.
    nested = any(inner.mem_id != table.mem_id for inner in table.css("table"))
    if nested or table.css_first("pre, ul, ol, dl") is not None:
        return None
    rows = table.css("tr")
    if len(rows) < 2:
        return None
    grid: list[list[str]] = []
    for tr in rows:
        cells = [c for c in tr.iter() if c.tag in ("td", "th")]
        texts = [_inline(c).replace("|", "\\|") for c in cells]
        if any(len(t) > _CELL_CHARS for t in texts):
            return None
        width = sum(_span(c.attributes.get("colspan")) for c in cells)
        grid.append(texts + [""] * (width - len(cells)))
    widths = {len(row) for row in grid}
    if len(widths) != 1 or widths.pop() < 2:
        return None
    lines = [f"| {' | '.join(row)} |" for row in grid if any(row)]
    if len(lines) < 2:
        return None
    rule = f"|{' --- |' * len(grid[0])}"
    return [f"{lines[0]}\n{rule}", *lines[1:]]


def _span(value: str | None) -> int:
    """A cell's colspan as a browser reads it: 1 unless a number, at most 1000 (HTML's cap)."""
    digits = re.match(r"\s*(\d{1,4})", value or "")
    return min(max(int(digits.group(1)), 1), 1000) if digits else 1


def _inline(node: Node) -> str:
    """A heading's or a short element's text on one line."""
    return " ".join(_lines(node))


def sections_from_html(markup: str) -> tuple[str | None, list[Section]]:
    """Split HTML into sections under their heading path; return (<title> or first h1, sections).

    Shared with the email reader, whose HTML-only messages need the same cleanup.
    """
    tree = HTMLParser(markup)
    for node in tree.css(_DROP):
        node.decompose()
    for node in tree.css("[hidden], [aria-hidden=true], [style]"):
        if _is_hidden(node):
            node.decompose()
    _drop_navigation(tree.css(_MAYBE_NAVIGATION))

    title_node = tree.css_first("title")
    root = tree.css_first("main") or tree.css_first("article") or tree.body or tree.root
    stack: list[tuple[int, str]] = []
    sections: list[Section] = []
    buffer: list[str] = []
    first_h1: str | None = None

    def flush() -> None:
        body = "\n".join(buffer).strip()
        if body:
            sections.append(Section(text=body, heading_path=tuple(h for _, h in stack)))
        buffer.clear()

    loose: list[str] = []

    def end_loose() -> None:
        # Text outside any block (a DocBook option list is <div>s of bare text) is a line
        # of its own wherever a block or a line break would end it in a browser.
        text = _clean("".join(loose))
        if _WORDLIKE.search(text):  # not a stray "[D]", "|" or "»" between blocks
            buffer.append(text)
        loose.clear()

    # A stack, not recursion (see _lines); None marks where a breaking element ends.
    todo: list[Node | None] = [*_pending(root)] if root is not None else []
    while todo:
        item = todo.pop()
        if item is None:
            end_loose()
            continue
        tag = item.tag
        if tag == "-text":
            loose.append(item.text_content or "")
        elif tag in _HEADINGS:
            end_loose()
            heading = _inline(item)
            if not heading:
                continue
            flush()
            level = _HEADINGS[tag]
            if level == 1 and first_h1 is None:
                first_h1 = heading
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, heading))
        elif tag == "table" and (rows := _table_rows(item)) is not None:
            # Each piece of a long table keeps its header row (the chunker repeats it).
            end_loose()
            flush()
            sections.extend(table_sections(rows, heading_path=tuple(h for _, h in stack)))
        elif tag in _BLOCKS:
            # Read whole: its nested blocks (a <p> inside an <li>) join its text.
            end_loose()
            lines = _lines(item)
            if lines and tag == "li":
                lines[0] = f"- {lines[0]}"
            buffer.extend(lines)
        else:
            breaks = tag in _BREAKS
            if breaks:
                end_loose()
                todo.append(None)
            todo.extend(_pending(item))
    end_loose()
    flush()
    if not sections and root is not None:
        text = "\n".join(_lines(root))
        if text:
            sections.append(Section(text=text))

    title = _inline(title_node) if title_node is not None else ""
    return title or first_h1, sections


def parse(ctx: ParseContext) -> ParsedDocument:
    title, sections = sections_from_html(read_text(ctx.path))
    return ParsedDocument(title=title or title_from_name(ctx.original_name), sections=sections)


SPEC = ParserSpec(
    label="HTML",
    mime_types=(
        "text/html",
        "application/xhtml+xml",
    ),
    extensions=(
        ".html",
        ".htm",
    ),
    parse=parse,
    text_prefixes=(b"<!doctype html", b"<html"),
)
