"""Writes about collections and who may read them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.contrib.auth.models import Group
from django.db.models import F
from django.utils.text import slugify

from knowledge.models import Collection


def group_ensure(name: str) -> Group:
    """The group of this name, whatever its case ("hr" finds "HR"), created if there is none.

    Group names are one namespace regardless of case: the directory, the Knowledge page and
    `manage.py` may spell a group differently, and two groups that differ only in case would
    be listed as two audiences while meaning one.
    """
    name = name.strip()
    existing = Group.objects.filter(name__iexact=name).order_by("pk").first()
    return existing or Group.objects.create(name=name)


def collection_ensure(
    *,
    slug: str,
    name: str = "",
    public: bool | None = None,
    groups: Sequence[str] = (),
    managers: Sequence[str] = (),
) -> Collection:
    """The collection with this slug, created if missing; `public`, reader `groups` and
    `managers` (group names, added to the collection's manager groups) are applied."""
    slug = slugify(slug)
    collection, _ = Collection.objects.get_or_create(
        slug=slug, defaults={"name": name or slug.replace("-", " ").capitalize()}
    )
    if public is not None and collection.is_public != public:
        collection.is_public = public
        collection.save(update_fields=["is_public"])
    for group_name in groups:
        collection.groups.add(group_ensure(group_name))
    for group_name in managers:
        collection.manager_groups.add(group_ensure(group_name))
    return collection


def _unique_slug(name: str) -> str:
    base = slugify(name)[:40] or "collection"
    slug, n = base, 1
    while Collection.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def collection_create(
    *,
    name: str,
    is_public: bool,
    groups: Iterable[Group] = (),
    manager_groups: Iterable[Group] = (),
    description: str = "",
) -> Collection:
    """A new collection with its audience and its managers. A private one without groups is
    readable by no one until a group is added (the Knowledge page says so)."""
    collection = Collection.objects.create(
        slug=_unique_slug(name), name=name, description=description, is_public=is_public
    )
    collection.groups.set(groups)
    collection.manager_groups.set(manager_groups)
    return collection


def collection_rename(*, collection: Collection, name: str) -> Collection:
    """A new display name; the slug (REST uploads, `manage.py ingest`) stays as it was."""
    collection.name = name
    collection.save(update_fields=["name"])
    return collection


def collection_readers_set(
    *, collection: Collection, is_public: bool, groups: Iterable[Group], keep: Iterable[Group] = ()
) -> Collection:
    """Who reads the collection: public or not, and its reader groups (`groups` plus `keep`,
    the groups the person setting them could not choose and so did not remove). Readers are
    part of every cache key (the reader's scope), so no cached answer needs retiring."""
    collection.is_public = is_public
    collection.save(update_fields=["is_public"])
    collection.groups.set({*groups, *keep})
    return collection


def collection_touch(*, collection_id: int) -> None:
    """Move the collection's knowledge version on: answers cached on the old text retire."""
    Collection.objects.filter(pk=collection_id).update(knowledge_version=F("knowledge_version") + 1)
