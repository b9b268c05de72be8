"""Reads that decide who may see what. Every path a chunk can leave by goes through here."""

from __future__ import annotations

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


def document_get_for_user(*, user, pk: int) -> Document:  # type: ignore[no-untyped-def]
    """The document if the user may read it; 404 otherwise (its existence is not revealed)."""
    document = (
        Document.objects.select_related("collection")
        .filter(pk=pk, collection__in=collections_readable_by(user))
        .first()
    )
    if document is None:
        raise Http404("No such document.")
    return document


def collections_for_manager() -> QuerySet[Collection]:
    """Every collection with its groups and documents (the Knowledge page)."""
    return Collection.objects.prefetch_related(
        "groups", Prefetch("documents", queryset=Document.objects.order_by("original_name"))
    )


def collection_get_for_manager(*, user, pk: int) -> Collection:  # type: ignore[no-untyped-def]
    """Any collection (with its documents), for staff; PermissionDenied for everyone else."""
    if not is_staff_member(user):
        raise PermissionDenied("Only staff manage collections.")
    collection = collections_for_manager().filter(pk=pk).first()
    if collection is None:
        raise Http404("No such collection.")
    return collection


def document_get_for_manager(*, user, pk: int) -> Document:  # type: ignore[no-untyped-def]
    """Any document, for staff; PermissionDenied for everyone else, 404 if there is none."""
    if not is_staff_member(user):
        raise PermissionDenied("Only staff manage documents.")
    document = Document.objects.select_related("collection").filter(pk=pk).first()
    if document is None:
        raise Http404("No such document.")
    return document


def document_get_status_for_user(*, user, pk: int) -> Document:  # type: ignore[no-untyped-def]
    """A document's ingest status: staff see every document (as on the Knowledge page),
    everyone else only the documents they may read."""
    if is_staff_member(user):
        return document_get_for_manager(user=user, pk=pk)
    return document_get_for_user(user=user, pk=pk)
