"""Streaming client for any OpenAI-compatible chat completions server.

Async all the way: a slow model never holds a thread or a database connection.
It only reads where the model is and starts nothing: the entry points start
the embedded model worker (docs/architecture.md).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
from django.conf import settings

from config import embedded

NO_WORKER = (
    "No model worker is running. Start Docent with `python manage.py up`, or set LLM_BASE_URL "
    "to a model server (`python manage.py llm_worker --port P`, or any OpenAI-compatible one)."
)


class ModelUnavailable(Exception):
    """The model worker could not be reached or failed mid-answer."""


def base_url() -> str:
    """LLM_BASE_URL, else the embedded model worker recorded in var/llm.json.

    Reads a file and checks a process id, nothing more: no request, no start.
    """
    if settings.LLM_BASE_URL:
        return str(settings.LLM_BASE_URL).rstrip("/")
    url = embedded.llm_worker_url()
    if url is None:
        raise ModelUnavailable(NO_WORKER)
    return url


async def stream_chat(
    messages: list[dict[str, str]], *, max_tokens: int | None = None, stop: list[str] | None = None
) -> AsyncIterator[str]:
    """Yield the answer's text as the model produces it."""
    url = base_url()
    payload = {
        "model": settings.LLM_MODEL_NAME,
        "messages": messages,
        "stream": True,
        "temperature": 0,
        "max_tokens": max_tokens or settings.LLM_MAX_ANSWER_TOKENS,
        # llama.cpp extensions; other servers ignore unknown fields.
        "repeat_penalty": 1.1,
    }
    if stop:
        payload["stop"] = stop
    headers = {"Authorization": f"Bearer {settings.LLM_API_KEY}"} if settings.LLM_API_KEY else {}
    timeout = httpx.Timeout(settings.LLM_TIMEOUT, connect=10)
    try:
        async with (
            httpx.AsyncClient(timeout=timeout) as client,
            client.stream(
                "POST", f"{url}/chat/completions", json=payload, headers=headers
            ) as response,
        ):
            if response.status_code != 200:
                body = (await response.aread()).decode(errors="replace")[:300]
                raise ModelUnavailable(f"The model worker answered {response.status_code}: {body}")
            async for line in response.aiter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                choice = json.loads(data)["choices"][0]
                text = (choice.get("delta") or {}).get("content")
                if text:
                    yield text
    except httpx.ConnectError as exc:
        # A worker recorded as alive but not listening is still loading its model.
        raise ModelUnavailable(
            f"The model worker at {url} is not answering (is it still starting?): {exc}"
        ) from exc
    except httpx.HTTPError as exc:
        raise ModelUnavailable(f"The model worker failed: {exc}") from exc
