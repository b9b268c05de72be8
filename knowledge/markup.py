"""Markdown to safe HTML, for answers and document text.

Both sources are untrusted: a document can hold anything its author typed, and
the model repeats what it read. Two layers, so that one bug does not let
anything run:

1. markdown-it-py with raw HTML off: a tag in the text is escaped and shown as
   text, and its link validator refuses javascript:, vbscript:, file: and
   data: URLs.
2. nh3 (the Ammonia sanitiser) over markdown-it's output, with an allow-list
   of the few tags Markdown needs, no event or style attributes, and links
   only to http(s) or relative URLs.

Images are not shown (a document's image would load a remote URL in every
reader's browser): `![alt](url)` becomes a link to the image, named by its alt text.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

TAGS = {
    "p", "br", "strong", "em", "s", "code", "pre", "blockquote", "hr",
    "ul", "ol", "li", "a",
    "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https"}
# A link from a document is not an endorsement, and the page it opens gets no handle on ours.
LINK_REL = "nofollow noopener noreferrer"


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    # breaks: a single newline stays a line break, as plain-text documents and answers expect.
    parser = MarkdownIt("commonmark", {"html": False, "breaks": True, "linkify": False})
    parser.enable(["table", "strikethrough"])
    parser.add_render_rule("image", _image_as_link)
    return parser


def _image_as_link(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    alt = self.renderInlineAsText(token.children or [], options, env) or src
    # The src passed markdown-it's link validator; nh3 still checks its scheme below.
    return f'<a href="{escapeHtml(src)}">{escapeHtml(alt)}</a>'


def sanitize(html: str) -> str:
    """Keep only the allow-listed tags, attributes and URL schemes of `html`."""
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
        strip_comments=True,
    )


def markdown_html(text: str) -> str:
    """`text` (Markdown from a document or the model) as sanitised HTML, safe to insert."""
    if not text.strip():
        return ""
    return sanitize(_parser().render(text)).strip()
