"""What the audit log hears from Django itself (connected in AuditConfig.ready).

Sign-ins and failed sign-ins (the username tried, never a password), group membership
changes however they are made (the admin, single sign-on's group mapping, a command),
collections created and their readers changed, API tokens created, used (first use of a
day) and revoked.

The knowledge app calls audit.services, so this module hears its collections by model
label ("knowledge.Collection") rather than importing them: audit sits below knowledge.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from accounts.models import ApiToken, User
from accounts.services import token_used
from audit.services import Action, audit_record, request_actor, token_label, token_use_record


@receiver(user_logged_in)
def _signed_in(sender: Any, request: Any, user: User, **kwargs: Any) -> None:
    backend = getattr(user, "backend", "") or ""
    audit_record(
        actor=user, action=Action.SIGN_IN, target=user, detail={"via": backend.rsplit(".", 1)[-1]}
    )


@receiver(user_login_failed)
def _sign_in_failed(sender: Any, credentials: dict[str, Any], **kwargs: Any) -> None:
    # Only the username: Django has already masked the password, and it is never ours to keep.
    username = str(credentials.get("username", ""))
    audit_record(
        actor=None, action=Action.SIGN_IN_FAILED, target=f"user {username}", actor_name=username
    )


def _names(model: type[Group] | type[User], pks: set[int] | None) -> list[str]:
    if not pks:
        return []
    if model is Group:
        return sorted(Group.objects.filter(pk__in=pks).values_list("name", flat=True))
    return sorted(User.objects.filter(pk__in=pks).values_list("username", flat=True))


_CHANGES = {"post_add": "added", "post_remove": "removed", "pre_clear": "removed"}


@receiver(m2m_changed, sender=User.groups.through)
def _membership_changed(
    sender: Any,
    instance: User | Group,
    action: str,
    reverse: bool,
    pk_set: set[int] | None,
    **kwargs: Any,
) -> None:
    if action not in _CHANGES:
        return
    change = _CHANGES[action]
    if isinstance(instance, User):  # user.groups.add(...)
        if action == "pre_clear":
            pk_set = set(instance.groups.values_list("pk", flat=True))
        groups = _names(Group, pk_set)
        if groups:
            audit_record(
                actor=None,
                action=Action.GROUP_MEMBERSHIP,
                target=instance,
                detail={change: groups},
            )
        return
    # group.user_set.add(...): one event per person, as if made from their side.
    if action == "pre_clear":
        pk_set = set(instance.user_set.values_list("pk", flat=True))
    for user in User.objects.filter(pk__in=pk_set or ()):
        audit_record(
            actor=None,
            action=Action.GROUP_MEMBERSHIP,
            target=user,
            detail={change: [instance.name]},
        )


COLLECTION = "knowledge.Collection"
COLLECTION_READERS = "knowledge.Collection_groups"  # the collection-group through table


@receiver(post_save, sender=COLLECTION)
def _collection_created(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    if created:
        audit_record(
            actor=None,
            action=Action.COLLECTION_CREATE,
            target=instance,
            detail={"public": instance.is_public},
        )


@receiver(m2m_changed, sender=COLLECTION_READERS)
def _readers_changed(
    sender: Any,
    instance: Any,
    action: str,
    reverse: bool,
    pk_set: set[int] | None,
    **kwargs: Any,
) -> None:
    if action not in _CHANGES:
        return
    change = _CHANGES[action]
    if not isinstance(instance, Group):  # collection.groups.add(...)
        if action == "pre_clear":
            pk_set = set(instance.groups.values_list("pk", flat=True))
        groups = _names(Group, pk_set)
        if groups:
            audit_record(
                actor=None,
                action=Action.COLLECTION_READERS,
                target=instance,
                detail={change: groups},
            )
        return
    if action == "pre_clear":
        pk_set = set(instance.collections.values_list("pk", flat=True))
    # group.collections.add(...): `model` is the collection's class.
    for collection in kwargs["model"].objects.filter(pk__in=pk_set or ()):
        audit_record(
            actor=None,
            action=Action.COLLECTION_READERS,
            target=collection,
            detail={change: [instance.name]},
        )


@receiver(post_save, sender=ApiToken)
def _token_created(sender: Any, instance: ApiToken, created: bool, **kwargs: Any) -> None:
    if created:
        audit_record(
            actor=request_actor() or instance.user,
            action=Action.TOKEN_CREATE,
            target=token_label(instance),
            detail={"owner": instance.user.get_username()},
        )


@receiver(post_delete, sender=ApiToken)
def _token_revoked(sender: Any, instance: ApiToken, **kwargs: Any) -> None:
    owner = User.objects.filter(pk=instance.user_id).first()  # gone with a deleted user
    audit_record(
        actor=request_actor() or owner,
        action=Action.TOKEN_REVOKE,
        target=token_label(instance),
        detail={"owner": owner.get_username() if owner else ""},
    )


@receiver(token_used)
def _token_used(sender: Any, token: ApiToken, **kwargs: Any) -> None:
    token_use_record(token=token)
