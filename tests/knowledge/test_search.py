"""Hybrid search: exact terms win, typos are corrected from the reader's own words only.

The sample-corpus cases (the typo question, the Canada section) live in
test_retrieval_quality.py, which ingests that corpus once for its module.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from django.db import connection

from accounts.models import User
from accounts.readers import OPERATOR
from knowledge.embeddings import embed_query
from knowledge.lifecycle import document_delete
from knowledge.models import Collection, Document
from knowledge.search import DEFAULT_TUNING, chunk_search
from knowledge.selectors import reader_scope
from knowledge.spelling import best_replacement, edit_distance, query_correct
from tests.support.corpus import HANDBOOK_VACATION, ingest_text

pytestmark = pytest.mark.django_db

CODE = "QX7741"

# Forty pages that all talk about error messages, as a manual's error chapter does: to the
# embedding they all look like an answer to "what does error QX7741 mean?". Only one holds
# the code. Twelve themes so the page texts differ, and each page has a code of its own.
THEMES = [
    "the disk is full",
    "the network cable is unplugged",
    "the password has expired",
    "the licence key is not valid",
    "the printer is out of paper",
    "the configuration file cannot be read",
    "the certificate has expired",
    "the database is locked by another process",
    "the upload is larger than the limit",
    "the session has timed out",
    "the user has no permission for the folder",
    "the update server cannot be reached",
]


def _error_page(n: int, code: str) -> str:
    theme = THEMES[n % len(THEMES)]
    return (
        f"# Error messages, part {n}\n\n"
        f"## What the error {code} means\n\n"
        f"The application shows error {code} when {theme}. The error message tells you what "
        f"went wrong; check the log for details, then try again. If the error comes back, "
        f"contact the service desk and quote the error code.\n"
    )


@pytest.fixture
def error_manual(handbook: Collection) -> dict[str, Document]:
    documents: dict[str, Document] = {}
    for n in range(40):
        code = CODE if n == 23 else f"E{1000 + 37 * n}"
        documents[code] = ingest_text(handbook, f"errors-{n:02}.md", _error_page(n, code))
    return documents


def test_a_code_found_in_one_document_among_many_similar_ones_ranks_first(
    error_manual: dict[str, Document],
) -> None:
    question = f"What does error {CODE} mean?"
    hits = chunk_search(
        scope=reader_scope(OPERATOR), query=question, vector=embed_query(question), k=5
    )

    assert hits[0].document == error_manual[CODE].pk
    assert CODE in hits[0].text


def test_a_bare_code_ranks_its_document_first(error_manual: dict[str, Document]) -> None:
    code = "E1814"  # page 22
    hits = chunk_search(scope=reader_scope(OPERATOR), query=code, vector=embed_query(code), k=3)

    assert hits[0].document == error_manual[code].pk


def test_over_its_budget_the_full_text_lane_ranks_the_chunks_of_the_rarest_word(
    handbook: Collection,
) -> None:
    gondola = ingest_text(handbook, "gondola.md", "# Lifts\n\nThe gondola runs until five.\n")
    ferries = {
        ingest_text(handbook, f"ferry-{n}.md", f"# Boats {n}\n\nThe ferry leaves at {n}.\n").pk
        for n in range(2)
    }
    for n in range(4):
        ingest_text(handbook, f"other-{n}.md", f"# Notes {n}\n\nNothing about boats here.\n")
    text_only = replace(DEFAULT_TUNING, vector_weight=0, exact_weight=0, section_weight=0)
    question = "ferry or gondola"

    def found(budget: int | None) -> set[int]:
        tuning = replace(text_only, text_budget=budget)
        hits = chunk_search(
            scope=reader_scope(OPERATOR),
            query=question,
            vector=embed_query(question),
            tuning=tuning,
        )
        return {hit.document for hit in hits}

    assert found(None) == {gondola.pk, *ferries}
    assert found(2) == {gondola.pk}  # "gondola" (1 chunk) fits, with "ferry" (2 more) it would not
    assert found(3) == {gondola.pk, *ferries}


# --- typo correction --------------------------------------------------------------------------


def test_edit_distance_counts_insertions_deletions_substitutions_and_swaps() -> None:
    assert edit_distance("mutch", "much") == 1
    assert edit_distance("ofice", "office") == 1
    assert edit_distance("teh", "the") == 1
    assert edit_distance("mony", "month") == 2
    assert edit_distance("", "abc") == 3


def test_only_a_word_one_edit_away_replaces_an_unknown_word() -> None:
    # "mony": "money" and "month" share as many trigrams; only "money" is one edit away.
    assert best_replacement("mony", [("month", 0.375, 40), ("money", 0.375, 3)]) == "money"
    assert best_replacement("mony", [("month", 0.375, 40)]) is None
    # Real words a manual lacks are not typos of the words it has.
    assert best_replacement("keyword", [("keyboard", 0.4, 9)]) is None
    # Three letters: a letter left out, not a letter changed.
    assert best_replacement("hom", [("home", 0.5, 9)]) == "home"
    assert best_replacement("src", [("sec", 0.33, 9), ("sr", 0.4, 9)]) is None


def test_unknown_words_are_corrected_from_the_collections_words(
    handbook: Collection, dave: User
) -> None:
    ingest_text(handbook, "vacation.md", HANDBOOK_VACATION)

    correction = query_correct(scope=reader_scope(dave), query="How many vacaton days carrry over?")

    assert correction.text == "How many vacation days carry over?"


def test_english_words_become_only_their_own_spelling_and_paths_stay(
    handbook: Collection, dave: User
) -> None:
    ingest_text(
        handbook,
        "relay.md",
        "# Relay\n\nA weak password is refused. Outgoing mail is sent by the relay, which is "
        "passing it on to the office. We practice a relay failover every month.\n",
    )
    scope = reader_scope(dave)

    # One edit from the handbook's words, but English words of their own: not typos.
    assert not query_correct(scope=scope, query="Can I tweak the relay before pasting?").changed
    # An English word the handbook spells otherwise is corrected to its spelling.
    assert query_correct(scope=scope, query="How often do we practise it?").replacements == (
        ("practise", "practice"),
    )
    # Inside a path the word is typed as it stands; alone, the same word is corrected.
    assert not query_correct(scope=scope, query="Is /usr/sbin/smail the relay?").changed
    assert query_correct(scope=scope, query="Is smail the relay?").replacements == (
        ("smail", "mail"),
    )
    assert query_correct(scope=scope, query="Is a weak pasword refused?").replacements == (
        ("pasword", "password"),
    )


def test_a_word_the_reader_may_not_read_is_never_suggested(
    handbook: Collection, hr: Collection, dave: User, carol: User
) -> None:
    ingest_text(handbook, "vacation.md", HANDBOOK_VACATION)
    ingest_text(hr, "zentrixa.md", "# Zentrixa\n\nThe Zentrixa bonus plan pays in March.\n")
    question = "When does the zentrica bonus pay?"

    assert query_correct(scope=reader_scope(carol), query=question).replacements == (
        ("zentrica", "zentrixa"),
    )
    assert not query_correct(scope=reader_scope(dave), query=question).changed
    hits = chunk_search(
        scope=reader_scope(dave), query=question, vector=embed_query(question), k=10
    )
    assert all("entrixa" not in hit.text.lower() for hit in hits)


def _vocabulary(collection_id: int) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT word, chunks FROM knowledge_search_word WHERE collection_id = %s",
            [collection_id],
        )
        return dict(cursor.fetchall())


def test_the_vocabulary_follows_the_chunks_as_documents_come_and_go(handbook: Collection) -> None:
    first = ingest_text(handbook, "a.md", "# Ferries\n\nThe ferry leaves at noon.\n")
    second = ingest_text(handbook, "b.md", "# Ferries\n\nThe last ferry leaves at midnight.\n")
    words = _vocabulary(handbook.pk)
    assert words["ferry"] == 2 and words["noon"] == 1 and words["midnight"] == 1

    document_delete(document=first)
    words = _vocabulary(handbook.pk)
    assert words["ferry"] == 1 and "noon" not in words
    document_delete(document=second)
    assert _vocabulary(handbook.pk) == {}
