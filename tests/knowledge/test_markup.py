"""Markdown from documents and the model renders as HTML, and nothing in it can run."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.template import Context, Template

from knowledge.markup import markdown_html, sanitize

# Written out here, not imported: a test that read the module's own list could not fail.
INERT_TAGS = {
    "p", "br", "strong", "em", "s", "code", "pre", "blockquote", "hr", "ul", "ol", "li", "a",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
INERT_ATTRIBUTES = {"href", "title", "rel", "start"}


class _Elements(HTMLParser):
    """The elements a browser would build from the HTML, with their attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser.found


def tags(html: str) -> list[str]:
    return [tag for tag, _ in elements(html)]


def assert_inert(html: str) -> None:
    """No element, attribute or URL in `html` that could run code or load something."""
    for tag, attrs in elements(html):
        assert tag in INERT_TAGS, html
        assert set(attrs) <= INERT_ATTRIBUTES, html
        href = (attrs.get("href") or "").strip()
        # What a browser would see as the scheme, after dropping tabs and newlines.
        scheme = urlsplit(href.replace("\t", "").replace("\n", "")).scheme.lower()
        assert scheme in {"", "http", "https"}, html


def test_it_renders_lists_bold_italics_code_and_code_blocks():
    html = markdown_html(
        "Interns get:\n\n- **2 days** a month\n- *no* carry-over\n\n"
        "1. first\n2. second\n\nRun `diff -u a b`:\n\n```\ndiff -u old new\n```"
    )

    assert "<ul>\n<li><strong>2 days</strong> a month</li>\n<li><em>no</em> carry-over</li>" in html
    assert "<ol>\n<li>first</li>\n<li>second</li>\n</ol>" in html
    assert "<code>diff -u a b</code>" in html
    assert "<pre><code>diff -u old new\n</code></pre>" in html


def test_single_newlines_stay_line_breaks_as_in_plain_text_documents():
    assert markdown_html("line one\nline two") == "<p>line one<br>\nline two</p>"


def test_http_and_relative_links_render_with_a_rel_that_gives_the_target_no_handle():
    html = markdown_html("[guide](https://example.org/a) and [passage](/documents/3/?chunk=9)")

    assert '<a href="https://example.org/a" rel="nofollow noopener noreferrer">guide</a>' in html
    assert '<a href="/documents/3/?chunk=9" rel="nofollow noopener noreferrer">passage</a>' in html


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
        '<img src=x onerror="alert(1)">',
        "<svg onload=alert(1)>",
        '<iframe src="https://evil.example"></iframe>',
        '<a href="javascript:alert(1)">click</a>',
        '<p onmouseover="alert(1)">hover</p>',
        "<style>body{display:none}</style>",
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](  javascript:alert(1)  )",
        "[click](vbscript:msgbox(1))",
        "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "<javascript:alert(1)>",
        "![x](javascript:alert(1))",
        '![x" onerror="alert(1)](https://evil.example/x.png)',
        "[x](https://ok.example \"t\" onclick=alert(1))",
        "**bold <img src=x onerror=alert(1)>**",
        "- item <script>alert(1)</script>",
    ],
)
def test_nothing_from_a_document_or_the_model_can_run(hostile: str):
    html = markdown_html(f"Before. {hostile} After.")

    assert_inert(html)
    assert "Before." in html and "After." in html


def test_raw_html_is_shown_as_text_not_dropped():
    # A reader should see what the document says, tags and all, as inert text.
    html = markdown_html("Use <b>bold</b> and <script>alert(1)</script>")

    assert html == "<p>Use &lt;b&gt;bold&lt;/b&gt; and &lt;script&gt;alert(1)&lt;/script&gt;</p>"


def test_html_inside_code_is_escaped_in_code_spans_and_blocks():
    html = markdown_html("`<img src=x onerror=alert(1)>`\n\n```html\n<script>alert(1)</script>\n```")

    assert "<code>&lt;img src=x onerror=alert(1)&gt;</code>" in html
    assert "<pre><code>&lt;script&gt;alert(1)&lt;/script&gt;\n</code></pre>" in html
    assert tags(html) == ["p", "code", "pre", "code"]


def test_images_become_links_so_no_remote_image_loads_in_a_readers_browser():
    html = markdown_html("![floor plan](https://intranet.example/plan.png)")

    assert html == (
        '<p><a href="https://intranet.example/plan.png" rel="nofollow noopener noreferrer">'
        "floor plan</a></p>"
    )


def test_links_to_other_schemes_lose_their_target():
    html = markdown_html("[mail](mailto:hr@example.org) [file](file:///etc/passwd)")

    assert [attrs.get("href") for _, attrs in elements(html)] == [None, None]
    assert_inert(html)


def test_the_sanitiser_alone_stops_html_that_a_parser_bug_could_let_through():
    html = sanitize(
        '<img src=x onerror=alert(1)><script>evil()</script>'
        '<a href="javascript:alert(1)" onclick="x()">y</a>'
        '<p style="position:fixed" class="overlay" onmouseover="z()">z</p>'
        '<iframe src="https://evil.example"></iframe><svg onload=alert(1)></svg>'
        '<form action="https://evil.example"><input name=password></form>'
    )

    assert html == '<a rel="nofollow noopener noreferrer">y</a><p>z</p>'


def test_the_template_filter_renders_and_is_safe_from_autoescaping():
    out = Template("{% load markup %}{{ text|markdown }}").render(
        Context({"text": "- **one**\n- <script>x</script>"})
    )

    assert out == "<ul>\n<li><strong>one</strong></li>\n<li>&lt;script&gt;x&lt;/script&gt;</li>\n</ul>"


def test_empty_text_renders_nothing():
    assert markdown_html("") == ""
    assert markdown_html("  \n") == ""
