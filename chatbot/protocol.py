"""The websocket protocol's message shapes, one union per direction (docs/protocol.md).

Every message the server sends is built from these models, and the tests
validate every message they receive against ServerMessage, strictly.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

MAX_QUESTION_CHARS = 2000


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


# --- client -> server -------------------------------------------------------------------------


class Ask(_Message):
    type: Literal["ask"]
    id: str = Field(min_length=1, max_length=64)
    text: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    conversation: int | None = None


class Cancel(_Message):
    type: Literal["cancel"]
    id: str = Field(min_length=1, max_length=64)


ClientMessage = Annotated[Ask | Cancel, Field(discriminator="type")]
client_message = TypeAdapter(ClientMessage)


# --- server -> client -------------------------------------------------------------------------


class Source(_Message):
    n: int
    document: int
    title: str
    path: str
    heading: str
    page: int | None
    score: float
    url: str


class Hello(_Message):
    type: Literal["hello"] = "hello"
    user: str


class Token(_Message):
    type: Literal["token"] = "token"
    id: str
    text: str


class Done(_Message):
    type: Literal["done"] = "done"
    id: str
    answer: str
    sources: list[Source]
    cached: bool
    timings: dict[str, float]
    conversation: int | None
    standalone_question: str
    searched: list[str]
    # `answer` as sanitised HTML (knowledge.markup): safe to insert as markup; absent from older servers.
    html: str | None = None


ErrorCode = Literal[
    "bad_request", "unauthorized", "busy", "model_unavailable", "internal", "cancelled"
]


class Error(_Message):
    type: Literal["error"] = "error"
    id: str | None
    code: ErrorCode
    message: str


ServerMessage = Annotated[Hello | Token | Done | Error, Field(discriminator="type")]
server_message = TypeAdapter(ServerMessage)
