"""Hybrid retrieval inside PostgreSQL, filtered to what the reader may read.

One round trip ranks by three lanes fused by reciprocal rank:
- pgvector cosine (HNSW, iterative scan so the permission filter does not
  starve the result);
- full-text search, heading weighted above body, leaving out words too common
  in the reader's chunks to rank by, and ranking only the chunks of the rarest
  words when together they hold more than a budget of chunks;
- exact terms: chunks holding a query word that is rare in the reader's chunks
  (a code, an error message, a name), ordered by how rare (inverse document
  frequency). Without this lane a chunk found only by full text at rank 1
  scores below dozens of vector candidates that, for a made-up word, are noise.

The word counts both text lanes weigh by are kept per collection by triggers
(knowledge.search_stats), not taken per question.

Before that, query words the reader's own vocabulary does not hold are
corrected to the nearest word it does hold (knowledge.spelling), so typos
still find the document. The query runs in its own short transaction so SET
LOCAL applies to it alone.

The knobs are a frozen `SearchTuning`; the default is what answering uses, and
evaluation.variants measures others through this same code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import connection, transaction

from knowledge.search_stats import WORD_COUNTS
from knowledge.selectors import ReaderScope
from knowledge.spelling import query_correct

_WORD = re.compile(r"[\w][\w'-]*", re.UNICODE)


@dataclass(frozen=True)
class SearchTuning:
    """How the lanes are weighed. Defaults are measured (docs/quality.md)."""

    # The reciprocal-rank constant: each lane adds weight / (rrf_k + rank).
    rrf_k: int = 60
    vector_weight: float = 1.0
    # The full-text lane is the weaker retriever alone; at 0.5 Docent beat the plain
    # baseline on all three QA sets measured (docs/quality.md).
    text_weight: float = 0.5
    # A query word in more than this share of the reader's chunks is too common to rank by
    # (swept 0.08-1.0: 0.25 and up tie at best on the sample set). None keeps every word.
    common_share: float | None = 0.4
    # Rows each of the vector and full-text lanes contributes; None: max(40, 8 k).
    candidates: int | None = None
    # The full-text lane ranks the chunks holding the query's rarest ranking words, adding
    # words rarest first while together they are in at most this many of the reader's
    # chunks (the rarest word always counts). None ranks every chunk holding any of them.
    text_budget: int | None = 1500
    # ts_rank_cd weights of {D, C, B, A}; headings are A, body B (PostgreSQL's default).
    rank_weights: tuple[float, float, float, float] = (0.1, 0.2, 0.4, 1.0)
    # The exact-term lane: words found in at most `exact_max_chunks` of the reader's chunks.
    # 0 turns the lane off. At 1.5 its first chunk scores as much as one first in both the
    # vector and the text lane: a code asked inside a question ranked in the top 3 for 0.83
    # of rare words (0.42 at 1.0), at the cost of one aptitude question (bench/exact_terms.py,
    # docs/quality.md).
    exact_weight: float = 1.5
    exact_max_chunks: int = 2
    # False: only words the embedding model cannot spell as one token (codes, names, jargon)
    # enter the exact lane; ordinary words ("daily") the vector lane already understands.
    exact_ordinary_words: bool = False
    # The section lane: among the candidates, those whose text, heading path or parent
    # sections' text cover the most of the question's ranking words, all or all but
    # `section_missing` of them (at least two), so "Daily meal allowance in Canada?" lands
    # on "Per diem > North America > Canada" rather than the introduction. 0: off.
    section_weight: float = 1.0
    # How many of the question's ranking words a section may miss and still count.
    section_missing: int = 1
    # Only sections whose own heading holds one of those words (the qualifier asked about).
    section_named: bool = True
    # Correct query words missing from the reader's vocabulary (knowledge.spelling).
    correct_typos: bool = True
    # At most this many chunks of one document in the result; None: no cap.
    per_document: int | None = None


DEFAULT_TUNING = SearchTuning()
# Candidates an HNSW scan keeps (pgvector's hnsw.ef_search, default 40); chosen with
# bench/filtered_recall.py, a reader of 30 % of 100,000 chunks: recall@10 against exact
# search 0.888 at 40, 0.970 at 100, 0.992 at 200 (p95 6.7 ms), 0.998 at 400 (docs/quality.md).
EF_SEARCH = 200

_SQL = f"""
-- Full-text ranking has no IDF: a word found in a large share of the reader's chunks
-- ("work", "get") would outrank the one rare word that matters ("e-bike"). Each query
-- word's count of the reader's chunks, and theirs: `words`, `frequency`, `total`.
WITH {WORD_COUNTS},
vec AS (
    SELECT id, row_number() OVER (ORDER BY distance) AS rank
    FROM (
        SELECT c.id, c.embedding <=> %(vector)s::vector AS distance
        FROM knowledge_chunk c
        WHERE c.collection_id = ANY(%(collections)s)
        ORDER BY distance
        LIMIT %(candidates)s
    ) nearest
),
-- The words that rank, rarest first, each with the chunks holding it or a rarer one.
rarest_first AS (
    SELECT f.term,
           row_number() OVER (ORDER BY f.chunks, f.term) AS nth,
           sum(f.chunks) OVER (ORDER BY f.chunks, f.term) AS chunks_so_far
    FROM frequency f, total
    WHERE f.chunks BETWEEN 1 AND GREATEST(%(common_floor)s, total.chunks * %(common_share)s)
),
-- `q` ranks; `found` picks the chunks to rank: those holding the rarest words, as many as
-- fit in the budget (always the rarest one). Ranking every chunk that holds any word
-- was half of a search's time at 100,000 chunks (docs/quality.md).
query AS (
    SELECT ranking.q, COALESCE(budget.q, ranking.q) AS found
    FROM (
        SELECT COALESCE(
            (SELECT string_agg(quote_literal(f.term), ' | ')::tsquery FROM frequency f, total
             WHERE f.chunks <= GREATEST(%(common_floor)s, total.chunks * %(common_share)s)),
            websearch_to_tsquery('english', %(text)s)
        ) AS q
    ) ranking,
    LATERAL (
        SELECT string_agg(quote_literal(r.term), ' | ')::tsquery AS q FROM rarest_first r
        WHERE r.nth = 1 OR r.chunks_so_far <= %(text_budget)s
    ) budget
),
fts AS (
    SELECT c.id, row_number() OVER (
        ORDER BY ts_rank_cd(%(rank_weights)s::float4[], c.search_vector, query.q) DESC
    ) AS rank
    FROM knowledge_chunk c, query
    WHERE c.collection_id = ANY(%(collections)s) AND c.search_vector @@ query.found
    ORDER BY ts_rank_cd(%(rank_weights)s::float4[], c.search_vector, query.q) DESC
    LIMIT %(candidates)s
),
-- Words so rare in the reader's chunks that finding one is a strong signal on its own.
rare AS (
    SELECT f.term, ln((total.chunks + 1)::float / f.chunks) AS idf
    FROM frequency f, total
    WHERE f.chunks BETWEEN 1 AND %(exact_max_chunks)s
      AND f.term = ANY(tsvector_to_array(to_tsvector('english', %(exact_words)s)))
),
exact AS (
    SELECT id, row_number() OVER (ORDER BY idf DESC, id) AS rank
    FROM (
        SELECT c.id, sum(rare.idf) AS idf
        FROM rare
        JOIN knowledge_chunk c
          ON c.collection_id = ANY(%(collections)s)
         AND c.search_vector @@ quote_literal(rare.term)::tsquery
        GROUP BY c.id
    ) matched
),
lanes AS (
    SELECT COALESCE(vec.id, fts.id, exact.id) AS id,
           COALESCE(%(vector_weight)s / (%(rrf_k)s + vec.rank), 0)
             + COALESCE(%(text_weight)s / (%(rrf_k)s + fts.rank), 0)
             + COALESCE(%(exact_weight)s / (%(rrf_k)s + exact.rank), 0) AS score
    FROM vec
    FULL OUTER JOIN fts ON vec.id = fts.id
    FULL OUTER JOIN exact ON exact.id = COALESCE(vec.id, fts.id)
),
-- The section lane. A chunk's context is its own text and heading path and the chunks of
-- its parent sections ("A > B" for "A > B > C"): a short "Canada" list under "Per diem"
-- inherits the per-diem introduction's "meal allowance".
ranking_terms AS (
    SELECT f.term FROM frequency f, total
    WHERE %(section_weight)s > 0
      AND f.chunks BETWEEN 1 AND GREATEST(%(common_floor)s, total.chunks * %(common_share)s)
),
pool AS (
    SELECT c.id, c.document_id, string_to_array(c.heading, ' > ') AS path, c.search_vector
    FROM lanes JOIN knowledge_chunk c ON c.id = lanes.id
    WHERE EXISTS (SELECT 1 FROM ranking_terms)
),
context AS (
    SELECT pool.id, pool.search_vector AS words FROM pool
    UNION ALL
    SELECT pool.id, p.search_vector
    FROM pool
    CROSS JOIN LATERAL generate_series(1, cardinality(pool.path) - 1) AS depth
    JOIN knowledge_chunk p
      ON p.document_id = pool.document_id
     AND p.heading = array_to_string(pool.path[1:depth], ' > ')
),
covered AS (
    SELECT context.id, count(DISTINCT t.term) AS terms
    FROM context JOIN ranking_terms t ON context.words @@ quote_literal(t.term)::tsquery
    GROUP BY context.id
),
-- Sections named by a question word (their own heading, not a parent's): "Canada".
named AS (
    SELECT covered.id, covered.terms
    FROM covered JOIN pool ON pool.id = covered.id
    WHERE NOT %(section_named)s OR EXISTS (
        SELECT 1 FROM ranking_terms t
        WHERE cardinality(pool.path) > 0
          AND to_tsvector('english', pool.path[cardinality(pool.path)])
              @@ quote_literal(t.term)::tsquery
    )
),
section AS (
    SELECT named.id, row_number() OVER (ORDER BY lanes.score DESC, named.id) AS rank
    FROM named JOIN lanes ON lanes.id = named.id
    WHERE named.terms = (SELECT max(terms) FROM named)
      AND named.terms >= GREATEST(2, (SELECT count(*) FROM ranking_terms) - %(section_missing)s)
),
fused AS (
    SELECT lanes.id,
           lanes.score + COALESCE(%(section_weight)s / (%(rrf_k)s + section.rank), 0) AS score
    FROM lanes LEFT JOIN section ON section.id = lanes.id
),
ranked AS (
    SELECT fused.id, fused.score, c.embedding <=> %(vector)s::vector AS distance,
           row_number() OVER (PARTITION BY c.document_id ORDER BY fused.score DESC) AS nth
    FROM fused JOIN knowledge_chunk c ON c.id = fused.id
    WHERE fused.score > 0
)
SELECT c.id, c.document_id, c.position, c.heading, c.page, c.text,
       d.title, d.original_name, ranked.score, 1 - ranked.distance AS similarity
FROM ranked
JOIN knowledge_chunk c ON c.id = ranked.id
JOIN knowledge_document d ON d.id = c.document_id
WHERE ranked.nth <= %(per_document)s
ORDER BY ranked.score DESC, ranked.distance
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


def unusual_words(text: str) -> str:
    """The words the embedding model has no single token for: codes, names, jargon
    ("qx7741", "ledgerly", "debconf"), which only an exact match can find."""
    from knowledge.embeddings import get_tokenizer

    tokenizer = get_tokenizer()
    words = [w for w in _WORD.findall(text.lower()) if tokenizer.token_to_id(w) is None]
    return " ".join(words)


def _vector_literal(vector: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.7f}" for x in vector) + "]"


