"""The answer cache: exact and semantic hits, never a leak, never stale, only grounded answers.

Real Redis and the real embedding model throughout. Entries are seeded through
chatbot.cache so that only the last test needs the language model.
"""

from __future__ import annotations

import asyncio

import pytest
from django.urls import reverse

from chatbot import cache, frequent
from chatbot.answering import DoneEvent, TokenEvent, answer_question
from chatbot.followups import Standalone, query_vector
from chatbot.llm import ModelUnavailable
from chatbot.models import FrequentQuestion
from config.embedded import free_port
from knowledge.collections import collection_touch
from knowledge.embeddings import embed_query
from knowledge.lifecycle import document_delete
from knowledge.selectors import reader_scope
from tests.support import ws
from tests.support.corpus import HANDBOOK_VACATION, HR_SALARY, ingest_text

pytestmark = pytest.mark.django_db(transaction=True)

MERIT = "What is the 2026 merit budget?"
MERIT_ANSWER = "The 2026 merit budget is 3.7 percent of payroll [1]."
VACATION = "How many vacation days do full-time employees get?"
VACATION_ANSWER = "Full-time employees get 28 vacation days per year [1]."


def source(document: int = 1, path: str = "vacation.md") -> dict:
    return {
        "n": 1,
        "document": document,
        "title": path.removesuffix(".md").title(),
        "path": path,
        "heading": "Employees",
        "page": None,
        "score": 0.0312,
        "url": f"/documents/{document}/?chunk=1#chunk-1",
    }


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    r = cache.client()
    keys = list(r.scan_iter(f"{cache.PREFIX}:*"))
    if keys:
        r.delete(*keys)


def seed(user, question: str, answer: str, sources: list[dict] | None = None) -> str:  # type: ignore[no-untyped-def]
    """Cache an answer as answering would after a grounded reply to `user`."""
    entry_id = cache.answer_set(
        key=cache.answer_key(question=question, scope=reader_scope(user)),
        vector=query_vector(Standalone(text=question)),
        answer=answer,
        sources=sources or [source()],
        timings={"total": 4321.0},
        collections=["Employee handbook"],
    )
    assert entry_id
    return entry_id


def lookup(user, question: str) -> cache.CachedAnswer | None:  # type: ignore[no-untyped-def]
    """Both tiers, in the order answering asks them."""
    key = cache.answer_key(question=question, scope=reader_scope(user))
    return cache.answer_get(key=key) or cache.answer_get_similar(
        key=key, vector=embed_query(question)
    )


def ask(user, question: str, *, save: bool = False, conversation: int | None = None):  # type: ignore[no-untyped-def]
    async def run() -> tuple[str, DoneEvent]:
        text, done = [], None
        async for event in answer_question(
            user=user, question=question, conversation_id=conversation, save=save
        ):
            if isinstance(event, TokenEvent):
                text.append(event.text)
            else:
                done = event
        assert done is not None
        return "".join(text), done

    return asyncio.run(run())


# --- the two tiers ----------------------------------------------------------------------------


def test_an_exact_hit_ignores_case_spacing_and_punctuation(handbook, dave) -> None:  # type: ignore[no-untyped-def]
    entry_id = seed(dave, VACATION, VACATION_ANSWER)
    key = cache.answer_key(
        question="  how many VACATION days do full-time   employees get", scope=reader_scope(dave)
    )
    found = cache.answer_get(key=key)
    assert found is not None and found.tier == "exact" and found.entry_id == entry_id
    assert found.answer == VACATION_ANSWER and found.sources == [source()]


def test_a_paraphrase_hits_the_semantic_tier(handbook, dave) -> None:  # type: ignore[no-untyped-def]
    seed(dave, "minimum password length", "At least 14 characters [1].")
    key = cache.answer_key(
        question="how many characters must my password have", scope=reader_scope(dave)
    )
    assert cache.answer_get(key=key) is None
    found = cache.answer_get_similar(
        key=key, vector=embed_query("how many characters must my password have")
    )
    assert found is not None and found.tier == "semantic"
    assert found.answer == "At least 14 characters [1]."


@pytest.mark.parametrize(
    ("cached", "asked"),
    [
        ("vacation days for employees", "vacation days for contractors"),
        ("parental leave for the primary caregiver", "parental leave for the secondary caregiver"),
        ("how fast must I acknowledge a SEV1 page", "how fast must I acknowledge a SEV2 page"),
        (VACATION, MERIT),
    ],
)
def test_a_question_that_only_looks_alike_misses(handbook, dave, cached, asked) -> None:  # type: ignore[no-untyped-def]
    seed(dave, cached, "An answer to another question [1].")
    assert lookup(dave, asked) is None


