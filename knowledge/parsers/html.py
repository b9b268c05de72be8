"""HTML: the main text under its headings; scripts, styles, navigation and hidden text dropped."""

from __future__ import annotations

import re

# selectolax 1.0 removed the old Modest backend (selectolax.parser); lexbor has the same API.
from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

from .base import ParseContext, ParsedDocument, Section, title_from_name
from .text import read_text

_DROP = "script, style, noscript, template, iframe, object, embed, svg, nav, header, footer, aside, form, button"
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_BLOCKS = {"p", "li", "pre", "blockquote", "td", "th", "dd", "dt", "figcaption", "caption"}


def _is_hidden(node: Node) -> bool:
    attrs = node.attributes
    return (
        "hidden" in attrs
        or attrs.get("aria-hidden") == "true"
        or bool(_HIDDEN_STYLE.search(attrs.get("style") or ""))
    )


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


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

    for node in root.traverse(include_text=False) if root is not None else []:
        tag = node.tag
        if tag in _HEADINGS:
            heading = _clean(node.text(deep=True))
            if not heading:
                continue
            flush()
            level = _HEADINGS[tag]
            if level == 1 and first_h1 is None:
                first_h1 = heading
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, heading))
        elif tag in _BLOCKS:
            # Nested blocks (a <p> inside an <li>) are read once, by the outermost.
            parent = node.parent
            while parent is not None and parent.tag not in _BLOCKS:
                parent = parent.parent
            if parent is None:
                text = _clean(node.text(deep=True, separator=" "))
                if text:
                    buffer.append(("- " if tag == "li" else "") + text)
    flush()
    if not sections and root is not None:
        text = _clean(root.text(deep=True, separator=" "))
        if text:
            sections.append(Section(text=text))

    title = _clean(title_node.text()) if title_node is not None else ""
    return title or first_h1, sections


def parse(ctx: ParseContext) -> ParsedDocument:
    title, sections = sections_from_html(read_text(ctx.path))
    return ParsedDocument(title=title or title_from_name(ctx.original_name), sections=sections)
