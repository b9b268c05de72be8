from __future__ import annotations

from knowledge.parsers.text import sections_from_plain_text

MEMO = """BENEFITS OVERVIEW

This overview summarizes the benefits.

4. MOBILITY

Bike leasing (Berlin only)

Berlin employees can lease up to 2 e-bikes.

They pay by salary conversion.

Transit
=======

Toronto employees get a transit subsidy.
"""


def test_plain_text_headings_become_heading_paths_and_the_first_caps_line_the_title() -> None:
    title, sections = sections_from_plain_text(MEMO)
    assert title == "BENEFITS OVERVIEW"
    assert [(s.heading_path, s.text.splitlines()[0]) for s in sections] == [
        ((), "This overview summarizes the benefits."),
        (
            ("4. MOBILITY", "Bike leasing (Berlin only)"),
            "Berlin employees can lease up to 2 e-bikes.",
        ),
        (("Transit",), "Toronto employees get a transit subsidy."),
    ]
    assert "salary conversion" in sections[1].text  # paragraphs under one heading stay together


def test_prose_without_headings_stays_one_section() -> None:
    text = "A first paragraph that says something.\n\nA second paragraph, also prose."
    title, sections = sections_from_plain_text(text)
    assert title is None
    assert len(sections) == 1 and sections[0].heading_path == ()
