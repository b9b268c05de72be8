"""Roles per collection (issue 11), walked by four people over every knowledge page and endpoint.

alice is a superuser: she manages every collection, creates and deletes them. hugo is the
knowledge manager of HR (tests.support.personas.hr_manager): he uploads, re-ingests,
deletes, renames and sets the readers of HR's collection and nothing else. bob is an
Engineering employee and dave is in no group: neither reaches any staff page or endpoint.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import User
from accounts.services import token_create
from config.asgi import application
from knowledge.collections import collection_ensure
from knowledge.models import Collection, Document
from knowledge.selectors import collections_managed_by, is_knowledge_manager
from knowledge.uploads import document_upload
from tests.support import files, ws
from tests.support.personas import hr_manager, hr_staff_member

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
REFUSED = 403


@pytest.fixture
def hugo(hr) -> User:
    return hr_manager()


@pytest.fixture
def hr_doc(hr, tmp_path) -> Document:
    return stored(hr, files.write_markdown(tmp_path / "salaries.md"))


@pytest.fixture
def eng_doc(engineering, tmp_path) -> Document:
    return stored(engineering, files.write_markdown(tmp_path / "deploy.md"))


def stored(collection: Collection, path: Path) -> Document:
    with path.open("rb") as content:
        return document_upload(
            collection=collection, content=content, original_name=path.name, enqueue=False
        ).document


def upload_file(name: str) -> SimpleUploadedFile:
    """A small Markdown file whose text differs by name (the same bytes would be a duplicate)."""
    return SimpleUploadedFile(name, f"# {name}\n\nWhat {name} says.\n".encode())


def bearer(user: User) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token_create(user=user, name='script')}"}


# --- the decision --------------------------------------------------------------------------------


def test_who_manages_what(alice, hugo, bob, dave, hr, engineering) -> None:
    hannah = hr_staff_member()  # staff in HR, but in no manager group

    assert set(collections_managed_by(alice)) == {hr, engineering}
    assert list(collections_managed_by(hugo)) == [hr]
    for nobody in (bob, dave, hannah):
        assert not collections_managed_by(nobody).exists()
    assert [is_knowledge_manager(u) for u in (alice, hugo, bob, dave, hannah)] == [
        True,
        True,
        False,
        False,
        False,
    ]
    hugo.is_active = False
    assert not is_knowledge_manager(hugo)


# --- the Knowledge page and its actions ----------------------------------------------------------


def test_the_knowledge_page_shows_each_manager_only_their_collections(
    client, alice, hugo, bob, dave, hr, engineering
) -> None:
    client.force_login(alice)
    page = client.get(reverse("knowledge")).content.decode()
    assert "HR confidential" in page and "Engineering" in page
    assert 'id="collection-form"' in page and "Delete collection" in page

    client.force_login(hugo)
    response = client.get(reverse("knowledge"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "HR confidential" in page and f'id="collection-{engineering.pk}"' not in page
    assert 'id="collection-form"' not in page, "only superusers create collections"
    assert "Delete collection" not in page, "only superusers delete collections"
    assert 'href="/knowledge/"' in page and 'href="/frequent/"' in page

    for employee in (bob, dave):
        client.force_login(employee)
        assert client.get(reverse("knowledge")).status_code == REFUSED
        chat = client.get(reverse("chat")).content.decode()
        assert 'href="/knowledge/"' not in chat and 'href="/frequent/"' not in chat


def test_uploads_go_only_into_collections_one_manages(
    client, alice, hugo, bob, dave, hr, engineering, tmp_path
) -> None:
    def upload(user: User, collection: Collection, name: str) -> int:
        client.force_login(user)
        url = reverse("knowledge_documents_add", args=[collection.pk])
        return client.post(url, {"file": upload_file(name)}, **HTMX).status_code

    assert upload(alice, engineering, "a.md") == 200
    assert upload(hugo, hr, "b.md") == 200
    assert upload(hugo, engineering, "c.md") == 404
    assert upload(bob, engineering, "d.md") == REFUSED
    assert upload(dave, hr, "e.md") == REFUSED
    assert set(Document.objects.values_list("original_name", flat=True)) == {"a.md", "b.md"}


def test_documents_are_deleted_only_by_their_collections_managers(
    client, hugo, bob, dave, hr_doc, eng_doc
) -> None:
    def delete(user: User, document: Document) -> int:
        client.force_login(user)
        url = reverse("knowledge_document_delete", args=[document.pk])
        return client.post(url, **HTMX).status_code

    assert delete(bob, eng_doc) == REFUSED
    assert delete(dave, hr_doc) == REFUSED
    assert delete(hugo, eng_doc) == 404
    assert Document.objects.count() == 2
    assert delete(hugo, hr_doc) == 200
    assert list(Document.objects.all()) == [eng_doc]


def test_re_ingest_only_ones_own_collections(
    client, alice, hugo, bob, hr, engineering, hr_doc, eng_doc
) -> None:
    Document.objects.update(status="ready", progress=100)

    def reingest(user: User, collection: Collection) -> int:
        client.force_login(user)
        url = reverse("knowledge_collection_reingest", args=[collection.pk])
        return client.post(url, **HTMX).status_code

    assert reingest(bob, engineering) == REFUSED
    assert reingest(hugo, engineering) == 404
    assert Document.objects.filter(status="queued").count() == 0
    assert reingest(hugo, hr) == 200
    assert list(Document.objects.filter(status="queued")) == [hr_doc]
    assert reingest(alice, engineering) == 200
    assert Document.objects.filter(status="queued").count() == 2


def test_a_manager_renames_their_collection_and_no_other(
    client, hugo, bob, hr, engineering
) -> None:
    def rename(user: User, collection: Collection, name: str) -> int:
        client.force_login(user)
        url = reverse("knowledge_collection_rename", args=[collection.pk])
        return client.post(url, {"name": name}, **HTMX).status_code

    assert rename(hugo, hr, "People and pay") == 200
    assert rename(hugo, engineering, "Mine now") == 404
    assert rename(bob, engineering, "Ours") == REFUSED
    assert list(Collection.objects.order_by("slug").values_list("slug", "name")) == [
        ("engineering", "Engineering"),
        ("hr", "People and pay"),
    ]


def test_a_manager_gives_readers_only_among_their_own_groups(
    client, alice, hugo, bob, hr, engineering
) -> None:
    legal = Group.objects.create(name="Legal")
    hr.groups.add(legal)  # set by an administrator: not hugo's to give or take
    eng_group = Group.objects.get(name="Engineering")
    hr_knowledge = Group.objects.get(name="HR knowledge")
    url = reverse("knowledge_collection_readers", args=[hr.pk])
    client.force_login(hugo)

    # Engineering is not one of hugo's groups: the form refuses it and nothing changes.
    client.post(url, {"groups": [eng_group.pk]}, **HTMX)
    assert set(hr.groups.values_list("name", flat=True)) == {"HR", "Legal"}

    # His own groups he may give and take; Legal stays; public is not his to set.
    response = client.post(url, {"groups": [hr_knowledge.pk], "is_public": "on"}, **HTMX)
    assert response.status_code == 200
    hr.refresh_from_db()
    assert set(hr.groups.values_list("name", flat=True)) == {"HR knowledge", "Legal"}
    assert not hr.is_public

    url_eng = reverse("knowledge_collection_readers", args=[engineering.pk])
    assert client.post(url_eng, {"groups": [hr_knowledge.pk]}, **HTMX).status_code == 404
    client.force_login(bob)
    assert client.post(url_eng, {"groups": [eng_group.pk]}, **HTMX).status_code == REFUSED

    client.force_login(alice)  # a superuser gives any group and makes it public
    client.post(url, {"groups": [eng_group.pk], "is_public": "on"}, **HTMX)
    hr.refresh_from_db()
    assert hr.is_public and list(hr.groups.values_list("name", flat=True)) == ["Engineering"]


def test_only_superusers_create_and_delete_collections(
    client, alice, hugo, bob, hr, engineering, hr_doc
) -> None:
    client.force_login(hugo)
    add = client.post(reverse("knowledge_collection_add"), {"name": "Payroll"}, **HTMX)
    remove = client.post(reverse("knowledge_collection_delete", args=[hr.pk]), **HTMX)
    assert (add.status_code, remove.status_code) == (REFUSED, REFUSED)
    client.force_login(bob)
    assert client.post(reverse("knowledge_collection_delete", args=[engineering.pk])).status_code
    assert Collection.objects.count() == 2

    client.force_login(alice)
    hr_group = Group.objects.get(name="HR knowledge")
    created = client.post(
        reverse("knowledge_collection_add"),
        {"name": "Payroll", "manager_groups": [hr_group.pk]},
        **HTMX,
    )
    assert created.status_code == 200
    assert hugo in User.objects.filter(groups__managed_collections__name="Payroll")
    removed = client.post(reverse("knowledge_collection_delete", args=[hr.pk]), **HTMX)
    assert removed.status_code == 200 and removed.content == b""
    assert not Collection.objects.filter(pk=hr.pk).exists()
    assert not Document.objects.filter(pk=hr_doc.pk).exists()


# --- the REST API --------------------------------------------------------------------------------


def test_the_rest_api_follows_the_same_roles(
    client, alice, hugo, bob, dave, hr, engineering, hr_doc, eng_doc, tmp_path
) -> None:
    def post(user: User, slug: str, name: str) -> int:
        data = {"collection": slug, "file": upload_file(name)}
        return client.post("/api/documents/", data, **bearer(user)).status_code

    assert post(alice, "engineering", "a.md") == 201
    assert post(hugo, "hr", "b.md") == 201
    assert post(hugo, "engineering", "c.md") == 400  # no collection of his by that slug
    assert post(bob, "engineering", "d.md") == REFUSED
    assert post(dave, "hr", "e.md") == REFUSED

    def status(user: User, document: Document) -> int:
        return client.get(f"/api/documents/{document.pk}/", **bearer(user)).status_code

    assert [status(hugo, hr_doc), status(hugo, eng_doc)] == [200, 404]
    assert [status(bob, hr_doc), status(bob, eng_doc)] == [404, 200]  # bob reads Engineering
    assert [status(dave, hr_doc), status(dave, eng_doc)] == [404, 404]

    def delete(user: User, document: Document) -> int:
        return client.delete(f"/api/documents/{document.pk}/", **bearer(user)).status_code

    assert delete(bob, eng_doc) == REFUSED
    assert delete(hugo, eng_doc) == 404
    assert delete(hugo, hr_doc) == 204
    assert delete(alice, eng_doc) == 204


# --- the progress socket, Frequent questions, the admin ------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_progress_socket_lets_in_managers_only(client, alice, hr, engineering, bob, dave):
    hugo = hr_manager()

    async def attempt(headers: list[tuple[bytes, bytes]]) -> Any:
        communicator = WebsocketCommunicator(application, "/ws/knowledge/", headers=headers)
        outcome = await communicator.connect(timeout=10)
        await communicator.disconnect()
        return outcome

    outcomes = {
        user.username: asyncio.run(attempt(ws.session_headers(client, user)))
        for user in (alice, hugo, bob, dave)
    }
    assert outcomes == {
        "alice": (True, None),
        "hugo": (True, None),
        "bob": (False, 4403),
        "dave": (False, 4403),
    }


def test_frequent_questions_are_for_managers_only(client, alice, hugo, bob, dave) -> None:
    expected = {alice: 200, hugo: 200, bob: REFUSED, dave: REFUSED}
    for user, code in expected.items():
        client.force_login(user)
        assert client.get(reverse("frequent_questions")).status_code == code, user.username


def test_the_admin_is_for_superusers_only(client, alice, hugo, bob, hr) -> None:
    hannah = hr_staff_member()  # staff with admin permissions on knowledge models
    client.force_login(alice)
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(reverse("admin:knowledge_collection_changelist")).status_code == 200

    for outsider in (hugo, bob):  # no staff flag: the admin's sign-in page
        client.force_login(outsider)
        assert client.get(reverse("admin:index")).status_code == 302

    client.force_login(hannah)
    index = client.get(reverse("admin:index")).content.decode()
    assert "knowledge/collection" not in index and "knowledge/document" not in index
    collections = client.get(reverse("admin:knowledge_collection_changelist"))
    change = client.get(reverse("admin:knowledge_collection_change", args=[hr.pk]))
    assert (collections.status_code, change.status_code) == (REFUSED, REFUSED)


# --- group names regardless of case (issue 10) ---------------------------------------------------


def test_group_names_are_one_regardless_of_case(client, alice) -> None:
    hr_group = Group.objects.create(name="HR")
    collection = collection_ensure(slug="pay", groups=["hr"], managers=["Hr"])
    assert list(collection.groups.all()) == [hr_group]
    assert list(collection.manager_groups.all()) == [hr_group]

    client.force_login(alice)
    client.post(reverse("knowledge_collection_add"), {"name": "Benefits", "new_group": " hr "})
    client.post(reverse("knowledge_collection_add"), {"name": "Legal", "new_group": "Legal team"})
    assert list(Group.objects.order_by("name").values_list("name", flat=True)) == [
        "HR",
        "Legal team",
    ]
    assert list(Collection.objects.get(name="Benefits").groups.all()) == [hr_group]


# --- the upgrade --------------------------------------------------------------------------------


def test_the_migration_gives_each_collection_its_former_staff_as_managers(
    alice, hr, engineering, handbook
) -> None:
    """Before manager groups, active staff managed what they could read: after the upgrade
    they manage exactly that, through one '<slug> managers' group per collection."""
    from importlib import import_module

    from django.apps import apps

    migration = import_module("knowledge.migrations.0004_collection_manager_groups")
    hannah = hr_staff_member()  # staff, reads HR and the public handbook
    gone = User.objects.create_user("gus", password="pw-gus", is_staff=True, is_active=False)
    gone.groups.add(Group.objects.get(name="Engineering"))

    migration.managers_from_staff(apps, None)

    assert set(collections_managed_by(hannah)) == {hr, handbook}
    assert [g.name for g in hr.manager_groups.all()] == ["hr managers"]
    assert [g.name for g in handbook.manager_groups.all()] == ["handbook managers"]
    assert not engineering.manager_groups.exists(), "only an inactive staff member read it"
    assert not Group.objects.filter(name__endswith=" managers", user=alice).exists()
