"""The model worker's HTTP face: OpenAI's /v1/models and /v1/chat/completions over one
llama-cpp-python model, and nothing else.

Why not llama-cpp-python's own server: it hands every token from a pool thread to the
event loop and waits for the loop (and a check of the client's connection) before it
computes the next one, so sending and generating take turns. Here one thread generates
the whole answer while the loop sends what is ready, several tokens a write when it falls
behind; the model never waits for the network. Measured by bench/worker_stream.py against
the library's server and against llama-cpp-python's in-process stream, same model, same
prompts, same run.

One answer at a time per worker (a llama.cpp context is not shared between threads): the
fair line in front of the backends (chatbot.model_queue) gives each local worker one
question at a time, and a second request here waits for the first. A client that goes
away stops its answer at the next token.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

log = logging.getLogger(__name__)

# What a request may set, with the bounds a malformed or hostile one is held to. The
# rest of OpenAI's fields (tools, logprobs, n...) are refused by name, not ignored.
_NUMBERS: dict[str, tuple[type, float, float]] = {
    "temperature": (float, 0.0, 2.0),
    "top_p": (float, 0.0, 1.0),
    "top_k": (int, 0, 100_000),
    "repeat_penalty": (float, 0.0, 10.0),
    "max_tokens": (int, 1, 1_000_000),
    "seed": (int, 0, 2**32 - 1),
}
_IGNORED = {"model", "stream", "stream_options", "user"}
_ROLES = {"system", "user", "assistant"}
_DONE = object()  # the generating thread's last word


class BadRequest(ValueError):
    """A request this server will not run, with the reason the client is told."""


def completion_arguments(body: Any) -> dict[str, Any]:
    """The keyword arguments for `Llama.create_chat_completion` that `body` asks for.

    Raises BadRequest naming what is wrong: an unknown field, a value out of range,
    messages that are not a list of {role, content} strings.
    """
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("messages must be a non-empty list")
    for message in messages:
        if (
            not isinstance(message, dict)
            or message.get("role") not in _ROLES
            or not isinstance(message.get("content"), str)
        ):
            raise BadRequest("each message needs a role (system, user, assistant) and text content")
    arguments: dict[str, Any] = {
        "messages": [{"role": m["role"], "content": m["content"]} for m in messages]
    }
    for name, value in body.items():
        if name in ("messages", *_IGNORED):
            continue
        if name == "stop":
            stops = [value] if isinstance(value, str) else value
            if not isinstance(stops, list) or not all(isinstance(s, str) and s for s in stops):
                raise BadRequest("stop must be a string or a list of strings")
            arguments["stop"] = stops
            continue
        if name not in _NUMBERS:
            raise BadRequest(f"unsupported field: {name}")
        kind, low, high = _NUMBERS[name]
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise BadRequest(f"{name} must be a number")
        if kind is int and value != int(value):
            raise BadRequest(f"{name} must be a whole number")
        if not low <= value <= high:
            raise BadRequest(f"{name} must be between {low:g} and {high:g}")
        arguments[name] = kind(value)
    return arguments


def _error(status: int, message: str, kind: str = "invalid_request_error") -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind}}, status_code=status)


class ModelServer:
    """One loaded model behind an OpenAI-compatible ASGI app (`.app`)."""

    def __init__(self, llama: Any, *, alias: str, api_key: str | None = None) -> None:
        self._llama = llama
        self._alias = alias
        self._api_key = api_key
        # One thread owns the model: requests queue for it in arrival order.
        self._generator = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model")
        self.app = Starlette(
            routes=[
                Route("/v1/models", self._models, methods=["GET"]),
                Route("/v1/chat/completions", self._chat, methods=["POST"]),
            ]
        )

    def _authorised(self, request: Request) -> bool:
        if not self._api_key:
            return True
        sent = request.headers.get("authorization", "")
        return hmac.compare_digest(sent.encode(), f"Bearer {self._api_key}".encode())

    async def _models(self, request: Request) -> Response:
        if not self._authorised(request):
            return _error(401, "a valid API key is required", "authentication_error")
        return JSONResponse(
            {
                "object": "list",
                "data": [{"id": self._alias, "object": "model", "owned_by": "docent"}],
            }
        )

    async def _chat(self, request: Request) -> Response:
        if not self._authorised(request):
            return _error(401, "a valid API key is required", "authentication_error")
        try:
            body = json.loads(await request.body())
        except ValueError:
            return _error(400, "the body is not JSON")
        try:
            arguments = completion_arguments(body)
        except BadRequest as exc:
            return _error(400, str(exc))
        request_id = request.headers.get("x-request-id", "")
        arguments["model"] = self._alias  # the name answers carry, not the file's path
        if not body.get("stream"):
            loop = asyncio.get_running_loop()
            result = await loop.run_in_executor(
                self._generator, lambda: self._llama.create_chat_completion(**arguments)
            )
            return JSONResponse(result)
        return StreamingResponse(
            self._events(arguments, request_id),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    async def _events(self, arguments: dict[str, Any], request_id: str) -> AsyncIterator[str]:
        """Server-sent events of the answer: what the generating thread has made so far,
        sent as soon as the outbox rings; `[DONE]` at the end."""
        outbox = Outbox(asyncio.get_running_loop())
        stop = threading.Event()
        started = time.perf_counter()
        # Not awaited: a cancelled stream may not wait, and `_generate` raises nothing.
        asyncio.get_running_loop().run_in_executor(
            self._generator, self._generate, arguments, outbox, stop
        )
        pieces = 0
        try:
            while True:
                out: list[str] = []
                for item in await outbox.take():
                    if item is _DONE:
                        yield "".join(out) + "data: [DONE]\n\n"
                        return
                    if isinstance(item, BaseException):
                        # The reason is logged here; the client gets only that it failed.
                        log.error("model worker: the answer failed: %r", item)
                        out.append(_event({"error": {"message": "the model failed"}}))
                        yield "".join(out) + "data: [DONE]\n\n"
                        return
                    pieces += 1
                    out.append(_event(item))
                yield "".join(out)
        finally:
            stop.set()  # the client left, or the answer ended: the thread stops at its next token
            log.info(
                "model worker: %d pieces in %d ms",
                pieces,
                (time.perf_counter() - started) * 1000,
                extra={"question_id": request_id or None, "ask_id": None},
            )

    def _generate(self, arguments: dict[str, Any], outbox: Outbox, stop: threading.Event) -> None:
        """In the model's thread: the whole answer, piece by piece, into the outbox."""
        if stop.is_set():  # its client left while it waited for the model
            outbox.put(_DONE)
            return
        try:
            stream: Iterator[dict[str, Any]] = self._llama.create_chat_completion(
                stream=True, **arguments
            )
            spoken = False
            try:
                for chunk in stream:
                    if stop.is_set():
                        break
                    # The first words go at once: the time to them is what a reader feels.
                    first_words = not spoken and _has_content(chunk)
                    spoken = spoken or first_words
                    outbox.put(chunk, urgent=first_words)
            finally:
                stream.close()  # type: ignore[attr-defined]  # a generator: ends llama's own
            outbox.put(_DONE)
        except Exception as exc:  # a model error ends this answer, never the worker
            outbox.put(exc)


