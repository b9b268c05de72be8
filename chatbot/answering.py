"""Answer a question: (cache) -> stand-alone rewrite -> retrieve -> prompt -> stream -> save.

Consumers and commands iterate `answer_question` and forward what it yields;
they hold no answering logic of their own.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import numpy as np
from asgiref.sync import sync_to_async
from django.conf import settings
from django.urls import reverse

from chatbot import cache, conversations, followups, frequent
from chatbot.grounding import ground
from chatbot.llm import stream_chat
from chatbot.prompts import build_messages, compact, passage_budget, stop_sequences
from knowledge.context import build_context
from knowledge.rerank import get_reranker
from knowledge.search import Hit, chunk_search
from knowledge.selectors import ReaderScope, reader_scope


@dataclass
class TokenEvent:
    text: str


@dataclass
class DoneEvent:
    answer: str
    sources: list[dict]
    cached: bool
    timings: dict[str, float]
    conversation: int | None
    standalone_question: str
    searched: list[str] = field(default_factory=list)


class Stopwatch:
    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.timings: dict[str, float] = {}
        self._mark = self.start

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[stage] = round((now - self._mark) * 1000, 1)
        self._mark = now

    def since_start(self, stage: str) -> None:
        self.timings[stage] = round((time.perf_counter() - self.start) * 1000, 1)


def source_json(n: int, hit: Hit) -> dict:
    url = reverse("document", args=[hit.document]) + f"?chunk={hit.chunk}#chunk-{hit.chunk}"
    # Shown after the title: a heading path that starts with the title need not repeat it.
    heading = hit.heading.removeprefix(f"{hit.title} > ") if hit.heading != hit.title else ""
    return {
        "n": n,
        "document": hit.document,
        "title": hit.title,
        "path": hit.path,
        "heading": heading,
        "page": hit.page,
        "score": round(hit.score, 4),
        "url": url,
    }


def abstention(scope_names: list[str]) -> str:
    where = ", ".join(scope_names) if scope_names else "no collections"
    return (
        "I could not find anything about this in the documents you can read "
        f"(searched: {where}). Try other words, or ask the owner of the document to add it."
    )


async def embed(rewrite: followups.Standalone, watch: Stopwatch) -> np.ndarray:
    # CPU work off the event loop.
    vector = await asyncio.to_thread(followups.query_vector, rewrite)
    watch.lap("embed")
    return vector


async def retrieve(
    *, scope: ReaderScope, question: str, vector: np.ndarray, budget: int, watch: Stopwatch
) -> list[Hit]:
    """Candidates from hybrid search, reranked, deduplicated, expanded and fitted to the budget."""
    candidates = await sync_to_async(chunk_search)(
        scope=scope, query=question, vector=vector, k=settings.RETRIEVAL_CANDIDATES
    )
    ranked = await asyncio.to_thread(get_reranker().rerank, question, candidates)
    hits = await sync_to_async(build_context)(
        ranked[: settings.RETRIEVAL_TOP_K],
        tokens=budget,
        expand=settings.CONTEXT_EXPAND_NEIGHBOURS,
    )
    watch.lap("retrieve")
    return hits


async def answer_question(
    *,
    user,
    question: str,
    conversation_id: int | None = None,
    save: bool = True,  # type: ignore[no-untyped-def]
) -> AsyncIterator[TokenEvent | DoneEvent]:
    """Stream the answer to `question` as `user` may be served (user None: operator, sees all)."""
    watch = Stopwatch()
    conversation = None
    history: list[tuple[str, str]] = []
    if save and user is not None:
        conversation = await sync_to_async(conversations.conversation_for)(
            user=user, conversation_id=conversation_id, first_question=question
        )
        history = await sync_to_async(conversations.recent_turns)(conversation=conversation)
    rewrite = followups.standalone(question=question, history=history)
    standalone = rewrite.text
    watch.lap("rewrite")

    scope, names = await sync_to_async(_scope_and_names)(user)
    # --- answer cache: exact, then semantic on the vector retrieval reuses (chatbot.cache) ---
    key = cache.answer_key(question=standalone, scope=scope)
    found = await asyncio.to_thread(cache.answer_get, key=key)
    if found is None:
        vector = await embed(rewrite, watch)
        found = await asyncio.to_thread(cache.answer_get_similar, key=key, vector=vector)
    watch.lap("cache")
    if found is not None:
        yield TokenEvent(found.answer)
        watch.since_start("first_token")
        watch.since_start("total")
        if conversation is not None:
            await sync_to_async(conversations.exchange_save)(
                conversation=conversation,
                question=question,
                answer=found.answer,
                standalone_question=standalone,
                sources=found.sources,
                timings=watch.timings,
                cached=True,
            )
        frequent.hit_record_later(entry_id=found.entry_id)
        yield DoneEvent(
            answer=found.answer,
            sources=found.sources,
            cached=True,
            timings=watch.timings,
            conversation=conversation.pk if conversation else None,
            standalone_question=standalone,
            searched=names,
        )
        return
    # --- end answer cache lookup ---
    recent = history[-4:]
    hits = await retrieve(
        scope=scope,
        question=standalone,
        vector=vector,
        budget=passage_budget(question=standalone, history=recent),
        watch=watch,
    )

    # Abstain on scores, not on the model's word: a small model answers whatever it is given.
    if not hits or max(hit.similarity for hit in hits) < settings.ABSTAIN_BELOW:
        answer, sources = abstention(names), []
        yield TokenEvent(answer)
        watch.since_start("first_token")
    else:
        pieces: list[str] = []
        messages = build_messages(question=standalone, hits=hits, history=recent)
        async for piece in stream_chat(messages, stop=stop_sequences()):
            if not pieces:
                watch.since_start("first_token")
            pieces.append(piece)
            yield TokenEvent(piece)
        answer = "".join(pieces).strip()
        answer, cited = await asyncio.to_thread(
            ground, answer=answer, hits=hits, question_vector=vector, quote=compact()
        )
        sources = [source_json(n, hits[n - 1]) for n in cited]
    watch.since_start("total")
    # --- answer cache: keep a grounded answer; abstentions (no sources) are not kept ---
    await sync_to_async(cache.answer_set)(
        key=key,
        vector=vector,
        answer=answer,
        sources=sources,
        timings=watch.timings,
        collections=names,
    )
    # --- end answer cache store ---

    if conversation is not None:
        await sync_to_async(conversations.exchange_save)(
            conversation=conversation,
            question=question,
            answer=answer,
            standalone_question=standalone,
            sources=sources,
            timings=watch.timings,
        )
    yield DoneEvent(
        answer=answer,
        sources=sources,
        cached=False,
        timings=watch.timings,
        conversation=conversation.pk if conversation else None,
        standalone_question=standalone,
        searched=names,
    )


def _scope_and_names(user) -> tuple[ReaderScope, list[str]]:  # type: ignore[no-untyped-def]
    from knowledge.models import Collection

    scope = reader_scope(user)
    names = list(
        Collection.objects.filter(pk__in=scope.collection_ids).values_list("name", flat=True)
    )
    return scope, names
