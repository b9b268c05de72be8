"""The websocket protocol's message shapes, one union per direction (docs/protocol.md).

Every message the server sends is built from these models, and the tests
validate every message they receive against ServerMessage, strictly.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

PROTOCOL_VERSION = 1
MAX_QUESTION_CHARS = 2000
MAX_COMMENT_CHARS = 2000
# A frame longer than this is refused before it is parsed: no message needs more.
MAX_FRAME_CHARS = 4 * MAX_QUESTION_CHARS + 1024


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


# --- client -> server -------------------------------------------------------------------------


class Ask(_Message):
    type: Literal["ask"]
    id: str = Field(min_length=1, max_length=64)
    text: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    conversation: int | None = None
    # Regenerate: answer anew instead of from the answer cache (the new answer is kept).
    fresh: bool = False


class Cancel(_Message):
    type: Literal["cancel"]
    id: str = Field(min_length=1, max_length=64)


class Ping(_Message):
    """Keep-alive and liveness check: answered by a `pong` with the same id."""

    type: Literal["ping"]
    id: str | None = Field(default=None, max_length=64)


class Feedback(_Message):
    """A 👍 or 👎 on an answer (`done.message`), with an optional comment."""

    type: Literal["feedback"]
    message: int
    rating: Literal["up", "down"]
    comment: str = Field(default="", max_length=MAX_COMMENT_CHARS)


ClientMessage = Annotated[Ask | Cancel | Ping | Feedback, Field(discriminator="type")]
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
    protocol: int = PROTOCOL_VERSION
    user: str


class Pong(_Message):
    type: Literal["pong"] = "pong"
    id: str | None = None


class FeedbackSaved(_Message):
    type: Literal["feedback_saved"] = "feedback_saved"
    message: int


class Usage(_Message):
    """Tokens of the model's part of an answer; `prompt_tokens` is null when the model
    server does not report it. Absent (null) when the model was not asked."""

    prompt_tokens: int | None
    answer_tokens: int


class Started(_Message):
    """The question is saved in `conversation`; its tokens follow."""

    type: Literal["started"] = "started"
    id: str
    conversation: int


class Queued(_Message):
    """The question waits for the model; `position` 1 is answered next. Sent on each change."""

    type: Literal["queued"] = "queued"
    id: str
    position: int


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
    # How the answer ended: answered, evidence (the model's line failed the check),
    # model_failed (evidence alone: the model was down), abstained or cached.
    outcome: str | None = None
    # The saved answer, for `feedback`; null when nothing was saved (no conversation).
    message: int | None = None
    usage: Usage | None = None


ErrorCode = Literal[
    "bad_request",
    "unauthorized",
    "busy",
    "rate_limited",
    "too_many_sockets",
    "model_unavailable",
    "unavailable",
    "internal",
    "cancelled",
]


class Error(_Message):
    type: Literal["error"] = "error"
    id: str | None
    code: ErrorCode
    message: str


ServerMessage = Annotated[
    Hello | Pong | Started | Queued | Token | Done | FeedbackSaved | Error,
    Field(discriminator="type"),
]
server_message = TypeAdapter(ServerMessage)


def json_schema() -> dict[str, Any]:
    """Both directions as one JSON Schema document (docs/protocol.schema.json).

    Every message shape is a definition of its own; `ClientMessage` and `ServerMessage`
    are the unions a frame must match, by direction.
    """
    definitions: dict[str, Any] = {}
    unions = {}
    for name, adapter in (("ClientMessage", client_message), ("ServerMessage", server_message)):
        schema = adapter.json_schema(ref_template="#/$defs/{model}")
        definitions.update(schema.pop("$defs", {}))
        unions[name] = schema
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"Docent chat websocket protocol, version {PROTOCOL_VERSION}",
        "description": "One JSON text frame per message; see docs/protocol.md.",
        "$defs": {**unions, **dict(sorted(definitions.items()))},
    }
