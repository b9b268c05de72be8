"""The model worker's HTTP face (chatbot.model_server): OpenAI's streaming format over the
real bundled model, what it refuses, and what it does when a client leaves or the model fails.

The real model runs in a real `llm_worker` process; the failure cases serve a stand-in
model (a generator of chunks) over real HTTP on uvicorn, since a real model cannot be
made to fail on cue.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn

from chatbot.llm import ModelUnavailable, stream_chat
from chatbot.model_server import BadRequest, ModelServer, completion_arguments
from tests.chatbot.test_model_faults import free_port, start_model_worker

MESSAGES = [{"role": "user", "content": "Name three colours."}]


@pytest.fixture(scope="module")
def worker_url() -> Iterator[str]:
    port = free_port()
    worker = start_model_worker(port)
    yield f"http://127.0.0.1:{port}/v1"
    worker.terminate()
    worker.wait(timeout=30)


def test_a_stream_is_openai_chunks_ending_in_done_and_names_the_alias_not_the_file(
    worker_url: str, settings
) -> None:
    body = {"messages": MESSAGES, "stream": True, "max_tokens": 12, "temperature": 0}
    with httpx.stream("POST", f"{worker_url}/chat/completions", json=body, timeout=120) as reply:
        assert reply.headers["content-type"].startswith("text/event-stream")
        events = [line[5:].strip() for line in reply.iter_lines() if line.startswith("data:")]

    assert events[-1] == "[DONE]"
    chunks = [json.loads(event) for event in events[:-1]]
    assert all(chunk["object"] == "chat.completion.chunk" for chunk in chunks)
    assert {chunk["model"] for chunk in chunks} == {settings.LLM_MODEL_NAME}
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks).strip()


async def test_streamed_and_whole_answers_are_the_same_words(worker_url: str) -> None:
    streamed = "".join([piece async for piece in stream_chat(MESSAGES, max_tokens=12, url=worker_url)])
    whole = httpx.post(
        f"{worker_url}/chat/completions",
        json={"messages": MESSAGES, "max_tokens": 12, "temperature": 0, "top_k": 40,
              "repeat_penalty": 1.0, "top_p": 1},
        timeout=120,
    ).json()

    assert streamed == whole["choices"][0]["message"]["content"]
    assert whole["usage"]["completion_tokens"] > 0


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ([], "JSON object"),
        ({"messages": []}, "non-empty list"),
        ({"messages": [{"role": "wizard", "content": "hi"}]}, "role"),
        ({"messages": [{"role": "user", "content": ["hi"]}]}, "text content"),
        ({"messages": MESSAGES, "max_tokens": "many"}, "max_tokens must be a number"),
        ({"messages": MESSAGES, "max_tokens": 0}, "max_tokens must be between"),
        ({"messages": MESSAGES, "temperature": 7}, "temperature must be between"),
        ({"messages": MESSAGES, "top_k": 1.5}, "whole number"),
        ({"messages": MESSAGES, "stop": [""]}, "stop must be"),
        ({"messages": MESSAGES, "tools": []}, "unsupported field: tools"),
    ],
)
def test_a_request_it_would_not_run_is_refused_with_the_reason(body: Any, reason: str) -> None:
    with pytest.raises(BadRequest, match=reason):
        completion_arguments(body)


def test_a_sensible_request_becomes_the_models_arguments() -> None:
    arguments = completion_arguments(
        {"model": "x", "messages": MESSAGES, "stream": True, "max_tokens": 8, "top_k": 40.0,
         "stop": "\n\n", "stream_options": {"include_usage": True}}
    )

    assert arguments == {"messages": MESSAGES, "max_tokens": 8, "top_k": 40, "stop": ["\n\n"]}


class StandIn:
    """A model that says `pieces` tokens slowly, then fails if told to; records how many
    it made, and whether its stream was closed."""

    def __init__(self, *, pieces: int, fail: bool = False) -> None:
        self.pieces, self.fail = pieces, fail
        self.made = 0
        self.closed = threading.Event()

    def create_chat_completion(self, *, stream: bool = False, **_: Any) -> Iterator[dict]:
        assert stream
        try:
            for n in range(self.pieces):
                time.sleep(0.01)
                self.made += 1
                yield {"object": "chat.completion.chunk",
                       "choices": [{"index": 0, "delta": {"content": f"w{n} "}}]}
            if self.fail:
                raise RuntimeError("CUDA error: out of memory")
        finally:
            self.closed.set()


@pytest.fixture
def serve() -> Iterator[Any]:
    """Serve a ModelServer over a stand-in model on real HTTP; returns its /v1 URL."""
    servers: list[uvicorn.Server] = []

    def start(model: StandIn, api_key: str | None = None) -> str:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        app = ModelServer(model, alias="stand-in", api_key=api_key).app
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        threading.Thread(target=server.run, daemon=True).start()
        servers.append(server)
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "the stand-in server did not start"
            time.sleep(0.02)
        return f"http://127.0.0.1:{port}/v1"

    yield start
    for server in servers:
        server.should_exit = True


async def test_a_model_failing_mid_answer_fails_the_answer_not_ends_it_early(serve) -> None:
    url = serve(StandIn(pieces=3, fail=True))
    heard = []

    with pytest.raises(ModelUnavailable, match="mid-answer"):
        async for piece in stream_chat(MESSAGES, url=url):
            heard.append(piece)

    assert heard == ["w0 ", "w1 ", "w2 "]


def test_the_model_stops_soon_after_its_client_leaves(serve) -> None:
    model = StandIn(pieces=10_000)
    url = serve(model)

    with httpx.stream("POST", f"{url}/chat/completions",
                      json={"messages": MESSAGES, "stream": True}, timeout=10) as reply:
        for line in reply.iter_lines():
            if '"w5 "' in line:
                break

    assert model.closed.wait(5), "the model went on after its client left"
    assert model.made < 1_000


def test_with_a_key_nothing_is_served_without_it(serve) -> None:
    url = serve(StandIn(pieces=1), api_key="s3cret")

    assert httpx.get(f"{url}/models").status_code == 401
    assert httpx.get(f"{url}/models", headers={"Authorization": "Bearer wrong"}).status_code == 401
    listed = httpx.get(f"{url}/models", headers={"Authorization": "Bearer s3cret"})
    assert [model["id"] for model in listed.json()["data"]] == ["stand-in"]
