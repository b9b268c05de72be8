"""Attacks on the sockets, each refused with its code (issue 9, proof).

Already proven elsewhere, not repeated here:
- a foreign Origin on the chat socket: tests/chatbot/test_consumer.py::
  test_a_browser_socket_from_another_site_is_refused, and the allow-list itself (schemes,
  ports, `null`, none) in tests/config/test_origins.py::test_only_the_listed_origins_open_a_socket;
- no session: tests/chatbot/test_consumer.py::
  test_a_socket_without_a_session_is_told_to_sign_in_and_closed (error unauthorized, 4401);
- revoked, unknown, deactivated, non-bearer tokens: tests/accounts/test_tokens.py::
  test_a_revoked_token_is_refused_by_the_socket and its neighbours (unauthorized, 4401);
  expired ones: tests/accounts/test_tokens.py::test_an_expired_token_names_nobody;
- tokens revoked and sessions ended while a socket is open: tests/chatbot/test_socket_limits.py;
- another user's conversation id over the socket: tests/chatbot/test_consumer.py::
  test_nobody_can_continue_someone_elses_conversation (bad_request);
- oversized frames: tests/chatbot/test_socket_limits.py::
  test_an_oversized_frame_is_refused_unparsed_and_the_socket_stays_open (bad_request);
- malformed frames (not JSON, wrong types, unknown fields, binary): tests/chatbot/
  test_consumer.py::test_a_malformed_message_gets_an_error_and_the_socket_stays_open;
- floods past the limits: tests/chatbot/test_socket_limits.py.

Here: the same attacks where they were not yet tried (the Knowledge page's socket, the
chat page over HTTP, a query-string token) and malformed frames the schema alone does not
catch (nesting past the parser's depth, ids beyond the database's integers).
"""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from accounts.services import token_create
from chatbot.models import Conversation, Message
from config.asgi import application
from tests.support import ws

pytestmark = pytest.mark.django_db(transaction=True)

def with_origin(headers: list[tuple[bytes, bytes]], origin: bytes | None) -> list:
    others = [h for h in headers if h[0] != b"origin"]
    return others if origin is None else [(b"origin", origin), *others]


@pytest.mark.parametrize(
    "origin",
    [
        b"https://evil.example",
        b"http://127.0.0.1:8000.evil.example",  # a "port" that is no number
        b"null",
        None,
    ],
)
async def test_the_knowledge_feed_refuses_a_staff_session_from_another_site(
    client, alice, origin
) -> None:
    """A page elsewhere cannot ride a signed-in administrator's cookie onto the feed."""
    headers = await sync_to_async(ws.session_headers)(client, alice)
    communicator = WebsocketCommunicator(
        application, "/ws/knowledge/", headers=with_origin(headers, origin)
    )
    connected, _ = await communicator.connect(timeout=10)
    await communicator.disconnect()
    assert not connected


async def test_the_same_staff_session_from_our_own_page_is_let_in(client, alice) -> None:
    """The refusals above are about the Origin, not the session."""
    headers = await sync_to_async(ws.session_headers)(client, alice)
    communicator = WebsocketCommunicator(application, "/ws/knowledge/", headers=headers)
    connected, _ = await communicator.connect(timeout=10)
    await communicator.disconnect()
    assert connected


async def test_a_token_in_the_query_string_is_no_credential(dave) -> None:
    """Only the Authorization header carries a token (URLs end up in logs and histories)."""
    raw = await sync_to_async(token_create)(user=dave, name="bot")
    communicator = WebsocketCommunicator(
        application, f"/ws/chat/?token={raw}", headers=[ws.BROWSER_ORIGIN]
    )
    connected, _ = await communicator.connect(timeout=10)
    assert connected
    error = await ws.receive(communicator)
    assert error["type"] == "error" and error["code"] == "unauthorized"
    assert await communicator.receive_output(timeout=10) == {
        "type": "websocket.close",
        "code": 4401,
    }


@pytest.mark.parametrize(
    ("frame", "expected_id"),
    [
        # Nested past the JSON parser's depth, yet under the frame limit (MAX_FRAME_CHARS).
        ("[" * 4000 + "]" * 4000, None),
        ('{"type": "ask", "id": "deep", "text": ' + "[" * 3000 + "]" * 3000 + "}", None),
        # Conversation ids no database row can have.
        (
            '{"type": "ask", "id": "huge", "text": "hi", "conversation": 9223372036854775808}',
            "huge",
        ),
        ('{"type": "ask", "id": "neg", "text": "hi", "conversation": -1}', "neg"),
    ],
)
async def test_a_frame_the_schema_alone_does_not_catch_is_a_bad_request(
    client, dave, frame, expected_id
) -> None:
    communicator = await ws.connect(await sync_to_async(ws.session_headers)(client, dave))
    await ws.receive(communicator)  # hello

    await communicator.send_to(text_data=frame)
    error = await ws.receive(communicator, timeout=30)
    assert (error["type"], error["code"], error["id"]) == ("error", "bad_request", expected_id)

    # Still open and still answering: a cancel of nothing is its own bad_request.
    await communicator.send_json_to({"type": "cancel", "id": "after"})
    again = await ws.receive(communicator, timeout=10)
    assert (again["code"], again["id"]) == ("bad_request", "after")
    await communicator.disconnect()


def test_someone_elses_conversation_is_not_found_on_the_chat_page(client, bob, dave) -> None:
    theirs = Conversation.objects.create(user=bob, title="Bob's review")
    Message.objects.create(conversation=theirs, role="user", text="What is my salary band?")
    client.force_login(dave)

    page = client.get(f"/c/{theirs.pk}/")

    assert page.status_code == 404
    assert "salary band" not in page.content.decode()
