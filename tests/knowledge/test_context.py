from __future__ import annotations

from knowledge.context import (
    _join,
    drop_near_duplicates,
    estimate_tokens,
    fit_to_budget,
    spread_sections,
)
from knowledge.search import Hit


def hit(text: str, *, document: int = 1, position: int = 0, heading: str = "") -> Hit:
    return Hit(chunk=position, document=document, position=position, heading=heading, page=None,
               text=text, title="t", path="t.md", score=1.0, similarity=0.5)


def test_the_same_paragraph_in_two_documents_is_kept_once() -> None:
    text = "Employees get 28 vacation days per year and may carry over five of them to March."
    kept = drop_near_duplicates([hit(text, document=1), hit(text + " ", document=2), hit("Something else entirely.")])
    assert [h.document for h in kept] == [1, 1]
    assert kept[1].text == "Something else entirely."


def test_overlapping_chunks_join_without_repeating_the_overlap() -> None:
    first = "Alpha beta gamma delta epsilon zeta eta theta."
    second = "epsilon zeta eta theta. Iota kappa lambda."
    assert _join(first, second) == "Alpha beta gamma delta epsilon zeta eta theta. Iota kappa lambda."


def test_passages_are_added_best_first_until_the_budget_is_spent() -> None:
    hits = [hit("a" * 300, position=i) for i in range(5)]
    per_passage = estimate_tokens("a" * 300) + 8
    assert len(fit_to_budget(hits, tokens=per_passage * 2 + 5)) == 2


def test_the_best_passage_always_goes_in_trimmed_to_fit() -> None:
    chosen = fit_to_budget([hit("word " * 1000)], tokens=50)
    assert len(chosen) == 1 and estimate_tokens(chosen[0].text) <= 50


def test_chunk_budgets_are_counted_without_padding_or_truncation() -> None:
    from knowledge.chunking import _count_tokens

    assert _count_tokens("hello world") == 2
    assert _count_tokens("word " * 400) == 400


def test_a_long_section_gives_way_to_the_next_ranked_section() -> None:
    actions = [hit("action", position=i, heading="aptitude > Command-line actions") for i in range(3)]
    options = hit("--simulate", position=9, heading="aptitude > Options")
    same_heading_elsewhere = hit("other manual", document=2, heading="aptitude > Command-line actions")
    ranked = [*actions, same_heading_elsewhere, options]

    spread = spread_sections(ranked, per_section=1)

    assert spread[:3] == [actions[0], same_heading_elsewhere, options]
    assert spread[3:] == actions[1:]
    assert spread_sections(ranked, per_section=2)[:4] == [*actions[:2], same_heading_elsewhere, options]
    assert spread_sections(ranked, per_section=0) == ranked
