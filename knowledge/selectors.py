"""Reads that decide who may see what. Every path a chunk can leave by goes through here."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from accounts.models import User
from accounts.readers import Operator, Reader
from knowledge.models import Collection, Document


@dataclass(frozen=True)
class ReaderScope:
    """The collections a reader may read, and their knowledge versions (for cache keys)."""

    collection_ids: tuple[int, ...]
    versions: tuple[tuple[int, int], ...]

    @property
    def key(self) -> str:
        return ",".join(f"{c}:{v}" for c, v in self.versions)


def collections_readable_by(user: Reader) -> QuerySet[Collection]:
    """Public collections and those shared with one of the user's groups; all for the operator."""
    if isinstance(user, Operator):
        return Collection.objects.all()
    if user is None:
        raise TypeError("a reader is a user or accounts.readers.OPERATOR, never None")
    if not user.is_authenticated or not user.is_active:
        return Collection.objects.none()
    return Collection.objects.filter(Q(is_public=True) | Q(groups__in=user.groups.all())).distinct()


def reader_scope(user: Reader) -> ReaderScope:
    return reader_scope_and_names(user)[0]


def reader_scope_and_names(user: Reader) -> tuple[ReaderScope, list[str]]:
    """The reader's scope and its collections' names, in one query (answering needs both
    for every question, a cached one too).

    The same rows as collections_readable_by, in one fixed statement rather than the ORM's:
    building that query (a join through the groups, DISTINCT) cost 0.7 ms of the web
    process's CPU on every question, most of what a cached answer costs it. The two are
    held equal by tests/knowledge/test_reader_scope.py.
    """
    statement = _readable_statement(user)
    if statement is None:  # signed out or inactive: nothing (None is refused there too)
        rows = list(collections_readable_by(user).values_list("pk", "knowledge_version", "name"))
    else:
        with connection.cursor() as cursor:
            cursor.execute(*statement)
            rows = cursor.fetchall()
    versions = tuple(sorted((pk, version) for pk, version, _ in rows))
    scope = ReaderScope(collection_ids=tuple(pk for pk, _ in versions), versions=versions)
    return scope, [name for _, _, name in rows]  # by name, the collections' own order


@functools.cache
def _readable_sql() -> tuple[str, str]:
    """Every collection, and those a user may read: public, or shared with one of their groups."""
    collection = Collection._meta.db_table
    shared_with = Collection.groups.through._meta.db_table
    member_of = User.groups.through._meta.db_table
    every = f"SELECT id, knowledge_version, name FROM {collection} ORDER BY name"
    readable = (
        f"SELECT c.id, c.knowledge_version, c.name FROM {collection} c "
        f"WHERE c.is_public OR EXISTS (SELECT 1 FROM {shared_with} s "
        f"JOIN {member_of} m ON m.group_id = s.group_id "
        f"WHERE s.collection_id = c.id AND m.user_id = %s) "
        f"ORDER BY c.name"
    )
    return every, readable


def _readable_statement(user: Reader) -> tuple[str, list[int]] | None:
    every, readable = _readable_sql()
    if isinstance(user, Operator):
        return every, []
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    return readable, [user.pk]


def document_get_for_user(*, user: Reader, pk: int) -> Document:
    """The document if the user may read it; 404 otherwise (its existence is not revealed)."""
    document = (
        Document.objects.select_related("collection")
        .filter(pk=pk, collection__in=collections_readable_by(user))
        .first()
    )
    if document is None:
        raise Http404("No such document.")
    return document


def is_superuser(user: Reader | None) -> bool:
    """An active, signed-in superuser: manages every collection, creates and deletes them."""
    return bool(
        user is not None
        and not isinstance(user, Operator)
        and user.is_authenticated
        and user.is_active
        and user.is_superuser
    )


def collections_managed_by(user: Reader) -> QuerySet[Collection]:
    """The collections a knowledge manager manages and sees on staff pages: every one for a
    superuser, those whose manager groups include one of the user's groups for anyone else.

    Management is given per collection, by group (Collection.manager_groups), so it follows
    the directory through single sign-on like reading does; the staff flag plays no part.
    Managing is not reading: an answer's sources still come from collections_readable_by.
    Staff pages (the Knowledge page, its progress feed, Frequent questions, the REST status)
    show titles, names and questions taken from content: HR's managers see nothing of
    Engineering's.
    """
    if isinstance(user, Operator) or is_superuser(user):
        return Collection.objects.all()
    if user is None or not user.is_authenticated or not user.is_active:
        return Collection.objects.none()
    return Collection.objects.filter(manager_groups__in=user.groups.all()).distinct()


