"""Protocol version 1 for bots: hello's version, ping/pong, feedback, usage, the published schema.

Through the real ASGI app, the real model worker and the real answer cache.
"""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command

from chatbot import cache
from chatbot.models import Feedback, Message
from chatbot.protocol import PROTOCOL_VERSION, Source, json_schema
from knowledge.embeddings import embed_query
from tests.support import ws
from tests.support.corpus import ingest_text

pytestmark = pytest.mark.django_db(transaction=True)

VACATION = """# Vacation and leave

## Interns
Interns earn 2 paid vacation days per full month of internship.
"""


async def signed_in(client, user):
    communicator = await ws.connect(await sync_to_async(ws.session_headers)(client, user))
    hello = await ws.receive(communicator)
    assert hello == {"type": "hello", "protocol": PROTOCOL_VERSION, "user": user.username}
    return communicator


def test_the_published_schema_is_the_one_the_server_speaks(capsys) -> None:
    call_command("protocol_schema")
    printed = json.loads(capsys.readouterr().out)

    assert printed == json_schema()
    assert printed == json.loads(ws.SCHEMA.read_text()), (
        "docs/protocol.schema.json is stale: python manage.py protocol_schema > it"
    )


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "ask", "id": "q1", "text": "Hi?"},
        {"type": "cancel", "id": "q1"},
        {"type": "ping"},
        {"type": "feedback", "message": 3, "rating": "down", "comment": "wrong figure"},
    ],
)
def test_every_client_message_the_docs_show_is_valid_by_the_published_schema(frame) -> None:
    ws.published("ClientMessage").validate(frame)


def test_the_published_schema_refuses_what_the_server_refuses() -> None:
    validator = ws.published("ClientMessage")
    for frame in (
        {"type": "feedback", "message": 3, "rating": "meh"},
        {"type": "ask", "id": "q1", "text": "x" * 2001},
        {"type": "shout"},
    ):
        assert not validator.is_valid(frame), frame


async def test_ping_is_answered_with_a_pong_of_the_same_id(client, dave) -> None:
    communicator = await signed_in(client, dave)

    await communicator.send_json_to({"type": "ping", "id": "p-7"})

    assert await ws.receive(communicator, timeout=10) == {"type": "pong", "id": "p-7"}
    await communicator.disconnect()


async def test_done_names_the_saved_answer_and_its_usage(client, dave, handbook) -> None:
    await sync_to_async(ingest_text)(handbook, "vacation.md", VACATION)
    communicator = await signed_in(client, dave)

    _, done = await ws.ask(communicator, "How many paid vacation days do interns earn?")

    assert done["type"] == "done" and done["message"] is not None
    saved = await sync_to_async(Message.objects.get)(pk=done["message"])
    assert saved.text == done["answer"] and saved.outcome == done["outcome"]
    assert done["outcome"] in ("answered", "evidence")
    # Kept for the insight pages: what was searched, and the question's embedding.
    assert saved.searched == [handbook.pk] and saved.question_vector is not None
    # The model was asked (the evidence was found): it produced at least one token.
    assert done["usage"] is not None and done["usage"]["answer_tokens"] > 0
    await communicator.disconnect()


async def test_a_thumbs_down_on_a_cached_answer_stops_it_being_served(
    client, dave, handbook
) -> None:
    document = await sync_to_async(ingest_text)(handbook, "vacation.md", VACATION)
    question = "How many paid vacation days do interns earn?"
    source = Source(
        n=1,
        document=document.pk,
        title="vacation.md",
        path="vacation.md",
        heading="Interns",
        page=None,
        score=0.8,
        url=f"/documents/{document.pk}/",
    )
    key = cache.answer_key(question=question, scope=await sync_to_async(_scope)(dave))
    # A colleague with the same scope was answered before: the answer is in the cache.
    entry = await sync_to_async(cache.answer_set)(
        key=key,
        vector=embed_query(question),
        answer="> Interns earn 2 paid vacation days per full month of internship.",
        sources=[source.model_dump()],
        timings={},
        collections=["Employee handbook"],
    )
    assert entry is not None
    communicator = await signed_in(client, dave)
    _, done = await ws.ask(communicator, question)
    assert done["cached"] is True

    await communicator.send_json_to(
        {"type": "feedback", "message": done["message"], "rating": "down", "comment": "Too vague"}
    )
    assert await ws.receive(communicator, timeout=10) == {
        "type": "feedback_saved",
        "message": done["message"],
    }

    feedback = await sync_to_async(Feedback.objects.get)(message_id=done["message"])
    assert (feedback.rating, feedback.comment, feedback.user_id) == ("down", "Too vague", dave.pk)
    # Nobody is served the 👎 answer from the cache again.
    assert await sync_to_async(cache.answer_get)(key=key) is None
    _, again = await ws.ask(communicator, question, id="q2")
    assert again["cached"] is False
    await communicator.disconnect()


async def test_feedback_on_someone_elses_answer_is_refused(client, dave, bob, handbook) -> None:
    await sync_to_async(ingest_text)(handbook, "vacation.md", VACATION)
    theirs = await signed_in(client, bob)
    _, done = await ws.ask(theirs, "How many paid vacation days do interns earn?")
    await theirs.disconnect()

    mine = await signed_in(client, dave)
    await mine.send_json_to({"type": "feedback", "message": done["message"], "rating": "down"})

    error = await ws.receive(mine, timeout=10)
    assert (error["type"], error["code"]) == ("error", "bad_request")
    assert not await sync_to_async(Feedback.objects.exists)()
    await mine.disconnect()


def _scope(user):
    from knowledge.selectors import reader_scope

    return reader_scope(user)
