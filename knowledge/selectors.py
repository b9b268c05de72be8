"""Reads that decide who may see what. Every path a chunk can leave by goes through here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from accounts.readers import Operator, Reader
from accounts.roles import is_staff_member
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
    rows = sorted(collections_readable_by(user).values_list("pk", "knowledge_version"))
    return ReaderScope(collection_ids=tuple(pk for pk, _ in rows), versions=tuple(rows))


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


def collections_managed_by(user: Reader) -> QuerySet[Collection]:
    """The collections a staff member manages and sees on staff pages: every one for a
    superuser, the ones they may read for other staff, none for everyone else.

    Staff pages (the Knowledge page, its progress feed, Frequent questions, the admin, the
    REST status) show titles, names and questions taken from content: a staff member in HR
    sees nothing of Engineering's.
    """
    if isinstance(user, Operator) or (is_staff_member(user) and user.is_superuser):
        return Collection.objects.all()
    if not is_staff_member(user):
        return Collection.objects.none()
    return collections_readable_by(user)


def collection_managed_by(*, user: Reader, collection_id: int) -> bool:
    return collections_managed_by(user).filter(pk=collection_id).exists()


def collections_for_manager(*, user: Reader) -> QuerySet[Collection]:
    """The collections the staff member manages, with groups and documents (the Knowledge page)."""
    managed = collections_managed_by(user).values("pk")
    return Collection.objects.filter(pk__in=managed).prefetch_related(
        "groups", Prefetch("documents", queryset=Document.objects.order_by("original_name"))
    )


def _refuse_non_staff(user: Reader, what: str) -> None:
    if not is_staff_member(user):
        raise PermissionDenied(f"Only staff manage {what}.")


def collection_get_for_manager(*, user: Reader, pk: int) -> Collection:
    """A collection the staff member manages (with its documents); PermissionDenied for
    everyone but staff, 404 for one they may not see (its existence is not revealed)."""
    _refuse_non_staff(user, "collections")
    collection = collections_for_manager(user=user).filter(pk=pk).first()
    if collection is None:
        raise Http404("No such collection.")
    return collection


def collection_get_for_manager_by_slug(*, user: Reader, slug: str) -> Collection | None:
    """The collection of this slug if the staff member manages it (REST uploads), else None."""
    _refuse_non_staff(user, "collections")
    return collections_managed_by(user).filter(slug=slug).first()


def documents_managed_by(user: Reader) -> QuerySet[Document]:
    """The documents of the collections the staff member manages (staff pages, the admin)."""
    return Document.objects.filter(collection__in=collections_managed_by(user))


def document_get_for_manager(*, user: Reader, pk: int) -> Document:
    """A document the staff member manages; PermissionDenied for everyone but staff, 404 if
    there is none or it is in a collection they may not see."""
    _refuse_non_staff(user, "documents")
    document = documents_managed_by(user).select_related("collection").filter(pk=pk).first()
    if document is None:
        raise Http404("No such document.")
    return document


def document_get_status_for_user(*, user: Reader, pk: int) -> Document:
    """A document's ingest status: staff see the documents they manage (as on the Knowledge
    page), everyone else the documents they may read."""
    if is_staff_member(user):
        return document_get_for_manager(user=user, pk=pk)
    return document_get_for_user(user=user, pk=pk)


def scope_check_for(user: Reader) -> Callable[[str], bool]:
    """Whether the staff member may see what was built for a reader scope (a cached answer's
    question on Frequent questions): every collection of the scope is one they manage.
    Their collections are read once; the check is then applied to many scope keys."""
    managed = set(collections_managed_by(user).values_list("pk", flat=True))

    def visible(scope_key: str) -> bool:
        return scope_collection_ids(scope_key) <= managed

    return visible


def scope_collection_ids(scope_key: str) -> set[int]:
    """The collection ids of a scope key ("3:7,5:2" -> {3, 5}); see ReaderScope.key."""
    return {int(part.split(":")[0]) for part in scope_key.split(",") if part}
