"""Conversations and their messages: writes and reads."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from chatbot.models import Conversation, Message


def conversation_for(*, user, conversation_id: int | None, first_question: str) -> Conversation:
    """The user's own conversation, or a new one titled by its first question."""
    if conversation_id is None:
        return Conversation.objects.create(user=user, title=first_question[:200])
    conversation = Conversation.objects.filter(pk=conversation_id, user=user).first()
    if conversation is None:
        raise PermissionDenied("No such conversation.")
    return conversation


def recent_turns(*, conversation: Conversation, limit: int = 6) -> list[tuple[str, str]]:
    rows = list(
        conversation.messages.order_by("-created_at", "-id").values_list("role", "text")[:limit]
    )
    return list(reversed(rows))


def question_start(
    *, user, conversation_id: int | None, question: str
) -> tuple[Conversation, list[tuple[str, str]]]:
    """The conversation a question goes in and its turns before it; the question is saved.

    One call, so that a caller can shield it whole: a question stopped at once is still kept.
    """
    conversation = conversation_for(
        user=user, conversation_id=conversation_id, first_question=question
    )
    history = recent_turns(conversation=conversation)
    question_save(conversation=conversation, question=question)
    return conversation, history


def question_save(*, conversation: Conversation, question: str) -> Message:
    """Kept before it is answered: a reload or a stop never loses what was asked."""
    message = Message.objects.create(
        conversation=conversation, role=Message.Role.USER, text=question
    )
    conversation.save(update_fields=["updated_at"])
    return message


def answer_save(
    *,
    conversation: Conversation,
    answer: str,
    standalone_question: str,
    sources: list[dict],
    timings: dict,
    outcome: str,
    cached: bool = False,
    cache_entry: str = "",
) -> Message:
    reply = Message.objects.create(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        text=answer,
        standalone_question=standalone_question,
        sources=sources,
        timings=timings,
        cached=cached,
        outcome=outcome,
        cache_entry=cache_entry,
    )
    conversation.save(update_fields=["updated_at"])
    return reply


def conversations_for_user(*, user, limit: int = 30) -> list[Conversation]:
    return list(Conversation.objects.filter(user=user)[:limit])
