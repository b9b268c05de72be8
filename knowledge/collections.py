"""Writes about collections and who may read them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.contrib.auth.models import Group
from django.db.models import F
from django.utils.text import slugify

from knowledge.models import Collection


def collection_ensure(
    *, slug: str, name: str = "", public: bool | None = None, groups: Sequence[str] = ()
) -> Collection:
    """The collection with this slug, created if missing; `public` and `groups` are applied."""
    slug = slugify(slug)
    collection, _ = Collection.objects.get_or_create(
        slug=slug, defaults={"name": name or slug.replace("-", " ").capitalize()}
    )
    if public is not None and collection.is_public != public:
        collection.is_public = public
        collection.save(update_fields=["is_public"])
    for group_name in groups:
        group, _ = Group.objects.get_or_create(name=group_name)
        collection.groups.add(group)
    return collection


def _unique_slug(name: str) -> str:
    base = slugify(name)[:40] or "collection"
    slug, n = base, 1
    while Collection.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def collection_create(
    *, name: str, is_public: bool, groups: Iterable[Group] = (), description: str = ""
) -> Collection:
    """A new collection with its audience. A private one without groups is readable by no one
    until a group is added (the Knowledge page says so)."""
    collection = Collection.objects.create(
        slug=_unique_slug(name), name=name, description=description, is_public=is_public
    )
    collection.groups.set(groups)
    return collection


def collection_touch(*, collection_id: int) -> None:
    """Move the collection's knowledge version on: answers cached on the old text retire."""
    Collection.objects.filter(pk=collection_id).update(knowledge_version=F("knowledge_version") + 1)