def chunk_search(
    *,
    scope: ReaderScope,
    query: str,
    vector: np.ndarray,
    k: int = 5,
    tuning: SearchTuning = DEFAULT_TUNING,
) -> list[Hit]:
    """The reader's `k` best chunks for `query`, whose embedding is `vector`.

    When a typo is corrected the corrected query is embedded again: the caller's
    vector was made from the misspelled words.
    """
    if not scope.collection_ids or not query.strip():
        return []
    if tuning.correct_typos:
        correction = query_correct(scope=scope, query=query)
        if correction.changed:
            from knowledge.embeddings import embed_query

            query, vector = correction.text, embed_query(correction.text)
    candidates = tuning.candidates or max(40, k * 8)
    params: dict[str, Any] = {
        "vector": _vector_literal(vector),
        "collections": list(scope.collection_ids),
        "text": fulltext_query(query),
        "words": query,
        "common_share": 1.0 if tuning.common_share is None else tuning.common_share,
        "common_floor": 3,
        "candidates": candidates,
        "text_budget": tuning.text_budget if tuning.text_budget is not None else 2**31 - 1,
        "rank_weights": list(tuning.rank_weights),
        "rrf_k": tuning.rrf_k,
        "vector_weight": tuning.vector_weight,
        "text_weight": tuning.text_weight,
        "exact_weight": tuning.exact_weight,
        "exact_max_chunks": tuning.exact_max_chunks if tuning.exact_weight else 0,
        "exact_words": query if tuning.exact_ordinary_words else unusual_words(query),
        "section_weight": tuning.section_weight,
        "section_missing": tuning.section_missing,
        "section_named": tuning.section_named,
        "per_document": tuning.per_document or k,
        "limit": k,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        # Filtered HNSW scans keep scanning until enough rows pass the filter (pgvector 0.8).
        cursor.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
        cursor.execute(f"SET LOCAL hnsw.ef_search = {EF_SEARCH}")
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
