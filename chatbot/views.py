from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from chatbot import cache, frequent
from knowledge.selectors import is_knowledge_manager


def _staff_only(request: HttpRequest) -> None:
    if not is_knowledge_manager(request.user):
        raise PermissionDenied("Only knowledge managers see the frequent questions.")


@login_required
@require_GET
def frequent_questions(request: HttpRequest) -> HttpResponse:
    _staff_only(request)
    questions = frequent.frequent_question_list(user=request.user)
    return render(
        request,
        "chatbot/frequent.html",
        {"questions": questions, "min_askers": frequent.PROMOTE_MIN_ASKERS},
    )


@login_required
@require_POST
def frequent_question_retire(request: HttpRequest, entry_id: str) -> HttpResponse:
    _staff_only(request)
    # An entry built for collections this staff member may not see is not theirs to retire.
    if not frequent.frequent_question_visible(user=request.user, entry_id=entry_id):
        raise Http404("No such cached answer.")
    if not cache.answer_retire(entry_id=entry_id):
        raise Http404("No such cached answer.")
    if request.htmx:  # type: ignore[attr-defined]
        return HttpResponse("")  # the row swaps out
    messages.success(request, "Retired: the next ask is answered fresh.")
    return redirect("frequent_questions")


@login_required
@require_POST
def frequent_question_promote(request: HttpRequest, entry_id: str) -> HttpResponse:
    """Offer a question on the empty chat page of its readers (or stop offering it)."""
    _staff_only(request)
    if not frequent.frequent_question_visible(user=request.user, entry_id=entry_id):
        raise Http404("No such cached answer.")
    promoted = request.POST.get("promoted", "1") == "1"
    if not frequent.question_promote(entry_id=entry_id, promoted=promoted):
        messages.error(
            request,
            f"Only a question asked by at least {frequent.PROMOTE_MIN_ASKERS} different people "
            "can be suggested to readers.",
        )
    else:
        messages.success(
            request, "Suggested to its readers." if promoted else "No longer suggested."
        )
    return redirect("frequent_questions")
