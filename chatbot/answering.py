"""Answer a question: (cache) -> stand-alone rewrite -> retrieve -> evidence -> model -> save.

Evidence first. The reader's first words are the document's own: the span that
answers the question (chatbot.evidence), quoted with its source, streamed before
the model is asked. The model's sentence follows only when it agrees with that
evidence; it is buffered and checked before anything of it is sent, so nothing
streamed is ever taken back and `done.answer` is exactly the streamed text.

Consumers and commands iterate `answer_question` and forward what it yields;
they hold no answering logic of their own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from django.conf import settings
from django.urls import reverse

from accounts.readers import Operator
from chatbot import cache, conversations, evidence, followups, frequent, protocol
from chatbot.beginning import Begun, Stopwatch, asker_id, cached_answer_keep, question_begin
from chatbot.db import in_pool
from chatbot.llm import ModelUnavailable
from chatbot.model_part import ModelPart, QueuedEvent, model_sentences
from chatbot.models import Outcome
from chatbot.prompts import passage_budget
from chatbot.protocol import Source
from chatbot.terms import key_terms
from chatbot.words import STOP_WORDS
from knowledge.context import build_context, spread_sections
from knowledge.rerank import get_reranker
from knowledge.search import Hit, chunk_search
from knowledge.selectors import ReaderScope
from knowledge.spelling import query_correct, words_unknown

if TYPE_CHECKING:
    from accounts.readers import Reader

log = logging.getLogger(__name__)

# Below ABSTAIN_WEAK_SIMILARITY a passage is weak and must hold a quarter of the question's
# key terms. A question with a word the reader's documents never use ("merit" asked by
# someone outside HR) needs a passage at least ABSTAIN_UNKNOWN_SIMILARITY close. Measured
# without the model (bench sets; a handbook-only reader for the sample's HR and engineering
# questions): this refuses 14 of 14 questions only another group's documents answer (7
# without the unknown-word rule; 13 with it at 0.45), 10 of 12 off-topic questions, and 5
# of 45 answerable sample, 0 of 50 diffutils and 2 of 51 aptitude questions (3, 0, 1 at 0.45).
ABSTAIN_TERM_SHARE = 0.25
ABSTAIN_WEAK_SIMILARITY = 0.45
ABSTAIN_UNKNOWN_SIMILARITY = 0.5
# An unknown word counts only when it is a real part of the question: at least this share of
# its key terms ("merit" in "merit budget 2026", not "dodgy" in "I clicked a link in a dodgy
# email and typed my password, who do I call?"). Measured without the model, 2026-12-02:
# refused answerable questions 7 -> 4 of 183 (sample 0.711 -> 0.733, aptitude 0.510 ->
# 0.529, diffutils and the held-out tutorial unchanged; 0.34 the same), while a
# handbook-only reader is still refused all 14 HR and engineering questions and off-topic
# questions are refused as before (9 of 12 in that database).
UNKNOWN_TERM_SHARE = 0.25


@dataclass
class StartedEvent:
    """The question is saved in this conversation: a client may show it there already."""

    conversation: int


@dataclass
class TokenEvent:
    text: str


@dataclass
class DoneEvent:
    answer: str
    sources: list[Source]
    cached: bool
    timings: dict[str, float]
    conversation: int | None
    standalone_question: str
    searched: list[str] = field(default_factory=list)
    outcome: Outcome = Outcome.ANSWERED
    message: int | None = None  # the saved answer's id, for feedback
    usage: protocol.Usage | None = None
    cache_tier: str | None = None  # "exact" or "semantic" for a cached answer (metrics only)


def source_for(n: int, hit: Hit) -> Source:
    url = reverse("document", args=[hit.document]) + f"?chunk={hit.chunk}#chunk-{hit.chunk}"
    # Shown after the title: a heading path that starts with the title need not repeat it.
    heading = hit.heading.removeprefix(f"{hit.title} > ") if hit.heading != hit.title else ""
    return Source(
        n=n,
        document=hit.document,
        title=hit.title,
        path=hit.path,
        heading=heading,
        page=hit.page,
        score=round(hit.score, 4),
        url=url,
    )


def abstention(scope_names: list[str]) -> str:
    where = ", ".join(scope_names) if scope_names else "no collections"
    return (
        "I could not find anything about this in the documents you can read "
        f"(searched: {where}). Try other words, or ask the owner of the document to add it."
    )


def should_abstain(hits: list[Hit], chosen: evidence.Evidence | None, *, unknown: set[str]) -> bool:
    """Refuse on scores, not on the model's word: a small model answers whatever it is given.

    `unknown` holds the question's words that no document the reader may read contains
    ("merit" asked by someone outside HR): then a passage that shares only the question's
    ordinary words ("budget", "salary") does not answer it.
    """
    if not hits or chosen is None:
        return True
    best = max(hit.similarity for hit in hits)
    if best < settings.ABSTAIN_BELOW:
        return True
    if unknown and best < ABSTAIN_UNKNOWN_SIMILARITY:
        return True
    return chosen.term_share < ABSTAIN_TERM_SHARE and best < ABSTAIN_WEAK_SIMILARITY


def unknown_words(*, scope: ReaderScope, question: str) -> set[str]:
    """Content words of the (spelling-corrected) question absent from the reader's documents,
    when they are a real part of it (UNKNOWN_TERM_SHARE of its key terms)."""
    corrected = query_correct(scope=scope, query=question).text
    unknown = words_unknown(scope=scope, text=corrected) - STOP_WORDS
    if len(unknown) < UNKNOWN_TERM_SHARE * len(key_terms(corrected)):
        return set()
    return unknown


async def retrieve(
    *, scope: ReaderScope, question: str, vector: np.ndarray, budget: int, watch: Stopwatch
) -> list[Hit]:
    """Candidates from hybrid search, reranked, deduplicated, expanded and fitted to the budget."""
    candidates = await in_pool(chunk_search)(
        scope=scope, query=question, vector=vector, k=settings.RETRIEVAL_CANDIDATES
    )
    ranked = await asyncio.to_thread(get_reranker().rerank, question, candidates)
    ranked = spread_sections(ranked, per_section=settings.RETRIEVAL_PER_SECTION)
    hits = await in_pool(build_context)(
        ranked[: settings.RETRIEVAL_TOP_K],
        tokens=budget,
        expand=settings.CONTEXT_EXPAND_NEIGHBOURS,
    )
    watch.lap("retrieve")
    return hits


async def answer_question(
    *,
    user: Reader,
    question: str,
    conversation_id: int | None = None,
    save: bool = True,
    fresh: bool = False,
    begun: Begun | None = None,
) -> AsyncGenerator[StartedEvent | QueuedEvent | TokenEvent | DoneEvent, None]:
    """Stream the answer to `question` as `user` may be served (OPERATOR: every collection).

    `fresh`: answer anew rather than from the cache (a reader's "Regenerate").
    `begun`: question_begin already called for this question (chatbot.consumers calls it
    in the pool hop that admits the ask); then `conversation_id`, `save` and `fresh` were
    its arguments. When it answered from the exact tier and saved that answer already
    (Begun.answered), this only yields it.
    """
    watch = Stopwatch()
    if begun is None:
        # Shielded: a stop or a closed socket right now still leaves the question kept.
        begun = await asyncio.shield(
            in_pool(question_begin)(
                user=user,
                question=question,
                conversation_id=conversation_id,
                save=save,
                fresh=fresh,
            )
        )
    fresh = begun.fresh
    conversation, rewrite, scope, names = (
        begun.conversation,
        begun.rewrite,
        begun.scope,
        begun.names,
    )
    key, found = begun.key, begun.found
    started = StartedEvent(conversation=conversation.pk) if conversation is not None else None
    if started is not None and found is None:
        yield started
        started = None
    standalone = rewrite.text
    watch.lap("rewrite")

    async def keep(
        answer: str, sources: list[Source], outcome: Outcome, cache_entry: str | None = None
    ) -> int | None:
        """Save the answer in the conversation; its message id (for feedback), if saved."""
        if conversation is None:
            return None
        message = await in_pool(conversations.answer_save)(
            conversation=conversation,
            answer=answer,
            standalone_question=standalone,
            sources=[source.model_dump() for source in sources],
            timings=watch.timings,
            cached=outcome == Outcome.CACHED,
            outcome=outcome,
            cache_entry=cache_entry or "",
            searched=sorted(scope.collection_ids),
            question_vector=vector,
        )
        return message.pk

    vector: np.ndarray | None = None
    if found is None:  # an exact hit needs no embedding
        vector = await asyncio.to_thread(followups.query_vector, rewrite)
        watch.lap("embed")
        if not fresh:
            found = await asyncio.to_thread(cache.answer_get_similar, key=key, vector=vector)
    watch.lap("cache")
    if found is not None:
        cached_sources = [Source.model_validate(source) for source in found.sources]
        watch.since_start("first_token")
        watch.since_start("total")
        message = begun.message  # an exact hit in a conversation: saved in the first step
        if message is not None:
            watch.timings = begun.timings
        elif conversation is None:
            frequent.hit_record_later(entry_id=found.entry_id, user_id=asker_id(user))
        else:  # one pool hop saves the answer and counts the hit
            message = await in_pool(cached_answer_keep)(
                conversation=conversation,
                answer=found.answer,
                standalone_question=standalone,
                sources=found.sources,
                timings=watch.timings,
                entry_id=found.entry_id,
                searched=sorted(scope.collection_ids),
                question_vector=vector,
                user_id=asker_id(user),
            )
        # Saved first, then yielded together: the socket sends `started`, the answer and
        # `done` in one write instead of three (a cached answer's cost is mostly its hops).
        if started is not None:
            yield started
        yield TokenEvent(found.answer)
        yield DoneEvent(
            answer=found.answer,
            sources=cached_sources,
            cached=True,
            timings=watch.timings,
            conversation=conversation.pk if conversation else None,
            standalone_question=standalone,
            searched=names,
            outcome=Outcome.CACHED,
            message=message,
            cache_tier=found.tier,
        )
        return

    assert vector is not None  # embedded above: only an exact cache hit skips that
    hits = await retrieve(
        scope=scope,
        question=standalone,
        vector=vector,
        budget=passage_budget(question=standalone),
        watch=watch,
    )
    ranked = await asyncio.to_thread(
        evidence.ranked, question=standalone, hits=hits, question_vector=vector, focus=rewrite.focus
    )
    shown = evidence.excerpts(ranked_spans=ranked, hits=hits)
    chosen = shown[0] if shown else None
    watch.lap("evidence")

    part = ModelPart(complete=False)
    unknown = await in_pool(unknown_words)(scope=scope, question=standalone)
    if should_abstain(hits, chosen, unknown=unknown):
        answer, sources, outcome = abstention(names), [], Outcome.ABSTAINED
        yield TokenEvent(answer)
        watch.since_start("first_token")
    else:
        assert chosen is not None
        numbers = [e.passage for e in shown]
        streamed = [evidence.quote(*shown)]
        outcome = Outcome.ANSWERED
        try:
            yield TokenEvent(streamed[0])
            watch.since_start("first_token")
            part = ModelPart()
            try:
                async for sentence in model_sentences(
                    question=standalone,
                    hits=hits,
                    shown=shown,
                    part=part,
                    person=_person(user),
                ):
                    if isinstance(sentence, QueuedEvent):
                        yield sentence
                        continue
                    piece = ("\n\n" if len(streamed) == 1 else " ") + sentence
                    streamed.append(piece)
                    yield TokenEvent(piece)
            except ModelUnavailable:
                # The evidence already answers; a model that is down costs the summary only.
                log.warning("model unavailable; answering with the evidence alone")
                part.complete = False
                outcome = Outcome.MODEL_FAILED
        except (asyncio.CancelledError, GeneratorExit):
            # Stopped or the socket went: what was streamed is kept, marked as such.
            watch.since_start("total")
            sources = [source_for(n, hits[n - 1]) for n in numbers]
            await keep("".join(streamed), sources, Outcome.CANCELLED)
            raise
        if outcome == Outcome.ANSWERED and not (part.complete and part.text):
            outcome = Outcome.EVIDENCE_ONLY
        watch.since_start("model")
        answer = "".join(streamed)
        numbers = list(dict.fromkeys(numbers + part.cited))
        sources = [source_for(n, hits[n - 1]) for n in numbers]
    watch.since_start("total")

    # Only an answer whose model part was checked and kept whole, and that owes nothing
    # to this person's conversation, may be served to someone else (chatbot.cache decides).
    entry = await in_pool(cache.answer_set)(
        key=key,
        vector=vector,
        answer=answer,
        sources=[source.model_dump() for source in sources],
        timings=watch.timings,
        collections=names,
        cacheable=rewrite.focus is None,
        checked=part.complete and bool(part.text),
    )
    if entry is not None and (asker := asker_id(user)) is not None:
        await in_pool(frequent.asker_record)(entry_id=entry, user_id=asker)
    message = await keep(answer, sources, outcome, entry)
    yield DoneEvent(
        answer=answer,
        sources=sources,
        cached=False,
        timings=watch.timings,
        conversation=conversation.pk if conversation else None,
        standalone_question=standalone,
        searched=names,
        outcome=outcome,
        message=message,
        usage=protocol.Usage(**asdict(part.usage)) if part.usage else None,
    )


def _person(user: Reader) -> str:
    """Whose turn it is in the model's line (fair by person, chatbot.model_queue)."""
    return "operator" if isinstance(user, Operator) else f"user:{user.pk}"
