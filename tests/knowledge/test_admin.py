"""The admin changes knowledge only through the services, so nothing stays behind and no
one keeps reading what moved away (issue 9, finding 2). Through the real admin: the test
client signed in as a superuser posts the change and delete forms."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from accounts.models import User
from chatbot.models import Conversation, Message
from knowledge.embeddings import embed_query
from knowledge.models import Chunk, Collection, Document
from knowledge.search import chunk_search
from knowledge.selectors import reader_scope
from tests.chatbot.test_cache import (
    MERIT,
    MERIT_ANSWER,
    _empty_cache,  # noqa: F401  (autouse: Redis starts empty)
    lookup,
    seed,
    source,
)
from tests.support.corpus import HANDBOOK_VACATION, HR_SALARY, ingest_text
from tests.support.personas import hr_staff_member

pytestmark = pytest.mark.django_db


def knowledge_version(collection: Collection) -> int:
    return Collection.objects.get(pk=collection.pk).knowledge_version


def finds_merit_budget(reader: User) -> bool:
    hits = chunk_search(scope=reader_scope(reader), query=MERIT, vector=embed_query(MERIT), k=10)
    return any("3.7 percent" in hit.text for hit in hits)


def seed_merit_answer(reader: User, document: Document) -> None:
    """A cached answer quoting the salary document, as answering keeps it for `reader`."""
    seed(reader, MERIT, MERIT_ANSWER, [source(document=document.pk, path="salary-bands.md")])
    assert lookup(reader, MERIT) is not None


def change_form(document: Document, collection: Collection) -> dict[str, object]:
    """What a browser posts from the document's change page with another collection chosen
    (every field the page could show; the read-only ones are ignored)."""
    return {
        "collection": collection.pk,
        "original_name": document.original_name,
        "title": document.title,
        "uploaded_by": "",
        "_save": "Save",
    }


# --- moving a document -----------------------------------------------------------------------


def test_moving_a_document_in_the_admin_moves_its_chunks_away_from_the_old_readers(
    client: Client, alice: User, carol: User, bob: User, hr: Collection, engineering: Collection
) -> None:
    salary = ingest_text(hr, "salary-bands.md", HR_SALARY)
    seed_merit_answer(carol, salary)
    versions = knowledge_version(hr), knowledge_version(engineering)
    assert finds_merit_budget(carol) and not finds_merit_budget(bob)
    client.force_login(alice)

    response = client.post(
        f"/admin/knowledge/document/{salary.pk}/change/", change_form(salary, engineering)
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert Document.objects.get(pk=salary.pk).collection_id == engineering.pk
    assert set(Chunk.objects.filter(document=salary).values_list("collection", flat=True)) == {
        engineering.pk
    }
    assert not finds_merit_budget(carol), "HR's readers still find the moved document"
    assert finds_merit_budget(bob)
    assert lookup(carol, MERIT) is None, "the answer quoting it is still served to HR"
    assert (knowledge_version(hr), knowledge_version(engineering)) == (
        versions[0] + 1,
        versions[1] + 1,
    )


def test_only_the_collection_of_a_document_can_be_changed_in_the_admin(
    client: Client, alice: User, hr: Collection
) -> None:
    salary = ingest_text(hr, "salary-bands.md", HR_SALARY)
    stored = salary.file.name
    client.force_login(alice)

    client.post(
        f"/admin/knowledge/document/{salary.pk}/change/",
        {**change_form(salary, hr), "original_name": "renamed.md", "title": "Renamed"},
    )

    salary.refresh_from_db()
    assert (salary.original_name, salary.title, salary.file.name) == (
        "salary-bands.md",
        "Salary bands 2026",
        stored,
    )


def test_a_move_onto_a_name_the_collection_already_has_is_refused_with_a_reason(
    client: Client, alice: User, hr: Collection, handbook: Collection
) -> None:
    ingest_text(handbook, "salary-bands.md", HANDBOOK_VACATION)
    salary = ingest_text(hr, "salary-bands.md", HR_SALARY)
    client.force_login(alice)

    response = client.post(
        f"/admin/knowledge/document/{salary.pk}/change/", change_form(salary, handbook)
    )

    assert response.status_code == 200
    assert "already has a document named salary-bands.md" in response.content.decode()
    assert Document.objects.get(pk=salary.pk).collection_id == hr.pk


# --- deleting documents ----------------------------------------------------------------------


def test_deleting_a_document_in_the_admin_removes_its_file_and_retires_cached_answers(
    client: Client,
    alice: User,
    carol: User,
    hr: Collection,
    django_capture_on_commit_callbacks,
) -> None:
    document = ingest_text(hr, "salary-bands.md", HR_SALARY)
    stored = Path(document.file.path)
    seed_merit_answer(carol, document)
    before = knowledge_version(hr)
    client.force_login(alice)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/knowledge/document/{document.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Document.objects.filter(pk=document.pk).exists()
    assert not Chunk.objects.filter(document_id=document.pk).exists()
    assert not stored.exists()
    assert lookup(carol, MERIT) is None
    assert knowledge_version(hr) == before + 1


def test_the_bulk_delete_action_goes_through_the_service_too(
    client: Client,
    alice: User,
    carol: User,
    hr: Collection,
    django_capture_on_commit_callbacks,
) -> None:
    documents = [
        ingest_text(hr, "salary-bands.md", HR_SALARY),
        ingest_text(hr, "parking.md", "# Parking\n\nThe garage opens at 7.\n"),
    ]
    stored = [Path(d.file.path) for d in documents]
    seed_merit_answer(carol, documents[0])
    before = knowledge_version(hr)
    client.force_login(alice)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/admin/knowledge/document/",
            {
                "action": "delete_selected",
                "_selected_action": [d.pk for d in documents],
                "post": "yes",
            },
        )

    assert not Document.objects.filter(collection=hr).exists()
    assert not any(p.exists() for p in stored)
    assert lookup(carol, MERIT) is None
    assert knowledge_version(hr) == before + 2


def test_documents_are_not_added_by_an_admin_form(client: Client, alice: User) -> None:
    client.force_login(alice)

    assert client.get("/admin/knowledge/document/add/").status_code == 403


# --- collections -----------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["delete page", "bulk action"])
def test_deleting_a_collection_in_the_admin_removes_its_documents_files(
    client: Client,
    alice: User,
    carol: User,
    hr: Collection,
    django_capture_on_commit_callbacks,
    how: str,
) -> None:
    document = ingest_text(hr, "salary-bands.md", HR_SALARY)
    stored = Path(document.file.path)
    seed_merit_answer(carol, document)
    client.force_login(alice)

    with django_capture_on_commit_callbacks(execute=True):
        if how == "delete page":
            client.post(f"/admin/knowledge/collection/{hr.pk}/delete/", {"post": "yes"})
        else:
            client.post(
                "/admin/knowledge/collection/",
                {"action": "delete_selected", "_selected_action": [hr.pk], "post": "yes"},
            )

    assert not Collection.objects.filter(pk=hr.pk).exists()
    assert not Chunk.objects.filter(document_id=document.pk).exists()
    assert not stored.exists(), "the deleted collection's files stay in media"
    assert lookup(carol, MERIT) is None


def collection_form(collection: Collection, groups: list[Group], **changes: object) -> dict:
    form = {
        "name": collection.name,
        "slug": collection.slug,
        "description": collection.description,
        "groups": [g.pk for g in groups],
        "_save": "Save",
    }
    if collection.is_public:
        form["is_public"] = "on"
    return {**form, **changes}


def test_taking_a_group_off_a_collection_stops_its_answers_and_chunks_for_that_group(
    client: Client, alice: User, carol: User, hr: Collection
) -> None:
    """The readers' scope (every collection they read, with its version) is part of each
    cache key (chatbot.answer_cache.keys), so a change of readers needs no retirement."""
    document = ingest_text(hr, "salary-bands.md", HR_SALARY)
    seed_merit_answer(carol, document)
    assert finds_merit_budget(carol)
    client.force_login(alice)

    response = client.post(f"/admin/knowledge/collection/{hr.pk}/change/", collection_form(hr, []))

    assert response.status_code == 302
    assert not hr.groups.exists()
    assert lookup(carol, MERIT) is None
    assert not finds_merit_budget(carol)


def test_a_collections_knowledge_version_cannot_be_typed_back(
    client: Client, alice: User, carol: User, hr: Collection
) -> None:
    """Cached answers key on it: set back by hand, answers on retired text would return."""
    document = ingest_text(hr, "salary-bands.md", HR_SALARY)
    seed_merit_answer(carol, document)
    old = knowledge_version(hr)
    ingest_text(hr, "salary-bands.md", HR_SALARY.replace("3.7", "4.1"))
    assert lookup(carol, MERIT) is None
    client.force_login(alice)

    client.post(
        f"/admin/knowledge/collection/{hr.pk}/change/",
        collection_form(hr, list(hr.groups.all()), knowledge_version=old),
    )

    assert knowledge_version(hr) > old
    assert lookup(carol, MERIT) is None


# --- staff who are not superusers, and conversations -----------------------------------------


def test_staff_with_knowledge_permissions_see_no_knowledge_model_in_the_admin(
    client: Client, hr: Collection, engineering: Collection, tmp_path
) -> None:
    """Knowledge managers work on the Knowledge page; the admin's knowledge models are for
    superusers, whatever permissions a staff member holds (issue 11)."""
    hannah = hr_staff_member()
    salary = ingest_text(hr, "salary-bands.md", HR_SALARY)
    client.force_login(hannah)

    index = client.get("/admin/").content.decode()
    assert "/admin/knowledge/" not in index
    assert client.get("/admin/knowledge/document/").status_code == 403
    assert client.get("/admin/knowledge/collection/").status_code == 403
    assert client.get(f"/admin/knowledge/document/{salary.pk}/change/").status_code == 403
    moved = client.post(
        f"/admin/knowledge/document/{salary.pk}/change/", change_form(salary, engineering)
    )
    assert moved.status_code == 403
    assert Document.objects.get(pk=salary.pk).collection_id == hr.pk


def test_conversations_are_read_only_and_for_superusers_only_in_the_admin(
    client: Client, alice: User, carol: User, dave: User
) -> None:
    conversation = Conversation.objects.create(user=carol, title="Merit")
    Message.objects.create(conversation=conversation, role="assistant", text=MERIT_ANSWER)
    url = f"/admin/chatbot/conversation/{conversation.pk}/change/"

    client.force_login(hr_staff_member())  # staff with view_conversation: still refused
    assert client.get(url).status_code == 403
    assert "/admin/chatbot/" not in client.get("/admin/").content.decode()

    client.force_login(alice)
    assert MERIT_ANSWER in client.get(url).content.decode()
    client.post(url, {"title": "Merit", "user": dave.pk, "_save": "Save"})
    assert Conversation.objects.get(pk=conversation.pk).user == carol, "handed to someone else"
    assert client.get("/admin/chatbot/conversation/add/").status_code == 403
