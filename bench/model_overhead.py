"""What Docent adds around the model: its stages, and its model call against llama-cpp-python's own.

For each sample handbook question, in one run:

1. Docent: the question over the real socket app (in-process, token auth, cache
   forgotten first). Its `done.timings` split the way into stages, and the model's
   part (from the evidence being sent to the model's line checked) with its tokens;
2. raw: the very messages Docent sent the model (rebuilt the same way: retrieve,
   choose the evidence, the compact prompt), streamed by llama-cpp-python in this
   process with the same model file, threads and context: time to first token,
   whole time, tokens per second.

Prints p50/p95 of Docent's first words (the evidence) and of each stage, and the
ratio of Docent's model part to raw llama-cpp-python on the same prompt (time, and
tokens per second). Figures only, never pass/fail. Run it on an otherwise idle machine:
the embedded model worker and this process take turns, never run at once.

    .venv/bin/python bench/model_overhead.py [--questions 20]
"""

from __future__ import annotations

import os

# As the model worker runs (chatbot/management/commands/llm_worker.py), before OpenMP starts:
# spinning threads would take the core the other engine's process needs.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import asyncio
import sys
import time

from cache_latency import forget, handbook_questions, percentile, prepare  # sets Django up
from channels.testing import WebsocketCommunicator
from django.conf import settings

from accounts.models import User
from chatbot import evidence, followups
from chatbot.answering import retrieve
from chatbot.beginning import Stopwatch
from chatbot.management.commands.llm_worker import bundled_model_path, fast_copy
from chatbot.prompts import (
    COMPACT_MAX_TOKENS,
    evidence_messages,
    passage_budget,
    stop_sequences,
)
from config.asgi import application
from knowledge.selectors import reader_scope

STAGES = ("rewrite", "embed", "cache", "retrieve", "evidence", "first_token", "model", "total")


async def docent(token: str, question: str, n: int) -> dict:
    communicator = WebsocketCommunicator(
        application, "/ws/chat/", headers=[(b"authorization", f"Bearer {token}".encode())]
    )
    await communicator.connect(timeout=60)
    await communicator.receive_json_from()  # hello
    await communicator.send_json_to({"type": "ask", "id": f"q{n}", "text": question})
    while True:
        message = await communicator.receive_json_from(timeout=600)
        if message["type"] in ("done", "error"):
            await communicator.disconnect()
            return message


def messages_docent_sent(question: str) -> list[dict] | None:
    """The compact prompt Docent builds for this question (None when it would abstain)."""
    reader = User.objects.get(username="bench-reader")
    rewrite = followups.standalone(question=question, history=[])
    vector = followups.query_vector(rewrite)
    hits = asyncio.run(
        retrieve(
            scope=reader_scope(reader),
            question=rewrite.text,
            vector=vector,
            budget=passage_budget(question=rewrite.text),
            watch=Stopwatch(),
        )
    )
    ranked = evidence.ranked(question=rewrite.text, hits=hits, question_vector=vector, focus=None)
    shown = evidence.excerpts(ranked_spans=ranked, hits=hits)
    if not shown:
        return None
    return evidence_messages(question=rewrite.text, hit=hits[shown[0].passage - 1])


