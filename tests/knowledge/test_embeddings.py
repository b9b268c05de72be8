"""Passages are embedded in batches of like token counts, and come back in the order given."""

from __future__ import annotations

import numpy as np

import knowledge.embeddings
from knowledge.embeddings import (
    embed_passages,
    embed_spans,
    embed_words,
    get_model,
    passage_batches,
    token_counts,
)

TEXTS = [
    "Short.",
    "def f(x): return {k: v for k, v in x.items() if v is not None}  # code: many tokens",
    "A sentence of plain English about booking travel through the desk.",
    "Employees must keep every receipt.",
    "x = [i ** 2 for i in range(10)]",
]


def tokens(text: str) -> int:
    return token_counts([text])[0]


def test_every_passage_is_in_one_batch_no_batch_is_larger_than_the_setting(settings):
    settings.EMBEDDING_BATCH_SIZE = 2

    batches = passage_batches(token_counts(TEXTS))

    assert sorted(i for batch in batches for i in batch) == list(range(len(TEXTS)))
    assert max(len(batch) for batch in batches) == 2


def test_one_long_passage_does_not_pad_many_short_ones(settings):
    settings.EMBEDDING_BATCH_SIZE = 32

    batches = passage_batches([10] * 20 + [200] + [10] * 11)

    assert batches == [[20], [i for i in range(32) if i != 20]]


def test_passages_of_like_length_share_a_pass(settings):
    settings.EMBEDDING_BATCH_SIZE = 32

    assert [len(batch) for batch in passage_batches([60, 58, 61, 59] * 8)] == [32]
    assert [len(batch) for batch in passage_batches([60] * 40)] == [8, 32]


def test_batches_go_longest_first_in_tokens_not_in_characters(settings):
    settings.EMBEDDING_BATCH_SIZE = 2
    # The code line is shorter in characters than the English sentence but longer in tokens.
    assert len(TEXTS[4]) < len(TEXTS[3]) and tokens(TEXTS[4]) > tokens(TEXTS[3])

    order = [i for batch in passage_batches(token_counts(TEXTS)) for i in batch]

    counts = [tokens(TEXTS[i]) for i in order]
    assert counts == sorted(counts, reverse=True)
    assert order.index(4) < order.index(3)


def test_embeddings_come_back_in_the_order_given_as_plain_encode_gives_them(settings):
    settings.EMBEDDING_BATCH_SIZE = 2

    vectors = embed_passages(TEXTS)

    plain = get_model().encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    assert vectors.shape == plain.shape
    assert np.allclose(vectors, plain, atol=1e-5)


def test_no_passages_give_no_embeddings():
    assert passage_batches(token_counts([])) == []
    assert embed_passages([]).shape[0] == 0


def test_word_vectors_are_the_model_s_and_the_memory_stays_bounded(settings, monkeypatch):
    settings.EMBEDDING_BATCH_SIZE = 2
    monkeypatch.setattr(knowledge.embeddings, "WORD_CACHE_SIZE", 4)
    monkeypatch.setattr(knowledge.embeddings, "_word_vectors", {})
    words = ["refresh", "update", "merge", "combine", "package"]

    first = embed_words(words[:3])
    again = embed_words(words)  # three remembered, two new: over the bound, so it starts over

    plain = get_model().encode(words, normalize_embeddings=True, convert_to_numpy=True)
    assert sorted(first) == sorted(words[:3]) and sorted(again) == sorted(words)
    assert all(np.allclose(again[w], v, atol=1e-5) for w, v in zip(words, plain, strict=True))
    assert len(knowledge.embeddings._word_vectors) <= 4


def test_span_vectors_are_the_model_s_in_order_and_the_memory_stays_bounded(monkeypatch):
    monkeypatch.setattr(knowledge.embeddings, "SPAN_CACHE_SIZE", 3)
    monkeypatch.setattr(knowledge.embeddings, "_span_vectors", {})
    embedded: list[str] = []
    model_pass = knowledge.embeddings.embed_batch

    def counted_pass(texts: list[str]) -> np.ndarray:
        embedded.extend(texts)
        return model_pass(texts)

    monkeypatch.setattr(knowledge.embeddings, "embed_batch", counted_pass)
    spans = [
        "Press u to update the list of available packages.",
        "Interns earn 2 paid vacation days per full month of internship.",
        "Use the --new-file (-N) option.",
        "Full day: CAD 85",
    ]
    plain = get_model().encode(spans, normalize_embeddings=True, convert_to_numpy=True)

    embed_spans(spans[:2])
    embedded.clear()
    again = embed_spans([spans[1], spans[0], spans[1]])
    assert embedded == []  # remembered: no pass of the model
    assert np.allclose(again, plain[[1, 0, 1]], atol=1e-5)

    later = embed_spans(spans)  # two more would pass the bound of 3: it forgets, then adds them
    assert sorted(embedded) == sorted(spans[2:])
    assert np.allclose(later, plain, atol=1e-5)
    assert sorted(knowledge.embeddings._span_vectors) == sorted(spans[2:])
