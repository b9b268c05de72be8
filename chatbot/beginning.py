"""A question's first step, in one pool-thread call: kept, rewritten, scoped, looked up in
the cache and, when the exact tier holds its answer, answered and saved as well.

One call, for the cached path's sake: every hop to a pool thread and back costs the web
process's one event loop, and a cached answer is little else (bench/many_sockets.py).
chatbot.answering takes it from there; chatbot.consumers calls it in the same hop that
re-reads the socket's credentials and admits the ask.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from accounts.readers import Operator
from chatbot import cache, conversations, followups, frequent
from chatbot.cached_start import cached_conversation_start
from chatbot.models import Conversation, Outcome
from knowledge.selectors import ReaderScope, reader_scope_and_names

if TYPE_CHECKING:
    from accounts.readers import Reader


class Stopwatch:
    """Milliseconds per stage of one answer (DoneEvent.timings, the saved message's timings)."""

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


@dataclass
class Begun:
    """A question's first step (question_begin): kept, rewritten, scoped, looked up."""

    conversation: Conversation | None  # None when the answer is not saved (the operator)
    rewrite: followups.Standalone
    scope: ReaderScope
    names: list[str]
    key: cache.CacheKey
    found: cache.CachedAnswer | None
    fresh: bool  # answer anew: the cache was not read, and is not read later either
    # Set when the exact tier answered and the answer was saved in the same call: the saved
    # message's id, and the timings it was saved with. Nothing is left to do but send it.
    message: int | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def answered(self) -> bool:
        return self.message is not None


def question_begin(
    *, user: Reader, question: str, conversation_id: int | None, save: bool, fresh: bool
) -> Begun:
    """Everything a question needs before the cache has answered it: the question saved in
    its conversation (when `save`, and not for the operator), its stand-alone form, what
    `user` may read (the scope, and the collections' names), the cache key in that scope,
    and the exact cached answer unless `fresh`. An exact hit kept in a conversation is
    saved there now, and its hit counted (Begun.answered)."""
    watch = Stopwatch()
    keep = save and not isinstance(user, Operator)
    owner = asker_id(user)
    # A question that opens a conversation has no turns before it: it is looked up before
    # anything is written, and an exact hit is then kept whole in one statement
    # (chatbot.cached_start) instead of the question first and the answer after.
    opens = keep and conversation_id is None and owner is not None
    conversation: Conversation | None = None
    history: list[tuple[str, str]] = []
    if keep and not opens:
        conversation, history = conversations.question_start(
            user=user, conversation_id=conversation_id, question=question
        )
    rewrite = followups.standalone(question=question, history=history)
    scope, names = reader_scope_and_names(user)
    watch.lap("rewrite")
    key = cache.answer_key(question=rewrite.text, scope=scope)
    found = None if fresh else cache.answer_get(key=key)
    if opens and found is None:  # kept before it is answered, as every question is
        conversation, _ = conversations.question_start(
            user=user, conversation_id=None, question=question
        )
    begun = Begun(conversation, rewrite, scope, names, key, found, fresh)
    if found is None or not keep:
        return begun
    watch.lap("cache")
    watch.since_start("first_token")
    watch.since_start("total")
    begun.timings = watch.timings
    searched = sorted(scope.collection_ids)
    if opens:
        assert owner is not None  # for the type checker: `opens` holds it
        started = cached_conversation_start(
            user_id=owner,
            question=question,
            answer=found.answer,
            standalone_question=rewrite.text,
            sources=found.sources,
            timings=watch.timings,
            entry_id=found.entry_id,
            searched=searched,
        )
        begun.conversation, begun.message = started.conversation, started.message
        return begun
    assert conversation is not None  # kept above: `keep` and not `opens`
    begun.message = cached_answer_keep(
        conversation=conversation,
        answer=found.answer,
        standalone_question=rewrite.text,
        sources=found.sources,
        timings=watch.timings,
        entry_id=found.entry_id,
        searched=searched,
        question_vector=None,  # an exact hit is never embedded
        user_id=owner,
    )
    return begun


def cached_answer_keep(
    *,
    conversation: Conversation,
    answer: str,
    standalone_question: str,
    sources: list[dict],
    timings: dict[str, float],
    entry_id: str,
    searched: list[int],
    question_vector: np.ndarray | None,
    user_id: int | None,
) -> int:
    """A cached answer saved in the conversation, and its hit counted; the message's id."""
    message = conversations.answer_save(
        conversation=conversation,
        answer=answer,
        standalone_question=standalone_question,
        sources=sources,
        timings=timings,
        cached=True,
        outcome=Outcome.CACHED,
        cache_entry=entry_id,
        searched=searched,
        question_vector=question_vector,
    )
    frequent.hit_count(entry_id=entry_id, user_id=user_id)
    return message.pk


def asker_id(user: Reader) -> int | None:
    """Who asked, to count different people per cached question (None: the operator)."""
    return None if isinstance(user, Operator) else user.pk