def raw_stream(llm, messages: list[dict]) -> tuple[float, float, int]:
    """llama-cpp-python's own stream: (first token ms, whole ms, tokens)."""
    started = time.perf_counter()
    first = None
    tokens = 0
    for chunk in llm.create_chat_completion(
        messages=messages,
        stream=True,
        # The sampling Docent sends (chatbot.llm), so both make the same tokens.
        temperature=settings.LLM_TEMPERATURE,
        top_p=settings.LLM_TOP_P,
        top_k=settings.LLM_TOP_K,
        repeat_penalty=settings.LLM_REPEAT_PENALTY,
        max_tokens=min(COMPACT_MAX_TOKENS, settings.LLM_MAX_ANSWER_TOKENS),
        stop=stop_sequences(),
    ):
        if chunk["choices"][0]["delta"].get("content"):
            tokens += 1
            if first is None:
                first = time.perf_counter()
    end = time.perf_counter()
    return ((first or end) - started) * 1000, (end - started) * 1000, tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=20)
    args = parser.parse_args()
    if settings.LLM_PROMPT != "compact" or settings.LLM_BASE_URL:
        raise SystemExit("measures the bundled model's compact path: unset LLM_BASE_URL")
    token = prepare()
    # One bench reader asks every question: the per-person limits are not what is measured.
    settings.CHAT_ASKS_PER_MINUTE = settings.CHAT_ASKS_IN_FLIGHT = 10**6
    import llama_cpp

    llm = llama_cpp.Llama(
        model_path=str(fast_copy(bundled_model_path())),
        n_ctx=settings.LLM_CONTEXT_TOKENS,
        n_threads=settings.LLM_THREADS,
        n_threads_batch=settings.LLM_THREADS,
        flash_attn=True,
        verbose=False,
    )
    stages: dict[str, list[float]] = {stage: [] for stage in STAGES}
    docent_model, raw_first, raw_whole, docent_rate, raw_rate = [], [], [], [], []
    for n, question in enumerate(handbook_questions(args.questions)):
        forget(question)
        messages = messages_docent_sent(question)
        if messages is None:
            continue
        # Which goes first alternates: the second runs with the model file's pages (shared
        # by both processes) warm in the CPU's caches.
        if n % 2:
            first_ms, whole_ms, tokens = raw_stream(llm, messages)
        done = asyncio.run(docent(token, question, n))
        if not n % 2:
            first_ms, whole_ms, tokens = raw_stream(llm, messages)
        if done["type"] != "done" or not done.get("usage"):
            print(f"  no model part ({done.get('outcome') or done.get('code')}): {question!r}",
                  file=sys.stderr)
            continue
        timings = done["timings"]
        for stage in STAGES:
            if stage in timings:
                stages[stage].append(timings[stage])
        model_ms = timings["model"] - timings["first_token"]
        answer_tokens = done["usage"]["answer_tokens"]
        docent_model.append(model_ms)
        raw_first.append(first_ms)
        raw_whole.append(whole_ms)
        docent_rate.append(answer_tokens / (model_ms / 1000))
        raw_rate.append(tokens / (whole_ms / 1000))
        print(f"  docent model {model_ms:7.1f} ms ({answer_tokens} tokens)   raw {whole_ms:7.1f} ms "
              f"({tokens} tokens, first {first_ms:6.1f} ms)   {question!r}", file=sys.stderr)
    if not docent_model:
        raise SystemExit("no question reached the model")

    def line(name: str, values: list[float]) -> str:
        return f"  {name:<22} p50 {percentile(values, 50):8.1f}   p95 {percentile(values, 95):8.1f}"

    print(f"{len(docent_model)} uncached questions, bundled model, "
          f"{settings.LLM_THREADS} threads (ms; stages from done.timings, cumulative ones marked *)")
    for stage in STAGES:
        mark = "*" if stage in ("first_token", "model", "total") else ""
        print(line(stage + mark, stages[stage]))
    print(line("raw llama-cpp first tok", raw_first))
    print(line("raw llama-cpp whole", raw_whole))
    print(line("docent model part", docent_model))
    ratio = [d / r for d, r in zip(docent_model, raw_whole, strict=True)]
    rate = [d / r for d, r in zip(docent_rate, raw_rate, strict=True)]
    print(f"  docent model part / raw, same prompt: p50 x{percentile(ratio, 50):.3f} "
          f"(overhead {100 * (percentile(ratio, 50) - 1):+.1f} %)")
    print(f"  tokens/s docent / raw: p50 x{percentile(rate, 50):.3f}")


if __name__ == "__main__":
    main()
