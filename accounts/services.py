"""Writes and reads about users and their tokens."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.models import ApiToken, User, hash_token


def token_create(*, user: User, name: str) -> str:
    """Create a token for user; return the raw token (shown once, never stored)."""
    raw = ApiToken.generate()
    ApiToken.objects.create(user=user, name=name, key_hash=hash_token(raw), prefix=raw[4:10])
    return raw


def user_for_token(*, raw: str) -> User | None:
    token = ApiToken.objects.select_related("user").filter(key_hash=hash_token(raw)).first()
    if token is None or not token.user.is_active:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token.user


def user_ensure(
    *,
    username: str,
    password: str,
    groups: list[str],
    is_staff: bool = False,
    is_superuser: bool = False,
) -> tuple[User, bool]:
    """Create the user if missing (for demos and tests); return (user, created)."""
    user, created = User.objects.get_or_create(
        username=username, defaults={"is_staff": is_staff, "is_superuser": is_superuser}
    )
    if created:
        user.set_password(password)
        user.save()
    for name in groups:
        group, _ = Group.objects.get_or_create(name=name)
        user.groups.add(group)
    return user, created
