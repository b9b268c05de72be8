"""Open sockets follow their credentials, and one person cannot take the model for themselves.

Through the real ASGI app, the real Redis channel layer and the real limits in Redis.
"""

from __future__ import annotations

import time

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.models import Session

from accounts.models import ApiToken
from accounts.services import token_create
from chatbot import limits
from chatbot.consumers import CLOSE_TOO_MANY, CLOSE_UNAUTHORIZED
from chatbot.protocol import MAX_FRAME_CHARS
from config.asgi import application
from tests.support import ws

pytestmark = pytest.mark.django_db(transaction=True)


async def expect_signed_out(communicator: WebsocketCommunicator) -> None:
    error = await ws.receive(communicator, timeout=10)
    assert error["type"] == "error" and error["code"] == "unauthorized"
    closing = await communicator.receive_output(timeout=10)
    assert closing == {"type": "websocket.close", "code": CLOSE_UNAUTHORIZED}


async def browser_socket(client, user) -> WebsocketCommunicator:
    communicator = await ws.connect(await sync_to_async(ws.session_headers)(client, user))
    assert (await ws.receive(communicator))["type"] == "hello"
    return communicator


async def token_socket(user) -> tuple[WebsocketCommunicator, str]:
    raw = await sync_to_async(token_create)(user=user, name="bot")
    communicator = await ws.connect([(b"authorization", f"Bearer {raw}".encode())])
    assert (await ws.receive(communicator))["type"] == "hello"
    return communicator, raw


# --- credentials -------------------------------------------------------------------------------


async def test_signing_out_closes_the_open_chat_socket(client, dave) -> None:
    communicator = await browser_socket(client, dave)

    await sync_to_async(client.logout)()

    await expect_signed_out(communicator)


async def test_revoking_a_token_closes_its_socket(dave) -> None:
    communicator, _ = await token_socket(dave)

    await sync_to_async(ApiToken.objects.filter(user=dave).delete)()

    await expect_signed_out(communicator)


async def test_deactivating_an_account_closes_its_sockets(client, dave) -> None:
    by_session = await browser_socket(client, dave)
    by_token, _ = await token_socket(dave)

    dave.is_active = False
    await sync_to_async(dave.save)()

    await expect_signed_out(by_session)
    await expect_signed_out(by_token)


async def test_a_session_gone_without_a_word_is_caught_at_the_next_ask(client, dave) -> None:
    communicator = await browser_socket(client, dave)
    # Expired or cleared from the store: no signal is sent, the ask re-checks.
    await sync_to_async(Session.objects.all().delete)()

    await communicator.send_json_to({"type": "ask", "id": "q1", "text": "Where is the VPN?"})

    await expect_signed_out(communicator)


async def test_the_knowledge_feed_closes_when_staff_rights_are_taken(client, alice) -> None:
    headers = await sync_to_async(ws.session_headers)(client, alice)
    communicator = WebsocketCommunicator(application, "/ws/knowledge/", headers=headers)
    connected, _ = await communicator.connect(timeout=10)
    assert connected

    alice.is_staff = False
    alice.is_superuser = False
    await sync_to_async(alice.save)()

    closing = await communicator.receive_output(timeout=10)
    assert closing["type"] == "websocket.close" and closing["code"] == 4403


# --- limits ------------------------------------------------------------------------------------


async def test_sockets_past_the_per_person_limit_are_refused_until_one_closes(
    client, dave, settings
) -> None:
    settings.CHAT_SOCKETS_PER_USER = 2
    first = await browser_socket(client, dave)
    second, _ = await token_socket(dave)  # the limit counts every way in

    third = await ws.connect(await sync_to_async(ws.session_headers)(client, dave))
    error = await ws.receive(third, timeout=10)
    assert error["code"] == "too_many_sockets"
    assert await third.receive_output(timeout=10) == {
        "type": "websocket.close",
        "code": CLOSE_TOO_MANY,
    }

    await first.disconnect()
    again = await browser_socket(client, dave)
    await again.disconnect()
    await second.disconnect()


