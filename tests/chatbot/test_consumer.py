"""The chat socket's protocol edges: auth, Origin, malformed input. No model needed."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from accounts.services import token_create
from chatbot.models import Conversation
from config.asgi import application
from tests.support import ws

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_browser_socket_from_another_site_is_refused(client, dave) -> None:
    headers = await sync_to_async(ws.session_headers)(client, dave)
    hostile = [(b"origin", b"https://evil.example")] + [h for h in headers if h[0] != b"origin"]
    communicator = WebsocketCommunicator(application, "/ws/chat/", headers=hostile)
    connected, _ = await communicator.connect()
    assert not connected


async def test_a_socket_without_a_session_is_told_to_sign_in_and_closed() -> None:
    communicator = WebsocketCommunicator(application, "/ws/chat/", headers=[ws.BROWSER_ORIGIN])
    connected, _ = await communicator.connect()
    assert connected
    error = await ws.receive(communicator)
    assert error["type"] == "error" and error["code"] == "unauthorized"
    assert (await communicator.receive_output())["type"] == "websocket.close"


async def test_a_bot_with_a_token_needs_no_origin(dave) -> None:
    token = await sync_to_async(token_create)(user=dave, name="bot")
    communicator = await ws.connect([(b"authorization", f"Bearer {token}".encode())])
    assert await ws.receive(communicator) == {"type": "hello", "protocol": 1, "user": "dave"}
    await communicator.disconnect()


async def test_a_wrong_token_is_unauthorized_even_with_a_valid_session_cookie(client, dave) -> None:
    headers = await sync_to_async(ws.session_headers)(client, dave)
    communicator = await ws.connect(headers + [(b"authorization", b"Bearer dct_not-a-token")])
    error = await ws.receive(communicator)
    assert error["code"] == "unauthorized"


@pytest.mark.parametrize(
    ("frame", "expected_id"),
    [
        ("not json", None),
        ('{"type": "ask", "id": "a1"}', "a1"),
        ('{"type": "ask", "id": "a2", "text": ""}', "a2"),
        ('{"type": "ask", "id": "a3", "text": "' + "x" * 2001 + '"}', "a3"),
        ('{"type": "shout", "id": "a4", "text": "hi"}', "a4"),
        ('{"type": "ask", "id": "a5", "text": "hi", "extra": 1}', "a5"),
        ('{"type": "ask", "id": 7, "text": "hi"}', None),
        ("[1, 2, 3]", None),
    ],
)
async def test_a_malformed_message_gets_an_error_and_the_socket_stays_open(
    client, dave, frame, expected_id
) -> None:
    communicator = await ws.connect(await sync_to_async(ws.session_headers)(client, dave))
    await ws.receive(communicator)  # hello
    await communicator.send_to(text_data=frame)
    error = await ws.receive(communicator, timeout=10)
    assert (
        error["type"] == "error" and error["code"] == "bad_request" and error["id"] == expected_id
    )
    # Still open: a binary frame gets its own error.
    await communicator.send_to(bytes_data=b"\x00\x01")
    again = await ws.receive(communicator, timeout=10)
    assert again["code"] == "bad_request"
    await communicator.disconnect()


async def test_nobody_can_continue_someone_elses_conversation(client, dave, bob, settings) -> None:
    settings.CHAT_ASKS_IN_FLIGHT = 1  # a refused ask must give its place back
    theirs = await sync_to_async(Conversation.objects.create)(user=bob, title="bob's")
    communicator = await ws.connect(await sync_to_async(ws.session_headers)(client, dave))
    await ws.receive(communicator)
    for n in range(2):
        _, error = await ws.ask(
            communicator, "What did bob ask?", id=f"q{n}", conversation=theirs.pk
        )
        assert error["type"] == "error" and error["code"] == "bad_request", error
    await communicator.disconnect()
    assert not await sync_to_async(Conversation.objects.filter(user=dave).exists)()


async def test_with_nothing_readable_docent_abstains_without_asking_the_model(
    client, dave, hr
) -> None:
    communicator = await ws.connect(await sync_to_async(ws.session_headers)(client, dave))
    await ws.receive(communicator)
    tokens, done = await ws.ask(communicator, "What is the 2026 merit budget?")
    assert done["type"] == "done"
    assert done["sources"] == []
    assert "could not find" in done["answer"]
    assert (
        "HR confidential" not in done["answer"]
    )  # not even the name of a collection dave can't read
    assert "".join(t["text"] for t in tokens) == done["answer"]
    await communicator.disconnect()
