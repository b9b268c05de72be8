"""The model worker's own cost: tokens as Docent's client receives them from its worker,
against llama-cpp-python's in-process stream and against llama-cpp-python's own server.

For each prompt, in one run, with the same model file, threads, context and sampling:

1. in-process: `Llama.create_chat_completion(stream=True)` in this process (the floor);
2. library server: `python -m llama_cpp.server` on a free port, read by Docent's client
   (chatbot.llm.stream_chat);
3. Docent's worker: `manage.py llm_worker` (chatbot.model_server) on a free port, read the
   same way.

Each engine holds its own model and sees the prompts in the same order, so each reuses
the same shared prompt prefix; which one goes first rotates per prompt. The prompts are
Docent's compact prompt (chatbot.prompts.evidence_messages) over the sample handbook's
sections and questions. Prints p50 of the first token, whole answer and tokens/s, and the
ratio of each server to the in-process stream. Figures only. Run it on an idle machine.

    .venv/bin/python bench/worker_stream.py [--prompts 20] [--max-tokens 80]
"""

from __future__ import annotations

import os

# As the model worker runs (chatbot/management/commands/llm_worker.py), before OpenMP starts:
# spinning threads would take the core the other engine's process needs.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import asyncio
import json
import re
import statistics
import subprocess
import sys
import time

from _bootstrap import django_setup, wait_for_http

ROOT = django_setup(redis=False)

from django.conf import settings  # noqa: E402

from chatbot.llm import stream_chat  # noqa: E402
from chatbot.management.commands.llm_worker import bundled_model_path, fast_copy  # noqa: E402
from chatbot.prompts import evidence_messages, stop_sequences  # noqa: E402
from config.embedded import free_port  # noqa: E402
from knowledge.search import Hit  # noqa: E402

SAMPLE = ROOT / "knowledge/sample"
_HEADING = re.compile(r"^#{1,4} ", re.M)


def prompts(n: int) -> list[list[dict]]:
    """The compact prompt for sample questions, each over the section of its expected
    document that shares most words with it (what retrieval would hand on, near enough)."""
    rows = [json.loads(line) for line in (SAMPLE / "qa.jsonl").read_text().splitlines()]
    out = []
    for row in rows:
        path = SAMPLE / row["collection"] / row["expected"][0] if row.get("expected") else None
        if path is None or path.suffix != ".md" or not path.exists():
            continue
        sections = [s for s in _HEADING.split(path.read_text()) if len(s) > 80]
        words = set(re.findall(r"[a-z]{4,}", row["question"].lower()))
        best = max(sections, key=lambda s: len(words & set(re.findall(r"[a-z]{4,}", s.lower()))))
        heading, _, text = best.partition("\n")
        hit = Hit(chunk=0, document=0, position=0, heading=heading.strip(), page=None,
                  text=text.strip()[:900], title=path.stem, path=path.name, score=0.0, similarity=0.0)
        out.append(evidence_messages(question=row["question"], hit=hit))
        if len(out) == n:
            break
    return out


