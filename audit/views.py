"""The audit log for superusers: filter by action and person, export as CSV."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.roles import is_staff_member
from audit.models import AuditEvent
from audit.services import audit_csv_rows, audit_events

PAGE_SIZE = 100


def _superuser_only(request: HttpRequest) -> None:
    if not (is_staff_member(request.user) and request.user.is_superuser):
        raise PermissionDenied("Only superusers read the audit log.")


def _filters(request: HttpRequest) -> dict[str, str]:
    action = request.GET.get("action", "")
    return {
        "action": action if action in AuditEvent.Action.values else "",
        "person": request.GET.get("person", "").strip()[:150],
    }


@login_required
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    _superuser_only(request)
    filters = _filters(request)
    page = Paginator(
        audit_events(action=filters["action"], person=filters["person"]), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    query = urlencode({key: value for key, value in filters.items() if value})
    return render(
        request,
        "audit/log.html",
        {"page": page, "filters": filters, "actions": AuditEvent.Action.choices, "query": query},
    )


@login_required
@require_GET
def audit_export(request: HttpRequest) -> StreamingHttpResponse:
    _superuser_only(request)
    filters = _filters(request)
    events = audit_events(action=filters["action"], person=filters["person"])
    rows = events.iterator(chunk_size=2000)
    response = StreamingHttpResponse(audit_csv_rows(rows), content_type="text/csv")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="docent-audit-{stamp}.csv"'
    return response
