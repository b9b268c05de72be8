"""Ingest throughput on a generated corpus, and the embedding stage against plain encode.

Generates a few hundred pages (Markdown with headings, and real PDFs written by
tests/support/pdfwriter.py) in a temporary folder, ingests them synchronously
(knowledge.uploads, then knowledge.pipeline.document_ingest in this process) into a
throwaway collection, and prints:

- pages/s and chunks/s for the whole pipeline (parse in the sandbox, chunk,
  embed, store);
- the embedding stage's chunks/s (from "embedding" to "storing", as
  document_ingest reports its stages: batching, progress updates and events
  included) against the same chunk texts through plain
  `SentenceTransformer.encode` (same model instance, batch size and torch
  threads), twice: one call per round (all of a round's chunks, sorted by
  length across documents: the goal's baseline) and one call per document
  (the same document boundaries as the pipeline: the ratio to it is Docent's
  own overhead, the rest is the cost of keeping documents apart). Files are
  ingested in rounds (--rounds); in each round the three take turns in a
  rotating order, so load from neighbours on a shared machine falls on all
  alike. The chunk texts are made before the round (parse and chunk, untimed)
  and checked afterwards against what the pipeline stored.

A Markdown "page" is 2,000 characters; a PDF page is a page. The collection is
deleted afterwards. Figures only, never pass/fail. Runs on the embedded stack
of DOCENT_VAR_DIR (default var/), in a database of its own (DOCENT_DB_NAME,
default docent_bench), so demo data is left alone.

    .venv/bin/python bench/ingest_throughput.py [--pages 300]

With --manual, a real public manual instead: every HTML page under the folders given
(a page is a page), for example Debian's python3.11-doc:

    .venv/bin/python bench/ingest_throughput.py --manual /usr/share/doc/python3.11/html/{c-api,howto,tutorial,reference,faq,using,extending}
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from _bootstrap import django_setup  # bench/ is on the path: the scripts run as files

ROOT = django_setup(database="docent_bench")

import torch  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

from knowledge.chunking import chunk_document  # noqa: E402
from knowledge.embeddings import get_model, get_tokenizer  # noqa: E402
from knowledge.lifecycle import document_delete  # noqa: E402
from knowledge.models import Chunk, Collection, Document  # noqa: E402
from knowledge.parsers.sandbox import parse_file  # noqa: E402
from knowledge.pipeline import document_ingest, parse_limits  # noqa: E402
from knowledge.uploads import document_upload  # noqa: E402
from tests.support.pdfwriter import write_pdf  # noqa: E402

PAGE_CHARS = 2_000
PAGES_PER_FILE = 5
TOPICS = ["Travel", "Expenses", "Security", "Onboarding", "Benefits", "Facilities", "Payroll"]
# Sentences built from plain policy English, so texts tokenise like real documents do.
WHO = ["Employees", "Managers", "New starters", "Contractors", "The finance team", "Team leads"]
MUST = ["must", "should", "may", "are expected to", "need to"]
WHAT = [
    "submit the expense report",
    "book flights through the travel desk",
    "keep every receipt",
    "lock their screen when they leave the desk",
    "ask their manager before buying equipment",
    "report a lost badge to the front desk",
    "use the approved hotel list",
    "record their working hours",
    "complete the security training",
    "return the laptop on their last day",
]
WHEN = [
    "within {n} days",
    "before the end of the month",
    "at least {n} days ahead",
    "unless the director agrees otherwise",
    "when the amount is over {n}0 euros",
    "as described in section {n}",
]


def sentence(rng: random.Random) -> str:
    when = rng.choice(WHEN).format(n=rng.randint(2, 30))
    return f"{rng.choice(WHO)} {rng.choice(MUST)} {rng.choice(WHAT)} {when}."


def paragraph(rng: random.Random, chars: int) -> str:
    out: list[str] = []
    while sum(len(s) + 1 for s in out) < chars:
        out.append(sentence(rng))
    return " ".join(out)


def write_markdown(path: Path, rng: random.Random, pages: int) -> None:
    topic = rng.choice(TOPICS)
    parts = [f"# {topic} policy {path.stem}"]
    for page in range(pages):
        parts.append(f"## Part {page + 1}")
        for sub in range(3):
            parts.append(f"### Rule {page + 1}.{sub + 1}")
            parts.append(paragraph(rng, PAGE_CHARS // 3))
    path.write_text("\n\n".join(parts) + "\n")


def write_pdf_file(path: Path, rng: random.Random, pages: int) -> None:
    body = [_lines(paragraph(rng, PAGE_CHARS))[:50] for _ in range(pages)]
    write_pdf(path, body, title=f"{rng.choice(TOPICS)} guide {path.stem}")


def _lines(text: str) -> list[str]:
    words, lines, line = text.split(), [], ""
    for word in words:
        if len(line) + len(word) + 1 > 85:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return [*lines, line]


def generate(folder: Path, pages: int) -> list[tuple[Path, int]]:
    """About 80 % of the pages as Markdown, 20 % as PDF; returns (file, pages) pairs."""
    rng = random.Random(7)
    corpus: list[tuple[Path, int]] = []
    pdf_pages = pages // 5
    for n in range(0, pages - pdf_pages, PAGES_PER_FILE):
        count = min(PAGES_PER_FILE, pages - pdf_pages - n)
        write_markdown(folder / f"policy-{n:04d}.md", rng, count)
        corpus.append((folder / f"policy-{n:04d}.md", count))
    for n in range(0, pdf_pages, PAGES_PER_FILE):
        count = min(PAGES_PER_FILE, pdf_pages - n)
        write_pdf_file(folder / f"guide-{n:04d}.pdf", rng, count)
        corpus.append((folder / f"guide-{n:04d}.pdf", count))
    return corpus


def manual(folders: list[Path]) -> list[tuple[Path, int]]:
    """Every HTML page under `folders`, one page each, in name order; page names must be
    unique (documents keep only their base name), so a duplicate is skipped."""
    pages: dict[str, Path] = {}
    for folder in folders:
        for path in sorted(folder.rglob("*.html")):
            pages.setdefault(path.name, path)
    return [(path, 1) for path in pages.values()]


def embedding_text(heading: str, text: str) -> str:
    # As knowledge.chunking.ChunkDraft.embedding_text: the heading path is embedded too.
    return f"{heading}\n{text}" if heading else text


def ingest(
    path: Path,
    collection: Collection,
    stage_seconds: dict[str, float],
    stage_cpu: dict[str, float],
) -> int:
    """Upload and ingest one file here; add each stage's wall and CPU time (this process's,
    all its threads) to stage_seconds and stage_cpu."""
    with path.open("rb") as content:
        document = document_upload(
            collection=collection, content=content, original_name=path.name, enqueue=False
        ).document
    marks: list[tuple[str, float, float]] = []
    outcome = document_ingest(
        document_id=document.pk,
        version=document.version,
        on_stage=lambda stage: marks.append((stage, time.perf_counter(), time.process_time())),
    )
    end = ("end", time.perf_counter(), time.process_time())
    if outcome != "ready":
        print(f"warning: {path.name} was {outcome}", file=sys.stderr)
    for (stage, at, cpu_at), (_, until, cpu_until) in zip(marks, [*marks[1:], end], strict=True):
        stage_seconds[stage] += until - at
        stage_cpu[stage] += cpu_until - cpu_at
    return document.pk


def chunk_texts(document_ids: list[int]) -> list[list[str]]:
    """The texts the pipeline embedded for these documents, as it embedded them."""
    rows = Chunk.objects.filter(document_id__in=document_ids).order_by("document", "position")
    by_document: dict[int, list[str]] = {pk: [] for pk in document_ids}
    for pk, heading, text in rows.values_list("document_id", "heading", "text"):
        by_document[pk].append(embedding_text(heading, text))
    return [by_document[pk] for pk in document_ids]


def expected_texts(path: Path) -> list[str]:
    """What the pipeline will embed for this file: its parse and chunk steps, untimed."""
    parsed = parse_file(
        path=path,
        original_name=path.name,
        limits=parse_limits(),
        max_text_chars=settings.DOCUMENT_MAX_TEXT_CHARS,
    )
    drafts = chunk_document(
        parsed, tokens=settings.CHUNK_TOKENS, overlap=settings.CHUNK_OVERLAP_TOKENS
    )
    return [draft.embedding_text for draft in drafts]


def plain_encode(texts: list[str]) -> None:
    get_model().encode(
        texts,
        batch_size=settings.EMBEDDING_BATCH_SIZE,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )


def plain_encode_each(documents: list[list[str]]) -> None:
    for texts in documents:
        plain_encode(texts)


class Run:
    """Seconds spent by each side, over all rounds."""

    def __init__(self, collection: Collection) -> None:
        self.collection = collection
        self.stage_seconds: dict[str, float] = defaultdict(float)
        self.seconds: dict[str, float] = defaultdict(float)
        # CPU time as well: on a machine shared with other runs it moves less than wall time.
        self.stage_cpu: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)
        self.chunks = 0

    def round(self, files: list[Path], turn: int) -> None:
        texts = [expected_texts(path) for path in files]
        self.chunks += sum(map(len, texts))
        sides: list[tuple[str, Callable[[], None]]] = [
            ("pipeline", lambda: self.ingest(files, texts)),
            ("plain per round", lambda: plain_encode([t for doc in texts for t in doc])),
            ("plain per document", lambda: plain_encode_each(texts)),
        ]
        for name, side in sides[turn % 3 :] + sides[: turn % 3]:
            started, cpu_started = time.perf_counter(), time.process_time()
            side()
            self.seconds[name] += time.perf_counter() - started
            self.cpu[name] += time.process_time() - cpu_started

    def ingest(self, files: list[Path], texts: list[list[str]]) -> None:
        ids = [ingest(path, self.collection, self.stage_seconds, self.stage_cpu) for path in files]
        if chunk_texts(ids) != texts:
            raise SystemExit("the pipeline stored other chunks than the bench encoded")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--manual", type=Path, nargs="+", help="folders of HTML pages to ingest")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    get_tokenizer()
    plain_encode(["warm up"] * 8)  # first-call costs stay out of every side

    collection = Collection.objects.create(
        slug=f"bench-{uuid.uuid4().hex[:8]}", name="Ingest benchmark (throwaway)"
    )
    run = Run(collection)
    load_before = os.getloadavg()[0]
    try:
        with tempfile.TemporaryDirectory(prefix="docent-bench-") as tmp:
            corpus = manual(args.manual) if args.manual else generate(Path(tmp), args.pages)
            for turn in range(args.rounds):
                run.round([path for path, _ in corpus[turn :: args.rounds]], turn)
    finally:
        for document in Document.objects.filter(collection=collection):
            document_delete(document=document)
        collection.delete()
    report(run, pages=sum(count for _, count in corpus), files=len(corpus))
    print(
        f"machine         load average {load_before:.1f} at start, {os.getloadavg()[0]:.1f} at end; "
        f"torch threads {torch.get_num_threads()}, batch size {settings.EMBEDDING_BATCH_SIZE}"
    )


def report(run: Run, *, pages: int, files: int) -> None:
    total, chunks = run.seconds["pipeline"], run.chunks
    stage = chunks / run.stage_seconds["embedding"]
    per_round = chunks / run.seconds["plain per round"]
    per_document = chunks / run.seconds["plain per document"]
    print(f"corpus          {files} files, {pages} pages, {chunks} chunks")
    print(f"total           {total:.1f} s")
    print(f"pages/s         {pages / total:.2f}")
    print(f"chunks/s        {chunks / total:.2f}")
    for name in ("parsing", "chunking", "embedding", "storing"):
        print(f"stage {name:<10}{run.stage_seconds[name]:.1f} s")
    print(f"embed chunks/s  {stage:.2f} (pipeline stage)")
    print(f"plain chunks/s  {per_round:.2f} (SentenceTransformer.encode, one call a round)")
    print(f"                {per_document:.2f} (one call a document)")
    print(f"embed ratio     {stage / per_round:.2f} of one call a round (the goal)")
    print(f"                {stage / per_document:.2f} of one call a document (Docent's own)")
    cpu = run.stage_cpu["embedding"]
    print(
        f"in CPU time     {run.cpu['plain per round'] / cpu:.2f} of one call a round, "
        f"{run.cpu['plain per document'] / cpu:.2f} of one call a document"
    )


if __name__ == "__main__":
    main()
