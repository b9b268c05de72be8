"""Insight pages for staff: the dashboard, the knowledge gaps and (if allowed) a gap's
conversation. Thin: who may look, one service call, the template."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from chatbot import gaps, insight
from knowledge.selectors import is_knowledge_manager


def _staff_only(request: HttpRequest) -> None:
    # Superusers, and whoever manages a collection (knowledge.selectors decides that); what
    # each one then sees is scoped by collections_managed_by.
    if not is_knowledge_manager(request.user):
        raise PermissionDenied("Only knowledge managers see the insight pages.")


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    _staff_only(request)
    figures = insight.dashboard(user=request.user)
    chart = insight.columns(
        title=f"Questions per day, last {len(figures.days)} days",
        values=[(day.label, day.questions) for day in figures.days],
    )
    return render(request, "insight/dashboard.html", {"figures": figures, "chart": chart})


@login_required
@require_GET
def knowledge_gaps(request: HttpRequest) -> HttpResponse:
    _staff_only(request)
    open_gaps = gaps.gaps_open(user=request.user)
    chart = insight.rows(
        title="Questions per knowledge gap, largest first",
        values=[(f"Gap {n}", gap.count) for n, gap in enumerate(open_gaps, start=1)],
    )
    return render(
        request,
        "insight/gaps.html",
        {
            "gaps": open_gaps,
            "chart": chart,
            "days": settings.INSIGHT_GAP_DAYS,
            "show_conversations": settings.INSIGHT_SHOW_CONVERSATIONS,
        },
    )


@login_required
@require_GET
def gap_conversation(request: HttpRequest, pk: int) -> HttpResponse:
    _staff_only(request)
    conversation = gaps.gap_conversation_get(user=request.user, pk=pk)
    return render(
        request,
        "insight/conversation.html",
        {"conversation": conversation, "messages_": gaps.conversation_messages(conversation)},
    )
