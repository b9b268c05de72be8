"""Time from `ask` to `done` over the websocket: a cache miss against hits of the same question.

Runs the real ASGI application (config.asgi) in-process with channels'
WebsocketCommunicator, on the embedded stack (PostgreSQL, Redis, the model
worker), with the sample corpus ingested into a database of its own
(DOCENT_DB_NAME, default docent_bench) so demo data is left alone. For each
question: forget any cached answer, ask once (a miss: retrieval and the model),
then ask the same question again --hits times. Prints p50/p95 of both and the
ratio. Figures only, never pass/fail.

    .venv/bin/python bench/cache_latency.py [--questions 4] [--hits 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time

from _bootstrap import django_setup  # bench/ is on the path: the scripts run as files

ROOT = django_setup(database="docent_bench")

from channels.testing import WebsocketCommunicator  # noqa: E402
from django.core.management import call_command  # noqa: E402

from accounts.services import token_create, user_ensure  # noqa: E402
from chatbot import cache, protocol  # noqa: E402
from chatbot.answer_cache import store  # noqa: E402
from chatbot.answer_cache.keys import retired_key  # noqa: E402
from config.asgi import application  # noqa: E402
from knowledge.demo import SAMPLE_DIR, sample_corpus_install  # noqa: E402
from knowledge.models import Document, DocumentStatus  # noqa: E402
from knowledge.pipeline import document_ingest  # noqa: E402
from knowledge.selectors import reader_scope  # noqa: E402


def prepare() -> str:
    """Migrate, ingest the sample corpus in-process, and return a token for a reader."""
    call_command("migrate", verbosity=0)
    sample_corpus_install(enqueue=False)
    pending = Document.objects.exclude(status=DocumentStatus.READY)
    for document in pending:
        print(f"ingesting {document.original_name}", file=sys.stderr)
        document_ingest(document_id=document.pk, version=document.version)
    user, _ = user_ensure(username="bench-reader", password=os.urandom(16).hex(), groups=[])
    # A bench is an entry point: it starts the model worker, now, so that its start-up is
    # not a miss's cost.
    from config import embedded

    embedded.ensure_services(llm=True)
    return token_create(user=user, name="cache latency bench")


def handbook_questions(n: int) -> list[str]:
    rows = [json.loads(line) for line in (SAMPLE_DIR / "qa.jsonl").read_text().splitlines()]
    return [row["question"] for row in rows if row["collection"] == "handbook"][:n]


def forget(question: str) -> None:
    """Drop the question's entry without retiring it: a retirement would keep the same
    answer from being cached again, and the hits measured here need it cached."""
    from accounts.models import User

    reader = User.objects.get(username="bench-reader")
    key = cache.answer_key(question=question, scope=reader_scope(reader))
    store.entry_delete(entry_id=key.entry_id, context=key.context, answer=None, ttl=1)
    store.client().delete(retired_key(key.entry_id))


async def ask(communicator: WebsocketCommunicator, text: str, n: int) -> tuple[float, dict]:
    started = time.perf_counter()
    await communicator.send_json_to({"type": "ask", "id": f"q{n}", "text": text})
    while True:
        message = await communicator.receive_json_from(timeout=600)
        protocol.server_message.validate_python(message, strict=True)
        if message["type"] in ("done", "error"):
            return (time.perf_counter() - started) * 1000, message


async def run(token: str, questions: list[str], hits: int) -> tuple[list[float], list[float]]:
    from asgiref.sync import sync_to_async

    communicator = WebsocketCommunicator(
        application, "/ws/chat/", headers=[(b"authorization", f"Bearer {token}".encode())]
    )
    connected, _ = await communicator.connect(timeout=30)
    assert connected
    await communicator.receive_json_from()  # hello
    misses: list[float] = []
    hit_times: list[float] = []
    n = 0
    for question in questions:
        await sync_to_async(forget)(question)
        n += 1
        elapsed, done = await ask(communicator, question, n)
        if done["type"] != "done" or done["cached"]:
            print(f"  skipped (not a fresh answer): {question!r}: {done}", file=sys.stderr)
            continue
        if not done["sources"]:
            print(f"  not grounded, so not cached: {question!r}", file=sys.stderr)
            continue
        these = []
        for _ in range(hits):
            n += 1
            again_elapsed, again = await ask(communicator, question, n)
            if again["type"] != "done" or not again["cached"]:
                break
            these.append(again_elapsed)
        if not these:
            # Answering keeps only checked answers that owe nothing to the conversation.
            print(f"  answered but not kept, so no hits: {question!r}", file=sys.stderr)
            continue
        misses.append(elapsed)
        hit_times += these
        print(
            f"  miss {misses[-1]:8.1f} ms   hits p50 {percentile(these, 50):6.1f} ms   "
            f"{question!r}",
            file=sys.stderr,
        )
    await communicator.disconnect()
    return misses, hit_times


def percentile(values: list[float], p: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=4)
    parser.add_argument("--hits", type=int, default=30)
    args = parser.parse_args()

    token = prepare()
    questions = handbook_questions(args.questions)
    misses, hits = asyncio.run(run(token, questions, args.hits))
    if not misses:
        print("no grounded answer, nothing was cached")
        return
    miss50, miss95 = percentile(misses, 50), percentile(misses, 95)
    hit50, hit95 = percentile(hits, 50), percentile(hits, 95)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"ask -> done over the websocket ({len(misses)} misses, {len(hits)} hits; load {load})")
    print(f"  miss  p50 {miss50:9.1f} ms   p95 {miss95:9.1f} ms")
    print(f"  hit   p50 {hit50:9.1f} ms   p95 {hit95:9.1f} ms")
    print(f"  ratio miss/hit  p50 {miss50 / hit50:7.0f}x   p95 {miss95 / hit95:7.0f}x")
    print("  (target: hit p95 under 50 ms on the embedded stack)")


if __name__ == "__main__":
    main()
