"""Several real model workers behind the fair line: the line is shown, a dead one is skipped.

Separately started `llm_worker` processes (Docent's OpenAI-compatible model worker,
standing in for llama-server or vLLM) on ports of their own, named in LLM_BASE_URL.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from chatbot.management.commands.llm_worker import bundled_model_path, fast_copy
from tests.chatbot.test_model_faults import VACATION, free_port, start_model_worker
from tests.support import ws
from tests.support.corpus import ingest_text

pytestmark = pytest.mark.django_db(transaction=True)

QUESTION = "How many paid vacation days do interns earn?"


@pytest.fixture
def two_workers(settings) -> Iterator[list]:
    ports = [free_port() for _ in range(2)]
    workers = [start_model_worker(port) for port in ports]
    settings.LLM_BASE_URL = ",".join(f"http://127.0.0.1:{port}/v1" for port in ports)
    yield workers
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGCONT)
            worker.kill()
            worker.wait()


@pytest.fixture
def one_worker(settings) -> Iterator:
    port = free_port()
    worker = start_model_worker(port)
    settings.LLM_BASE_URL = f"http://127.0.0.1:{port}/v1"
    yield worker
    worker.send_signal(signal.SIGCONT)
    worker.kill()
    worker.wait()


async def signed_in(user):
    communicator = await ws.connect(await sync_to_async(ws.session_headers)(Client(), user))
    assert (await ws.receive(communicator))["type"] == "hello"
    return communicator


async def test_a_backend_that_dies_holding_a_question_hands_it_to_the_other(
    dave, handbook, two_workers
) -> None:
    await sync_to_async(ingest_text)(handbook, "vacation.md", VACATION)
    first, _ = two_workers
    first.send_signal(signal.SIGSTOP)  # the first backend takes the question and hangs
    communicator = await signed_in(dave)
    await communicator.send_json_to({"type": "ask", "id": "q1", "text": QUESTION})
    evidence = await ws.receive(communicator)
    assert evidence["type"] == "token"

    first.kill()
    first.wait()
    done = await ws.receive(communicator, timeout=120)
    while done["type"] == "token":
        done = await ws.receive(communicator, timeout=120)

    # Asked again on the second backend: the model's part is there, nothing was lost.
    assert done["type"] == "done" and done["outcome"] in ("answered", "evidence")
    assert done["usage"] is not None and done["usage"]["answer_tokens"] > 0
    await communicator.disconnect()


async def test_waiting_questions_hear_their_place_and_a_newcomer_goes_first(
    dave, bob, handbook, one_worker
) -> None:
    await sync_to_async(ingest_text)(handbook, "vacation.md", VACATION)
    one_worker.send_signal(signal.SIGSTOP)  # the only slot is taken by dave's first question
    dave_1, dave_2, bob_1 = await signed_in(dave), await signed_in(dave), await signed_in(bob)

    await dave_1.send_json_to({"type": "ask", "id": "d1", "text": QUESTION})
    assert (await ws.receive(dave_1))["type"] == "token"  # evidence; now at the model
    await dave_2.send_json_to({"type": "ask", "id": "d2", "text": QUESTION + " Really?"})
    assert (await ws.receive(dave_2))["type"] == "token"
    assert await ws.receive(dave_2) == {"type": "queued", "id": "d2", "position": 1}

    await bob_1.send_json_to({"type": "ask", "id": "b1", "text": QUESTION + " Bob asks."})
    assert (await ws.receive(bob_1))["type"] == "token"
    # bob has not been served yet and dave has: bob goes first, dave's second moves back.
    assert await ws.receive(bob_1) == {"type": "queued", "id": "b1", "position": 1}
    assert await ws.receive(dave_2) == {"type": "queued", "id": "d2", "position": 2}

    one_worker.send_signal(signal.SIGCONT)
    for communicator in (dave_1, bob_1, dave_2):
        message = await ws.receive(communicator, timeout=120)
        while message["type"] in ("token", "queued"):
            message = await ws.receive(communicator, timeout=120)
        assert message["type"] == "done"
        await communicator.disconnect()


@pytest.fixture
def library_server(settings) -> Iterator:
    """llama-cpp-python's own OpenAI-compatible server, started apart from Docent: the
    stand-in here for an existing engine (llama-server, vLLM) behind LLM_BASE_URL."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(fast_copy(bundled_model_path())),
         "--port", str(port), "--n_threads", "1", "--model_alias", settings.LLM_MODEL_NAME],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 180
    while True:
        assert server.poll() is None and time.monotonic() < deadline, "llama_cpp.server did not start"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
    settings.LLM_BASE_URL = f"http://127.0.0.1:{port}/v1"
    yield server
    server.kill()
    server.wait()


async def test_an_existing_openai_compatible_server_answers_in_place_of_the_worker(
    dave, handbook, library_server
) -> None:
    await sync_to_async(ingest_text)(handbook, "vacation.md", VACATION)
    communicator = await signed_in(dave)
    await communicator.send_json_to({"type": "ask", "id": "q1", "text": QUESTION})

    tokens = []
    message = await ws.receive(communicator, timeout=120)
    while message["type"] in ("token", "queued"):
        tokens += [message["text"]] if message["type"] == "token" else []
        message = await ws.receive(communicator, timeout=120)

    assert message["type"] == "done" and message["outcome"] in ("answered", "evidence")
    assert message["usage"]["answer_tokens"] > 0  # the model was asked, on that server
    assert "".join(tokens) == message["answer"]
    await communicator.disconnect()
