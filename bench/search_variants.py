"""Scratch copies of Docent's search SQL with its knobs exposed, for bench/retrieval_quality.py.

Nothing here is used by Docent: it measures what a change to knowledge/search.py
(or to chunking) would do before anyone makes it. Each variant returns chunk
hits in rank order for the evaluation in knowledge.evaluation.

Knobs:
- vec_weight, fts_weight: multipliers of the two reciprocal-rank terms (0 drops an arm);
- rrf_k: the reciprocal-rank constant (Docent: 60);
- candidates: rows each arm contributes (Docent: max(40, 8k));
- weights: ts_rank_cd weights {D, C, B, A}; headings are A, body B (Docent: PostgreSQL's
  default {0.1, 0.2, 0.4, 1.0});
- query: "or" (Docent: any word may match), "and" (the question as websearch syntax: every
  word must match);
- norm: ts_rank_cd's normalisation (Docent: 0; 1 divides by 1 + log(length));
- text_candidates: rows the text arm contributes (default: as many as the vector arm);
- common_share: leave out the question's words found in more than this share of the
  reader's chunks, as search.py does since 4c83476 with COMMON_WORD_SHARE (0.4);
- per_document: at most this many chunks of one document in the top k (Docent: no cap);
- rechunk: re-chunk the same documents at this many tokens (Docent: CHUNK_TOKENS, 200) into
  a session-only table, embed them, and search that instead.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import connection, transaction

from knowledge.evaluation import RankedDocument, Retriever
from knowledge.models import Document, DocumentStatus
from knowledge.search import fulltext_query
from knowledge.selectors import ReaderScope

_SQL = """
WITH vec AS (
    SELECT id, row_number() OVER (ORDER BY distance) AS rank
    FROM (
        SELECT c.id, c.embedding <=> %(vector)s::vector AS distance
        FROM {table} c
        WHERE c.collection_id = ANY(%(collections)s)
        ORDER BY distance
        LIMIT %(candidates)s
    ) nearest
),
query AS ({query_sql}),
fts AS (
    SELECT c.id, row_number() OVER (
        ORDER BY ts_rank_cd(%(weights)s::float4[], c.search_vector, query.q, %(norm)s) DESC
    ) AS rank
    FROM {table} c, query
    WHERE c.collection_id = ANY(%(collections)s) AND c.search_vector @@ query.q
    ORDER BY ts_rank_cd(%(weights)s::float4[], c.search_vector, query.q, %(norm)s) DESC
    LIMIT %(text_candidates)s
),
fused AS (
    SELECT COALESCE(vec.id, fts.id) AS id,
           %(vec_weight)s * COALESCE(1.0 / (%(rrf_k)s + vec.rank), 0)
         + %(fts_weight)s * COALESCE(1.0 / (%(rrf_k)s + fts.rank), 0) AS score
    FROM vec FULL OUTER JOIN fts ON vec.id = fts.id
)
SELECT document_id, original_name, title
FROM (
    SELECT c.document_id, d.original_name, d.title, fused.score,
           c.embedding <=> %(vector)s::vector AS distance,
           row_number() OVER (PARTITION BY c.document_id ORDER BY fused.score DESC) AS nth
    FROM fused
    JOIN {table} c ON c.id = fused.id
    JOIN knowledge_document d ON d.id = c.document_id
    WHERE fused.score > 0
) ranked
WHERE nth <= %(per_document)s
ORDER BY score DESC, distance
LIMIT %(limit)s
"""

_WEBSEARCH = "SELECT websearch_to_tsquery('english', %(text)s) AS q"

# As search.py since 4c83476: the question's words, leaving out those found in more than
# `common_share` of the reader's chunks (PostgreSQL's ts_rank has no inverse document
# frequency), with a floor of 3 chunks, and the plain query if no word is left.
_COMMON_WORDS_CUT = """
WITH words AS (
    SELECT DISTINCT term FROM unnest(tsvector_to_array(to_tsvector('english', %(words)s))) term
),
frequency AS (
    SELECT w.term,
           (SELECT count(*) FROM {table} c
            WHERE c.collection_id = ANY(%(collections)s)
              AND c.search_vector @@ quote_literal(w.term)::tsquery) AS chunks
    FROM words w
),
total AS (SELECT count(*) AS chunks FROM {table} WHERE collection_id = ANY(%(collections)s))
SELECT COALESCE(
    (SELECT string_agg(quote_literal(f.term), ' | ')::tsquery FROM frequency f, total
     WHERE f.chunks <= GREATEST(3, total.chunks * %(common_share)s)),
    websearch_to_tsquery('english', %(text)s)
) AS q
"""

# label -> knobs. "skeleton hybrid" is search.py as of the walking skeleton (48dd2e2): equal
# weights, every word. "cut 0.4" is search.py as of 4c83476, and must rank exactly as "docent"
# does while search.py stays so: a check that these copies measure what they claim.
VARIANTS: dict[str, dict] = {
    "skeleton hybrid": {},
    "vector only": {"fts_weight": 0},
    "text only": {"vec_weight": 0},
    "text x0.25": {"fts_weight": 0.25},
    "no heading boost": {"weights": [0.1, 0.2, 0.4, 0.4]},
    "<=2 chunks per document": {"per_document": 2},
    "rechunk 120": {"rechunk": 120},
    "cut 0.4 (= search.py 4c83476)": {"common_share": 0.4},
    "cut 0.4, text only": {"common_share": 0.4, "vec_weight": 0},
    "cut 0.25": {"common_share": 0.25},
    "cut 0.08": {"common_share": 0.08},
    "cut 0.4, text x0.5": {"common_share": 0.4, "fts_weight": 0.5},
    "cut 0.4, text x0.25": {"common_share": 0.4, "fts_weight": 0.25},
    "cut 0.25, text x0.5": {"common_share": 0.25, "fts_weight": 0.5},
    "cut 0.25, text x0.25": {"common_share": 0.25, "fts_weight": 0.25},
    "cut 0.08, text x0.25": {"common_share": 0.08, "fts_weight": 0.25},
    "cut 0.4, <=2 per document": {"common_share": 0.4, "per_document": 2},
}


def variant_retriever(
    scope: ReaderScope,
    *,
    vec_weight: float = 1.0,
    fts_weight: float = 1.0,
    rrf_k: int = 60,
    candidates: int | None = None,
    weights: list[float] | None = None,
    query: str = "or",
    norm: int = 0,
    text_candidates: int | None = None,
    common_share: float | None = None,
    per_document: int | None = None,
    rechunk: int | None = None,
) -> Retriever:
    table = "knowledge_chunk" if rechunk is None else rechunked_table(scope.collection_ids, rechunk)
    query_sql = _WEBSEARCH if common_share is None else _COMMON_WORDS_CUT.format(table=table)
    sql = _SQL.format(table=table, query_sql=query_sql)

    def retrieve(question: str, vector: np.ndarray, k: int) -> list[RankedDocument]:
        params = {
            "vector": "[" + ",".join(f"{x:.7f}" for x in vector) + "]",
            "collections": list(scope.collection_ids),
            "text": fulltext_query(question) if query == "or" else question,
            "candidates": candidates or max(40, k * 8),
            "text_candidates": text_candidates or candidates or max(40, k * 8),
            "norm": norm,
            "common_share": common_share or 0,
            "words": question,
            "per_document": per_document or k,
            "rrf_k": rrf_k,
            "vec_weight": vec_weight,
            "fts_weight": fts_weight,
            "weights": weights or [0.1, 0.2, 0.4, 1.0],
            "limit": k,
        }
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
            cursor.execute("SET LOCAL hnsw.ef_search = 100")
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        return [RankedDocument(id=r[0], path=r[1], title=r[2] or r[1]) for r in rows]

    return retrieve


# --- re-chunking at another size --------------------------------------------------------------


@lru_cache(maxsize=8)
def rechunked_table(collection_ids: tuple[int, ...], tokens: int) -> str:
    """A TEMP table (gone when the run ends) with the same columns search needs."""
    from knowledge.chunking import chunk_document
    from knowledge.embeddings import embed_passages
    from knowledge.parsers.sandbox import parse_file

    name = f"bench_chunk_{tokens}_{abs(hash(collection_ids)) % 10**8}"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            CREATE TEMP TABLE {name} (
                id bigserial PRIMARY KEY,
                document_id bigint NOT NULL,
                collection_id bigint NOT NULL,
                heading text NOT NULL,
                text text NOT NULL,
                embedding vector({settings.EMBEDDING_DIMENSIONS}) NOT NULL,
                search_vector tsvector GENERATED ALWAYS AS (
                    setweight(to_tsvector('english', heading), 'A')
                    || setweight(to_tsvector('english', text), 'B')
                ) STORED
            )"""
        )
    rows: list[tuple[int, int, str, str]] = []
    texts: list[str] = []
    documents = Document.objects.filter(
        collection_id__in=collection_ids, status=DocumentStatus.READY
    ).order_by("pk")
    for document in documents:
        parsed = parse_file(path=Path(document.file.path), original_name=document.original_name)
        overlap = max(0, tokens * settings.CHUNK_OVERLAP_TOKENS // settings.CHUNK_TOKENS)
        for draft in chunk_document(parsed, tokens=tokens, overlap=overlap):
            rows.append((document.pk, document.collection_id, draft.heading, draft.text))
            texts.append(draft.embedding_text)
    vectors = embed_passages(texts)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {name} (document_id, collection_id, heading, text, embedding) "
            "VALUES (%s, %s, %s, %s, %s::vector)",
            [
                (*row, "[" + ",".join(f"{x:.7f}" for x in vector) + "]")
                for row, vector in zip(rows, vectors, strict=True)
            ],
        )
    print(f"  (re-chunked {len(documents)} documents at {tokens} tokens: {len(rows)} chunks)")
    return name
