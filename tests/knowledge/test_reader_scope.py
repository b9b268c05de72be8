"""reader_scope_and_names reads with a fixed statement: it must give collections_readable_by's rows."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, Group

from accounts.readers import OPERATOR
from accounts.services import user_ensure
from knowledge.collections import collection_ensure
from knowledge.models import Collection
from knowledge.selectors import collections_readable_by, reader_scope_and_names

pytestmark = pytest.mark.django_db


@pytest.fixture
def collections(handbook, hr, engineering) -> list[Collection]:
    both = collection_ensure(
        slug="both", name="A shared wiki", public=False, groups=["HR", "Engineering"]
    )
    nobody = collection_ensure(slug="nobody", name="Unshared drafts", public=False, groups=[])
    return [handbook, hr, engineering, both, nobody]


def orm_view(reader) -> tuple[list[tuple[int, int]], list[str]]:
    rows = list(collections_readable_by(reader).values_list("pk", "knowledge_version", "name"))
    return sorted((pk, version) for pk, version, _ in rows), [name for _, _, name in rows]


def scope_view(reader) -> tuple[list[tuple[int, int]], list[str]]:
    scope, names = reader_scope_and_names(reader)
    return list(scope.versions), names


def test_each_kind_of_reader_gets_the_orm_view(collections, alice, bob, carol, dave) -> None:
    in_two = user_ensure(username="erin", password="pw-erin", groups=["HR", "Engineering"])[0]
    for reader in (alice, bob, carol, dave, in_two, OPERATOR):
        assert scope_view(reader) == orm_view(reader), reader
    # Not a check that cannot fail: the readers differ.
    assert len(scope_view(dave)[1]) == 1 and len(scope_view(in_two)[1]) == 4
    assert len(scope_view(OPERATOR)[1]) == 5


def test_a_group_change_and_a_version_bump_show_at_once(collections, dave) -> None:
    hr = collections[1]
    before = reader_scope_and_names(dave)[0]
    dave.groups.add(Group.objects.get(name="HR"))
    Collection.objects.filter(pk=hr.pk).update(knowledge_version=7)
    after = reader_scope_and_names(dave)[0]
    assert hr.pk not in before.collection_ids
    assert (hr.pk, 7) in after.versions
    assert scope_view(dave) == orm_view(dave)


def test_inactive_and_signed_out_readers_read_nothing(collections, bob) -> None:
    bob.is_active = False
    bob.save()
    assert reader_scope_and_names(bob)[0].collection_ids == ()
    assert reader_scope_and_names(AnonymousUser())[0].collection_ids == ()
    with pytest.raises(TypeError):
        reader_scope_and_names(None)  # type: ignore[arg-type]  # refused on purpose
