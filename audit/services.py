"""The audit log: who did what, when (audit.models.AuditEvent).

`audit_record` is the one writer. Signals call it for what Django announces (sign-ins,
group and reader changes, tokens: audit.signals); the knowledge services call it
once each for uploads and deletions. Who acted comes from the caller, or else from the
request being served (audit.middleware keeps it for the length of the request), so
a signal fired deep in a service still names the person who clicked. Nothing recorded
holds a password, a token or a document's or question's text.
"""

from __future__ import annotations

import contextvars
import csv
from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import Model, QuerySet
from django.utils import timezone

from accounts.models import User
from audit.models import AuditEvent

Action = AuditEvent.Action

# Set by audit.middleware.AuditActorMiddleware for the length of each request.
request_actor_var: contextvars.ContextVar[User | None] = contextvars.ContextVar(
    "audit_request_actor", default=None
)


def request_actor() -> User | None:
    """The person whose request is being served, if any (None in commands and workers)."""
    return request_actor_var.get()


def describe(target: Model | str | None) -> str:
    """A short, content-free description: "document 12 (vacation.md in Handbook)", "user bob"."""
    if target is None:
        return ""
    if isinstance(target, str):
        return target[:300]
    kind = target._meta.model_name
    if isinstance(target, User):
        return f"user {target.get_username()}"
    name = getattr(target, "original_name", None) or getattr(target, "name", None) or ""
    collection = getattr(target, "collection", None)  # a document: where it was
    if name and collection is not None:
        name = f"{name} in {collection.name}"
    return (f"{kind} {target.pk} ({name})" if name else f"{kind} {target.pk}")[:300]


def audit_record(
    *,
    actor: User | None,
    action: str,
    target: Model | str | None = None,
    detail: dict[str, Any] | None = None,
    actor_name: str = "",
) -> AuditEvent:
    """Record one event. `actor` None: the request's person, if there is a request.

    `actor_name` names someone who is no user (a failed sign-in's username).
    """
    if actor is None or not getattr(actor, "is_authenticated", False):
        actor = request_actor()
    return AuditEvent.objects.create(
        actor=actor,
        actor_name=actor.get_username() if actor is not None else actor_name[:150],
        action=action,
        target=describe(target),
        detail=detail or {},
    )


def token_use_record(*, token: Any) -> None:
    """Record a token's first use of the day (later uses that day are not news)."""
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    target = token_label(token)
    seen = AuditEvent.objects.filter(
        action=Action.TOKEN_USE, target=target, created_at__gte=today
    ).exists()
    if not seen:
        audit_record(actor=token.user, action=Action.TOKEN_USE, target=target)


def token_label(token: Any) -> str:
    return f"token {token.pk} ({token.name}, {token.prefix}…)"


# --- reading ----------------------------------------------------------------------------------


def audit_events(*, action: str = "", person: str = "") -> QuerySet[AuditEvent]:
    """Events, newest first, of one action and/or one person (username, exact, any case)."""
    events = AuditEvent.objects.all()
    if action:
        events = events.filter(action=action)
    if person:
        events = events.filter(actor_name__iexact=person.strip())
    return events


class _Echo:
    def write(self, value: str) -> str:
        return value


def audit_csv_rows(events: Iterable[AuditEvent]) -> Iterator[str]:
    """The events as CSV lines (a header first), for a streamed export."""
    writer = csv.writer(_Echo())
    yield writer.writerow(["time", "person", "action", "target", "detail"])
    for event in events:
        yield writer.writerow(
            [
                event.created_at.isoformat(),
                _no_formula(event.actor_name),
                event.action,
                _no_formula(event.target),
                _no_formula(event.detail_text),
            ]
        )


def _no_formula(value: str) -> str:
    # A collection named "=HYPERLINK(...)" must not become a formula in a spreadsheet.
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value
