"""Writes and reads about users and their tokens."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import cast

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.models import Group
from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import Q
from django.dispatch import Signal
from django.utils import timezone

from accounts.models import ApiToken, User, hash_token

# last_used_at is for people ("is this bot still in use?"): a minute is precise enough, and
# writing it on every request would turn each read into a write.
LAST_USED_PRECISION = timedelta(minutes=1)


# Sent at most once a minute per token (when its last use is recorded): `audit` listens.
token_used = Signal()


class TokenAmbiguous(Exception):
    """A name that several users' tokens share: the message lists them, to choose by prefix."""


def token_default_expiry(*, now: datetime | None = None) -> datetime | None:
    """When a token made now expires: TOKEN_LIFETIME_DAYS from now, or never when that is 0."""
    days = int(settings.TOKEN_LIFETIME_DAYS)
    if days <= 0:
        return None
    return (now or timezone.now()) + timedelta(days=days)


def token_issue(*, token: ApiToken) -> str:
    """Give an unsaved token its secret and save it; return the raw token (shown once).

    For callers that build the row themselves (the admin's add form); others use
    `token_create`.
    """
    raw = ApiToken.generate()
    token.key_hash = hash_token(raw)
    token.prefix = raw[4:10]
    token.save()
    return raw


def token_create(*, user: User, name: str, days: int | None = None) -> str:
    """Create a token for user; return the raw token (shown once, never stored).

    It expires after `days` days (0: never), by default after TOKEN_LIFETIME_DAYS.
    """
    if days is None:
        expiry = token_default_expiry()
    else:
        expiry = timezone.now() + timedelta(days=days) if days > 0 else None
    return token_issue(token=ApiToken(user=user, name=name, expires_at=expiry))


def user_for_token(*, raw: str) -> User | None:
    """The active user a live token belongs to; None for unknown, expired or a leaver's tokens."""
    with connection.cursor() as cursor:
        cursor.execute(_token_user_sql(), [hash_token(raw)])
        row = cursor.fetchone()
    now = timezone.now()
    if row is None:
        return None
    *user_row, token_pk, expires_at, last_used_at = row
    user = User.from_db(DEFAULT_DB_ALIAS, _user_columns(), user_row)
    if not user.is_active or (expires_at is not None and expires_at <= now):
        return None
    if last_used_at is None or last_used_at <= now - LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token_pk).update(last_used_at=now)
        token = ApiToken.objects.select_related("user").filter(pk=token_pk).first()
        if token is None:  # revoked a moment ago
            return None
        token_used.send(sender=ApiToken, token=token)  # the audit log keeps a day's first use
    return user


@functools.cache
def _user_columns() -> list[str]:
    return [field.attname for field in User._meta.concrete_fields]


@functools.cache
def _token_user_sql() -> str:
    """A token's user, then the token's id, expiry and last use, in one fixed statement.

    Every question a bot asks re-reads its token (chatbot.consumers.ask_begin): the ORM
    building its select_related query cost the web process 0.5 to 0.8 ms of CPU each
    time, several times what this statement costs.
    """
    users, tokens = User._meta.db_table, ApiToken._meta.db_table
    columns = ", ".join(
        f"u.{connection.ops.quote_name(cast(str, f.column))}" for f in User._meta.concrete_fields
    )
    return (
        f"SELECT {columns}, t.id, t.expires_at, t.last_used_at "
        f"FROM {users} u JOIN {tokens} t ON t.user_id = u.id WHERE t.key_hash = %s"
    )


def token_revoke(*, name_or_prefix: str, username: str | None = None) -> list[ApiToken]:
    """Delete the token given whole, or by its prefix (as `token --list` shows it), or by name.

    A name shared by tokens of several users is refused unless `username` says whose:
    revoking a colleague's bot by accident is worse than asking again. Returns what
    was deleted (nothing when nothing matched).
    """
    found: list[ApiToken] = []
    for match in (
        Q(key_hash=hash_token(name_or_prefix)),
        Q(prefix=name_or_prefix.removeprefix("dct_")),
        Q(name=name_or_prefix),
    ):
        tokens = ApiToken.objects.select_related("user").filter(match)
        if username:
            tokens = tokens.filter(user__username=username)
        found = list(tokens.order_by("created_at"))
        if found:
            break
    if len({token.user_id for token in found}) > 1:
        listed = ", ".join(f"{t.user.username}: {t.name} ({t.prefix})" for t in found)
        raise TokenAmbiguous(
            f"Several users have a token named {name_or_prefix!r} ({listed}); "
            "give its prefix, or the username too."
        )
    ApiToken.objects.filter(pk__in=[token.pk for token in found]).delete()
    return found


def tokens_of(*, user: User) -> list[ApiToken]:
    """A person's own tokens, newest first (the API tokens page)."""
    return list(ApiToken.objects.filter(user=user).order_by("-created_at"))


def token_revoke_own(*, user: User, pk: int) -> bool:
    """Delete one of `user`'s own tokens (its open sockets close: accounts.signals)."""
    deleted, _ = ApiToken.objects.filter(user=user, pk=pk).delete()
    return deleted > 0


def user_create(
    *,
    username: str,
    password: str,
    groups: Iterable[str] = (),
    is_staff: bool = False,
    is_superuser: bool = False,
) -> User:
    """Create a user whose password passes AUTH_PASSWORD_VALIDATORS.

    Raises django.core.exceptions.ValidationError with the validators' messages
    (too short, too common, all digits, too like the username) before anything
    is written.
    """
    user = User(username=username, is_staff=is_staff, is_superuser=is_superuser)
    password_validation.validate_password(password, user=user)
    user.set_password(password)
    user.full_clean()
    user.save()
    for name in groups:
        group, _ = Group.objects.get_or_create(name=name)
        user.groups.add(group)
    return user


def user_ensure(
    *,
    username: str,
    password: str,
    groups: list[str],
    is_staff: bool = False,
    is_superuser: bool = False,
) -> tuple[User, bool]:
    """Create the user if missing (for demos and tests); return (user, created).

    The password is not validated: demo passwords are generated, test personas
    have short ones. People's accounts are made by `user_create`.
    """
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
