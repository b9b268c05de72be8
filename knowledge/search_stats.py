"""How many of a reader's chunks hold each query word, and how many chunks it may read.

knowledge.search weighs words by these counts (too common to rank, rare enough for
the exact-term lane). Triggers keep them per collection in two tables (migration
0005), in the same transaction as the chunks; a reader's figure is the sum over the
collections of its scope, so one reader's counts never include chunks it cannot
read, and nothing needs invalidating when documents come and go.

`WORD_COUNTS` is the common table expressions the search query starts with; it
takes the parameters `words` (the query text) and `collections` (the scope's).
"""

from __future__ import annotations

from django.db import connection

from knowledge.selectors import ReaderScope

WORD_COUNTS = """
words AS (
    SELECT DISTINCT term FROM unnest(tsvector_to_array(to_tsvector('english', %(words)s))) term
),
frequency AS (
    SELECT w.term,
           COALESCE((SELECT sum(s.chunks) FROM knowledge_search_term s
                     WHERE s.term = w.term AND s.collection_id = ANY(%(collections)s)), 0) AS chunks
    FROM words w
),
total AS (
    SELECT COALESCE(sum(s.chunks), 0) AS chunks FROM knowledge_search_collection s
    WHERE s.collection_id = ANY(%(collections)s)
)
"""


def word_counts(*, scope: ReaderScope, text: str) -> tuple[dict[str, int], int]:
    """For each stemmed word of `text`, how many of the reader's chunks hold it; and how
    many chunks the reader may read. What a search weighs the words by."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH {WORD_COUNTS} SELECT f.term, f.chunks, total.chunks FROM frequency f, total",
            {"words": text, "collections": list(scope.collection_ids)},
        )
        rows = cursor.fetchall()
    total = rows[0][2] if rows else 0
    return {term: chunks for term, chunks, _ in rows}, total
