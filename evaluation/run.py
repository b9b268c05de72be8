"""One evaluation run: Docent, the plain baseline and any extra retrievers on the same questions."""

from __future__ import annotations

import numpy as np

from evaluation.metrics import (
    Evaluation,
    QAItem,
    QuestionResult,
    RankedDocument,
    Retriever,
    SystemRun,
    documents_in_order,
)
from knowledge.search import SearchTuning
from knowledge.selectors import ReaderScope


def docent_retriever(scope: ReaderScope, tuning: SearchTuning | None = None) -> Retriever:
    """What answering does before it builds the prompt: hybrid search, then the reranker.

    `tuning` runs the real search with other knobs (evaluation.variants); None is the default.
    """
    from knowledge.rerank import get_reranker
    from knowledge.search import DEFAULT_TUNING, chunk_search

    reranker = get_reranker()
    chosen = tuning or DEFAULT_TUNING

    def retrieve(question: str, vector: np.ndarray, k: int) -> list[RankedDocument]:
        hits = reranker.rerank(
            question, chunk_search(scope=scope, query=question, vector=vector, k=k, tuning=chosen)
        )
        return [RankedDocument(id=h.document, path=h.path, title=h.title) for h in hits]

    return retrieve


def system_run(
    *, name: str, items: list[QAItem], vectors: list[np.ndarray], retriever: Retriever, k: int
) -> SystemRun:
    results = [
        QuestionResult(
            item=item, documents=tuple(documents_in_order(retriever(item.question, v, k)))
        )
        for item, v in zip(items, vectors, strict=True)
    ]
    return SystemRun(name=name, results=results)


def evaluation_run(
    *,
    items: list[QAItem],
    scope: ReaderScope,
    qa: str = "",
    reader: str = "operator",
    k: int = 10,
    baseline: bool = True,
    extra: dict[str, Retriever] | None = None,
) -> Evaluation:
    """Docent (and the plain baseline, and any `extra` retrievers) on the same questions and scope."""
    from knowledge.embeddings import embed_query

    # One embedding per question, shared: the systems differ only in what they do with it.
    vectors = [embed_query(item.question) for item in items]
    retrievers: dict[str, Retriever] = {"docent": docent_retriever(scope)}
    notes: dict[str, dict[str, object]] = {}
    if baseline:
        from evaluation.baseline import PlainIndex

        index = PlainIndex.for_scope(scope)
        retrievers["baseline"] = index.search
        notes["baseline"] = index.notes()
    retrievers.update(extra or {})
    runs = []
    for name, retriever in retrievers.items():
        run = system_run(name=name, items=items, vectors=vectors, retriever=retriever, k=k)
        run.notes.update(notes.get(name, {}))
        runs.append(run)
    return Evaluation(qa=qa, reader=reader, k=k, runs=runs)
