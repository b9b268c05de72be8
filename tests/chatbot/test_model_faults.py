"""A model worker that dies mid-answer: the reader is not left hanging and keeps the evidence.

A second, real model worker process (the same `llm_worker` command `up` runs) on a
port of its own, so killing it leaves the suite's worker alone.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from asgiref.sync import sync_to_async

from chatbot.models import Message, Outcome
from tests.support import ws
from tests.support.corpus import ingest_text

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
VACATION = """# Vacation and leave

## Interns
Interns earn 2 paid vacation days per full month of internship.
"""
QUESTION = "How many paid vacation days do interns earn?"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_model_worker(port: int) -> subprocess.Popen:
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "llm_worker", "--port", str(port), "--threads", "1"],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        assert worker.poll() is None, "the model worker exited while starting"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2).status_code == 200:
                return worker
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    worker.kill()
    raise AssertionError("the model worker did not start")


@pytest.fixture
def own_model_worker(settings) -> Iterator[tuple[subprocess.Popen, int]]:
    port = free_port()
    worker = start_model_worker(port)
    settings.LLM_BASE_URL = f"http://127.0.0.1:{port}/v1"
    yield worker, port
    if worker.poll() is None:
        worker.kill()
        worker.wait()


async def test_a_model_worker_killed_mid_answer_leaves_the_evidence_and_the_next_question_works(
    client, dave, handbook, settings, own_model_worker
) -> None:
    worker, port = own_model_worker
    await sync_to_async(ingest_text)(handbook, "vacation.md", VACATION)
    communicator = await ws.connect(await sync_to_async(ws.session_headers)(client, dave))
    assert (await ws.receive(communicator))["type"] == "hello"

    # Frozen, the worker takes the request (the kernel accepts it) and never answers:
    # the answer is held at the model, after the evidence went out.
    worker.send_signal(signal.SIGSTOP)
    await communicator.send_json_to({"type": "ask", "id": "q1", "text": QUESTION})
    started = await ws.receive(communicator, timeout=120, started=True)
    assert started["type"] == "started"  # the question is saved in its conversation
    evidence = await ws.receive(communicator, timeout=120)
    assert evidence["type"] == "token" and evidence["text"].startswith("> Interns earn 2")

    worker.kill()  # kill -9 while it holds the request
    worker.wait()
    # A hang guard, not a speed check: without the fix the reader waits LLM_TIMEOUT (300 s).
    done = await ws.receive(communicator, timeout=60)
    while done["type"] == "token":
        done = await ws.receive(communicator, timeout=60)

    assert done["type"] == "done" and done["outcome"] == "model_failed"
    assert done["answer"] == evidence["text"]  # what was streamed stands, nothing more
    saved = await sync_to_async(Message.objects.get)(pk=done["message"])
    assert (saved.text, saved.outcome) == (done["answer"], Outcome.MODEL_FAILED)

    # Back on the same address, it is used again: the next answer has the model's part.
    restarted = start_model_worker(port)
    try:
        _, again = await ws.ask(communicator, QUESTION + " Please.", id="q2", timeout=120)
        assert again["type"] == "done" and again["outcome"] in ("answered", "evidence")
        assert again["usage"] is not None and again["usage"]["answer_tokens"] > 0
    finally:
        restarted.kill()
        restarted.wait()
    await communicator.disconnect()
