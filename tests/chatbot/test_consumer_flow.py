"""The chat socket while an answer runs: cancel, busy, and what is streamed is what is kept.

Through the real ASGI application. An answer is held in flight without a fake:
the test takes the embedding model's lock, so the answer waits for the model
until the test lets go.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from chatbot.answering import StartedEvent, TokenEvent, answer_question
from chatbot.models import Message, Outcome
from knowledge import embeddings
from tests.support import ws
from tests.support.corpus import ingest_text

pytestmark = pytest.mark.django_db(transaction=True)

VACATION = """# Vacation and leave

## Annual vacation
Full-time permanent employees get 28 working days of paid vacation per calendar year.

## Interns
Interns earn 2 paid vacation days per full month of internship.
"""


@contextmanager
def embedding_model_busy() -> Iterator[None]:
    """The process's embedding model is taken (as by an ingest), so an answer waits in flight.

    The answer waits in a worker thread for the model's own lock, off the event loop and
    off the database thread, so the consumer keeps reading the socket meanwhile.
    """
    with embeddings._lock:
        yield


async def signed_in(client, user) -> WebsocketCommunicator:
    communicator = await ws.connect(await sync_to_async(ws.session_headers)(client, user))
    assert (await ws.receive(communicator))["type"] == "hello"
    return communicator


async def send_ask(communicator: WebsocketCommunicator, id: str, text: str) -> None:
    await communicator.send_json_to({"type": "ask", "id": id, "text": text})


async def test_cancelling_an_answer_in_flight_ends_it_and_the_socket_answers_the_next(
    client, dave
) -> None:
    communicator = await signed_in(client, dave)
    with embedding_model_busy():
        await send_ask(communicator, "q1", "What is the 2026 merit budget?")
        await communicator.send_json_to({"type": "cancel", "id": "q1"})
        cancelled = await ws.receive(communicator, timeout=30)
    assert cancelled["type"] == "error"
    assert (cancelled["id"], cancelled["code"]) == ("q1", "cancelled")

    tokens, done = await ws.ask(communicator, "What is the 2026 merit budget?", id="q2")
    assert done["type"] == "done" and done["id"] == "q2"
    assert all(t["id"] == "q2" for t in tokens)  # nothing of the cancelled answer leaks in
    await communicator.disconnect()


async def test_a_second_question_while_one_runs_is_busy_and_the_first_goes_on(client, dave) -> None:
    communicator = await signed_in(client, dave)
    with embedding_model_busy():
        await send_ask(communicator, "q1", "What is the 2026 merit budget?")
        await send_ask(communicator, "q2", "How many vacation days do I get?")
        busy = await ws.receive(communicator, timeout=30)
    assert busy["type"] == "error"
    assert (busy["id"], busy["code"]) == ("q2", "busy")

    # The first question was not disturbed: it ends with its own done.
    first = await ws.receive(communicator)
    while first["type"] == "token":
        assert first["id"] == "q1"
        first = await ws.receive(communicator)
    assert (first["type"], first["id"]) == ("done", "q1")
    await communicator.disconnect()


@pytest.mark.parametrize("when", ["before any question", "after the answer is done"])
async def test_cancelling_an_id_that_is_not_running_is_a_bad_request(client, dave, when) -> None:
    communicator = await signed_in(client, dave)
    if when == "after the answer is done":
        _, done = await ws.ask(communicator, "What is the 2026 merit budget?", id="q1")
        assert done["type"] == "done"
    await communicator.send_json_to({"type": "cancel", "id": "q1"})
    error = await ws.receive(communicator, timeout=30)
    assert (error["type"], error["id"], error["code"]) == ("error", "q1", "bad_request")
    assert "q1" in error["message"] and "cancel" in error["message"].lower()

    # Still open and still answering.
    _, done = await ws.ask(communicator, "What is the 2026 merit budget?", id="q2")
    assert (done["type"], done["id"]) == ("done", "q2")
    await communicator.disconnect()


async def test_an_answered_question_streams_exactly_its_final_answer(
    client, dave, handbook
) -> None:
    await sync_to_async(ingest_text)(handbook, "vacation.md", VACATION)
    communicator = await signed_in(client, dave)

    tokens, done = await ws.ask(communicator, "How many paid vacation days do interns earn?")

    assert done["type"] == "done" and done["sources"], done
    assert done["answer"].startswith("> Interns earn 2 paid vacation days")
    assert tokens and all(t["id"] == "q1" for t in tokens)
    # Nothing streamed is taken back or replaced: the tokens are the answer, character for character.
    assert "".join(t["text"] for t in tokens) == done["answer"]
    await communicator.disconnect()


async def test_a_cancelled_question_is_kept_in_its_conversation(client, dave) -> None:
    communicator = await signed_in(client, dave)
    with embedding_model_busy():
        await send_ask(communicator, "q1", "What is the 2026 merit budget?")
        await communicator.send_json_to({"type": "cancel", "id": "q1"})
        cancelled = await ws.receive(communicator, timeout=30)
    assert cancelled["code"] == "cancelled"
    await communicator.disconnect()

    # A reload shows what was asked: the conversation is not left empty. (The question is
    # written in a thread the cancel does not stop; wait for it rather than race it.)
    asked: list = []
    for _ in range(50):
        asked = await sync_to_async(_messages_of)(dave, "role", "text")
        if asked:
            break
        await asyncio.sleep(0.1)
    assert asked == [("user", "What is the 2026 merit budget?")]


async def test_an_answer_stopped_after_its_evidence_keeps_what_was_streamed(dave, handbook) -> None:
    await sync_to_async(ingest_text)(handbook, "vacation.md", VACATION)
    question = "How many paid vacation days do interns earn?"
    events = answer_question(user=dave, question=question)

    started = await anext(events)  # the question is saved
    assert isinstance(started, StartedEvent)
    evidence = await anext(events)  # the document's own words, before the model is asked
    await events.aclose()  # the reader stops, or the socket goes

    kept = await sync_to_async(_messages_of)(dave, "role", "text", "outcome")
    assert isinstance(evidence, TokenEvent)
    assert kept == [("user", question, ""), ("assistant", evidence.text, Outcome.CANCELLED)]
    assert evidence.text.startswith("> Interns earn 2 paid vacation days")


def _messages_of(user, *fields: str) -> list[tuple]:
    return list(Message.objects.filter(conversation__user=user).values_list(*fields))