class Outbox:
    """Pieces from the generating thread to the event loop, ringing the loop at most once
    per FLUSH_SECONDS while the answer flows.

    Waking the loop costs a system call on each side and a turn of the loop, and each send
    another; on two cores that time comes out of the model's own threads. The first words
    and the end ring at once, so neither waits; pieces in between wait at most
    FLUSH_SECONDS, less than a reader can see.
    """

    FLUSH_SECONDS = 0.03

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._lock = threading.Lock()
        self._pending: list[Any] = []
        self._rung = asyncio.Event()
        self._last_ring = 0.0

    def put(self, item: Any, *, urgent: bool = False) -> None:
        """From the generating thread; `urgent` rings at once."""
        with self._lock:
            self._pending.append(item)
        now = time.monotonic()
        final = item is _DONE or isinstance(item, BaseException)
        if urgent or final or now - self._last_ring >= self.FLUSH_SECONDS:
            self._last_ring = now
            self._loop.call_soon_threadsafe(self._rung.set)

    async def take(self) -> list[Any]:
        """On the loop: every piece put since the last take, once the outbox rang."""
        await self._rung.wait()
        self._rung.clear()
        with self._lock:
            items, self._pending = self._pending, []
        return items


def _has_content(chunk: dict[str, Any]) -> bool:
    choices = chunk.get("choices") or [{}]
    return bool((choices[0].get("delta") or {}).get("content"))


def _event(chunk: dict[str, Any]) -> str:
    return f"data: {json.dumps(chunk, separators=(',', ':'))}\n\n"
