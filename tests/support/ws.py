"""Talk to the real ASGI application over a websocket, validating every server message."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from channels.testing import WebsocketCommunicator
from jsonschema import Draft202012Validator

from chatbot import protocol
from config.asgi import application

BROWSER_ORIGIN = (b"origin", b"http://127.0.0.1:8000")
SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "protocol.schema.json"


@cache
def published(direction: str) -> Draft202012Validator:
    """A validator for one direction of the published schema (docs/protocol.schema.json)."""
    schema = json.loads(SCHEMA.read_text())
    return Draft202012Validator({**schema, "$ref": f"#/$defs/{direction}"})


def session_headers(client, user) -> list[tuple[bytes, bytes]]:
    client.force_login(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    return [BROWSER_ORIGIN, (b"cookie", cookie), (b"host", b"127.0.0.1:8000")]


async def connect(headers: list[tuple[bytes, bytes]]) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, "/ws/chat/", headers=headers)
    connected, _ = await communicator.connect(timeout=10)
    assert connected
    return communicator


async def receive(
    communicator: WebsocketCommunicator, timeout: float = 120, *, started: bool = False
) -> dict[str, Any]:
    """The next message; a `started` (the question is saved) is skipped unless asked for."""
    while True:
        message = await communicator.receive_json_from(timeout=timeout)
        # Strict: every message the server sends must match the documented schema, both the
        # pydantic models and the JSON Schema published for bot authors.
        protocol.server_message.validate_python(message, strict=True)
        published("ServerMessage").validate(message)
        if message["type"] != "started" or started:
            return message


async def ask(
    communicator: WebsocketCommunicator,
    text: str,
    *,
    id: str = "q1",
    conversation: int | None = None,
    timeout: float = 300,
) -> tuple[list[dict], dict]:
    """Send a question; return (token messages, the final done or error message)."""
    await communicator.send_json_to(
        {"type": "ask", "id": id, "text": text, "conversation": conversation}
    )
    tokens: list[dict] = []
    while True:
        message = await receive(communicator, timeout=timeout)
        if message["type"] == "token":
            tokens.append(message)
        elif message["type"] in ("done", "error"):
            return tokens, message
