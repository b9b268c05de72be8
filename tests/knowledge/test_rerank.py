"""Reranking: the default keeps retrieval's fused order; a configured cross-encoder must exist."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from knowledge import rerank
from knowledge.search import Hit
from tests.support.hits import make_hit


def hit(n: int, text: str, *, heading: str = "") -> Hit:
    return make_hit(n, text, heading=heading)


HITS = [
    hit(1, "Contractors do not receive paid vacation."),
    hit(2, "Interns earn 2 paid vacation days per month.", heading="Vacation > Interns"),
    hit(3, "Per diems cover meals while you travel."),
]


@pytest.fixture(autouse=True)
def _fresh_reranker() -> Iterator[None]:
    # get_reranker keeps one per process; each test chooses its own through the settings.
    rerank.get_reranker.cache_clear()
    yield
    rerank.get_reranker.cache_clear()


def test_without_a_configured_model_the_fused_order_is_kept(settings) -> None:
    settings.RERANKER_MODEL = ""

    reranker = rerank.get_reranker()

    assert isinstance(reranker, rerank.FusedOrder)
    assert reranker.rerank("How many days do interns get?", list(HITS)) == HITS
    assert reranker.rerank("anything", []) == []


def test_a_configured_model_path_that_does_not_exist_is_refused_by_name(
    settings, tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-cross-encoder"
    settings.RERANKER_MODEL = str(missing)

    with pytest.raises(OSError, match="no-such-cross-encoder"):
        rerank.get_reranker()


class ScoresByWord:
    """Stands in for the CrossEncoder model: scores a pair by how often 'interns' occurs."""

    def __init__(self) -> None:
        self.calls: list[list[tuple[str, str]]] = []

    @property
    def pairs(self) -> list[tuple[str, str]]:
        return self.calls[-1]

    def predict(self, pairs: list[tuple[str, str]], show_progress_bar: bool) -> list[float]:
        self.calls.append(list(pairs))
        return [float(passage.lower().count("interns")) for _, passage in pairs]


def cross_encoder_with(model: ScoresByWord) -> rerank.CrossEncoderReranker:
    """The real reranker around a stand-in model (no cross-encoder ships with Docent)."""
    reranker = rerank.CrossEncoderReranker.__new__(rerank.CrossEncoderReranker)
    reranker._model = model
    reranker._lock = threading.Lock()
    return reranker


def test_the_cross_encoder_orders_by_its_scores_and_reads_headings() -> None:
    model = ScoresByWord()

    ranked = cross_encoder_with(model).rerank("interns", list(HITS))

    # Hit 2 scores 2 (its heading and its text name interns); the ties keep the fused order.
    assert [h.chunk for h in ranked] == [2, 1, 3]
    assert [h.score for h in ranked] == [2.0, 0.0, 0.0]
    assert model.pairs[1] == ("interns", "Vacation > Interns\n" + HITS[1].text)
    assert model.pairs[0] == ("interns", HITS[0].text)


def test_the_cross_encoder_is_not_asked_about_no_candidates() -> None:
    model = ScoresByWord()

    assert cross_encoder_with(model).rerank("interns", []) == []
    assert model.calls == []
