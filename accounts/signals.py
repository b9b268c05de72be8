"""What tells open sockets that a person's credentials changed (accounts.sockets)."""

from __future__ import annotations

import functools
from typing import Any

from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from accounts.models import ApiToken, User
from accounts.sockets import credentials_changed


@receiver(user_logged_out)
def _signed_out(sender: Any, request: Any, user: User | None, **kwargs: Any) -> None:
    if user is not None:
        credentials_changed(user_id=user.pk, session_key=request.session.session_key or "")


@receiver(post_delete, sender=ApiToken)
def _token_deleted(sender: Any, instance: ApiToken, **kwargs: Any) -> None:
    user_id, token_hash = instance.user_id, instance.key_hash
    transaction.on_commit(lambda: credentials_changed(user_id=user_id, token_hash=token_hash))


@receiver(post_save, sender=ApiToken)
def _token_changed(sender: Any, instance: ApiToken, created: bool, **kwargs: Any) -> None:
    # Revoked or expiry moved: the token's sockets re-check (recording its use changes nothing).
    if not created and kwargs.get("update_fields") != frozenset({"last_used_at"}):
        user_id = instance.user_id
        transaction.on_commit(lambda: credentials_changed(user_id=user_id))


@receiver(m2m_changed, sender=User.groups.through)
def _groups_changed(sender: Any, instance: Any, action: str, pk_set: Any, **kwargs: Any) -> None:
    # Joined or left a group (a manager group among them): open sockets re-check what they
    # may show. From the group's side, `instance` is the group and `pk_set` its people.
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    people = [instance.pk] if isinstance(instance, User) else list(pk_set or ())
    for user_id in people:
        transaction.on_commit(functools.partial(credentials_changed, user_id=user_id))


@receiver(post_save, sender=User)
def _user_changed(sender: Any, instance: User, created: bool, **kwargs: Any) -> None:
    # Deactivated, lost staff rights, changed password: every socket re-checks. A sign-in
    # only records its time, which changes nothing for the sockets already open.
    if created or kwargs.get("update_fields") == frozenset({"last_login"}):
        return
    user_id = instance.pk
    transaction.on_commit(lambda: credentials_changed(user_id=user_id))
