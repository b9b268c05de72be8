"""A question answered end to end on real parts: Celery worker, PostgreSQL, model, websocket."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from knowledge.models import Chunk, Document
from tests.support import ws

pytestmark = pytest.mark.django_db(transaction=True)

POLICY = """# Vacation policy

## Employees
Full-time employees get 28 vacation days per year. Up to 5 unused days carry over.

## Contractors
Contractors do not receive paid vacation; they agree time off with their manager.
"""

DB = """# Database operations

## Connections
The primary PostgreSQL server is configured with max_connections = 400.
"""


def test_a_question_is_answered_from_a_document_ingested_by_the_worker(
    tmp_path, celery_worker, handbook, dave, client
):
    (tmp_path / "vacation.md").write_text(POLICY)
    (tmp_path / "database.md").write_text(DB)

    call_command("ingest", str(tmp_path), "--collection", "handbook", "--wait")

    assert set(Document.objects.values_list("status", flat=True)) == {"ready"}
    assert Chunk.objects.filter(document__original_name="vacation.md").exists()

    headers = ws.session_headers(client, dave)

    async def conversation() -> tuple[list[dict], dict]:
        communicator = await ws.connect(headers)
        hello = await ws.receive(communicator)
        assert hello == {"type": "hello", "protocol": 1, "user": "dave"}
        result = await ws.ask(communicator, "How many vacation days do full-time employees get?")
        await communicator.disconnect()
        return result

    import asyncio

    tokens, done = asyncio.run(conversation())

    assert done["type"] == "done", done
    assert tokens, "the answer must stream as token messages before done"
    # Nothing streamed is taken back: `done` carries exactly the streamed text, which opens
    # with the document's own words.
    assert "".join(t["text"] for t in tokens) == done["answer"]
    assert done["answer"].startswith("> Full-time employees get 28 vacation days per year.")
    assert {s["path"] for s in done["sources"]} == {"vacation.md"}
    assert {"embed", "retrieve", "first_token", "total"} <= set(done["timings"])
    assert done["conversation"] is not None
