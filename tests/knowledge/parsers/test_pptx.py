"""PowerPoint decks: slide numbers as pages, titles as headings, tables and speaker notes."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pptx
import pytest
from pptx.util import Inches

from knowledge.parsers import pptx as pptx_parser
from knowledge.parsers.base import ParseContext, ParseError

PPTX_MIME = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
TITLE_AND_CONTENT, TITLE_ONLY, BLANK = 1, 5, 6


def deck(path: Path, core_title: str | None = None) -> Path:
    presentation = pptx.Presentation()
    if core_title:
        presentation.core_properties.title = core_title
    first = presentation.slides.add_slide(presentation.slide_layouts[TITLE_AND_CONTENT])
    first.shapes.title.text = "Quarterly review"
    first.placeholders[1].text = "Revenue is up\nCosts are flat"
    first.notes_slide.notes_text_frame.text = "Mention the new office."

    second = presentation.slides.add_slide(presentation.slide_layouts[TITLE_ONLY])
    second.shapes.title.text = "Sales by region"
    table = second.shapes.add_table(3, 2, Inches(1), Inches(2), Inches(6), Inches(2)).table
    for r, row in enumerate([["Region", "Sales"], ["North", "120"], ["South", "95"]]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value

    third = presentation.slides.add_slide(presentation.slide_layouts[BLANK])
    group = third.shapes.add_group_shape()
    box = group.shapes.add_textbox(Inches(1), Inches(1), Inches(3), Inches(1))
    box.text_frame.text = "Text inside a group"

    divider = presentation.slides.add_slide(presentation.slide_layouts[TITLE_ONLY])
    divider.shapes.title.text = "Appendix"
    presentation.save(str(path))
    return path


def test_each_slide_is_numbered_like_a_page_under_its_title(tmp_path, read):
    sections = read(deck(tmp_path / "review.pptx")).sections

    assert [(s.page, s.heading_path) for s in sections] == [
        (1, ("Quarterly review",)),
        (2, ("Sales by region",)),
        (3, ()),
        (4, ("Appendix",)),
    ]


def test_speaker_notes_follow_the_slide_text(tmp_path, read):
    first = read(deck(tmp_path / "review.pptx")).sections[0]

    assert first.text == "Revenue is up\nCosts are flat\nNotes: Mention the new office."


def test_a_table_on_a_slide_keeps_its_header_row(tmp_path, read):
    table = read(deck(tmp_path / "review.pptx")).sections[1]

    assert table.table_header == "| Region | Sales |\n| --- | --- |"
    assert table.text == "| North | 120 |\n| South | 95 |"


def test_text_inside_grouped_shapes_is_read(tmp_path, read):
    assert read(deck(tmp_path / "review.pptx")).sections[2].text == "Text inside a group"


def test_a_slide_with_only_a_title_is_kept(tmp_path, read):
    assert read(deck(tmp_path / "review.pptx")).sections[3].text == "Appendix"


def test_the_title_comes_from_the_properties_then_the_first_slide(tmp_path, read):
    assert read(deck(tmp_path / "a.pptx")).title == "Quarterly review"
    assert read(deck(tmp_path / "b.pptx", core_title="Board deck Q3")).title == "Board deck Q3"


def test_a_damaged_presentation_fails_readably(tmp_path):
    path = tmp_path / "broken.pptx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("ppt/presentation.xml", b"<p:presentation")

    with pytest.raises(ParseError, match="The PowerPoint presentation is damaged"):
        pptx_parser.parse(ParseContext(path=path, mime=PPTX_MIME, original_name="broken.pptx"))
