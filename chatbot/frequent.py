"""Frequent questions: hit counts of cached answers, the staff list, and retiring an entry.

The answers themselves live in Redis (chatbot.cache); this module keeps the
database side that staff see (`FrequentQuestion`).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections
from django.db.models import F
from django.utils import timezone

from chatbot.cache import bucket_key, client, entry_key, model_id
from chatbot.models import FrequentQuestion

log = logging.getLogger(__name__)


def hit_record(*, entry_id: str) -> None:
    """Count a hit and when it was asked, for the frequent-questions page."""
    FrequentQuestion.objects.filter(entry_id=entry_id).update(
        hits=F("hits") + 1, last_asked_at=timezone.now()
    )


def hit_record_later(*, entry_id: str) -> None:
    """Count a hit in a worker thread: a cached answer never waits for this write, and the
    answering coroutine has nothing left to await once its answer is out (the socket takes
    the next question at once). Call it from the event loop."""
    asyncio.get_running_loop().run_in_executor(None, _hit_record_in_thread, entry_id)


def _hit_record_in_thread(entry_id: str) -> None:
    close_old_connections()
    try:
        hit_record(entry_id=entry_id)
    except Exception:  # noqa: BLE001 - a lost count must not surface anywhere
        log.exception("could not count a hit of cached answer %s", entry_id)
    finally:
        close_old_connections()


def answer_retire(*, entry_id: str) -> bool:
    """Delete an entry from both tiers so the next ask is answered fresh."""
    row = FrequentQuestion.objects.filter(entry_id=entry_id).first()
    if row is None:
        return False
    with client().pipeline() as pipe:
        pipe.delete(entry_key(entry_id))
        pipe.hdel(bucket_key(row.context), entry_id)
        pipe.execute()
    FrequentQuestion.objects.filter(pk=row.pk).update(retired_at=timezone.now())
    return True


def frequent_question_list(*, limit: int = 100) -> list[FrequentQuestion]:
    """Entries that can still be served, most hit first.

    Left off: retired entries, entries gone from Redis (expired), and entries whose
    collections have moved on to a newer knowledge version (their scope key no longer
    occurs, so they can never be served again).
    """
    from knowledge.models import Collection

    current = dict(Collection.objects.values_list("pk", "knowledge_version"))
    since = timezone.now() - timedelta(seconds=settings.ANSWER_CACHE_TTL)
    rows = [
        row
        for row in FrequentQuestion.objects.filter(
            retired_at__isnull=True, last_asked_at__gte=since, model=model_id()
        ).order_by("-hits", "-last_asked_at")
        if _scope_current(row.scope_key, current)
    ]
    if not rows:
        return []
    with client().pipeline(transaction=False) as pipe:
        for row in rows:
            pipe.exists(entry_key(row.entry_id))
        alive = pipe.execute()
    return [row for row, exists in zip(rows, alive, strict=True) if exists][:limit]


def _scope_current(scope_key: str, current: dict[int, int]) -> bool:
    pairs = [part.split(":") for part in scope_key.split(",") if part]
    return all(current.get(int(c)) == int(v) for c, v in pairs)
