"""The reader's vocabulary for typo correction (knowledge.spelling).

Every word of every chunk (PostgreSQL's `simple` parser: lower case, no stemming),
counted per collection. Triggers on knowledge_chunk keep the counts in step with
the chunks whatever code writes them, so ingestion needs no extra step; it is a
derived index like the full-text one, and no Django model reads it. (pg_trgm
would serve "which known words look like this one" in SQL, but the embedded
PostgreSQL ships only plpgsql and vector: knowledge.spelling does the trigram
matching in Python over this table.) Also an index on a chunk's document and
heading, for the section lane of knowledge.search.
"""

from __future__ import annotations

from django.db import migrations

_WORDS = "unnest(tsvector_to_array(to_tsvector('simple', {r}.heading || ' ' || {r}.text)))"

_CREATE = f"""
CREATE TABLE knowledge_search_word (
    word text NOT NULL,
    collection_id bigint NOT NULL,
    chunks integer NOT NULL,
    PRIMARY KEY (word, collection_id)
);
CREATE INDEX knowledge_search_word_collection ON knowledge_search_word (collection_id);

-- Words are added in one order so concurrent ingests lock rows in the same order.
CREATE FUNCTION knowledge_search_word_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO knowledge_search_word AS v (word, collection_id, chunks)
    SELECT w.word, n.collection_id, count(*)
    FROM new_rows n, {_WORDS.format(r="n")} AS w(word)
    GROUP BY w.word, n.collection_id
    ORDER BY w.word, n.collection_id
    ON CONFLICT (word, collection_id) DO UPDATE SET chunks = v.chunks + EXCLUDED.chunks;
    RETURN NULL;
END $$;

CREATE FUNCTION knowledge_search_word_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE knowledge_search_word v SET chunks = v.chunks - gone.chunks
    FROM (
        SELECT w.word, o.collection_id, count(*) AS chunks
        FROM old_rows o, {_WORDS.format(r="o")} AS w(word)
        GROUP BY w.word, o.collection_id
    ) gone
    WHERE v.word = gone.word AND v.collection_id = gone.collection_id;
    DELETE FROM knowledge_search_word v
    WHERE v.chunks <= 0 AND v.collection_id IN (SELECT DISTINCT collection_id FROM old_rows);
    RETURN NULL;
END $$;

-- Only rows whose words or collection changed count (re-embedding leaves them alone).
CREATE FUNCTION knowledge_search_word_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE knowledge_search_word v SET chunks = v.chunks - gone.chunks
    FROM (
        SELECT w.word, o.collection_id, count(*) AS chunks
        FROM old_rows o JOIN new_rows n ON n.id = o.id, {_WORDS.format(r="o")} AS w(word)
        WHERE (o.collection_id, o.heading, o.text) IS DISTINCT FROM (n.collection_id, n.heading, n.text)
        GROUP BY w.word, o.collection_id
    ) gone
    WHERE v.word = gone.word AND v.collection_id = gone.collection_id;
    INSERT INTO knowledge_search_word AS v (word, collection_id, chunks)
    SELECT w.word, n.collection_id, count(*)
    FROM new_rows n JOIN old_rows o ON o.id = n.id, {_WORDS.format(r="n")} AS w(word)
    WHERE (o.collection_id, o.heading, o.text) IS DISTINCT FROM (n.collection_id, n.heading, n.text)
    GROUP BY w.word, n.collection_id
    ORDER BY w.word, n.collection_id
    ON CONFLICT (word, collection_id) DO UPDATE SET chunks = v.chunks + EXCLUDED.chunks;
    DELETE FROM knowledge_search_word v
    WHERE v.chunks <= 0 AND v.collection_id IN (SELECT DISTINCT collection_id FROM old_rows);
    RETURN NULL;
END $$;

-- Django's test flush truncates the chunks: the vocabulary goes with them.
CREATE FUNCTION knowledge_search_word_clear() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE knowledge_search_word;
    RETURN NULL;
END $$;

CREATE TRIGGER knowledge_search_word_add AFTER INSERT ON knowledge_chunk
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION knowledge_search_word_add();
CREATE TRIGGER knowledge_search_word_remove AFTER DELETE ON knowledge_chunk
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION knowledge_search_word_remove();
CREATE TRIGGER knowledge_search_word_change AFTER UPDATE ON knowledge_chunk
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION knowledge_search_word_change();
CREATE TRIGGER knowledge_search_word_clear AFTER TRUNCATE ON knowledge_chunk
    FOR EACH STATEMENT EXECUTE FUNCTION knowledge_search_word_clear();

-- The section lane of knowledge.search looks up a chunk's parent sections by heading.
CREATE INDEX knowledge_chunk_document_heading ON knowledge_chunk (document_id, heading);

-- The chunks already stored.
INSERT INTO knowledge_search_word (word, collection_id, chunks)
SELECT w.word, c.collection_id, count(*)
FROM knowledge_chunk c, {_WORDS.format(r="c")} AS w(word)
GROUP BY w.word, c.collection_id;
"""

_DROP = """
DROP TRIGGER IF EXISTS knowledge_search_word_add ON knowledge_chunk;
DROP TRIGGER IF EXISTS knowledge_search_word_remove ON knowledge_chunk;
DROP TRIGGER IF EXISTS knowledge_search_word_change ON knowledge_chunk;
DROP TRIGGER IF EXISTS knowledge_search_word_clear ON knowledge_chunk;
DROP FUNCTION IF EXISTS knowledge_search_word_add();
DROP FUNCTION IF EXISTS knowledge_search_word_remove();
DROP FUNCTION IF EXISTS knowledge_search_word_change();
DROP FUNCTION IF EXISTS knowledge_search_word_clear();
DROP TABLE IF EXISTS knowledge_search_word;
DROP INDEX IF EXISTS knowledge_chunk_document_heading;
"""


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0002_remove_document_mime")]

    operations = [migrations.RunSQL(_CREATE, reverse_sql=_DROP)]
