"""The word counts a search weighs by (migration 0005) follow the chunks, per collection.

knowledge.search reads how many of the reader's chunks there are and how many hold each
query word from two tables that triggers keep; these tests hold them to a recount from
the chunks themselves as documents come, change, move and go, and hold a reader's
figures to the collections it may read.
"""

from __future__ import annotations

import pytest
from django.db import connection

from accounts.models import User
from knowledge.lifecycle import document_delete
from knowledge.models import Chunk, Collection
from knowledge.search_stats import word_counts
from knowledge.selectors import reader_scope
from tests.support.corpus import ingest_text

pytestmark = pytest.mark.django_db

FERRY = "# Ferries\n\nThe ferry leaves at noon.\n"
LAST_FERRY = "# Ferries\n\nThe last ferry leaves at midnight.\n"


def _rows(sql: str, params: list) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return dict(cursor.fetchall())


def _kept(collection: Collection) -> tuple[dict[str, int], int]:
    """The counts the triggers keep for a collection: per stemmed word, and chunks."""
    terms = _rows(
        "SELECT term, chunks FROM knowledge_search_term WHERE collection_id = %s", [collection.pk]
    )
    total = _rows(
        "SELECT collection_id, chunks FROM knowledge_search_collection WHERE collection_id = %s",
        [collection.pk],
    )
    return terms, total.get(collection.pk, 0)


def _recounted(collection: Collection) -> tuple[dict[str, int], int]:
    """The same counts taken from the chunks, as a search once did on every question."""
    terms = _rows(
        "SELECT t.term, count(*) FROM knowledge_chunk c,"
        " unnest(tsvector_to_array(c.search_vector)) AS t(term)"
        " WHERE c.collection_id = %s GROUP BY t.term",
        [collection.pk],
    )
    return terms, Chunk.objects.filter(collection=collection).count()


def test_the_counts_follow_the_chunks_as_documents_come_and_go(handbook: Collection) -> None:
    first = ingest_text(handbook, "a.md", FERRY)
    second = ingest_text(handbook, "b.md", LAST_FERRY)
    terms, chunks = _kept(handbook)
    assert (terms, chunks) == _recounted(handbook)
    assert terms["ferri"] == 2 and terms["noon"] == 1 and chunks == 2

    document_delete(document=first)
    terms, chunks = _kept(handbook)
    assert (terms, chunks) == _recounted(handbook)
    assert terms["ferri"] == 1 and "noon" not in terms and chunks == 1

    document_delete(document=second)
    assert _kept(handbook) == ({}, 0)


def test_the_counts_follow_a_chunk_whose_text_changes(handbook: Collection) -> None:
    ingest_text(handbook, "a.md", FERRY)
    Chunk.objects.filter(collection=handbook).update(text="The bus leaves at noon.")

    terms, _ = _kept(handbook)
    assert (terms, 1) == _recounted(handbook)
    assert terms["bus"] == 1 and terms["noon"] == 1 and terms["ferri"] == 1  # the heading


def test_each_collection_counts_only_its_own_chunks(handbook: Collection, hr: Collection) -> None:
    ingest_text(handbook, "a.md", FERRY)
    moved = ingest_text(hr, "b.md", LAST_FERRY)
    assert _kept(handbook)[0]["ferri"] == 1 and _kept(hr)[0]["ferri"] == 1

    Chunk.objects.filter(document=moved).update(collection=handbook)

    assert _kept(handbook) == _recounted(handbook)
    assert _kept(handbook)[0]["ferri"] == 2 and _kept(handbook)[1] == 2
    assert _kept(hr) == ({}, 0)


def test_a_readers_counts_are_summed_over_the_collections_it_may_read_only(
    handbook: Collection, hr: Collection, carol: User, dave: User
) -> None:
    ingest_text(handbook, "a.md", FERRY)
    ingest_text(hr, "b.md", LAST_FERRY)
    ingest_text(hr, "c.md", "# Payroll\n\nThe ferry allowance is paid monthly.\n")
    question = "When does the last ferry leave?"

    assert word_counts(scope=reader_scope(dave), text=question) == (
        {"ferri": 1, "last": 0, "leav": 1},
        1,
    )
    assert word_counts(scope=reader_scope(carol), text=question) == (
        {"ferri": 3, "last": 1, "leav": 2},
        3,
    )
