"""Answers kept as the answering path keeps them (chatbot.conversations), without the model:
for the insight and gap tests, which count and group what was asked."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from django.utils import timezone

from accounts.models import User
from chatbot.conversations import answer_save, question_start
from chatbot.feedback import feedback_record
from chatbot.models import Message, Outcome
from knowledge.embeddings import embed_query
from knowledge.models import Collection


def asked(
    user: User,
    question: str,
    *,
    searched: Sequence[Collection],
    outcome: str = Outcome.ANSWERED,
    first_token: float | None = 800.0,
    days_ago: int = 0,
    rating: str | None = None,
) -> Message:
    """`user` asked `question` in a new conversation, searching `searched`, and it ended so."""
    conversation, _ = question_start(user=user, conversation_id=None, question=question)
    timings = {"first_token": first_token, "total": first_token} if first_token else {}
    answer = answer_save(
        conversation=conversation,
        answer="I could not find anything." if outcome == Outcome.ABSTAINED else "An answer.",
        standalone_question=question,
        sources=[],
        timings=timings,
        outcome=outcome,
        cached=outcome == Outcome.CACHED,
        searched=sorted(collection.pk for collection in searched),
        question_vector=embed_query(question),
    )
    if days_ago:
        when = timezone.now() - timedelta(days=days_ago)
        Message.objects.filter(conversation=conversation).update(created_at=when)
        answer.refresh_from_db()
    if rating:
        feedback_record(user=user, message_id=answer.pk, rating=rating)
    return answer


def hr_knowledge_manager() -> User:
    """Whoever manages HR's collection and nothing else, as knowledge.selectors decides:
    hugo, given HR through a manager group, where collections name their managers
    (tests.support.personas.hr_manager); hannah, staff in HR, where staff manage what
    they read."""
    from tests.support import personas

    if hasattr(personas, "hr_manager"):
        return personas.hr_manager()
    return personas.hr_staff_member()