def is_knowledge_manager(user: Reader | None) -> bool:
    """Who reaches the staff pages (the Knowledge page, its feed, the REST uploads, Frequent
    questions): superusers, and whoever manages at least one collection. The one decision
    every view, socket and template asks (templates through `user|is_knowledge_manager`)."""
    if isinstance(user, Operator) or user is None:
        return False
    return is_superuser(user) or collections_managed_by(user).exists()


def collection_managed_by(*, user: Reader, collection_id: int) -> bool:
    return collections_managed_by(user).filter(pk=collection_id).exists()


def collections_for_manager(*, user: Reader) -> QuerySet[Collection]:
    """The collections the user manages, with groups and documents (the Knowledge page)."""
    managed = collections_managed_by(user).values("pk")
    return Collection.objects.filter(pk__in=managed).prefetch_related(
        "groups",
        "manager_groups",
        Prefetch("documents", queryset=Document.objects.order_by("original_name")),
    )


def _refuse_non_managers(user: Reader, what: str) -> None:
    if not is_knowledge_manager(user):
        raise PermissionDenied(f"Only knowledge managers manage {what}.")


def collection_get_for_manager(*, user: Reader, pk: int) -> Collection:
    """A collection the manager manages (with its documents); PermissionDenied for
    everyone but knowledge managers, 404 for one they may not see (its existence is not revealed)."""
    _refuse_non_managers(user, "collections")
    collection = collections_for_manager(user=user).filter(pk=pk).first()
    if collection is None:
        raise Http404("No such collection.")
    return collection


def collection_get_for_manager_by_slug(*, user: Reader, slug: str) -> Collection | None:
    """The collection of this slug if the manager manages it (REST uploads), else None."""
    _refuse_non_managers(user, "collections")
    return collections_managed_by(user).filter(slug=slug).first()


def documents_managed_by(user: Reader) -> QuerySet[Document]:
    """The documents of the collections the manager manages (staff pages, the admin)."""
    return Document.objects.filter(collection__in=collections_managed_by(user))


def document_get_for_manager(*, user: Reader, pk: int) -> Document:
    """A document the manager manages; PermissionDenied for everyone but knowledge managers, 404 if
    there is none or it is in a collection they may not see."""
    _refuse_non_managers(user, "documents")
    document = documents_managed_by(user).select_related("collection").filter(pk=pk).first()
    if document is None:
        raise Http404("No such document.")
    return document


def document_get_status_for_user(*, user: Reader, pk: int) -> Document:
    """A document's ingest status: of a document the user manages (as on the Knowledge page)
    or may read; 404 otherwise."""
    document = (
        Document.objects.select_related("collection")
        .filter(pk=pk)
        .filter(
            Q(collection__in=collections_managed_by(user))
            | Q(collection__in=collections_readable_by(user))
        )
        .first()
    )
    if document is None:
        raise Http404("No such document.")
    return document


def scope_check_for(user: Reader) -> Callable[[str], bool]:
    """Whether the manager may see what was built for a reader scope (a cached answer's
    question on Frequent questions): every collection of the scope is one they manage, or
    the scope holds one they manage and the rest are public (every reader's scope holds the
    public collections, which nobody need manage to see). Their collections are read once;
    the check is then applied to many scope keys."""
    managed = set(collections_managed_by(user).values_list("pk", flat=True))
    public = set(Collection.objects.filter(is_public=True).values_list("pk", flat=True))

    def visible(scope_key: str) -> bool:
        ids = scope_collection_ids(scope_key)
        return ids <= managed or (bool(ids & managed) and ids <= managed | public)

    return visible


def scope_collection_ids(scope_key: str) -> set[int]:
    """The collection ids of a scope key ("3:7,5:2" -> {3, 5}); see ReaderScope.key."""
    return {int(part.split(":")[0]) for part in scope_key.split(",") if part}
