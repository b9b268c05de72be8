"""The answer cache: exact and semantic hits, never a leak, never stale, only checked answers,
never another question's answer, never one person's conversation served to another.

Real Redis and the real embedding model throughout. Entries are seeded through
chatbot.cache so that only the last test needs the language model.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

import pytest
from django.urls import reverse

from accounts.readers import OPERATOR
from accounts.services import user_ensure
from chatbot import cache, frequent, limits
from chatbot.answering import DoneEvent, TokenEvent, answer_question
from chatbot.beginning import question_begin
from chatbot.followups import Standalone, query_vector, standalone
from chatbot.llm import ModelUnavailable
from chatbot.models import Conversation, FrequentQuestion, Message, Outcome
from config.embedded import free_port
from knowledge.collections import collection_touch
from knowledge.embeddings import embed_passages, embed_query
from knowledge.lifecycle import document_delete
from knowledge.selectors import collections_readable_by, reader_scope
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
    _clear_cache()


def _clear_cache() -> None:
    r = cache.client()
    keys = list(r.scan_iter(f"{cache.PREFIX}:*"))
    if keys:
        r.delete(*keys)


def seed(user, question: str, answer: str, sources: list[dict] | None = None) -> str:
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


def lookup(user, question: str) -> cache.CachedAnswer | None:
    """Both tiers, in the order answering asks them."""
    key = cache.answer_key(question=question, scope=reader_scope(user))
    return cache.answer_get(key=key) or cache.answer_get_similar(
        key=key, vector=embed_query(question)
    )


def ask(user, question: str, *, save: bool = False, conversation: int | None = None):
    async def run() -> tuple[str, DoneEvent]:
        text, done = [], None
        async for event in answer_question(
            user=user, question=question, conversation_id=conversation, save=save
        ):
            if isinstance(event, TokenEvent):
                text.append(event.text)
            elif isinstance(event, DoneEvent):
                done = event
        assert done is not None
        return "".join(text), done

    return asyncio.run(run())


# --- the two tiers ----------------------------------------------------------------------------


def test_an_exact_hit_ignores_case_spacing_and_punctuation(handbook, dave) -> None:
    entry_id = seed(dave, VACATION, VACATION_ANSWER)
    key = cache.answer_key(
        question="  how many VACATION days do full-time   employees get", scope=reader_scope(dave)
    )
    found = cache.answer_get(key=key)
    assert found is not None and found.tier == "exact" and found.entry_id == entry_id
    assert found.answer == VACATION_ANSWER and found.sources == [source()]


def test_a_paraphrase_hits_the_semantic_tier(handbook, dave) -> None:
    seed(dave, "How long must my password be?", "At least 14 characters [1].")
    asked = "how long does my password need to be"
    key = cache.answer_key(question=asked, scope=reader_scope(dave))
    assert cache.answer_get(key=key) is None
    found = cache.answer_get_similar(key=key, vector=embed_query(asked))
    assert found is not None and found.tier == "semantic"
    assert found.answer == "At least 14 characters [1]."


@pytest.mark.parametrize(
    ("cached", "asked"),
    [
        ("vacation days for employees", "vacation days for contractors"),
        ("parental leave for the primary caregiver", "parental leave for the secondary caregiver"),
        ("how fast must I acknowledge a SEV1 page", "how fast must I acknowledge a SEV2 page"),
        (VACATION, MERIT),
        # issue 8: this very pair was served the other's answer
        (
            "When do I have to be online during the day?",
            "What time should I turn up on my first day?",
        ),
        ("What does diff -i do?", "What does diff -I do?"),
        ("What does the + key do?", "What does the - key do?"),
    ],
)
def test_a_question_that_only_looks_alike_misses(handbook, dave, cached, asked) -> None:
    seed(dave, cached, "An answer to another question [1].")
    assert lookup(dave, asked) is None


NEAR_MISS_FILES = [
    Path(__file__).resolve().parents[2] / "bench" / "qa" / "cache_pairs.jsonl",
    Path(__file__).resolve().parents[2] / "knowledge" / "sample" / "paraphrases.jsonl",
]


def test_no_near_miss_pair_is_served_the_other_answer_through_the_real_cache(
    handbook, dave
) -> None:
    """Every pair of the near-miss sets (handbook, Debian manuals), through Redis and the
    embedding model, both ways round: each near miss is a miss, while rewordings that keep
    their key terms still hit."""
    pairs = [
        json.loads(line)
        for path in NEAR_MISS_FILES
        for line in path.read_text().splitlines()
        if line.strip()
    ]
    assert sum(not p["same"] for p in pairs) >= 150
    questions = sorted({q for p in pairs for q in (p["a"], p["b"])})
    # One batch gives the vectors embed_query gives one at a time (normalised, same model).
    vectors = dict(zip(questions, embed_passages(questions), strict=True))
    scope = reader_scope(dave)
    false_hits, reworded, reworded_hits = [], 0, 0
    for pair in pairs:
        for cached, asked in ((pair["a"], pair["b"]), (pair["b"], pair["a"])):
            _clear_cache()
            assert cache.answer_set(
                key=cache.answer_key(question=cached, scope=scope),
                vector=vectors[cached],
                answer=f"The answer to: {cached} [1].",
                sources=[source()],
                timings={},
                collections=["Employee handbook"],
            )
            key = cache.answer_key(question=asked, scope=scope)
            found = cache.answer_get(key=key) or cache.answer_get_similar(
                key=key, vector=vectors[asked]
            )
            if not pair["same"] and found is not None:
                false_hits.append((asked, found.question))
            if pair.get("kind") == "reworded":
                reworded += 1
                reworded_hits += found is not None
    assert false_hits == []
    # Safety must not come from refusing everything: most rewordings that keep their key
    # terms are served (bench/cache_threshold.py prints the rates).
    assert reworded_hits >= 0.6 * reworded, (reworded_hits, reworded)


def test_a_follow_up_is_keyed_by_its_stand_alone_rewrite(handbook, carol) -> None:
    # No documents: the first question abstains without the model, and is not cached.
    _, first = ask(carol, VACATION, save=True)
    assert not first.cached and not first.sources
    rewrite = standalone(question="and for contractors?", history=[("user", VACATION)]).text
    assert "contractors" in rewrite and "vacation" in rewrite
    seed(carol, rewrite, "Contractors do not receive paid vacation [1].")

    text, done = ask(carol, "and for contractors?", save=True, conversation=first.conversation)
    assert done.cached and done.standalone_question == rewrite
    assert text == "Contractors do not receive paid vacation [1]."

    _, alone = ask(carol, "and for contractors?")
    assert not alone.cached, "without the conversation the follow-up means something else"


# --- never a leak -----------------------------------------------------------------------------


def test_a_reader_outside_a_group_never_gets_its_answers_by_either_tier(
    handbook, hr, engineering, carol, dave, bob
) -> None:
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
            assert all(s.path != "salary-bands.md" for s in done.sources)


@pytest.mark.parametrize("persona", ["dave", "carol", "bob", "operator"])
def test_the_cached_path_reads_the_scope_every_other_path_reads(
    request, handbook, hr, engineering, persona
) -> None:
    # Answering reads the scope and the names in one query (for speed): they must stand for
    # exactly the collections the reader may read, with their versions.
    reader = OPERATOR if persona == "operator" else request.getfixturevalue(persona)
    begun = begin(reader, MERIT, fresh=False)
    scope, names, key = begun.scope, begun.names, begun.key
    readable = list(collections_readable_by(reader).order_by("pk"))
    assert scope.collection_ids == tuple(c.pk for c in readable)
    assert scope.versions == tuple((c.pk, c.knowledge_version) for c in readable)
    assert names == sorted(c.name for c in readable)
    assert scope == reader_scope(reader)
    assert key == cache.answer_key(question=MERIT, scope=scope)


def test_the_exact_tier_is_looked_up_with_the_scope_unless_the_reader_wants_it_fresh(
    handbook, hr, carol, dave
) -> None:
    entry_id = seed(carol, MERIT, MERIT_ANSWER, [source(path="salary-bands.md")])
    found = begin(carol, MERIT, fresh=False).found
    assert found is not None and found.entry_id == entry_id and found.tier == "exact"
    assert begin(carol, MERIT, fresh=True).found is None
    assert begin(dave, MERIT, fresh=False).found is None


def begin(reader, question: str, *, fresh: bool):
    """What answering reads in its first pool hop, without saving the question."""
    return question_begin(
        user=reader, question=question, conversation_id=None, save=False, fresh=fresh
    )


# --- never stale ------------------------------------------------------------------------------


@pytest.mark.parametrize("change", ["ingest", "new version", "delete", "touch"])
def test_a_change_in_a_collection_of_the_scope_retires_its_answers(
    handbook, hr, carol, dave, change
) -> None:
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
    assert frequent.frequent_question_list(user=OPERATOR) == []


def test_a_change_elsewhere_leaves_answers_alone(handbook, hr, dave) -> None:
    seed(dave, VACATION, VACATION_ANSWER)
    ingest_text(hr, "salary-bands.md", HR_SALARY)
    assert lookup(dave, VACATION) is not None


# --- only grounded answers --------------------------------------------------------------------


def test_an_abstention_is_not_cached(handbook, dave) -> None:
    _, done = ask(dave, MERIT)  # no documents at all
    assert not done.sources and not done.cached
    _, again = ask(dave, MERIT)
    assert not again.cached
    assert not list(cache.client().scan_iter(f"{cache.PREFIX}:*"))
    assert not FrequentQuestion.objects.exists()


def test_an_answer_whose_model_failed_is_not_cached(handbook, dave, settings) -> None:
    ingest_text(handbook, "vacation.md", HANDBOOK_VACATION)
    settings.LLM_BASE_URL = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    # Answering may raise or answer from the evidence alone; either way nothing is kept.
    with contextlib.suppress(ModelUnavailable):
        ask(dave, VACATION)
    assert not list(cache.client().scan_iter(f"{cache.PREFIX}:*"))
    assert not FrequentQuestion.objects.exists()


def test_an_answer_that_failed_the_evidence_check_is_never_kept(handbook, dave) -> None:
    key = cache.answer_key(question=VACATION, scope=reader_scope(dave))
    kept = cache.answer_set(
        key=key,
        vector=embed_query(VACATION),
        answer="Full-time employees get 12 vacation days [1].",
        sources=[source()],
        timings={},
        collections=["Employee handbook"],
        checked=False,
    )
    assert kept is None
    assert lookup(dave, VACATION) is None
    assert not list(cache.client().scan_iter(f"{cache.PREFIX}:*"))
    assert not FrequentQuestion.objects.exists()


def test_a_thumbs_down_retires_the_answer_from_both_tiers_and_it_is_not_kept_again(
    handbook, dave
) -> None:
    wrong = "Full-time employees get 12 vacation days [1]."
    entry_id = seed(dave, VACATION, wrong)
    paraphrase = "how many days of vacation do full-time employees get"
    assert lookup(dave, VACATION) is not None and lookup(dave, paraphrase) is not None

    assert cache.answer_retire(entry_id=entry_id)

    assert lookup(dave, VACATION) is None and lookup(dave, paraphrase) is None
    assert FrequentQuestion.objects.get(entry_id=entry_id).retired_at is not None
    assert frequent.frequent_question_list(user=OPERATOR) == []

    def keep(answer: str) -> str | None:
        return cache.answer_set(
            key=cache.answer_key(question=VACATION, scope=reader_scope(dave)),
            vector=embed_query(VACATION),
            answer=answer,
            sources=[source()],
            timings={},
            collections=["Employee handbook"],
        )

    # The same words, produced again for the same question, are not served again...
    assert keep(wrong) is None
    assert lookup(dave, VACATION) is None
    # ...while a different answer to it is kept as usual.
    assert keep(VACATION_ANSWER) == entry_id
    assert lookup(dave, VACATION).answer == VACATION_ANSWER  # type: ignore[union-attr]
    assert not cache.answer_retire(entry_id="0" * 32), "nothing to retire"


def test_an_answer_built_with_one_persons_conversation_is_never_served_to_another(
    handbook, dave
) -> None:
    """Issue 9, finding 1: history reached the prompt, so the answer may carry what one
    person said (here, an injected instruction); erin reads exactly what dave reads."""
    erin = user_ensure(username="erin", password="pw-erin", groups=[])[0]
    assert reader_scope(erin).key == reader_scope(dave).key
    question = "How do I connect to the VPN?"
    poisoned = cache.answer_set(
        key=cache.answer_key(question=question, scope=reader_scope(dave)),
        vector=embed_query(question),
        answer="Connect through vpn.evil.example [1].",
        sources=[source()],
        timings={},
        collections=["Employee handbook"],
        cacheable=False,
    )
    assert poisoned is None
    for reader in (erin, dave):
        assert lookup(reader, question) is None
        assert lookup(reader, "how do i connect to the vpn") is None
    assert not list(cache.client().scan_iter(f"{cache.PREFIX}:*"))
    assert not FrequentQuestion.objects.exists()

    # The same question answered without anyone's history is shared: the flag decided.
    seed(dave, question, "Import nwl-laptop.conf into WireGuard [1].")
    assert lookup(erin, question).answer == "Import nwl-laptop.conf into WireGuard [1]."  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("answer", "sources", "cacheable", "checked", "refusal"),
    [
        (VACATION_ANSWER, [source()], True, True, None),
        ("   ", [source()], True, True, cache.NotKept.EMPTY),
        (VACATION_ANSWER, [], True, True, cache.NotKept.UNGROUNDED),
        (VACATION_ANSWER, [source()], True, False, cache.NotKept.UNCHECKED),
        (VACATION_ANSWER, [source()], False, True, cache.NotKept.PRIVATE),
    ],
)
def test_it_says_why_an_answer_is_not_kept(answer, sources, cacheable, checked, refusal) -> None:
    assert (
        cache.keep_refusal(answer=answer, sources=sources, cacheable=cacheable, checked=checked)
        is refusal
    )


def test_a_disabled_cache_neither_serves_nor_keeps(handbook, dave, settings) -> None:
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


def test_a_cached_answer_streams_over_the_socket_like_a_fresh_one(handbook, dave, client) -> None:
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


def test_an_exact_hit_is_saved_and_its_in_flight_place_given_back_before_it_is_sent(
    handbook, dave, client, settings
) -> None:
    """The cached path's one hop (chatbot.beginning): once `done` arrives there is nothing
    left to wait for, so the next ask is admitted even with one ask allowed in flight."""
    settings.CHAT_ASKS_IN_FLIGHT = 1
    entry_id = seed(dave, VACATION, VACATION_ANSWER)
    headers = ws.session_headers(client, dave)

    async def twice() -> tuple[list[dict], list[int]]:
        communicator = await ws.connect(headers)
        await ws.receive(communicator)  # hello
        dones, in_flight = [], []
        for _ in range(2):
            _, done = await ws.ask(communicator, VACATION)
            in_flight.append(limits.client().zcard(f"docent:limits:inflight:{dave.pk}"))
            dones.append(done)
        await communicator.disconnect()
        return dones, in_flight

    dones, in_flight = asyncio.run(twice())

    assert in_flight == [0, 0]
    assert [done["cached"] for done in dones] == [True, True]
    saved = Message.objects.filter(role=Message.Role.ASSISTANT).order_by("pk")
    assert [m.pk for m in saved] == [done["message"] for done in dones]
    assert all(m.cached and m.cache_entry == entry_id for m in saved)
    assert all({"cache", "first_token", "total"} <= set(m.timings) for m in saved)
    assert FrequentQuestion.objects.get(entry_id=entry_id).hits == 2


def test_a_first_question_answered_from_the_cache_is_kept_whole_in_a_new_conversation(
    handbook, dave
) -> None:
    """chatbot.cached_start: conversation, question, answer and the hit in one statement."""
    entry_id = seed(dave, VACATION, VACATION_ANSWER, [source(path="vacation.md")])
    asked = "How many vacation days do full-time employees get?  "

    begun = question_begin(user=dave, question=asked, conversation_id=None, save=True, fresh=False)

    assert begun.answered and begun.conversation is not None and begun.found is not None
    conversation = Conversation.objects.get(pk=begun.conversation.pk)
    assert conversation.user == dave and conversation.title == asked[:200]
    assert conversation.created_at == begun.conversation.created_at
    question, answer = conversation.messages.all()
    assert (question.role, question.text, question.cached) == (Message.Role.USER, asked, False)
    assert answer.pk == begun.message and answer.pk > question.pk
    assert answer.created_at >= question.created_at
    assert (answer.role, answer.text, answer.cached, answer.outcome, answer.cache_entry) == (
        Message.Role.ASSISTANT,
        VACATION_ANSWER,
        True,
        Outcome.CACHED,
        entry_id,
    )
    assert answer.sources == [source(path="vacation.md")]
    assert answer.standalone_question == begun.rewrite.text
    assert answer.searched == sorted(begun.scope.collection_ids)
    assert answer.timings == begun.timings and "first_token" in answer.timings
    assert answer.question_vector is None
    row = FrequentQuestion.objects.get(entry_id=entry_id)
    assert row.hits == 1 and list(row.askers.values_list("user_id", flat=True)) == [dave.pk]

    # A follow-up in that conversation goes after both, the usual way.
    again = question_begin(
        user=dave, question=VACATION, conversation_id=conversation.pk, save=True, fresh=False
    )
    assert again.answered and again.conversation is not None
    assert again.conversation.pk == conversation.pk
    texts = list(conversation.messages.values_list("role", "text"))
    assert texts == [
        ("user", asked),
        ("assistant", VACATION_ANSWER),
        ("user", VACATION),
        ("assistant", VACATION_ANSWER),
    ]
    assert FrequentQuestion.objects.get(entry_id=entry_id).hits == 2


def test_a_first_question_missed_by_the_cache_is_kept_before_it_is_answered(handbook, dave) -> None:
    begun = question_begin(user=dave, question=MERIT, conversation_id=None, save=True, fresh=False)
    assert not begun.answered and begun.found is None and begun.conversation is not None
    assert list(begun.conversation.messages.values_list("role", "text")) == [("user", MERIT)]


def test_a_cached_answer_whose_record_is_gone_is_still_kept(handbook, dave) -> None:
    entry_id = seed(dave, VACATION, VACATION_ANSWER)
    FrequentQuestion.objects.filter(entry_id=entry_id).delete()
    begun = question_begin(
        user=dave, question=VACATION, conversation_id=None, save=True, fresh=False
    )
    assert begun.answered and begun.message is not None
    assert Message.objects.get(pk=begun.message).cache_entry == entry_id


def test_each_hit_is_counted_and_each_person_once(handbook, dave, carol) -> None:
    entry_id = seed(dave, VACATION, VACATION_ANSWER)
    for user in (dave, dave, carol, None):  # None: the operator, counted as a hit only
        frequent.hit_and_asker_record(entry_id=entry_id, user_id=user.pk if user else None)
    frequent.hit_and_asker_record(entry_id="no-such-entry", user_id=dave.pk)  # nothing to count

    row = FrequentQuestion.objects.get(entry_id=entry_id)
    assert row.hits == 4
    assert sorted(row.askers.values_list("user_id", flat=True)) == sorted([dave.pk, carol.pk])


# --- the frequent questions page --------------------------------------------------------------


def test_staff_see_the_frequent_questions_and_can_retire_one(
    handbook, hr, alice, carol, dave, client
) -> None:
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


def test_the_frequent_questions_page_refuses_everyone_but_staff(
    handbook, bob, dave, client
) -> None:
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
# The model's line must pass the evidence check to be cached; the bundled model's greedy
# line for this wording does (for "What is max_connections on ...?" it says "400-node").
CONNECTIONS = "What is the max_connections setting of the primary PostgreSQL server?"


def test_a_grounded_answer_is_cached_and_served_again_over_the_socket(
    handbook, dave, client
) -> None:
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
    assert again["type"] == "done" and again["cached"] is True, json.dumps([fresh, again], indent=1)
    assert again["answer"] == fresh["answer"] == "".join(t["text"] for t in tokens)
    assert again["sources"] == fresh["sources"]
    assert "cache" in again["timings"] and "retrieve" not in again["timings"]
    row = FrequentQuestion.objects.get()
    assert row.question == CONNECTIONS and row.hits == 1
