from __future__ import annotations

from chatbot.citations import cited_passages, explicit_citations, supported_passages

PASSAGES = [
    "Full-time employees get 28 vacation days per year. Up to 5 unused days carry over.",
    "Contractors do not receive paid vacation; they agree time off with their manager.",
    "The primary PostgreSQL server allows max_connections = 400.",
]


def test_explicit_citations_are_read_in_order_and_kept_in_range() -> None:
    assert explicit_citations("See [2] and [1, 3], also [9].", 3) == [2, 1, 3]


def test_an_uncited_answer_is_attributed_to_the_passage_holding_its_facts() -> None:
    answer = "Based on the provided context, employees get 28 vacation days per year."
    assert supported_passages(answer, PASSAGES) == [1]


def test_numbers_decide_between_passages_that_share_words() -> None:
    assert cited_passages("The primary database allows 400 connections.", PASSAGES) == [3]


def test_an_answer_that_draws_on_nothing_cites_nothing() -> None:
    assert cited_passages("I do not know.", PASSAGES) == []
    assert cited_passages("The parking fee in Lisbon is 2.5 euros per day.", PASSAGES) == []
