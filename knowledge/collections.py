"""Writes about collections and who may read them."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.utils.text import slugify

from knowledge.models import Collection


def collection_ensure(
    *, slug: str, name: str = "", public: bool | None = None, groups: list[str] = ()
) -> Collection:  # type: ignore[assignment]
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
