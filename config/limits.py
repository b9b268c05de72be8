"""A ceiling on HTTP request bodies, applied before Django reads a byte of them.

Daphne takes in a whole body before it calls the application, and Django then
copies it (to memory, or a temporary file past FILE_UPLOAD_MAX_MEMORY_SIZE)
before any view, login check or size setting is consulted. Anyone could post a
gigabyte to the sign-in page. The reverse proxy in deploy/nginx.conf is the
real guard in production (it refuses before the body crosses the network);
this middleware is the application's own, for the embedded run and for a proxy
left misconfigured:

- a request whose Content-Length is over the limit of its path is answered 413
  without its body being read at all;
- a body sent without Content-Length (chunked) is counted as it arrives, and
  reading stops at the limit: Django is told the client went away, and the
  client gets 413.

The limit of the upload endpoints is UPLOAD_REQUEST_MAX_BYTES (several files of
up to UPLOAD_MAX_BYTES each); every other path gets REQUEST_MAX_BYTES.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from django.conf import settings
from django.urls import Resolver404, resolve

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
# What it wraps receives and sends mappings (Django's ASGIHandler), hence Any there.
App = Callable[[Scope, Any, Any], Awaitable[None]]

# The views that take files (knowledge.urls): the Knowledge page's drop zone and the REST API.
UPLOAD_URL_NAMES = frozenset({"knowledge_documents_add", "api_documents"})

TOO_LARGE = b"Request body too large.\n"


def body_limit_for(path: str) -> int:
    """How many body bytes a request to this path may carry."""
    try:
        name = resolve(path).url_name
    except Resolver404:
        name = None
    if name in UPLOAD_URL_NAMES:
        return int(settings.UPLOAD_REQUEST_MAX_BYTES)
    return int(settings.REQUEST_MAX_BYTES)


def declared_length(scope: Scope) -> int | None:
    """The Content-Length header as a number; None when absent. Malformed counts as absent:
    the server refuses those itself, and counting the body still bounds it."""
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def refuse(send: Send, limit: int) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(TOO_LARGE)).encode()),
                (b"connection", b"close"),
                (b"x-request-body-limit", str(limit).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": TOO_LARGE})


class RequestBodyLimit:
    """ASGI middleware for the HTTP side: 413 for a body over its path's limit (see above)."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit_for(scope["path"])
        declared = declared_length(scope)
        if declared is not None and declared > limit:
            await refuse(send, limit)
            return

        received = 0
        over = False
        started = False

        async def counted_receive() -> Message:
            nonlocal received, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Django reads a disconnect as "the client went away" and stops.
                    over = True
                    return {"type": "http.disconnect"}
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counted_receive, watched_send)
        if over and not started:
            await refuse(send, limit)
