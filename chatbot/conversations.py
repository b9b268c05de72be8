"""Conversations and their messages: writes and reads."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

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


@transaction.atomic
def question_start(
    *, user, conversation_id: int | None, question: str
) -> tuple[Conversation, list[tuple[str, str]]]:
    """The conversation a question goes in and its turns before it; the question is saved.

    One call, so that a caller can shield it whole: a question stopped at once is still kept.
    """
    if conversation_id is None:
        # A conversation made for this question has no turns yet, and was updated just now.
        conversation = conversation_for(user=user, conversation_id=None, first_question=question)
        question_save(conversation=conversation, question=question, touch=False)
        return conversation, []
    conversation = conversation_for(
        user=user, conversation_id=conversation_id, first_question=question
    )
    history = recent_turns(conversation=conversation)
    question_save(conversation=conversation, question=question)
    return conversation, history


def question_save(*, conversation: Conversation, question: str, touch: bool = True) -> Message:
    """Kept before it is answered: a reload or a stop never loses what was asked.

    `touch`: move the conversation up the list (False for one created for this question)."""
    message = Message.objects.create(
        conversation=conversation, role=Message.Role.USER, text=question
    )
    if touch:
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
    searched: list[int] | None = None,
    question_vector: Any = None,
) -> Message:
    """The answer, after its question; the conversation moves up the list with it.

    A cached answer follows its question by milliseconds, and saving the question moved the
    conversation up already: it is one INSERT, with no transaction to open and commit (this
    runs for every cached answer, where those round trips were a good part of the cost)."""
    with contextlib.nullcontext() if cached else transaction.atomic():
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
            searched=searched or [],
            question_vector=question_vector,
        )
        if not cached:
            conversation.save(update_fields=["updated_at"])
    return reply


def conversations_for_user(*, user, limit: int = 30, search: str = "") -> list[Conversation]:
    """The user's own conversations, newest first; `search` matches titles and messages."""
    conversations = Conversation.objects.filter(user=user)
    if search.strip():
        words = search.strip()
        conversations = conversations.filter(
            Q(title__icontains=words) | Q(messages__text__icontains=words)
        ).distinct()
    return list(conversations[:limit])


def conversation_get(*, user, pk: int) -> Conversation:
    """The user's own conversation; anyone else's does not exist for them."""
    conversation = Conversation.objects.filter(pk=pk, user=user).first()
    if conversation is None:
        raise Conversation.DoesNotExist("No such conversation.")
    return conversation


def conversation_rename(*, user, pk: int, title: str) -> Conversation:
    conversation = conversation_get(user=user, pk=pk)
    conversation.title = " ".join(title.split())[:200] or conversation.title
    conversation.save(update_fields=["title"])  # renaming does not move it up the list
    return conversation


def conversation_delete(*, user, pk: int) -> None:
    """Delete the conversation, its messages and their feedback. Cached answers stay: they
    are shared with everyone of the same scope and never hold what this person typed."""
    conversation_get(user=user, pk=pk).delete()


def messages_after(*, conversation: Conversation, message_id: int) -> list[Message]:
    return list(conversation.messages.filter(pk__gt=message_id))


def answer_pending(*, conversation: Conversation) -> Message | None:
    """The question still being answered (no answer after it yet), if the last message is one."""
    last = conversation.messages.order_by("-created_at", "-id").first()
    if last is None or last.role != Message.Role.USER:
        return None
    # A question older than the longest answer can take lost its answer (a crashed process).
    cutoff = timezone.now() - timedelta(seconds=settings.LLM_TIMEOUT + 60)
    return last if last.created_at >= cutoff else None
