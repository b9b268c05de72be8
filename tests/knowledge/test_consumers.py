"""The Knowledge page's socket, through the real ASGI application: staff only, typed messages."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from accounts.services import token_create
from config.asgi import application
from knowledge import events
from knowledge.lifecycle import document_delete
from knowledge.models import Document
from knowledge.pipeline import document_ingest
from knowledge.uploads import document_upload
from tests.support import files, ws

pytestmark = pytest.mark.django_db(transaction=True)

PATH = "/ws/knowledge/"


async def open_socket(headers: list[tuple[bytes, bytes]]) -> tuple[WebsocketCommunicator, Any]:
    communicator = WebsocketCommunicator(application, PATH, headers=headers)
    connected, code = await communicator.connect(timeout=10)
    return communicator, (connected, code)


async def receive(communicator: WebsocketCommunicator) -> dict[str, Any]:
    message = await communicator.receive_json_from(timeout=30)
    # Strict: every message the server sends must match the documented schema.
    events.server_message.validate_python(message, strict=True)
    return message


def upload(collection, path) -> Document:
    with path.open("rb") as content:
        return document_upload(
            collection=collection, content=content, original_name=path.name, enqueue=False
        ).document


def upload_and_ingest(collection, path) -> Document:
    document = upload(collection, path)
    document_ingest(document_id=document.pk, version=document.version)
    return Document.objects.get(pk=document.pk)


def test_staff_watch_a_document_move_through_every_stage_to_ready(
    tmp_path, client, alice, handbook
):
    headers = ws.session_headers(client, alice)
    path = files.write_markdown(tmp_path / "travel.md")

    async def watch() -> tuple[Document, list[dict[str, Any]]]:
        communicator, (connected, _) = await open_socket(headers)
        assert connected
        document = await sync_to_async(upload_and_ingest)(handbook, path)
        messages = [await receive(communicator)]
        while messages[-1]["status"] not in ("ready", "failed"):
            messages.append(await receive(communicator))
        await communicator.disconnect()
        return document, messages

    document, messages = asyncio.run(watch())

    stages = [m["status"] for m in messages]
    assert [s for i, s in enumerate(stages) if i == 0 or stages[i - 1] != s] == [
        "queued",
        "parsing",
        "chunking",
        "embedding",
        "ready",
    ]
    progress = [m["progress"] for m in messages]
    assert progress == sorted(set(progress)), f"progress must only go up: {progress}"
    assert (progress[0], progress[-1]) == (0, 100)
    assert {(m["document"], m["collection"], m["version"]) for m in messages} == {
        (document.pk, handbook.pk, 1)
    }
    assert messages[-1]["chunks"] == document.chunk_count > 0
    assert messages[-1]["title"] == "Travel policy"


def test_a_deleted_document_is_announced_so_pages_drop_its_row(tmp_path, client, alice, handbook):
    document = upload_and_ingest(handbook, files.write_markdown(tmp_path / "travel.md"))
    document_id = document.pk
    headers = ws.session_headers(client, alice)

    async def watch() -> dict[str, Any]:
        communicator, (connected, _) = await open_socket(headers)
        assert connected
        await sync_to_async(document_delete)(document=document)
        message = await receive(communicator)
        await communicator.disconnect()
        return message

    message = asyncio.run(watch())

    assert (message["document"], message["status"]) == (document_id, "deleted")


def test_people_who_are_not_staff_are_refused(client, dave, bob):
    by_session = ws.session_headers(client, dave)
    by_token = [(b"authorization", f"Bearer {token_create(user=bob, name='bot')}".encode())]
    anonymous = [ws.BROWSER_ORIGIN, (b"host", b"127.0.0.1:8000")]

    async def attempt(headers: list[tuple[bytes, bytes]]) -> Any:
        communicator, outcome = await open_socket(headers)
        await communicator.disconnect()
        return outcome

    for headers in (by_session, by_token, anonymous):
        assert asyncio.run(attempt(headers)) == (False, 4403)


def test_a_staff_token_may_follow_progress_too(tmp_path, alice, handbook):
    headers = [(b"authorization", f"Bearer {token_create(user=alice, name='ops')}".encode())]
    path = files.write_markdown(tmp_path / "travel.md")

    async def follow() -> tuple[Any, Document, dict[str, Any]]:
        communicator, outcome = await open_socket(headers)
        document = await sync_to_async(upload)(handbook, path)
        message = await receive(communicator)
        await communicator.disconnect()
        return outcome, document, message

    outcome, document, message = asyncio.run(follow())

    assert outcome == (True, None)
    assert (message["document"], message["name"], message["status"]) == (
        document.pk,
        "travel.md",
        "queued",
    )
