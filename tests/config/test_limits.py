"""Request bodies over their path's limit are refused before they are read, before sign-in.

Driven through the real ASGI application (config.asgi.application), as Daphne
calls it: the test's `receive` hands out the body and records what was read.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest

from config.asgi import application


@dataclass
class Exchange:
    """One HTTP request played against the application: what it read and what it sent."""

    chunks: list[bytes]
    read: list[bytes] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)

    async def receive(self) -> dict[str, Any]:
        if self.chunks:
            chunk = self.chunks.pop(0)
            self.read.append(chunk)
            return {"type": "http.request", "body": chunk, "more_body": bool(self.chunks)}
        await asyncio.Event().wait()  # a client that stays connected and sends nothing more
        raise AssertionError("unreachable")

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int:
        return int(next(m["status"] for m in self.sent if m["type"] == "http.response.start"))


async def post(path: str, chunks: list[bytes], *, content_length: int | None) -> Exchange:
    headers = [
        (b"host", b"127.0.0.1:8000"),
        (b"content-type", b"application/x-www-form-urlencoded"),
    ]
    if content_length is not None:
        headers.append((b"content-length", str(content_length).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    exchange = Exchange(chunks=list(chunks))
    await asyncio.wait_for(application(scope, exchange.receive, exchange.send), timeout=120)
    return exchange


@pytest.fixture
def small_limits(settings, embedded_services) -> None:
    settings.REQUEST_MAX_BYTES = 1_000
    settings.UPLOAD_REQUEST_MAX_BYTES = 10_000


@pytest.mark.django_db(transaction=True)
async def test_an_oversized_content_length_on_the_sign_in_page_is_refused_unread(
    small_limits,
) -> None:
    exchange = await post("/accounts/login/", [b"x" * 100], content_length=10**9)

    assert exchange.status == 413
    assert exchange.read == []  # not one byte of the body was taken in


@pytest.mark.django_db(transaction=True)
async def test_a_small_sign_in_post_goes_through_to_django(small_limits) -> None:
    body = b"username=dave&password=nope"
    exchange = await post("/accounts/login/", [body], content_length=len(body))

    assert exchange.status == 403  # Django's CSRF check answered: the body was not refused
    assert exchange.read == [body]


@pytest.mark.django_db(transaction=True)
async def test_the_upload_endpoints_take_more_than_other_paths_but_not_unlimited(
    small_limits,
) -> None:
    within = await post("/api/documents/", [b"x" * 5_000], content_length=5_000)
    elsewhere = await post("/accounts/login/", [b"x" * 5_000], content_length=5_000)
    beyond = await post("/api/documents/", [b"x" * 100], content_length=10_001)

    assert within.status == 401  # read, then refused for want of a token
    assert elsewhere.status == 413 and elsewhere.read == []
    assert beyond.status == 413 and beyond.read == []


@pytest.mark.django_db(transaction=True)
async def test_a_chunked_body_without_length_is_counted_and_reading_stops_at_the_limit(
    small_limits,
) -> None:
    chunks = [b"x" * 100] * 1_000  # 100 KB sent in pieces, no Content-Length

    exchange = await post("/accounts/login/", chunks, content_length=None)

    assert exchange.status == 413
    assert len(exchange.read) == 11  # 1,000 bytes allowed: the eleventh piece went over
