"""Streaming client for any OpenAI-compatible chat completions server.

Async all the way: a slow model never holds a thread or a database connection.
It only reads where the model is and starts nothing: the entry points start
the embedded model worker (docs/architecture.md).
"""

from __future__ import annotations

import asyncio
import json
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
from django.conf import settings

from config import logs, model_workers

NO_WORKER = (
    "No model worker is running. Start Docent with `python manage.py up`, or set LLM_BASE_URL "
    "to a model server (`python manage.py llm_worker --port P`, or any OpenAI-compatible one)."
)


class ModelUnavailable(Exception):
    """The model worker could not be reached or failed mid-answer."""


@dataclass
class Usage:
    """Tokens one model call took, filled in as it streams.

    `answer_tokens` counts streamed pieces (llama.cpp-based servers send one token per
    piece) unless the server reports usage itself (OpenAI's `stream_options`), which then
    wins, with `prompt_tokens`; servers that report nothing leave `prompt_tokens` None.
    """

    prompt_tokens: int | None = None
    answer_tokens: int = 0


def base_url() -> str:
    """LLM_BASE_URL, else the embedded model worker recorded in var/llm.json.

    Reads a file and checks a process id, nothing more: no request, no start.
    """
    if settings.LLM_BASE_URL:
        return str(settings.LLM_BASE_URL).rstrip("/")
    url = model_workers.llm_worker_url()
    if url is None:
        raise ModelUnavailable(NO_WORKER)
    return url


# One client per event loop, kept: its connections to the model servers stay open between
# questions, and making a client (an SSL context, a pool) costs more than a short answer's
# tokens (bench/model_overhead.py).
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
    weakref.WeakKeyDictionary()
)


def _client() -> httpx.AsyncClient:
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        timeout = httpx.Timeout(settings.LLM_TIMEOUT, connect=10)
        client = _clients[loop] = httpx.AsyncClient(timeout=timeout)
    return client


async def stream_chat(
    messages: list[dict[str, str]],
    *,
    max_tokens: int | None = None,
    stop: list[str] | None = None,
    usage: Usage | None = None,
    url: str | None = None,
) -> AsyncIterator[str]:
    """Yield the answer's text as the model produces it, counting into `usage` if given.

    `url`: the backend to ask (chatbot.model_queue hands one out); by default the configured one.
    """
    url = url or base_url()
    payload = {
        "model": settings.LLM_MODEL_NAME,
        "messages": messages,
        "stream": True,
        "temperature": settings.LLM_TEMPERATURE,
        "top_p": settings.LLM_TOP_P,
        "max_tokens": max_tokens or settings.LLM_MAX_ANSWER_TOKENS,
        # llama.cpp extensions (vLLM reads top_k too); other servers ignore unknown fields.
        "top_k": settings.LLM_TOP_K,
        "repeat_penalty": settings.LLM_REPEAT_PENALTY,
        "stream_options": {"include_usage": True},
    }
    if stop:
        payload["stop"] = stop
    headers = {"Authorization": f"Bearer {settings.LLM_API_KEY}"} if settings.LLM_API_KEY else {}
    headers.update(logs.request_headers())  # the question's id, to find it in the server's logs
    try:
        async with _client().stream(
            "POST", f"{url}/chat/completions", json=payload, headers=headers
        ) as response:
            if response.status_code != 200:
                # Not the body: a model server's error echoes the prompt (the reader's question,
                # passages of documents), and this message is logged.
                raise ModelUnavailable(
                    f"The model worker answered HTTP {response.status_code} "
                    f"{response.reason_phrase}".rstrip()
                )
            async for line in response.aiter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                chunk = json.loads(data)
                if chunk.get("error"):
                    # A server that fails mid-answer says so in the stream (llama.cpp, vLLM,
                    # Docent's worker): the answer so far is not the whole answer.
                    raise ModelUnavailable("The model worker failed mid-answer")
                reported = chunk.get("usage")
                if usage is not None and reported:
                    usage.prompt_tokens = reported.get("prompt_tokens")
                    usage.answer_tokens = reported.get("completion_tokens", usage.answer_tokens)
                if not chunk.get("choices"):
                    continue  # the usage-only chunk that ends an OpenAI stream
                text = (chunk["choices"][0].get("delta") or {}).get("content")
                if text:
                    if usage is not None and not reported:
                        usage.answer_tokens += 1
                    yield text
    except httpx.ConnectError as exc:
        # A worker recorded as alive but not listening is still loading its model.
        raise ModelUnavailable(
            f"The model worker at {url} is not answering (is it still starting?)"
        ) from exc
    except httpx.HTTPError as exc:
        # The kind of failure (ReadTimeout, RemoteProtocolError...), never a reply's text.
        raise ModelUnavailable(f"The model worker failed: {type(exc).__name__}") from exc
