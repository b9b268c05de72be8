"""When nothing relevant is found, Docent says so (and where it looked) instead of inventing."""

from __future__ import annotations

import asyncio

import pytest

from chatbot.answering import DoneEvent, TokenEvent, answer_question, unknown_words
from knowledge.selectors import reader_scope
from tests.support.corpus import HANDBOOK_VACATION, HR_SALARY, ingest_text

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_off_topic_question_is_refused_from_the_scores_without_the_model(handbook, dave, settings) -> None:
    ingest_text(handbook, "vacation.md", HANDBOOK_VACATION)
    settings.LLM_BASE_URL = "http://127.0.0.1:9/v1"  # nothing listens: calling the model would fail

    async def run() -> list:
        return [e async for e in answer_question(user=dave, question="How do I bake sourdough bread?", save=False)]

    events = asyncio.run(run())
    done = events[-1]
    assert isinstance(done, DoneEvent)
    assert done.sources == [] and not done.cached
    assert "could not find" in done.answer and "Employee handbook" in done.answer
    assert "".join(e.text for e in events if isinstance(e, TokenEvent)) == done.answer


LEARNING = """# Learning and development

## Learning budget
Every employee has a learning budget for courses and books, paid on top of the salary.
"""


def test_a_question_only_another_group_can_answer_is_refused_not_answered_beside_the_point(
    handbook, hr, dave
) -> None:
    # The handbook shares words with the question ("budget", "salary"), not its answer.
    ingest_text(handbook, "learning.md", LEARNING)
    ingest_text(hr, "salary.md", HR_SALARY)

    async def run() -> list:
        question = "What is the 2026 merit budget for salary increases?"
        return [e async for e in answer_question(user=dave, question=question, save=False)]

    done = asyncio.run(run())[-1]
    assert isinstance(done, DoneEvent)
    assert "could not find" in done.answer
    assert done.sources == [] and "3.7" not in done.answer


def test_a_word_no_document_uses_counts_only_when_it_is_a_real_part_of_the_question(
    handbook, dave
) -> None:
    """The merit budget is all "What is the merit budget?" asks; "honestly" is an aside in a
    question the handbook answers, and must not send it to the refusal rule."""
    ingest_text(handbook, "vacation.md", HANDBOOK_VACATION)
    scope = reader_scope(dave)

    assert unknown_words(scope=scope, question="What is the merit budget?") == {"merit", "budget"}
    aside = "Honestly, how many unused vacation days carry over to March for full-time employees?"
    assert unknown_words(scope=scope, question=aside) == set()
