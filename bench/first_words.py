"""Time to the first useful words over the websocket: the evidence, before the model's line.

Asks uncached questions (the answer cache is off) through the real ASGI application
as a bot (API token), and prints, in milliseconds:

- first words: from sending `ask` to the first `token` (the quoted evidence);
- model line: from sending `ask` to `done` (the evidence plus the model's checked line),
  the time a reader would wait for the first words if the model's text came first;
- search: one bare hybrid search of the same question, measured in the same run,
  as the floor any answer pays.

The ratios compare the first two with that floor. Nothing passes or fails.

    .venv/bin/python bench/first_words.py [QA.jsonl] [--questions N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import time
from pathlib import Path

from _bootstrap import django_setup  # bench/ is on the path: the scripts run as files

ROOT = django_setup()

from channels.testing import WebsocketCommunicator  # noqa: E402
from django.conf import settings  # noqa: E402

from accounts.readers import OPERATOR  # noqa: E402
from accounts.services import token_create, user_ensure  # noqa: E402
from config import embedded  # noqa: E402
from config.asgi import application  # noqa: E402
from knowledge.embeddings import embed_query  # noqa: E402
from knowledge.search import chunk_search  # noqa: E402
from knowledge.selectors import reader_scope  # noqa: E402


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def one(communicator: WebsocketCommunicator, n: int, question: str) -> tuple[float, float]:
    started = time.perf_counter()
    await communicator.send_json_to({"type": "ask", "id": f"q{n}", "text": question})
    first = None
    while True:
        message = await communicator.receive_json_from(timeout=300)
        if message["type"] == "token" and first is None:
            first = time.perf_counter() - started
        if message["type"] in ("done", "error"):
            return (first or 0.0) * 1000, (time.perf_counter() - started) * 1000


async def run(questions: list[str], raw_token: str) -> tuple[list[float], list[float]]:
    headers = [(b"authorization", f"Bearer {raw_token}".encode()), (b"host", b"127.0.0.1:8000")]
    communicator = WebsocketCommunicator(application, "/ws/chat/", headers=headers)
    connected, _ = await communicator.connect(timeout=30)
    assert connected, "the bench bot could not connect"
    await communicator.receive_json_from(timeout=30)  # hello
    firsts, totals = [], []
    for n, question in enumerate(questions):
        first, total = await one(communicator, n, question)
        firsts.append(first)
        totals.append(total)
    await communicator.disconnect()
    return firsts, totals


def search_once(question: str) -> float:
    started = time.perf_counter()
    chunk_search(scope=reader_scope(OPERATOR), query=question, vector=embed_query(question), k=12)
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("qa", nargs="?", type=Path, default=ROOT / "knowledge/sample/qa.jsonl")
    parser.add_argument("--questions", type=int, default=20)
    args = parser.parse_args()
    embedded.ensure_services(llm=True)
    settings.ANSWER_CACHE_ENABLED = False
    questions = [json.loads(line)["question"] for line in args.qa.open() if line.strip()]
    questions = questions[: args.questions]
    user, _ = user_ensure(username="bench-first-words", password=secrets.token_urlsafe(16), groups=[], is_superuser=True)
    raw = token_create(user=user, name="first-words bench")
    search_once(questions[0])  # warm the embedding model and the database connection
    floor = [search_once(q) for q in questions]
    firsts, totals = asyncio.run(run(questions, raw))
    base = statistics.median(floor)
    print(f"{len(questions)} uncached questions from {args.qa.name}, over the websocket as a bot")
    print(f"{'':<14} {'p50 ms':>8} {'p90 ms':>8} {'p50 / search':>13}")
    for name, values in (("search", floor), ("first words", firsts), ("model line", totals)):
        print(f"{name:<14} {statistics.median(values):>8.0f} {percentile(values, 0.9):>8.0f}"
              f" {statistics.median(values) / base:>13.1f}")


if __name__ == "__main__":
    main()
