"""Recall of permission-filtered vector search: HNSW with and without iterative scans vs exact.

pgvector filters after the index scan: with hnsw.ef_search = 40 and a filter that
keeps a few percent of the rows, a plain HNSW scan returns far fewer than k rows.
Docent's search turns on `hnsw.iterative_scan = relaxed_order` (knowledge/search.py).
This bench fills a throwaway database with a large collection and a small one,
searches as a reader of the small one only, and prints recall@k against an exact
(sequential) search in the same run, with each mode's p50/p95 time per query; then
Docent's whole hybrid search (`chunk_search`: the vector lane as above, full text,
exact terms, fusion) as the same reader, p50/p95. Chunk texts and query words are drawn
from the sample corpus's vocabulary, so the full-text lane has real work to do.

    .venv/bin/python bench/filtered_recall.py [--rows 20000] [--share 0.02] [--queries 50]
        [--keep] [--reuse]
"""

from __future__ import annotations

import argparse
import re
import statistics
import time

from _bootstrap import django_setup  # bench/ is on the path: the scripts run as files

ROOT = django_setup(database="docent_bench")

import numpy as np  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from knowledge.collections import collection_ensure  # noqa: E402
from knowledge.models import Chunk, Document  # noqa: E402
from knowledge.search import EF_SEARCH, chunk_search  # noqa: E402
from knowledge.selectors import ReaderScope  # noqa: E402

DIMENSIONS = 384
MODES = {
    "exact (sequential scan)": [
        "SET LOCAL enable_indexscan = off",
        "SET LOCAL enable_bitmapscan = off",
    ],
    "hnsw, no iterative scan": [
        "SET LOCAL enable_seqscan = off",
        "SET LOCAL hnsw.iterative_scan = off",
    ],
    **{
        f"hnsw, relaxed_order, ef {ef}{' (Docent)' if ef == EF_SEARCH else ''}": [
            "SET LOCAL enable_seqscan = off",
            "SET LOCAL hnsw.iterative_scan = relaxed_order",
            f"SET LOCAL hnsw.ef_search = {ef}",
        ]
        for ef in (40, 100, 200, 400)
    },
}
QUERY = """
SELECT id FROM (
    SELECT id, embedding <=> %s::vector AS distance FROM knowledge_chunk
    WHERE collection_id = ANY(%s) ORDER BY distance LIMIT %s
) nearest ORDER BY distance
"""


