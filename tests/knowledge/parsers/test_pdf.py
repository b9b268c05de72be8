"""The PDF reader: structure from the layout (knowledge.parsers.pdf_layout), then real files
through the sandbox."""

from __future__ import annotations

from knowledge.parsers.pdf_layout import Block, Line, paragraphs, sections
from knowledge.parsers.sandbox import parse_file
from tests.support.pdfwriter import Heading, write_pdf

BODY = 10.0


def block(*lines: str, size: float = BODY, mono: bool = False, top: float = 0.3) -> Block:
    """A block of full lines (ending at the right edge, 500 pt) in the page's body."""
    return Block(
        lines=tuple(Line(text=t, size=size, mono=mono, x1=500.0) for t in lines),
        x1=500.0,
        top=top,
        bottom=top + 0.02 * len(lines),
    )


def short(text: str) -> Line:
    return Line(text=text, size=BODY, mono=False, x1=200.0)


def test_bigger_letters_are_headings_each_size_a_level():
    found = sections(
        [
            [
                block("Travel policy", size=20),
                block("Who may travel and how."),
                block("Per diems", size=14),
                block("Germany: EUR 28 a full day."),
                block("Canada", size=12),
                block("CAD 85 a full day."),
                block("Mileage", size=14),
                block("EUR 0.30 a kilometre."),
            ]
        ]
    )

    assert [(s.heading_path, s.text) for s in found] == [
        (("Travel policy",), "Who may travel and how."),
        (("Travel policy", "Per diems"), "Germany: EUR 28 a full day."),
        (("Travel policy", "Per diems", "Canada"), "CAD 85 a full day."),
        (("Travel policy", "Mileage"), "EUR 0.30 a kilometre."),
    ]


def test_a_large_sentence_or_a_long_block_is_no_heading():
    found = sections(
        [[block("Remember to submit receipts.", size=14), block("Body text.", "More body.")]]
    )

    assert found[0].heading_path == ()
    assert found[0].text.startswith("Remember to submit receipts.")


def test_running_headers_and_footers_go_the_pages_own_text_stays():
    def page(number: int, body: str) -> list[Block]:
        return [
            block("Northwind Lumen — Expense policy", size=8, top=0.02),
            block(body),
            block(f"Page {number} of 3", size=8, top=0.96),
        ]

    found = sections([page(1, "First page."), page(2, "Second page."), page(3, "Third page.")])

    assert [(s.page, s.text) for s in found] == [
        (1, "First page."),
        (2, "Second page."),
        (3, "Third page."),
    ]


def test_a_margin_line_on_one_page_only_stays_but_a_lone_page_number_goes():
    found = sections(
        [
            [block("Draft for review", size=8, top=0.02), block("Text one.")],
            [block("Text two."), block("2", size=8, top=0.97)],
        ]
    )

    assert [s.text for s in found] == ["Draft for review\nText one.", "Text two."]


def test_a_heading_repeating_the_running_title_is_still_a_heading():
    # Chromium prints the page's title above every page; the page's own heading says the same.
    pages = [
        [
            block("Modifying package states", size=6, top=0.01),
            block("Modifying package states", size=14),
        ]
        + [block("Install marks a package.")],
        [block("Modifying package states", size=6, top=0.01), block("Hold keeps it.")],
    ]

    found = sections(pages)

    assert [(s.heading_path, s.text) for s in found] == [
        (("Modifying package states",), "Install marks a package."),
        (("Modifying package states",), "Hold keeps it."),
    ]


def test_lines_join_into_paragraphs_and_a_short_line_ending_a_sentence_ends_one():
    lines = (
        Line("Interns earn 2 paid vacation days per full month", BODY, False, 500.0),
        short("of internship."),
        Line("Unused days are paid out at the end of the", BODY, False, 500.0),
        short("internship"),
        short("contract."),
    )

    assert paragraphs(Block(lines=lines, x1=500.0, top=0.3, bottom=0.4)) == [
        "Interns earn 2 paid vacation days per full month of internship.",
        "Unused days are paid out at the end of the internship contract.",
    ]


def test_list_markers_start_items_and_code_is_one_line():
    items = block("The bundle includes:", "• a laptop,", "◦ a headset", "2. a badge")
    code = block("$ diff -u old new", "    > patch.diff", mono=True)

    assert paragraphs(items) == ["The bundle includes:", "- a laptop,", "- a headset", "2. a badge"]
    assert paragraphs(code) == ["$ diff -u old new > patch.diff"]


def test_ligatures_and_unmapped_glyphs_are_plain_letters():
    found = sections([[block("The ﬁle is ﬂagged(cid:3) for review.")]])

    assert found[0].text == "The file is flagged for review."


def test_a_printed_document_is_read_with_its_headings_and_without_its_footer(tmp_path):
    path = tmp_path / "policy.pdf"
    write_pdf(
        path,
        [
            [Heading("Vacation"), "Permanent staff get 28 days a year.", "", Heading("Interns")]
            + ["Interns earn 2 paid vacation days per full month of internship."],
            [Heading("Carry-over"), "Up to 5 days carry over to March."],
        ],
        footer="Vacation policy - page {page} of {pages}",
    )

    parsed = parse_file(path=path, original_name="vacation.pdf")

    assert [(s.page, s.heading_path, s.text) for s in parsed.sections] == [
        (1, ("Vacation",), "Permanent staff get 28 days a year."),
        (1, ("Interns",), "Interns earn 2 paid vacation days per full month of internship."),
        (2, ("Carry-over",), "Up to 5 days carry over to March."),
    ]


def test_a_title_that_only_names_the_source_file_gives_way_to_the_uploads_name(tmp_path):
    path = tmp_path / "export.pdf"
    write_pdf(path, [["Lock your screen."]], title="Microsoft Word - IT policy v3.docx")

    assert parse_file(path=path, original_name="it-security-policy.pdf").title == (
        "it security policy"
    )
