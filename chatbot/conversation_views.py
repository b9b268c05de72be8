"""The chat page and a person's own conversations: list, search, rename, delete, catch up.

Thin: chatbot.conversations holds the reads and writes, and every lookup is by the
signed-in user, so someone else's conversation is a 404, never a 403 that confirms it.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from chatbot import conversations, frequent
from chatbot.models import Conversation, Feedback, Message
from knowledge.selectors import reader_scope


def _own(request: HttpRequest, pk: int) -> Conversation:
    try:
        return conversations.conversation_get(user=request.user, pk=pk)
    except Conversation.DoesNotExist as exc:
        raise Http404("No such conversation.") from exc


def _with_ratings(messages: list[Message], user) -> list[Message]:
    """Each answer carries the reader's own 👍/👎 (`my_rating`), so the page shows it pressed."""
    ratings = dict(
        Feedback.objects.filter(user=user, message__in=messages).values_list("message_id", "rating")
    )
    for message in messages:
        message.my_rating = ratings.get(message.pk, "")  # type: ignore[attr-defined]
    return messages


@login_required
@require_GET
def chat(request: HttpRequest, conversation_id: int | None = None) -> HttpResponse:
    conversation = _own(request, conversation_id) if conversation_id is not None else None
    messages = list(conversation.messages.all()) if conversation else []
    return render(
        request,
        "chatbot/chat.html",
        {
            "conversation": conversation,
            "conversation_messages": _with_ratings(messages, request.user),
            # A question still being answered (asked before a reload): the page catches up.
            "pending": conversations.answer_pending(conversation=conversation)
            if conversation
            else None,
            "conversations": conversations.conversations_for_user(user=request.user),
            # Questions knowledge managers promoted, answered from the cache for this reader.
            "suggestions": []
            if conversation
            else frequent.suggestions_for(scope_key=reader_scope(request.user).key),
        },
    )


@login_required
@require_GET
def conversation_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "")[:200]
    return render(
        request,
        "chatbot/_conversation_list.html",
        {
            "conversations": conversations.conversations_for_user(user=request.user, search=search),
            "search": search,
        },
    )


@login_required
@require_POST
def conversation_rename(request: HttpRequest, pk: int) -> HttpResponse:
    _own(request, pk)
    renamed = conversations.conversation_rename(
        user=request.user, pk=pk, title=request.POST.get("title", "")
    )
    return render(request, "chatbot/_conversation_item.html", {"c": renamed})


@login_required
@require_POST
def conversation_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _own(request, pk)
    conversations.conversation_delete(user=request.user, pk=pk)
    response = HttpResponse("")  # the sidebar item swaps out
    # Deleted the conversation on screen: go to a new one.
    if reverse("conversation", args=[pk]) in request.headers.get("HX-Current-URL", ""):
        response["HX-Redirect"] = reverse("chat")
    return response


@login_required
@require_GET
def conversation_after(request: HttpRequest, pk: int, message_id: int) -> HttpResponse:
    """The messages after `message_id`: how a reloaded page picks up an answer in flight.

    204 while the answer is still being made, then the answer as it is shown on the page.
    """
    conversation = _own(request, pk)
    later = conversations.messages_after(conversation=conversation, message_id=message_id)
    if not later:
        if conversations.answer_pending(conversation=conversation) is None:
            return HttpResponse("", status=410)  # lost (the process answering it died)
        return HttpResponse(status=204)
    return render(
        request,
        "chatbot/_messages.html",
        {"conversation_messages": _with_ratings(later, request.user)},
    )