def clustered_vectors(rng: np.random.Generator, count: int, centres: np.ndarray) -> np.ndarray:
    """Vectors around topic centres, normalised: closer to real embeddings than pure noise."""
    picks = centres[rng.integers(0, len(centres), count)]
    vectors = picks + 0.35 * rng.standard_normal((count, DIMENSIONS)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def vocabulary() -> list[str]:
    """The words of the bundled sample corpus: real words, for texts and queries."""
    words: set[str] = set()
    for path in (ROOT / "knowledge" / "sample").rglob("*.md"):
        words |= set(re.findall(r"[a-z]{4,}", path.read_text().lower()))
    return sorted(words)


def fill(
    slug: str,
    count: int,
    rng: np.random.Generator,
    centres: np.ndarray,
    words: list[str],
    reuse: bool = False,
) -> int:
    """A collection of `count` chunks. The random draws are made either way, so a run that
    reuses the rows of an earlier one (`--reuse`) asks the same questions."""
    collection = collection_ensure(slug=slug, public=False)
    vectors = clustered_vectors(rng, count, centres)
    texts = [" ".join(rng.choice(words, 40)) for _ in range(count)]
    if reuse and Chunk.objects.filter(collection=collection).count() == count:
        return collection.pk
    Document.objects.filter(collection=collection).delete()
    document = Document.objects.create(
        collection=collection, original_name=f"{slug}.txt", sha256=slug, status="ready"
    )
    for start in range(0, count, 2000):
        Chunk.objects.bulk_create(
            Chunk(
                document=document,
                collection=collection,
                position=i,
                text=texts[i],
                embedding=vectors[i],
            )
            for i in range(start, min(count, start + 2000))
        )
    return collection.pk


def plan(mode: list[str], vector: np.ndarray, collections: list[int], k: int) -> str:
    """Which path the planner took: with few readable rows it prefers the exact btree path."""
    literal = "[" + ",".join(f"{x:.6f}" for x in vector) + "]"
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in mode:
            cursor.execute(statement)
        cursor.execute("EXPLAIN " + QUERY, [literal, collections, k])
        text = " ".join(r[0] for r in cursor.fetchall())
    return "hnsw" if "chunk_embedding_hnsw" in text else "exact"


def search(
    mode: list[str], vector: np.ndarray, collections: list[int], k: int
) -> tuple[list[int], float]:
    literal = "[" + ",".join(f"{x:.6f}" for x in vector) + "]"
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in mode:
            cursor.execute(statement)
        started = time.perf_counter()
        cursor.execute(QUERY, [literal, collections, k])
        rows = [r[0] for r in cursor.fetchall()]
        return rows, time.perf_counter() - started


def quantiles(seconds: list[float]) -> tuple[float, float]:
    """p50 and p95, in milliseconds."""
    cuts = statistics.quantiles(seconds, n=100, method="inclusive")
    return 1000 * statistics.median(seconds), 1000 * cuts[94]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument(
        "--share", type=float, default=0.3, help="the small collection's share of rows"
    )
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("--keep", action="store_true", help="leave the rows, to EXPLAIN queries")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="search the rows an earlier --keep run left, if all there",
    )
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    rng = np.random.default_rng(7)
    centres = rng.standard_normal((64, DIMENSIONS)).astype(np.float32)
    small_rows = max(args.k, int(args.rows * args.share))
    started = time.perf_counter()
    words = vocabulary()
    fill("recall-big", args.rows - small_rows, rng, centres, words, args.reuse)
    small = fill("recall-small", small_rows, rng, centres, words, args.reuse)
    with connection.cursor() as cursor:
        # Earlier runs leave dead index entries; clear them so every run measures the same.
        cursor.execute("VACUUM ANALYZE knowledge_chunk")
    print(
        f"{args.rows} chunks, {small_rows} readable ({args.share:.0%}), filled in {time.perf_counter() - started:.0f} s"
    )

    queries = clustered_vectors(rng, args.queries, centres)
    exact_mode = next(iter(MODES))
    truth = [search(MODES[exact_mode], q, [small], args.k) for q in queries]
    exact_seconds = sum(t for _, t in truth)
    print(
        f"{'mode':<30} {'plan':>6} {'recall@' + str(args.k):>10} {'rows back':>10} "
        f"{'time vs exact':>14} {'p50 ms':>8} {'p95 ms':>8}"
    )
    for name, mode in MODES.items():
        results = [search(mode, q, [small], args.k) for q in queries]
        recall = np.mean(
            [len(set(r) & set(t)) / args.k for (r, _), (t, _) in zip(results, truth, strict=True)]
        )
        returned = np.mean([len(r) for r, _ in results])
        ratio = sum(t for _, t in results) / exact_seconds
        path = plan(mode, queries[0], [small], args.k)
        p50, p95 = quantiles([t for _, t in results])
        print(
            f"{name:<30} {path:>6} {recall:>10.3f} {returned:>10.1f} {ratio:>13.2f}x "
            f"{p50:>8.1f} {p95:>8.1f}"
        )

    scope = ReaderScope(collection_ids=(small,), versions=((small, 0),))
    texts = [" ".join(rng.choice(words, 4)) for _ in queries]
    chunk_search(scope=scope, query=texts[0], vector=queries[0], k=args.k)  # warm
    hybrid = []
    for text, vector in zip(texts, queries, strict=True):
        started = time.perf_counter()
        chunk_search(scope=scope, query=text, vector=vector, k=args.k)
        hybrid.append(time.perf_counter() - started)
    p50, p95 = quantiles(hybrid)
    print(
        f"{'Docent hybrid chunk_search':<30} {'':>6} {'':>10} {'':>10} {'':>14} "
        f"{p50:>8.1f} {p95:>8.1f}"
    )

    if not args.keep:
        Document.objects.filter(collection__slug__in=["recall-big", "recall-small"]).delete()


if __name__ == "__main__":
    main()