def test_a_follow_up_is_keyed_by_its_stand_alone_rewrite(handbook, carol) -> None:  # type: ignore[no-untyped-def]
    # No documents: the first question abstains without the model, and is not cached.
    _, first = ask(carol, VACATION, save=True)
    assert not first.cached and not first.sources
    rewrite = f"{VACATION.rstrip('?')}? and for contractors?"
    seed(carol, rewrite, "Contractors do not receive paid vacation [1].")

    text, done = ask(carol, "and for contractors?", save=True, conversation=first.conversation)
    assert done.cached and done.standalone_question == rewrite
    assert text == "Contractors do not receive paid vacation [1]."

    _, alone = ask(carol, "and for contractors?")
    assert not alone.cached, "without the conversation the follow-up means something else"


# --- never a leak -----------------------------------------------------------------------------


def test_a_reader_outside_a_group_never_gets_its_answers_by_either_tier(
    handbook, hr, engineering, carol, dave, bob
) -> None:  # type: ignore[no-untyped-def]
    seed(carol, MERIT, MERIT_ANSWER, [source(path="salary-bands.md")])
    paraphrase = "what's the merit budget for 2026"

    # The entry is there for carol, by both tiers...
    assert lookup(carol, MERIT).tier == "exact"  # type: ignore[union-attr]
    assert lookup(carol, paraphrase).tier == "semantic"  # type: ignore[union-attr]
    text, done = ask(carol, paraphrase)
    assert done.cached and "3.7" in text

    # ...and never for dave (no groups) or bob (another group), by either tier, even when
    # the semantic tier is handed the very same question.
    for outsider in (dave, bob):
        key = cache.answer_key(question=MERIT, scope=reader_scope(outsider))
        assert cache.answer_get(key=key) is None
        assert cache.answer_get_similar(key=key, vector=embed_query(MERIT)) is None
        for question in (MERIT, paraphrase):
            text, done = ask(outsider, question)
            assert not done.cached
            assert "3.7" not in text + done.answer
            assert all(s["path"] != "salary-bands.md" for s in done.sources)


# --- never stale ------------------------------------------------------------------------------


@pytest.mark.parametrize("change", ["ingest", "new version", "delete", "touch"])
def test_a_change_in_a_collection_of_the_scope_retires_its_answers(
    handbook, hr, carol, dave, change
) -> None:  # type: ignore[no-untyped-def]
    document = ingest_text(handbook, "vacation.md", HANDBOOK_VACATION)
    seed(dave, VACATION, VACATION_ANSWER)
    seed(carol, MERIT, MERIT_ANSWER)
    assert lookup(dave, VACATION) is not None

    if change == "ingest":
        ingest_text(handbook, "remote.md", "# Remote work\n\nWork from anywhere in the EU.\n")
    elif change == "new version":
        ingest_text(handbook, "vacation.md", HANDBOOK_VACATION.replace("28", "30"))
    elif change == "delete":
        document_delete(document=document)
    else:
        collection_touch(collection_id=handbook.pk)

    assert lookup(dave, VACATION) is None
    assert lookup(dave, "how many days of vacation do full-time employees get") is None
    # carol reads the handbook too: her answers were built on it and retire with it.
    assert lookup(carol, MERIT) is None
    assert frequent.frequent_question_list() == []


def test_a_change_elsewhere_leaves_answers_alone(handbook, hr, dave) -> None:  # type: ignore[no-untyped-def]
    seed(dave, VACATION, VACATION_ANSWER)
    ingest_text(hr, "salary-bands.md", HR_SALARY)
    assert lookup(dave, VACATION) is not None


# --- only grounded answers --------------------------------------------------------------------


def test_an_abstention_is_not_cached(handbook, dave) -> None:  # type: ignore[no-untyped-def]
    _, done = ask(dave, MERIT)  # no documents at all
    assert not done.sources and not done.cached
    _, again = ask(dave, MERIT)
    assert not again.cached
    assert not list(cache.client().scan_iter(f"{cache.PREFIX}:*"))
    assert not FrequentQuestion.objects.exists()


def test_an_answer_that_failed_is_not_cached(handbook, dave, settings) -> None:  # type: ignore[no-untyped-def]
    ingest_text(handbook, "vacation.md", HANDBOOK_VACATION)
    settings.LLM_BASE_URL = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    with pytest.raises(ModelUnavailable):
        ask(dave, VACATION)
    assert not list(cache.client().scan_iter(f"{cache.PREFIX}:*"))
    assert not FrequentQuestion.objects.exists()


