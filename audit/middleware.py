from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from audit.services import request_actor_var


class AuditActorMiddleware:
    """Keeps the signed-in person of the request for audit_record (after authentication)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        token = request_actor_var.set(user if user is not None and user.is_authenticated else None)
        try:
            return self.get_response(request)
        finally:
            request_actor_var.reset(token)
