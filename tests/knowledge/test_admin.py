"""The admin deletes documents through the service, so nothing of them stays behind."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from accounts.models import User
from knowledge.models import Chunk, Collection, Document
from tests.support.corpus import HANDBOOK_VACATION, ingest_text

pytestmark = pytest.mark.django_db


def knowledge_version(collection: Collection) -> int:
    return Collection.objects.get(pk=collection.pk).knowledge_version


def test_deleting_a_document_in_the_admin_removes_its_file_and_retires_cached_answers(
    client: Client, alice: User, handbook: Collection, django_capture_on_commit_callbacks
) -> None:
    document = ingest_text(handbook, "vacation.md", HANDBOOK_VACATION)
    stored = Path(document.file.path)
    before = knowledge_version(handbook)
    client.force_login(alice)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/knowledge/document/{document.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Document.objects.filter(pk=document.pk).exists()
    assert not Chunk.objects.filter(document_id=document.pk).exists()
    assert not stored.exists()
    assert knowledge_version(handbook) == before + 1


def test_the_bulk_delete_action_goes_through_the_service_too(
    client: Client, alice: User, handbook: Collection, django_capture_on_commit_callbacks
) -> None:
    documents = [
        ingest_text(handbook, "vacation.md", HANDBOOK_VACATION),
        ingest_text(handbook, "parking.md", "# Parking\n\nThe garage opens at 7.\n"),
    ]
    stored = [Path(d.file.path) for d in documents]
    before = knowledge_version(handbook)
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

    assert not Document.objects.filter(collection=handbook).exists()
    assert not any(p.exists() for p in stored)
    assert knowledge_version(handbook) == before + 2


def test_documents_are_not_added_by_an_admin_form(client: Client, alice: User) -> None:
    client.force_login(alice)

    assert client.get("/admin/knowledge/document/add/").status_code == 403
