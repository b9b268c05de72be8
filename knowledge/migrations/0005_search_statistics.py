"""The counts knowledge.search weighs words by, kept up to date instead of counted per search.

A hybrid search needs, for the reader's collections, how many chunks there are and
how many of them hold each query word (a stemmed lexeme of the full-text index):
too common words do not rank, rare ones make the exact-term lane. Counting them on
every search cost 12 of a search's 35 ms at 100,000 chunks (docs/quality.md).

Two tables hold them per collection, so a reader's figure is the sum over exactly
the collections it may read, and statement-level triggers on knowledge_chunk keep
them in step, in the same transaction as the chunks, whatever code writes them (as
knowledge_search_word, migration 0003, does for the typo vocabulary). Nothing to
invalidate: a search sees the counts of the chunks it sees.
"""

from __future__ import annotations

from django.db import migrations

_TERMS = "unnest(tsvector_to_array({r}.search_vector))"
_CHANGED = (
    "old_rows o JOIN new_rows n ON n.id = o.id "
    "AND (o.collection_id, o.search_vector) IS DISTINCT FROM (n.collection_id, n.search_vector)"
)
_MOVED = "old_rows o JOIN new_rows n ON n.id = o.id AND o.collection_id <> n.collection_id"

_CREATE = f"""
CREATE TABLE knowledge_search_term (
    term text NOT NULL,
    collection_id bigint NOT NULL,
    chunks integer NOT NULL,
    PRIMARY KEY (term, collection_id)
);
CREATE INDEX knowledge_search_term_collection ON knowledge_search_term (collection_id);

CREATE TABLE knowledge_search_collection (
    collection_id bigint PRIMARY KEY,
    chunks integer NOT NULL
);

-- Rows are added in one order so concurrent ingests lock them in the same order.
CREATE FUNCTION knowledge_search_stats_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO knowledge_search_term AS s (term, collection_id, chunks)
    SELECT t.term, n.collection_id, count(*)
    FROM new_rows n, {_TERMS.format(r="n")} AS t(term)
    GROUP BY t.term, n.collection_id
    ORDER BY t.term, n.collection_id
    ON CONFLICT (term, collection_id) DO UPDATE SET chunks = s.chunks + EXCLUDED.chunks;
    INSERT INTO knowledge_search_collection AS s (collection_id, chunks)
    SELECT n.collection_id, count(*) FROM new_rows n
    GROUP BY n.collection_id
    ORDER BY n.collection_id
    ON CONFLICT (collection_id) DO UPDATE SET chunks = s.chunks + EXCLUDED.chunks;
    RETURN NULL;
END $$;

CREATE FUNCTION knowledge_search_stats_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE knowledge_search_term s SET chunks = s.chunks - gone.chunks
    FROM (
        SELECT t.term, o.collection_id, count(*) AS chunks
        FROM old_rows o, {_TERMS.format(r="o")} AS t(term)
        GROUP BY t.term, o.collection_id
    ) gone
    WHERE s.term = gone.term AND s.collection_id = gone.collection_id;
    DELETE FROM knowledge_search_term s
    WHERE s.chunks <= 0 AND s.collection_id IN (SELECT DISTINCT collection_id FROM old_rows);
    UPDATE knowledge_search_collection s SET chunks = s.chunks - gone.chunks
    FROM (SELECT o.collection_id, count(*) AS chunks FROM old_rows o GROUP BY o.collection_id) gone
    WHERE s.collection_id = gone.collection_id;
    DELETE FROM knowledge_search_collection WHERE chunks <= 0;
    RETURN NULL;
END $$;

-- Only rows whose words or collection changed count (re-embedding leaves them alone).
CREATE FUNCTION knowledge_search_stats_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE knowledge_search_term s SET chunks = s.chunks - gone.chunks
    FROM (
        SELECT t.term, o.collection_id, count(*) AS chunks
        FROM {_CHANGED}, {_TERMS.format(r="o")} AS t(term)
        GROUP BY t.term, o.collection_id
    ) gone
    WHERE s.term = gone.term AND s.collection_id = gone.collection_id;
    INSERT INTO knowledge_search_term AS s (term, collection_id, chunks)
    SELECT t.term, n.collection_id, count(*)
    FROM {_CHANGED}, {_TERMS.format(r="n")} AS t(term)
    GROUP BY t.term, n.collection_id
    ORDER BY t.term, n.collection_id
    ON CONFLICT (term, collection_id) DO UPDATE SET chunks = s.chunks + EXCLUDED.chunks;
    DELETE FROM knowledge_search_term s
    WHERE s.chunks <= 0 AND s.collection_id IN (SELECT DISTINCT collection_id FROM old_rows);

    UPDATE knowledge_search_collection s SET chunks = s.chunks - moved.chunks
    FROM (
        SELECT o.collection_id, count(*) AS chunks FROM {_MOVED} GROUP BY o.collection_id
    ) moved
    WHERE s.collection_id = moved.collection_id;
    INSERT INTO knowledge_search_collection AS s (collection_id, chunks)
    SELECT n.collection_id, count(*) FROM {_MOVED}
    GROUP BY n.collection_id
    ORDER BY n.collection_id
    ON CONFLICT (collection_id) DO UPDATE SET chunks = s.chunks + EXCLUDED.chunks;
    DELETE FROM knowledge_search_collection WHERE chunks <= 0;
    RETURN NULL;
END $$;

-- Django's test flush truncates the chunks: the counts go with them.
CREATE FUNCTION knowledge_search_stats_clear() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE knowledge_search_term, knowledge_search_collection;
    RETURN NULL;
END $$;

CREATE TRIGGER knowledge_search_stats_add AFTER INSERT ON knowledge_chunk
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION knowledge_search_stats_add();
CREATE TRIGGER knowledge_search_stats_remove AFTER DELETE ON knowledge_chunk
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION knowledge_search_stats_remove();
CREATE TRIGGER knowledge_search_stats_change AFTER UPDATE ON knowledge_chunk
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION knowledge_search_stats_change();
CREATE TRIGGER knowledge_search_stats_clear AFTER TRUNCATE ON knowledge_chunk
    FOR EACH STATEMENT EXECUTE FUNCTION knowledge_search_stats_clear();

-- The chunks already stored.
INSERT INTO knowledge_search_term (term, collection_id, chunks)
SELECT t.term, c.collection_id, count(*)
FROM knowledge_chunk c, {_TERMS.format(r="c")} AS t(term)
GROUP BY t.term, c.collection_id;
INSERT INTO knowledge_search_collection (collection_id, chunks)
SELECT collection_id, count(*) FROM knowledge_chunk GROUP BY collection_id;
"""

_DROP = """
DROP TRIGGER IF EXISTS knowledge_search_stats_add ON knowledge_chunk;
DROP TRIGGER IF EXISTS knowledge_search_stats_remove ON knowledge_chunk;
DROP TRIGGER IF EXISTS knowledge_search_stats_change ON knowledge_chunk;
DROP TRIGGER IF EXISTS knowledge_search_stats_clear ON knowledge_chunk;
DROP FUNCTION IF EXISTS knowledge_search_stats_add();
DROP FUNCTION IF EXISTS knowledge_search_stats_remove();
DROP FUNCTION IF EXISTS knowledge_search_stats_change();
DROP FUNCTION IF EXISTS knowledge_search_stats_clear();
DROP TABLE IF EXISTS knowledge_search_term;
DROP TABLE IF EXISTS knowledge_search_collection;
"""


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0004_collection_manager_groups")]

    operations = [migrations.RunSQL(_CREATE, reverse_sql=_DROP)]
