"""Readers rate answers: kept with the answer, and a 👎 takes the answer out of the cache."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied

from accounts.models import User
from chatbot import cache
from chatbot.models import Feedback, Message

log = logging.getLogger(__name__)

MAX_COMMENT_CHARS = 2000


def feedback_record(*, user: User, message_id: int, rating: str, comment: str = "") -> Feedback:
    """Rate an answer in one of `user`'s own conversations (a second rating replaces the first).

    A 👎 retires the cache entry the answer came from or was kept as, so nobody is served
    it again; the rating is kept either way, for the insight pages.
    """
    message = Message.objects.filter(
        pk=message_id, role=Message.Role.ASSISTANT, conversation__user=user
    ).first()
    if message is None:
        raise PermissionDenied("No such answer.")
    feedback, _ = Feedback.objects.update_or_create(
        message=message,
        user=user,
        defaults={"rating": rating, "comment": comment[:MAX_COMMENT_CHARS]},
    )
    if rating == Feedback.Rating.DOWN and message.cache_entry:
        retired = cache.answer_retire(entry_id=message.cache_entry)
        log.info("answer %s rated down; cache entry retired: %s", message.pk, retired)
    return feedback
