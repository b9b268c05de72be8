"""Reads that decide who may see what. Every path a chunk can leave by goes through here."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.http import Http404

from knowledge.models import Collection, Document


@dataclass(frozen=True)
class ReaderScope:
    """The collections a reader may read, and their knowledge versions (for cache keys)."""

    collection_ids: tuple[int, ...]
    versions: tuple[tuple[int, int], ...]

    @property
    def key(self) -> str:
        return ",".join(f"{c}:{v}" for c, v in self.versions)


def collections_readable_by(user) -> QuerySet[Collection]:  # type: ignore[no-untyped-def]
    """Public collections and those shared with one of the user's groups; None = operator."""
    if user is None:
        return Collection.objects.all()
    if not user.is_authenticated or not user.is_active:
        return Collection.objects.none()
    return Collection.objects.filter(Q(is_public=True) | Q(groups__in=user.groups.all())).distinct()


def reader_scope(user) -> ReaderScope:  # type: ignore[no-untyped-def]
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
