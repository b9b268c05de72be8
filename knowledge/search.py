"""Hybrid retrieval inside PostgreSQL, filtered to what the reader may read.

One round trip: pgvector cosine (HNSW, iterative scan so the permission filter
does not starve the result) and full-text search (heading weighted above
body), fused by reciprocal rank. The query runs in its own short transaction
so SET LOCAL applies to it alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from django.db import connection, transaction

from knowledge.selectors import ReaderScope

RRF_K = 60
# A query word in more than this share of the reader's chunks is too common to rank by
# (swept 0.08-1.0 on the sample QA set: 0.25 and up tie at best; bench/retrieval_quality.py).
COMMON_WORD_SHARE = 0.4
# The full-text side's share in the fused score. It is the weaker retriever alone; at 0.5
# Docent beat the plain baseline on all three QA sets measured (docs/quality.md).
TEXT_WEIGHT = 0.5
_WORD = re.compile(r"[\w][\w'-]*", re.UNICODE)

_SQL = """
WITH vec AS (
    SELECT id, row_number() OVER (ORDER BY distance) AS rank, 1 - distance AS similarity
    FROM (
        SELECT c.id, c.embedding <=> %(vector)s::vector AS distance
        FROM knowledge_chunk c
        WHERE c.collection_id = ANY(%(collections)s)
        ORDER BY distance
        LIMIT %(candidates)s
    ) nearest
),
words AS (
    SELECT DISTINCT term FROM unnest(tsvector_to_array(to_tsvector('english', %(words)s))) term
),
-- Full-text ranking has no IDF: a word found in a large share of the reader's chunks
-- ("work", "get") would outrank the one rare word that matters ("e-bike"). Drop those.
frequency AS (
    SELECT w.term,
           (SELECT count(*) FROM knowledge_chunk c
            WHERE c.collection_id = ANY(%(collections)s)
              AND c.search_vector @@ quote_literal(w.term)::tsquery) AS chunks
    FROM words w
),
total AS (SELECT count(*) AS chunks FROM knowledge_chunk WHERE collection_id = ANY(%(collections)s)),
query AS (
    SELECT COALESCE(
        (SELECT string_agg(quote_literal(f.term), ' | ')::tsquery FROM frequency f, total
         WHERE f.chunks <= GREATEST(%(common_floor)s, total.chunks * %(common_share)s)),
        websearch_to_tsquery('english', %(text)s)
    ) AS q
),
fts AS (
    SELECT c.id, row_number() OVER (ORDER BY ts_rank_cd(c.search_vector, query.q) DESC) AS rank
    FROM knowledge_chunk c, query
    WHERE c.collection_id = ANY(%(collections)s) AND c.search_vector @@ query.q
    ORDER BY ts_rank_cd(c.search_vector, query.q) DESC
    LIMIT %(candidates)s
),
fused AS (
    SELECT COALESCE(vec.id, fts.id) AS id,
           COALESCE(1.0 / (%(rrf_k)s + vec.rank), 0)
             + COALESCE(%(text_weight)s / (%(rrf_k)s + fts.rank), 0) AS score,
           vec.rank AS vector_rank, fts.rank AS text_rank
    FROM vec FULL OUTER JOIN fts ON vec.id = fts.id
)
SELECT c.id, c.document_id, c.position, c.heading, c.page, c.text,
       d.title, d.original_name, fused.score,
       1 - (c.embedding <=> %(vector)s::vector) AS similarity,
       fused.vector_rank, fused.text_rank
FROM fused
JOIN knowledge_chunk c ON c.id = fused.id
JOIN knowledge_document d ON d.id = c.document_id
ORDER BY fused.score DESC, similarity DESC
LIMIT %(limit)s
"""


@dataclass(frozen=True)
class Hit:
    chunk: int
    document: int
    position: int
    heading: str
    page: int | None
    text: str
    title: str
    path: str
    score: float
    similarity: float

    def as_json(self) -> dict:
        return {
            "document": self.document,
            "title": self.title,
            "path": self.path,
            "heading": self.heading,
            "page": self.page,
            "score": round(self.score, 4),
            "similarity": round(self.similarity, 4),
            "text": self.text,
        }


def fulltext_query(text: str) -> str:
    """Any word may match: questions are prose, and websearch syntax would AND every word."""
    words = [w for w in _WORD.findall(text.lower()) if w not in {"or", "and", "not"}]
    return " or ".join(words[:32])


def chunk_search(*, scope: ReaderScope, query: str, vector: np.ndarray, k: int = 5) -> list[Hit]:
    if not scope.collection_ids or not query.strip():
        return []
    params = {
        "vector": "[" + ",".join(f"{x:.7f}" for x in vector) + "]",
        "collections": list(scope.collection_ids),
        "text": fulltext_query(query),
        "words": query,
        "common_share": COMMON_WORD_SHARE,
        "common_floor": 3,
        "candidates": max(40, k * 8),
        "rrf_k": RRF_K,
        "text_weight": TEXT_WEIGHT,
        "limit": k,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        # Filtered HNSW scans keep scanning until enough rows pass the filter (pgvector 0.8).
        cursor.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
        cursor.execute("SET LOCAL hnsw.ef_search = 100")
        cursor.execute(_SQL, params)
        rows = cursor.fetchall()
    return [
        Hit(
            chunk=r[0],
            document=r[1],
            position=r[2],
            heading=r[3],
            page=r[4],
            text=r[5],
            title=r[6] or r[7],
            path=r[7],
            score=float(r[8]),
            similarity=float(r[9]),
        )
        for r in rows
    ]
