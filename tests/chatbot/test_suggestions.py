"""Suggested questions: promoted by knowledge managers once three people asked, offered only
to readers of exactly the scope they were answered for, and answered from the cache."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from accounts.services import user_ensure
from chatbot import cache
from chatbot.answering import DoneEvent, answer_question
from chatbot.models import FrequentQuestion
from chatbot.protocol import Source
from knowledge.embeddings import embed_query
from knowledge.selectors import reader_scope
from tests.support.corpus import ingest_text

pytestmark = pytest.mark.django_db(transaction=True)

POLICY = """# Vacation and leave

## Interns
Interns earn 2 paid vacation days per full month of internship.
"""
QUESTION = "How many paid vacation days do interns earn?"


def seed(user, document) -> str:
    """The answer as a colleague with `user`'s scope was given it, kept in the cache."""
    source = Source(n=1, document=document.pk, title="vacation.md", path="vacation.md",
                    heading="Interns", page=None, score=0.8, url=f"/documents/{document.pk}/")
    entry = cache.answer_set(
        key=cache.answer_key(question=QUESTION, scope=reader_scope(user)),
        vector=embed_query(QUESTION),
        answer="> Interns earn 2 paid vacation days per full month of internship.",
        sources=[source.model_dump()],
        timings={},
        collections=["Employee handbook"],
    )
    assert entry is not None
    return entry


async def asked_by(user) -> DoneEvent:
    done = None
    async for event in answer_question(user=user, question=QUESTION):
        if isinstance(event, DoneEvent):
            done = event
    assert done is not None and done.cached
    return done


async def people_counted(entry: str, expected: int) -> None:
    # Counted in a worker thread after the answer is out: wait for it, not race it.
    for _ in range(100):
        row = await sync_to_async(FrequentQuestion.objects.get)(entry_id=entry)
        if await sync_to_async(row.askers.count)() == expected:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never {expected} askers")


async def test_a_question_three_people_asked_can_be_suggested_to_its_readers_only(
    dave, alice, carol, handbook, hr
) -> None:
    document = await sync_to_async(ingest_text)(handbook, "vacation.md", POLICY)
    entry = await sync_to_async(seed)(dave, document)
    erin = (await sync_to_async(user_ensure)(username="erin", password="x" * 12, groups=[]))[0]
    manager = Client()
    await sync_to_async(manager.force_login)(alice)
    promote = f"/frequent/{entry}/promote/"

    await asked_by(dave)
    await asked_by(dave)  # the same person twice is one person
    await asked_by(erin)
    await people_counted(entry, 2)
    await sync_to_async(manager.post)(promote, {"promoted": "1"})
    assert (await sync_to_async(FrequentQuestion.objects.get)(entry_id=entry)).promoted_at is None

    frank = (await sync_to_async(user_ensure)(username="frank", password="x" * 12, groups=[]))[0]
    await asked_by(frank)
    await people_counted(entry, 3)
    await sync_to_async(manager.post)(promote, {"promoted": "1"})

    readers_page = Client()
    await sync_to_async(readers_page.force_login)(erin)
    page = (await sync_to_async(readers_page.get)("/")).content.decode()
    assert f'<button type="button" class="suggestion">{QUESTION}</button>' in page
    # carol also reads HR: another scope, whose cache could not answer it at once.
    other_page = Client()
    await sync_to_async(other_page.force_login)(carol)
    assert QUESTION not in (await sync_to_async(other_page.get)("/")).content.decode()
    # The staff page shows how many people asked, never who.
    staff_page = (await sync_to_async(manager.get)("/frequent/")).content.decode()
    assert "<td>3</td>" in staff_page and "frank" not in staff_page and "erin" not in staff_page
