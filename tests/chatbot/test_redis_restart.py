"""Redis goes away and comes back while sockets are open: answers go on, then so does the cache.

The suite's own embedded Redis is stopped and started again; a failure here restarts it
before the next test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.test import Client

from chatbot import cache
from chatbot.consumers import CLOSE_RESTART
from config import embedded
from knowledge.embeddings import embed_query
from knowledge.selectors import reader_scope
from tests.support import ws
from tests.support.corpus import ingest_text

pytestmark = pytest.mark.django_db(transaction=True)

POLICY = """# Vacation and leave

## Interns
Interns earn 2 paid vacation days per full month of internship.
"""
QUESTION = "How many paid vacation days do interns earn?"


@pytest.fixture
def redis_restartable() -> Iterator[None]:
    if not settings.EMBEDDED_REDIS:
        pytest.skip("Redis is external here (REDIS_URL): not ours to stop")
    yield
    embedded.ensure_redis()


async def test_an_open_socket_keeps_answering_while_redis_restarts(
    dave, handbook, redis_restartable
) -> None:
    await sync_to_async(ingest_text)(handbook, "vacation.md", POLICY)
    communicator = await ws.connect(await sync_to_async(ws.session_headers)(Client(), dave))
    assert (await ws.receive(communicator))["type"] == "hello"

    assert embedded.stop_redis()
    # The socket listened on the channel layer: it is closed as a service restart, so the
    # client knows to connect again (chat.js and chatbot.client do), not left hanging.
    closed = await communicator.receive_output(timeout=30)
    assert closed == {"type": "websocket.close", "code": CLOSE_RESTART}

    embedded.ensure_redis()
    again = await ws.connect(await sync_to_async(ws.session_headers)(Client(), dave))
    assert (await ws.receive(again))["type"] == "hello"
    _, done = await ws.ask(again, QUESTION, id="q2")
    assert done["type"] == "done" and done["answer"].startswith("> Interns earn 2")
    await again.disconnect()
    # And the cache works again: an answer is kept and read back.
    key = cache.answer_key(question=QUESTION, scope=await sync_to_async(reader_scope)(dave))
    source = {"n": 1, "document": 1, "title": "vacation.md", "path": "", "heading": "",
              "page": None, "score": 0.9, "url": "/documents/1/"}
    kept = await sync_to_async(cache.answer_set)(
        key=key, vector=embed_query(QUESTION), answer="> Interns earn 2", sources=[source],
        timings={}, collections=["Employee handbook"],
    )
    assert kept is not None and await sync_to_async(cache.answer_get)(key=key) is not None
