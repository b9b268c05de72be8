"""What management commands share about users."""

from __future__ import annotations

from django.core.management.base import CommandError

from accounts.models import User


def reader_from_option(username: str | None) -> User | None:
    """The user named by a command's --user, or None (operator: every collection)."""
    if not username:
        return None
    reader = User.objects.filter(username=username).first()
    if reader is None:
        raise CommandError(f"No user named {username!r}.")
    return reader
