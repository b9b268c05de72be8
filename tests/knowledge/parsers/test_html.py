"""HTML: the markup-to-sections step shared with email, and parse() unchanged around it."""

from __future__ import annotations

from knowledge.parsers.html import sections_from_html

PAGE = """<!doctype html><html><head><title>Intranet: Leave</title></head><body>
<nav>Home | About</nav>
<main><h1>Leave</h1><p>Ask first.</p><h2>Sick leave</h2><p>Call in.</p>
<p hidden>secret</p><script>x()</script></main></body></html>"""


def test_sections_from_html_gives_the_title_and_heading_paths():
    title, sections = sections_from_html(PAGE)

    assert title == "Intranet: Leave"
    assert [(s.heading_path, s.text) for s in sections] == [
        (("Leave",), "Ask first."),
        (("Leave", "Sick leave"), "Call in."),
    ]


def test_without_a_title_tag_the_first_h1_is_the_title():
    assert sections_from_html("<h1>Only heading</h1><p>Body</p>")[0] == "Only heading"


def test_parse_still_reads_an_html_file(tmp_path, read):
    path = tmp_path / "leave.html"
    path.write_text(PAGE, encoding="utf-8")

    document = read(path)

    assert document.title == "Intranet: Leave"
    assert "Home" not in " ".join(s.text for s in document.sections)
