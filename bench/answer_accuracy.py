"""How often the answer holds the expected fact, for a setting against another in one run.

For each question of a QA file with an "answer" field, asks the whole answering
path as an operator (no cache) and checks whether the model's own text, and the
final grounded answer (with its quote), contain the expected fact: every number
(the first) of the expected answer, or for answers without numbers, most of its
content words. A rough check: it counts a number said in the wrong sense as right.

    .venv/bin/python bench/answer_accuracy.py [QA.jsonl] [--top-k 2 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from chatbot.answering import DoneEvent, TokenEvent, answer_question  # noqa: E402

_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_WORD = re.compile(r"[a-z]{4,}")


def holds(text: str, expected: str) -> bool:
    text = text.lower().replace(",", "")
    numbers = _NUMBER.findall(expected.replace(",", ""))
    if numbers:  # the first number is the fact asked for; later ones are qualifications
        return re.search(rf"(?<![\d.]){re.escape(numbers[0])}(?![\d])", text) is not None
    words = set(_WORD.findall(expected.lower()))
    return bool(words) and len([w for w in words if w in text]) >= 0.6 * len(words)


async def ask(question: str) -> tuple[str, str]:
    streamed, final = "", ""
    async for event in answer_question(user=None, question=question, save=False):
        if isinstance(event, TokenEvent):
            streamed += event.text
        elif isinstance(event, DoneEvent):
            final = event.answer
    return streamed, final


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("qa", nargs="?", default=str(ROOT / "knowledge/sample/qa.jsonl"))
    parser.add_argument("--top-k", type=int, nargs="+", default=[2, 4])
    args = parser.parse_args()
    items = [json.loads(line) for line in open(args.qa) if line.strip()]
    items = [i for i in items if i.get("answer")]
    settings.ANSWER_CACHE_ENABLED = False
    print(f"{len(items)} questions from {Path(args.qa).name}; prompt {settings.LLM_PROMPT}")
    print(f"{'top k':>6} {'model text holds fact':>22} {'final answer holds fact':>24}")
    for k in args.top_k:
        settings.RETRIEVAL_TOP_K = k
        model_ok = final_ok = 0
        for item in items:
            streamed, final = asyncio.run(ask(item["question"]))
            model_ok += holds(streamed, item["answer"])
            final_ok += holds(final, item["answer"])
        print(f"{k:>6} {model_ok / len(items):>22.3f} {final_ok / len(items):>24.3f}")


if __name__ == "__main__":
    main()
