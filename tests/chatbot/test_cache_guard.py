"""The answer cache's wording guard: two close questions share an answer only when they
agree on every key term and qualifier. Pure functions: no services needed."""

from __future__ import annotations

import pytest

from chatbot.answer_cache.guard import Verdict, compare, same_question
from chatbot.answer_cache.keys import normalise
from chatbot.answer_cache.wording import lex


@pytest.mark.parametrize(
    ("asked", "cached", "verdict"),
    [
        ("What does diff -i do?", "What does diff -I do?", Verdict.OPTIONS),
        ("What does the + key do?", "What does the - key do?", Verdict.OPTIONS),
        ("What does %< stand for?", "What does %> stand for?", Verdict.OPTIONS),
        ("What does the u key do?", "What does the U key do?", Verdict.WORDS),
        (
            "What does the ~i search term match?",
            "What does the ~n search term match?",
            Verdict.OPTIONS,
        ),
        (
            "Who approves a trip over EUR 2,000?",
            "Who approves a trip over EUR 5,000?",
            Verdict.NUMBERS,
        ),
        (
            "What time should I turn up on my first day?",
            "What time should I turn up on my second day?",
            Verdict.NUMBERS,
        ),
        (
            "How do I get three lines of context?",
            "How do I get five lines of context?",
            Verdict.NUMBERS,
        ),
        ("Mileage rate of 0.30 per km?", "Mileage rate of 30 per km?", Verdict.NUMBERS),
        ("Which expenses are reimbursed?", "Which expenses aren't reimbursed?", Verdict.NEGATION),
        (
            "Can I expense it with a receipt?",
            "Can I expense it without a receipt?",
            Verdict.NEGATION,
        ),
        ("When do I hand in my expenses?", "Where do I hand in my expenses?", Verdict.ASKS),
        ("How many vacation days do I get?", "How much vacation do I get?", Verdict.ASKS),
        ("Can I fly business class?", "Must I fly business class?", Verdict.MODALITY),
        (
            "Who approves a trip under EUR 2,000?",
            "Who approves a trip over EUR 2,000?",
            Verdict.RELATION,
        ),
        ("Flights from Berlin to Toronto?", "Flights from Toronto to Berlin?", Verdict.RELATION),
        ("Vacation days for interns?", "Vacation days for contractors?", Verdict.WORDS),
        ("Hotel limit in London?", "Hotel limit in Paris?", Verdict.WORDS),
        (
            "What is max_connections on the primary?",
            "What is max_connections on the replicas?",
            Verdict.WORDS,
        ),
        # issue 8: the pair the cache once confused
        (
            "What time should I turn up on my first day?",
            "When do I have to be online during the day?",
            Verdict.NUMBERS,
        ),
    ],
)
def test_a_near_miss_is_told_apart_by_what_differs(
    asked: str, cached: str, verdict: Verdict
) -> None:
    assert compare(asked, cached) is verdict
    assert compare(cached, asked) is verdict, "the guard is symmetric"


@pytest.mark.parametrize(
    ("asked", "cached"),
    [
        (
            "How many days of vacation do full-time employees get?",
            "how many vacation days do full-time employees get",
        ),
        ("what's the merit budget for 2026", "What is the 2026 merit budget?"),
        ("How long does my password need to be?", "How long must my password be?"),
        ("How do I report misconduct anonymously?", "How can I report misconduct anonymously?"),
        ("When should I turn up on my first day?", "What time should I turn up on my 1st day?"),
        ("Are interns allowed to work from abroad?", "Can interns work from abroad?"),
        ("Can unused vacation days be carried over?", "Can I carry over unused vacation days?"),
        ("Why isn't a package trusted?", "Why is a package not trusted?"),
        ("How do I get 3 lines of context?", "How do I get three lines of context?"),
        ("Is a gift worth 50 euros allowed?", "Is a gift worth EUR 50 allowed?"),
    ],
)
def test_a_rewording_that_keeps_the_key_terms_is_the_same_question(asked: str, cached: str) -> None:
    assert same_question(asked, cached)


def test_synonyms_are_not_guessed() -> None:
    # A miss costs seconds; a false hit costs trust.
    assert not same_question("How much PTO do I get?", "How much vacation do I get?")


def test_the_exact_key_keeps_what_tells_questions_apart() -> None:
    assert normalise("  What's the VPN?? ") == normalise("what THE vpn") == "what the vpn"
    assert normalise("diff -i") != normalise("diff -I")
    assert normalise("the u key") != normalise("the U key")
    assert normalise("What does + do?") != normalise("What does - do?")
    assert normalise("Costs over €600?") != normalise("Costs over $600?")
    assert normalise("EUR 2,000") == normalise("eur 2000")
    assert lex("0.30 km, 10:00") == ["0.3", "km", "10:00"]
