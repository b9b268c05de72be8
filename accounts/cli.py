"""What management commands share about users."""

from __future__ import annotations

from django.core.management.base import CommandError

from accounts.models import User
from accounts.readers import OPERATOR, Operator


def reader_from_option(username: str | None) -> User | Operator:
    """The user named by a command's --user, or the operator (every collection)."""
    if not username:
        return OPERATOR
    reader = User.objects.filter(username=username).first()
    if reader is None:
        raise CommandError(f"No user named {username!r}.")
    return reader