def start(command: list[str], port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_http(f"http://127.0.0.1:{port}/v1/models", proc, timeout=300)
    return proc


def in_process(llm, messages: list[dict], max_tokens: int) -> tuple[float, float, int]:
    started = time.perf_counter()
    first, tokens = None, 0
    for chunk in llm.create_chat_completion(
        messages=messages, stream=True, max_tokens=max_tokens, stop=stop_sequences(),
        temperature=settings.LLM_TEMPERATURE, top_p=settings.LLM_TOP_P, top_k=settings.LLM_TOP_K,
        repeat_penalty=settings.LLM_REPEAT_PENALTY,
    ):
        if chunk["choices"][0]["delta"].get("content"):
            tokens += 1
            first = first or time.perf_counter()
    end = time.perf_counter()
    return ((first or end) - started) * 1000, (end - started) * 1000, tokens


async def over_http(url: str, messages: list[dict], max_tokens: int) -> tuple[float, float, int]:
    started = time.perf_counter()
    first, tokens = None, 0
    async for _ in stream_chat(messages, max_tokens=max_tokens, stop=stop_sequences(), url=url):
        tokens += 1
        first = first or time.perf_counter()
    end = time.perf_counter()
    return ((first or end) - started) * 1000, (end - started) * 1000, tokens


async def measure(llm, urls: dict[str, str], engines: list[str], figures: dict, args) -> None:
    for n, messages in enumerate(prompts(args.prompts)):
        order = engines[n % 3:] + engines[: n % 3]
        for engine in order:
            if engine == "in-process":  # blocks the loop, with nothing else on it
                first, whole, tokens = in_process(llm, messages, args.max_tokens)
            else:
                first, whole, tokens = await over_http(urls[engine], messages, args.max_tokens)
            figures[engine]["first"].append(first)
            figures[engine]["whole"].append(whole)
            figures[engine]["tokens"].append(tokens)
            # Tokens per second after the first: generation, not reading the prompt.
            figures[engine]["rate"].append((tokens - 1) / max(whole - first, 1e-3) * 1000)
        print(f"  prompt {n + 1}: " + "   ".join(
            f"{e} {figures[e]['whole'][-1]:6.0f} ms/{figures[e]['tokens'][-1]} tok" for e in engines
        ), file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=20)
    parser.add_argument("--max-tokens", type=int, default=80)
    args = parser.parse_args()
    import llama_cpp

    model = fast_copy(bundled_model_path())
    threads = settings.LLM_THREADS
    library_port, docent_port = free_port(), free_port()
    servers = {
        "library server": start(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--port",
             str(library_port), "--n_ctx", str(settings.LLM_CONTEXT_TOKENS), "--n_threads",
             str(threads), "--n_threads_batch", str(threads), "--flash_attn", "true",
             "--model_alias", settings.LLM_MODEL_NAME],
            library_port,
        ),
        "docent worker": start(
            [sys.executable, str(ROOT / "manage.py"), "llm_worker", "--port", str(docent_port),
             "--model", str(model), "--threads", str(threads)],
            docent_port,
        ),
    }
    urls = {"library server": f"http://127.0.0.1:{library_port}/v1",
            "docent worker": f"http://127.0.0.1:{docent_port}/v1"}
    llm = llama_cpp.Llama(model_path=str(model), n_ctx=settings.LLM_CONTEXT_TOKENS,
                          n_threads=threads, n_threads_batch=threads, flash_attn=True, verbose=False)
    engines = ["in-process", "library server", "docent worker"]
    figures: dict[str, dict[str, list[float]]] = {
        e: {"first": [], "whole": [], "rate": [], "tokens": []} for e in engines
    }
    try:
        # One event loop for every request, as in the web process: its client and
        # connections are kept (a client per request would time making SSL contexts).
        asyncio.run(measure(llm, urls, engines, figures, args))
    finally:
        for proc in servers.values():
            proc.terminate()
            proc.wait(timeout=30)
    base = figures["in-process"]
    print(f"{len(base['whole'])} compact prompts, bundled model, {threads} threads, "
          f"at most {args.max_tokens} tokens (p50 ms; tokens/s after the first token)")
    for engine in engines:
        f = figures[engine]
        ratio_whole = statistics.median(w / b for w, b in zip(f["whole"], base["whole"], strict=True))
        ratio_rate = statistics.median(r / b for r, b in zip(f["rate"], base["rate"], strict=True))
        print(f"  {engine:<15} first token {statistics.median(f['first']):7.1f}   whole "
              f"{statistics.median(f['whole']):7.1f}   tokens/s {statistics.median(f['rate']):6.1f}"
              f"   whole x{ratio_whole:.3f}   tokens/s x{ratio_rate:.3f}   (tokens {sum(f['tokens'])})")


if __name__ == "__main__":
    main()
