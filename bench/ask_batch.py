"""`manage.py ask -` (one process, models loaded once) against one `ask` process per question.

Both sides answer the same questions from knowledge/sample/qa.jsonl on the
embedded stack, in a database of their own (DOCENT_DB_NAME, default
docent_bench), with the answer cache off so every question is answered
afresh. Prints the wall time of each side and the ratio. Figures only, never
pass/fail; the machine's load moves both sides, so compare the ratio.

    .venv/bin/python bench/ask_batch.py [--questions 4]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "knowledge" / "sample"


def manage(*args: str, stdin: str | None = None) -> str:
    env = {
        **os.environ,
        "DOCENT_DB_NAME": os.environ.get("DOCENT_DB_NAME", "docent_bench"),
        "ANSWER_CACHE_ENABLED": "false",  # both sides must answer, not recall
    }
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, check=True,
    )
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=int, default=4)
    options = parser.parse_args()

    manage("migrate", "-v0")
    manage("ingest", str(SAMPLE / "handbook"), "--collection", "handbook", "--public", "--sync")
    rows = [json.loads(line) for line in (SAMPLE / "qa.jsonl").read_text().splitlines() if line]
    questions = [row["question"] for row in rows if row.get("collection", "handbook") == "handbook"]
    questions = questions[: options.questions]
    manage("ask", questions[0], "--json")  # start the model worker outside both timings

    start = time.perf_counter()
    batch = manage("ask", "-", "--json", stdin="\n".join(questions) + "\n").splitlines()
    batch_s = time.perf_counter() - start

    start = time.perf_counter()
    for question in questions:
        manage("ask", question, "--json")
    separate_s = time.perf_counter() - start

    assert len(batch) == len(questions), batch
    n = len(questions)
    print(f"questions: {n} (sample handbook, answer cache off)")
    print(f"ask - (one process):       {batch_s:7.1f} s  ({batch_s / n:5.1f} s a question)")
    print(f"ask Q (a process each):    {separate_s:7.1f} s  ({separate_s / n:5.1f} s a question)")
    print(f"ratio, separate / batch:   {separate_s / batch_s:7.2f}")


if __name__ == "__main__":
    main()
