"""Many people asking at once: throughput and waits against one person asking alone.

N clients (each its own user, so the fair line treats them as N people) open a socket on
the real ASGI application (the chat consumer, the model line, the model workers of this
var directory) and ask different uncached questions at the same moment, R each. The
baseline, in the same run: one client asking questions one after another. Printed:

- questions per minute (answered questions / wall time);
- first words: from `ask` to the first `token` (the quoted evidence), p50/p95;
- model line: from `ask` to the model's first token (the second `token`), p50/p95, over
  the answers whose model line was kept (the others end with the evidence alone);
- done: from `ask` to `done`, p50/p95;
- the ratios of the concurrent figures to the baseline's.

With --model, also the bundled model alone in this process (llama-cpp-python, no server) at
1 and 2 threads: time to first token of a fixed 374-token prompt and tokens per second.

    LLM_WORKERS=1 .venv/bin/python bench/concurrent_asks.py --clients 4 --rounds 2 [--model]
    LLM_WORKERS=2 LLM_THREADS=2 .venv/bin/python bench/concurrent_asks.py --clients 4 --rounds 2

The model workers are those LLM_WORKERS/LLM_THREADS plan (started, or restarted with the new
split, by model_workers.ensure_llm_worker). Questions come from the sample set: ingest it first
(bench/retrieval_quality.py --only sample). Nothing passes or fails.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import secrets
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from _bootstrap import django_setup  # bench/ is on the path: the scripts run as files

# As the model worker runs (llm_worker): threads that spin while waiting collapse on shared cores.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

ROOT = django_setup()

from channels.testing import WebsocketCommunicator  # noqa: E402
from django.conf import settings  # noqa: E402

from accounts.services import token_create, user_ensure  # noqa: E402
from config import embedded, model_workers  # noqa: E402
from config.asgi import application  # noqa: E402

WAIT = 600  # seconds a socket waits for its next message before the bench gives up


@dataclass
class Asked:
    first_words: float
    model: float | None
    done: float
    outcome: str


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def connect(raw_token: str) -> WebsocketCommunicator:
    headers = [(b"authorization", f"Bearer {raw_token}".encode()), (b"host", b"127.0.0.1:8000")]
    communicator = WebsocketCommunicator(application, "/ws/chat/", headers=headers)
    connected, _ = await communicator.connect(timeout=60)
    assert connected, "a bench client could not connect"
    hello = await communicator.receive_json_from(timeout=60)
    assert hello["type"] == "hello", hello
    return communicator


async def ask(communicator: WebsocketCommunicator, ask_id: str, question: str) -> Asked:
    started = time.perf_counter()
    await communicator.send_json_to({"type": "ask", "id": ask_id, "text": question, "fresh": True})
    tokens: list[float] = []
    while True:
        message = await communicator.receive_json_from(timeout=WAIT)
        if message["type"] == "token":
            tokens.append(time.perf_counter() - started)
        elif message["type"] == "done":
            return Asked(
                first_words=tokens[0] if tokens else 0.0,
                model=tokens[1] if len(tokens) > 1 else None,
                done=time.perf_counter() - started,
                outcome=str(message.get("outcome")),
            )
        elif message["type"] == "error":
            return Asked(0.0, None, time.perf_counter() - started, f"error {message['code']}")


async def client(raw_token: str, questions: list[str], start: asyncio.Event) -> list[Asked]:
    communicator = await connect(raw_token)
    await start.wait()
    try:
        return [await ask(communicator, f"q{n}", q) for n, q in enumerate(questions)]
    finally:
        await communicator.disconnect()


async def run(tokens: list[str], batches: list[list[str]]) -> tuple[list[Asked], float]:
    """Every client connects, then all ask at once; the answers and the wall time."""
    start = asyncio.Event()
    tasks = [
        asyncio.ensure_future(client(token, batch, start))
        for token, batch in zip(tokens, batches, strict=True)
    ]
    await asyncio.sleep(1)  # let every socket open before the first question goes
    began = time.perf_counter()
    start.set()
    results = await asyncio.gather(*tasks)
    return [asked for answers in results for asked in answers], time.perf_counter() - began


def bench_users(count: int) -> list[str]:
    raws = []
    for n in range(count):
        user, _ = user_ensure(
            username=f"bench-concurrent-{n}",
            password=secrets.token_urlsafe(16),
            groups=[],
            is_superuser=True,
        )
        raws.append(token_create(user=user, name="concurrent-asks bench"))
    return raws


def summary(label: str, asked: list[Asked], wall: float) -> dict[str, float]:
    answered = [a for a in asked if not a.outcome.startswith("error")]
    models = [a.model for a in answered if a.model is not None]
    figures = {
        "per_minute": len(answered) / wall * 60,
        "first_p50": statistics.median(a.first_words for a in answered),
        "first_p95": percentile([a.first_words for a in answered], 0.95),
        "model_p50": statistics.median(models) if models else float("nan"),
        "model_p95": percentile(models, 0.95) if models else float("nan"),
        "done_p50": statistics.median(a.done for a in answered),
        "done_p95": percentile([a.done for a in answered], 0.95),
    }
    errors = sorted(a.outcome for a in asked if a.outcome.startswith("error"))
    print(
        f"{label:<22} {len(answered):>3}/{len(asked):<3} {figures['per_minute']:>8.1f} "
        f"{figures['first_p50']:>6.2f} {figures['first_p95']:>6.2f} "
        f"{figures['model_p50']:>6.2f} {figures['model_p95']:>6.2f} "
        f"{figures['done_p50']:>6.2f} {figures['done_p95']:>6.2f}"
        + (f"  ({', '.join(errors)})" if errors else "")
    )
    outcomes = collections.Counter(a.outcome for a in answered)
    print(f"{'':<22} outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    return figures


def model_alone(threads: int) -> tuple[float, float]:
    """The bundled model in this process: seconds to the first token of a 374-token prompt,
    and tokens per second of the 64 that follow."""
    import llama_cpp

    from chatbot.management.commands.llm_worker import bundled_model_path, fast_copy

    path = (
        Path(settings.LLM_MODEL_PATH)
        if settings.LLM_MODEL_PATH
        else fast_copy(bundled_model_path())
    )
    llama = llama_cpp.Llama(
        model_path=str(path),
        n_ctx=settings.LLM_CONTEXT_TOKENS,
        n_threads=threads,
        n_threads_batch=threads,
        flash_attn=True,
        verbose=False,
    )
    passage = (
        "The pressure valve in hall 3 is inspected every 14 days by the shift lead, who logs "
        "the reading and the time in the maintenance book before the next shift starts. "
    )
    prompt = passage * 10 + "\nQuestion: how often is the valve inspected?\nAnswer:"
    started = time.perf_counter()
    first = None
    count = 0
    for _ in llama.create_completion(prompt, max_tokens=65, temperature=0, stream=True):
        count += 1
        if first is None:
            first = time.perf_counter()
    ended = time.perf_counter()
    assert first is not None
    return first - started, (count - 1) / max(1e-9, ended - first)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=4, help="people asking at once")
    parser.add_argument("--rounds", type=int, default=2, help="questions each asks in a row")
    parser.add_argument(
        "--model", action="store_true", help="also the model alone, 1 and 2 threads"
    )
    args = parser.parse_args()
    qa = ROOT / "knowledge/sample/qa.jsonl"
    questions = [json.loads(line)["question"] for line in qa.open() if line.strip()]
    needed = args.clients + args.clients * args.rounds
    if len(questions) < needed:
        raise SystemExit(f"{qa.name} has {len(questions)} questions; this run needs {needed}")
    if args.model:
        print("model alone (llama-cpp-python in process, no server)")
        for threads in (1, 2):
            first, speed = model_alone(threads)
            print(f"  {threads} thread(s): first token {first:.2f} s, {speed:.1f} tokens/s")
    embedded.ensure_services(llm=True)
    settings.ANSWER_CACHE_ENABLED = False
    # The per-person limits would refuse the baseline's questions in a row: lifted, as they
    # are not what is measured (the clients are in this process, so its settings rule).
    settings.CHAT_ASKS_PER_MINUTE = 1_000_000
    urls = model_workers.llm_worker_urls() if not settings.LLM_BASE_URL else [settings.LLM_BASE_URL]
    print(
        f"{len(urls)} model backend(s) (threads {model_workers.llm_worker_plan()}, slots "
        f"{settings.LLM_SLOTS}), {args.clients} clients x {args.rounds} questions, cache off"
    )
    tokens = bench_users(args.clients)
    # Warm the web side (embedding model, database connections) on a question not measured.
    asyncio.run(run(tokens[:1], [[questions[-1]]]))
    alone = questions[: args.clients]
    rest = questions[args.clients : needed]
    batches = [rest[n :: args.clients] for n in range(args.clients)]
    print(
        f"{'':<22} {'answered':<7} {'q/min':>8} {'first words':>13} {'model line':>13} "
        f"{'done':>13}  (s, p50 p95)"
    )
    base = summary("one client, in a row", *asyncio.run(run(tokens[:1], [alone])))
    many = summary(f"{args.clients} clients at once", *asyncio.run(run(tokens, batches)))
    print(
        f"ratio (at once / alone): throughput {many['per_minute'] / base['per_minute']:.2f}, "
        f"first words p50 {many['first_p50'] / base['first_p50']:.2f}, "
        f"done p50 {many['done_p50'] / base['done_p50']:.2f}"
    )


if __name__ == "__main__":
    main()
