"""Frequent questions: the database record of cached answers that staff see.

The answers themselves live in Redis (chatbot.cache, chatbot.answer_cache.store); this
module owns `FrequentQuestion`: a row when an answer is kept, hit counts, the retired
mark, and the staff list of entries that can still be served.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import close_old_connections, connection
from django.db.models import Count, F
from django.utils import timezone

from chatbot.answer_cache import store
from chatbot.answer_cache.keys import CacheKey, model_id
from chatbot.db import connection_checked
from chatbot.models import FrequentAsker, FrequentQuestion
from knowledge.models import Collection
from knowledge.selectors import scope_check_for

if TYPE_CHECKING:
    from accounts.readers import Reader

log = logging.getLogger(__name__)


def question_record(*, key: CacheKey, collections: list[str]) -> None:
    """A new (or renewed) cached answer: its record starts again at no hits."""
    FrequentQuestion.objects.update_or_create(
        entry_id=key.entry_id,
        defaults={
            "question": key.question,
            "normalised": key.normalised,
            "scope_key": key.scope,
            "context": key.context,
            "collections": collections,
            "model": key.model,
            "hits": 0,
            "last_asked_at": timezone.now(),
            "retired_at": None,
        },
    )


def hit_record(*, entry_id: str) -> None:
    """Count a hit and when it was asked, for the frequent-questions page."""
    FrequentQuestion.objects.filter(entry_id=entry_id).update(
        hits=F("hits") + 1, last_asked_at=timezone.now()
    )


def asker_record(*, entry_id: str, user_id: int) -> None:
    """One more person was answered with this entry (counted once per person)."""
    question = FrequentQuestion.objects.filter(entry_id=entry_id).only("pk").first()
    if question is not None:
        FrequentAsker.objects.get_or_create(question=question, user_id=user_id)


def hit_record_later(*, entry_id: str, user_id: int | None = None) -> None:
    """Count a hit (and who, to count people) in a worker thread: a cached answer never
    waits for this write, and the answering coroutine has nothing left to await once its
    answer is out (the socket takes the next question at once). Call it from the event loop."""
    asyncio.get_running_loop().run_in_executor(None, _hit_record_in_thread, entry_id, user_id)


def hit_and_asker_record(*, entry_id: str, user_id: int | None) -> None:
    """hit_record and asker_record (when `user_id` is given) in one statement.

    It runs for every cached answer; as three ORM queries it cost the web process more CPU
    than the rest of serving that answer from the cache (bench/many_sockets.py)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH hit AS (
                UPDATE {FrequentQuestion._meta.db_table}
                SET hits = hits + 1, last_asked_at = %s WHERE entry_id = %s RETURNING id
            )
            INSERT INTO {FrequentAsker._meta.db_table} (question_id, user_id)
            SELECT id, %s FROM hit WHERE %s::bigint IS NOT NULL
            ON CONFLICT DO NOTHING
            """,
            [timezone.now(), entry_id, user_id, user_id],
        )


def _hit_record_in_thread(entry_id: str, user_id: int | None) -> None:
    connection_checked()
    try:
        hit_count(entry_id=entry_id, user_id=user_id)
    finally:
        close_old_connections()


def hit_count(*, entry_id: str, user_id: int | None) -> None:
    """hit_and_asker_record, where a count that fails is logged and lost: a cached answer
    is served whether or not it was counted."""
    try:
        hit_and_asker_record(entry_id=entry_id, user_id=user_id)
    except Exception:  # noqa: BLE001 - a lost count must not surface anywhere
        log.exception("could not count a hit of cached answer %s", entry_id)


# Promoted questions are offered to readers only once this many different people asked them,
# so a suggestion never points at one person's question.
PROMOTE_MIN_ASKERS = 3
SUGGESTIONS_SHOWN = 5


def question_promote(*, entry_id: str, promoted: bool = True) -> bool:
    """Offer (or stop offering) a cached question on the chat page of readers of its scope.

    Only a question asked by at least PROMOTE_MIN_ASKERS different people can be promoted.
    """
    rows = FrequentQuestion.objects.filter(entry_id=entry_id, retired_at__isnull=True)
    if promoted:
        rows = rows.annotate(people=Count("askers")).filter(people__gte=PROMOTE_MIN_ASKERS)
    return bool(
        FrequentQuestion.objects.filter(pk__in=rows.values("pk")).update(
            promoted_at=timezone.now() if promoted else None
        )
    )


def suggestions_for(*, scope_key: str) -> list[str]:
    """Promoted questions a reader with exactly this scope is answered from the cache at once.

    The same scope, not a wider one: the answer was built from these collections only, and
    the cache serves it only to readers of exactly these (chatbot.answer_cache.keys).
    """
    rows = [
        row
        for row in FrequentQuestion.objects.filter(
            promoted_at__isnull=False,
            retired_at__isnull=True,
            scope_key=scope_key,
            model=model_id(),
        ).order_by("-hits", "-last_asked_at")[: SUGGESTIONS_SHOWN * 2]
    ]
    if not rows:
        return []
    alive = store.entries_alive(entry_ids=[row.entry_id for row in rows])
    return [row.question for row, exists in zip(rows, alive, strict=True) if exists][
        :SUGGESTIONS_SHOWN
    ]


def question_retire(*, entry_id: str) -> bool:
    """Mark an entry's record retired (chatbot.cache.answer_retire removes the answer)."""
    return bool(
        FrequentQuestion.objects.filter(entry_id=entry_id, retired_at__isnull=True).update(
            retired_at=timezone.now()
        )
    )


def question_context(*, entry_id: str) -> str | None:
    """The cache context an entry was kept under, from its record."""
    return (
        FrequentQuestion.objects.filter(entry_id=entry_id).values_list("context", flat=True).first()
    )


def frequent_question_list(*, user: Reader, limit: int = 100) -> list[FrequentQuestion]:
    """Entries that can still be served and that this staff member may see, most hit first.

    Seen: entries built for scopes of collections the staff member manages (every one for
    a superuser, knowledge.selectors). Left off: retired entries, entries gone from Redis
    (expired), and entries whose collections have moved on to a newer knowledge version
    (their scope key no longer occurs, so they can never be served again).
    """
    visible = scope_check_for(user)
    current = dict(Collection.objects.values_list("pk", "knowledge_version"))
    since = timezone.now() - timedelta(seconds=settings.ANSWER_CACHE_TTL)
    rows: list[FrequentQuestion] = [
        row
        for row in FrequentQuestion.objects.filter(
            retired_at__isnull=True, last_asked_at__gte=since, model=model_id()
        )
        .annotate(people=Count("askers"))
        .order_by("-hits", "-last_asked_at")
        if _scope_current(row.scope_key, current) and visible(row.scope_key)
    ]
    if not rows:
        return []
    alive = store.entries_alive(entry_ids=[row.entry_id for row in rows])
    return [row for row, exists in zip(rows, alive, strict=True) if exists][:limit]


def frequent_question_visible(*, user: Reader, entry_id: str) -> bool:
    """Whether the staff member may see (and so retire) this entry."""
    scope_key = (
        FrequentQuestion.objects.filter(entry_id=entry_id)
        .values_list("scope_key", flat=True)
        .first()
    )
    return scope_key is not None and scope_check_for(user)(scope_key)


def _scope_current(scope_key: str, current: dict[int, int]) -> bool:
    pairs = [part.split(":") for part in scope_key.split(",") if part]
    return all(current.get(int(c)) == int(v) for c, v in pairs)
