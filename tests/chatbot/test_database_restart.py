"""PostgreSQL gone for a moment: a clear error, nothing half-written, and it recovers by itself.

The suite's own embedded PostgreSQL is stopped and started again.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection
from django.test import Client

from chatbot.models import Conversation, Message
from config import embedded
from tests.conftest import ROOT
from tests.support import ws
from tests.support.corpus import ingest_text

pytestmark = pytest.mark.django_db(transaction=True)

POLICY = """# Vacation and leave

## Interns
Interns earn 2 paid vacation days per full month of internship.
"""
QUESTION = "How many paid vacation days do interns earn?"


def start_postgres() -> None:
    """Started again as a fresh process would (the server object here remembers it stopped);
    this thread's connection died with the server: the next use reconnects."""
    subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); "
         "from config import embedded; embedded.ensure_postgres()"],
        cwd=ROOT, env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"},
        check=True, timeout=120,
    )
    connection.close()


def _messages() -> list[tuple[int, str]]:
    return list(Message.objects.values_list("conversation", "role"))


@pytest.fixture
def postgres_restartable() -> Iterator[None]:
    if settings.DATABASES["default"]["ENGINE"] != "config.embedded_postgres":
        pytest.skip("PostgreSQL is external here (DATABASE_URL): not ours to stop")
    yield
    start_postgres()  # whatever happened in the test


async def test_a_question_while_postgres_is_down_gets_a_clear_error_and_the_next_works(
    dave, handbook, postgres_restartable
) -> None:
    await sync_to_async(ingest_text)(handbook, "vacation.md", POLICY)
    communicator = await ws.connect(await sync_to_async(ws.session_headers)(Client(), dave))
    assert (await ws.receive(communicator))["type"] == "hello"

    assert await sync_to_async(embedded.stop_postgres)()
    _, refused = await ws.ask(communicator, QUESTION, id="q1", timeout=60)
    assert (refused["type"], refused["code"]) == ("error", "unavailable")

    await sync_to_async(start_postgres)()
    _, done = await ws.ask(communicator, QUESTION, id="q2", timeout=120)
    assert done["type"] == "done" and done["answer"].startswith("> Interns earn 2")
    await communicator.disconnect()

    # Nothing half-written: the one conversation holds the answered question and its answer.
    saved = await sync_to_async(_messages)()
    conversation = await sync_to_async(Conversation.objects.get)()
    assert saved == [(conversation.pk, "user"), (conversation.pk, "assistant")]
