"""Many people at once, and one person on several sockets: each stream reaches only its asker.

Real sockets through the real ASGI app and Redis channel layer; the questions run at once.
"""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from tests.support import ws
from tests.support.corpus import ingest_text

pytestmark = pytest.mark.django_db(transaction=True)

POLICY = """# Vacation and leave

## Annual vacation
Full-time permanent employees get 28 working days of paid vacation per calendar year.

## Interns
Interns earn 2 paid vacation days per full month of internship.

## Parental leave
Parents get 16 weeks of paid parental leave.
"""
QUESTIONS = {
    "bob-1": ("bob", "How many vacation days do full-time employees get?", "28"),
    "carol-1": ("carol", "How many paid vacation days do interns earn?", "2 paid vacation days"),
    "dave-1": ("dave", "How long is paid parental leave?", "16 weeks"),
    "dave-2": ("dave", "How many paid vacation days do interns earn?", "2 paid vacation days"),
}


async def test_each_socket_gets_only_its_own_stream(bob, carol, dave, handbook) -> None:
    await sync_to_async(ingest_text)(handbook, "leave.md", POLICY)
    people = {"bob": bob, "carol": carol, "dave": dave}
    sockets = {}
    for ask_id, (name, _, _) in QUESTIONS.items():  # dave has two sockets, two sessions
        # A browser of their own each: one client signing in as another would end the session.
        sockets[ask_id] = await ws.connect(
            await sync_to_async(ws.session_headers)(Client(), people[name])
        )
        assert (await ws.receive(sockets[ask_id]))["type"] == "hello"

    async def ask(ask_id: str) -> tuple[list[dict], dict]:
        _, question, _ = QUESTIONS[ask_id]
        return await ws.ask(sockets[ask_id], question, id=ask_id)

    results = await asyncio.gather(*(ask(ask_id) for ask_id in QUESTIONS))

    for ask_id, (tokens, done) in zip(QUESTIONS, results, strict=True):
        _, _, expected = QUESTIONS[ask_id]
        assert done["type"] == "done" and done["id"] == ask_id
        # Only this socket's own answer arrived here, whole and in order.
        assert all(token["id"] == ask_id for token in tokens)
        assert "".join(token["text"] for token in tokens) == done["answer"]
        assert expected in done["answer"]
    # Nothing else is waiting on any socket.
    for communicator in sockets.values():
        assert await communicator.receive_nothing(timeout=0.5)
        await communicator.disconnect()
