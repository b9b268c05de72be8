"""A follow-up question is made stand-alone before retrieval."""

from __future__ import annotations

import pytest

from chatbot.followups import looks_like_follow_up, query_vector, standalone
from knowledge.search import chunk_search
from knowledge.selectors import reader_scope
from tests.support.corpus import ingest_text

POLICY = """# Vacation and leave

## Employees
Full-time employees get 28 vacation days per year. Up to 5 unused days carry over.

## Contractors
Contractors do not receive paid vacation; they agree time off with their manager.

## Interns
Interns get 2 vacation days per month of internship.
"""

HISTORY = [("user", "How many vacation days do employees get?"), ("assistant", "Employees get 28 days [1].")]


def test_short_or_referring_questions_are_follow_ups() -> None:
    assert looks_like_follow_up("and for contractors?")
    assert looks_like_follow_up("What about interns?")
    assert not looks_like_follow_up("How many vacation days do full-time employees get each year?")


def test_a_stand_alone_question_passes_through_unchanged() -> None:
    question = "How do I set up the VPN on a company laptop?"
    assert standalone(question=question, history=HISTORY).text == question


@pytest.mark.django_db
def test_a_follow_up_retrieves_the_passage_it_means(handbook, dave) -> None:
    ingest_text(handbook, "vacation.md", POLICY)
    rewrite = standalone(question="and for contractors?", history=HISTORY)
    assert "vacation days" in rewrite.text and "contractors" in rewrite.text
    hits = chunk_search(scope=reader_scope(dave), query=rewrite.text, vector=query_vector(rewrite), k=1)
    assert "Contractors do not receive paid vacation" in hits[0].text


def test_a_follow_up_naming_other_people_asks_about_them_instead() -> None:
    history = [("user", "How many vacation days do full-time employees get?"), ("assistant", "28 days.")]
    rewrite = standalone(question="and for interns?", history=history)
    assert rewrite.text == "How many vacation days do interns get?"
    assert rewrite.focus == "interns"


def test_a_follow_up_naming_another_place_replaces_the_earlier_one() -> None:
    rewrite = standalone(question="and in Canada?", history=[("user", "Daily meal allowance in Germany?")])
    assert rewrite.text == "Daily meal allowance in Canada?"