def test_a_disabled_cache_neither_serves_nor_keeps(handbook, dave, settings) -> None:  # type: ignore[no-untyped-def]
    seed(dave, VACATION, VACATION_ANSWER)
    settings.ANSWER_CACHE_ENABLED = False
    assert lookup(dave, VACATION) is None
    key = cache.answer_key(question=MERIT, scope=reader_scope(dave))
    assert (
        cache.answer_set(
            key=key,
            vector=embed_query(MERIT),
            answer=MERIT_ANSWER,
            sources=[source()],
            timings={},
            collections=[],
        )
        is None
    )


# --- over the websocket -----------------------------------------------------------------------


def test_a_cached_answer_streams_over_the_socket_like_a_fresh_one(handbook, dave, client) -> None:  # type: ignore[no-untyped-def]
    entry_id = seed(dave, VACATION, VACATION_ANSWER)
    headers = ws.session_headers(client, dave)

    async def conversation() -> tuple[list[dict], dict]:
        communicator = await ws.connect(headers)
        await ws.receive(communicator)  # hello
        result = await ws.ask(communicator, "how many vacation days do full-time employees get")
        await communicator.disconnect()
        return result

    tokens, done = asyncio.run(conversation())  # ws.receive validates every message strictly

    assert done["type"] == "done" and done["cached"] is True
    assert tokens and "".join(t["text"] for t in tokens) == done["answer"] == VACATION_ANSWER
    assert done["sources"] == [source()]
    assert {"cache", "first_token", "total"} <= set(done["timings"])
    assert done["conversation"] is not None
    assert FrequentQuestion.objects.get(entry_id=entry_id).hits == 1


# --- the frequent questions page --------------------------------------------------------------


def test_staff_see_the_frequent_questions_and_can_retire_one(handbook, hr, alice, carol, dave, client) -> None:  # type: ignore[no-untyped-def]
    vacation_id = seed(dave, VACATION, VACATION_ANSWER)
    seed(carol, MERIT, MERIT_ANSWER)
    for _ in range(3):
        frequent.hit_record(entry_id=vacation_id)
    client.force_login(alice)

    page = client.get(reverse("frequent_questions"))
    assert page.status_code == 200
    html = page.content.decode()
    assert VACATION in html and MERIT in html and "Employee handbook" in html
    assert html.index(VACATION) < html.index(MERIT), "most asked first"
    assert ">3<" in html

    retire = reverse("frequent_question_retire", args=[vacation_id])
    response = client.post(retire, headers={"HX-Request": "true"})
    assert response.status_code == 200 and response.content == b""
    assert lookup(dave, VACATION) is None
    assert VACATION not in client.get(reverse("frequent_questions")).content.decode()
    assert lookup(carol, MERIT) is not None


def test_the_frequent_questions_page_refuses_everyone_but_staff(handbook, bob, dave, client) -> None:  # type: ignore[no-untyped-def]
    entry_id = seed(dave, VACATION, VACATION_ANSWER)
    retire = reverse("frequent_question_retire", args=[entry_id])

    assert client.get(reverse("frequent_questions")).status_code == 302  # to sign in
    client.force_login(bob)
    assert client.get(reverse("frequent_questions")).status_code == 403
    assert client.post(retire).status_code == 403
    assert "Frequent questions" not in client.get(reverse("chat")).content.decode()
    assert lookup(dave, VACATION) is not None


# --- end to end with the real model (slow) ----------------------------------------------------


DATABASE = """# Database operations

## Connections
The primary PostgreSQL server is configured with max_connections = 400.
"""
CONNECTIONS = "What is max_connections on the primary PostgreSQL server?"


def test_a_grounded_answer_is_cached_and_served_again_over_the_socket(handbook, dave, client) -> None:  # type: ignore[no-untyped-def]
    ingest_text(handbook, "database.md", DATABASE)
    headers = ws.session_headers(client, dave)

    async def conversation() -> tuple[tuple[list[dict], dict], tuple[list[dict], dict]]:
        communicator = await ws.connect(headers)
        await ws.receive(communicator)
        fresh = await ws.ask(communicator, CONNECTIONS, id="fresh")
        again = await ws.ask(communicator, CONNECTIONS.lower(), id="again", timeout=30)
        await communicator.disconnect()
        return fresh, again

    (fresh_tokens, fresh), (tokens, again) = asyncio.run(conversation())

    assert fresh["type"] == "done" and fresh["cached"] is False and fresh["sources"], fresh
    assert again["type"] == "done" and again["cached"] is True
    assert again["answer"] == fresh["answer"] == "".join(t["text"] for t in tokens)
    assert again["sources"] == fresh["sources"]
    assert "cache" in again["timings"] and "retrieve" not in again["timings"]
    row = FrequentQuestion.objects.get()
    assert row.question == CONNECTIONS and row.hits == 1
