from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from chatbot.conversations import conversations_for_user
from chatbot.models import Conversation


@login_required
def chat(request: HttpRequest, conversation_id: int | None = None) -> HttpResponse:
    conversation = None
    if conversation_id is not None:
        conversation = get_object_or_404(Conversation, pk=conversation_id, user=request.user)
    return render(
        request,
        "chatbot/chat.html",
        {
            "conversation": conversation,
            "conversation_messages": list(conversation.messages.all()) if conversation else [],
            "conversations": conversations_for_user(user=request.user),
        },
    )
