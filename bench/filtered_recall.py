"""Recall of permission-filtered vector search: HNSW with and without iterative scans vs exact.

pgvector filters after the index scan: with hnsw.ef_search = 40 and a filter that
keeps a few percent of the rows, a plain HNSW scan returns far fewer than k rows.
Docent's search turns on `hnsw.iterative_scan = relaxed_order` (knowledge/search.py).
This bench fills a throwaway database with a large collection and a small one,
searches as a reader of the small one only, and prints recall@k against an exact
(sequential) search in the same run.

    .venv/bin/python bench/filtered_recall.py [--rows 20000] [--share 0.02] [--queries 50]
"""

from __future__ import annotations

import argparse
import time

from _bootstrap import django_setup  # bench/ is on the path: the scripts run as files

ROOT = django_setup(database="docent_bench")

import numpy as np  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from knowledge.collections import collection_ensure  # noqa: E402
from knowledge.models import Chunk, Document  # noqa: E402

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
    "hnsw, relaxed_order (Docent)": [
        "SET LOCAL enable_seqscan = off",
        "SET LOCAL hnsw.iterative_scan = relaxed_order",
        "SET LOCAL hnsw.ef_search = 100",
    ],
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


def fill(slug: str, count: int, rng: np.random.Generator, centres: np.ndarray) -> int:
    collection = collection_ensure(slug=slug, public=False)
    Document.objects.filter(collection=collection).delete()
    document = Document.objects.create(
        collection=collection, original_name=f"{slug}.txt", sha256=slug, status="ready"
    )
    vectors = clustered_vectors(rng, count, centres)
    for start in range(0, count, 2000):
        Chunk.objects.bulk_create(
            Chunk(
                document=document,
                collection=collection,
                position=i,
                text=f"row {i}",
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument(
        "--share", type=float, default=0.3, help="the small collection's share of rows"
    )
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("-k", type=int, default=10)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    rng = np.random.default_rng(7)
    centres = rng.standard_normal((64, DIMENSIONS)).astype(np.float32)
    small_rows = max(args.k, int(args.rows * args.share))
    started = time.perf_counter()
    fill("recall-big", args.rows - small_rows, rng, centres)
    small = fill("recall-small", small_rows, rng, centres)
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
        f"{'mode':<30} {'plan':>6} {'recall@' + str(args.k):>10} {'rows back':>10} {'time vs exact':>14}"
    )
    for name, mode in MODES.items():
        results = [search(mode, q, [small], args.k) for q in queries]
        recall = np.mean(
            [len(set(r) & set(t)) / args.k for (r, _), (t, _) in zip(results, truth, strict=True)]
        )
        returned = np.mean([len(r) for r, _ in results])
        ratio = sum(t for _, t in results) / exact_seconds
        path = plan(mode, queries[0], [small], args.k)
        print(f"{name:<30} {path:>6} {recall:>10.3f} {returned:>10.1f} {ratio:>13.2f}x")

    Document.objects.filter(collection__slug__in=["recall-big", "recall-small"]).delete()


if __name__ == "__main__":
    main()
