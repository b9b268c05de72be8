"""WEBSOCKET_ALLOWED_ORIGINS: a browser socket from another scheme, host or port is refused."""

from __future__ import annotations

from typing import Any

import pytest
from channels.testing import WebsocketCommunicator

from config.origins import origins_from_hosts, websocket_origin_validator


async def accepting(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A websocket application that accepts every socket it is handed."""
    while (await receive())["type"] != "websocket.disconnect":
        await send({"type": "websocket.accept"})


def test_production_origins_are_the_hosts_over_https() -> None:
    assert origins_from_hosts(["docent.example.com", ".corp.example"], https=True, port=8000) == [
        "https://docent.example.com",
        "https://.corp.example",
    ]


def test_the_embedded_runs_origins_are_the_hosts_over_http_on_its_port() -> None:
    assert origins_from_hosts(["127.0.0.1", "localhost"], https=False, port=8000) == [
        "http://127.0.0.1:8000",
        "http://localhost:8000",
    ]


def test_the_default_allows_the_embedded_run(settings) -> None:
    assert "http://127.0.0.1:8000" in settings.WEBSOCKET_ALLOWED_ORIGINS


@pytest.fixture
def redis() -> None:
    """Channels refuses a socket through a consumer, which joins the channel layer."""
    from config import embedded

    embedded.ensure_services(redis=True)


async def opens(origin: bytes | None, allowed: list[str]) -> bool:
    headers = [(b"origin", origin)] if origin is not None else []
    application = websocket_origin_validator(accepting, allowed)
    communicator = WebsocketCommunicator(application, "/ws/chat/", headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    await communicator.disconnect()
    return bool(connected)


# Channels' consumers (its refusal too) tidy database connections: allow them.
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        (b"https://docent.example.com", True),
        (b"https://docent.example.com:443", True),  # the default port, written out
        (b"http://docent.example.com", False),  # a downgraded page
        (b"https://docent.example.com:8443", False),
        (b"https://evil.example", False),
        (b"https://docent.example.com.evil.example", False),
        (b"null", False),
        (None, False),
    ],
)
async def test_only_the_listed_origins_open_a_socket(
    redis, origin: bytes | None, allowed: bool
) -> None:
    assert await opens(origin, ["https://docent.example.com"]) is allowed