async def test_asks_past_the_per_minute_limit_get_rate_limited(client, dave, settings) -> None:
    settings.CHAT_ASKS_PER_MINUTE = 2
    communicator = await browser_socket(client, dave)

    # dave reads no collection: each answer is a quick "not found", no model involved.
    for n in (1, 2):
        _, done = await ws.ask(communicator, "Where is the VPN guide?", id=f"q{n}")
        assert done["type"] == "done"
    _, refused = await ws.ask(communicator, "Where is the VPN guide?", id="q3")

    assert refused == {
        "type": "error",
        "id": "q3",
        "code": "rate_limited",
        "message": refused["message"],
    }
    assert "2 questions a minute" in refused["message"]
    await communicator.disconnect()


def test_asks_in_flight_are_counted_across_all_of_a_persons_sockets(dave, settings) -> None:
    settings.CHAT_ASKS_IN_FLIGHT = 1
    first = limits.ask_admit(user_id=dave.pk)
    assert isinstance(first, limits.AskTicket)

    refused = limits.ask_admit(user_id=dave.pk)
    someone_else = limits.ask_admit(user_id=dave.pk + 1)

    assert isinstance(refused, limits.Refusal) and refused.code == "busy"
    assert isinstance(someone_else, limits.AskTicket)
    first.release()
    assert isinstance(limits.ask_admit(user_id=dave.pk), limits.AskTicket)


def test_a_refused_ask_takes_no_place_in_either_count(dave, settings) -> None:
    settings.CHAT_ASKS_IN_FLIGHT = 1
    settings.CHAT_ASKS_PER_MINUTE = 2
    first = limits.ask_admit(user_id=dave.pk)
    busy = limits.ask_admit(user_id=dave.pk)
    assert isinstance(first, limits.AskTicket)
    assert isinstance(busy, limits.Refusal) and busy.code == "busy"
    first.release()

    # The busy one did not count in the minute: this is the second, not the third.
    second = limits.ask_admit(user_id=dave.pk)
    assert isinstance(second, limits.AskTicket)
    second.release()
    limited = limits.ask_admit(user_id=dave.pk)
    assert isinstance(limited, limits.Refusal) and limited.code == "rate_limited"

    # Nor does the rate-limited one hold a place in flight, or in the minute.
    settings.CHAT_ASKS_PER_MINUTE = 3
    assert isinstance(limits.ask_admit(user_id=dave.pk), limits.AskTicket)


async def test_an_oversized_frame_is_refused_unparsed_and_the_socket_stays_open(
    client, dave
) -> None:
    communicator = await browser_socket(client, dave)

    await communicator.send_to(text_data='{"type": "ask", "id": "big", "text": "' + "x" * 10**6)
    error = await ws.receive(communicator, timeout=10)
    assert error["code"] == "bad_request" and str(MAX_FRAME_CHARS) in error["message"]

    await communicator.send_to(text_data="not json")
    assert (await ws.receive(communicator, timeout=10))["code"] == "bad_request"
    await communicator.disconnect()


def test_sockets_a_dead_web_process_left_counted_stop_counting_after_the_lapse(
    dave, settings, monkeypatch
) -> None:
    settings.CHAT_SOCKETS_PER_USER = 1
    assert limits.socket_open(user_id=dave.pk, socket_id="dead-process-socket") is None
    refused = limits.socket_open(user_id=dave.pk, socket_id="new-socket")
    assert refused is not None and refused.code == "too_many_sockets"

    # The dead process never renews its socket: once the lapse is over, it no longer counts.
    later = time.time() + limits.SOCKET_LAPSE_SECONDS + 1
    monkeypatch.setattr(limits.time, "time", lambda: later)
    assert limits.socket_open(user_id=dave.pk, socket_id="new-socket") is None
    # A socket that renews its place keeps it.
    limits.socket_renew(user_id=dave.pk, socket_id="new-socket")
    assert limits.socket_open(user_id=dave.pk, socket_id="third-socket") is not None
