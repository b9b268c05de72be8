"""The Knowledge page: knowledge managers manage their collections and documents; everyone else
is kept out (tests/knowledge/test_roles.py walks every role)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from knowledge.models import Collection, Document
from knowledge.uploads import document_upload
from tests.support import files

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def stored(collection, path: Path) -> Document:
    with path.open("rb") as content:
        return document_upload(
            collection=collection, content=content, original_name=path.name, enqueue=False
        ).document


def test_superusers_see_every_collection_with_its_audience_and_documents(
    client, alice, handbook, hr, tmp_path
):
    document = stored(hr, files.write_docx(tmp_path / "salaries.docx"))
    client.force_login(alice)

    response = client.get(reverse("knowledge"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Employee handbook" in page and "HR confidential" in page
    assert '<span class="tag public">Public</span>' in page
    assert '<span class="tag">HR</span>' in page
    assert f'id="document-{document.pk}"' in page
    assert 'data-ws-path="/ws/knowledge/"' in page
    assert 'hx-encoding="multipart/form-data"' in page and "multiple" in page
    assert "hx-confirm=" in page


def test_the_knowledge_page_is_for_knowledge_managers_only(client, dave):
    anonymous = client.get(reverse("knowledge"))
    client.force_login(dave)
    not_manager = client.get(reverse("knowledge"))

    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("login"))
    assert not_manager.status_code == 403


def test_the_navigation_links_to_the_knowledge_page_for_managers_only(client, alice, dave):
    client.force_login(dave)
    assert 'href="/knowledge/"' not in client.get(reverse("chat")).content.decode()
    client.force_login(alice)
    assert 'href="/knowledge/"' in client.get(reverse("chat")).content.decode()


def test_superusers_create_a_collection_for_some_groups(client, alice):
    engineering, _ = Group.objects.get_or_create(name="Engineering")
    hr, _ = Group.objects.get_or_create(name="HR")
    client.force_login(alice)

    response = client.post(
        reverse("knowledge_collection_add"),
        {"name": "Runbooks", "groups": [engineering.pk, hr.pk]},
        **HTMX,
    )

    assert response.status_code == 200
    created = Collection.objects.get(name="Runbooks")
    assert (created.slug, created.is_public) == ("runbooks", False)
    assert set(created.groups.values_list("name", flat=True)) == {"Engineering", "HR"}
    page = response.content.decode()
    assert 'hx-swap-oob="beforeend:#collections"' in page
    assert f'id="collection-{created.pk}"' in page


def test_a_second_collection_of_the_same_name_gets_its_own_slug(client, alice, handbook):
    client.force_login(alice)

    client.post(
        reverse("knowledge_collection_add"), {"name": "Handbook", "is_public": "on"}, **HTMX
    )

    assert Collection.objects.get(slug="handbook-2").is_public


def test_a_collection_without_a_name_is_not_created_and_the_form_says_why(client, alice):
    client.force_login(alice)

    response = client.post(reverse("knowledge_collection_add"), {"name": "  "}, **HTMX)

    assert response.status_code == 200
    assert 'class="error"' in response.content.decode()
    assert not Collection.objects.exists()


def test_superusers_upload_several_files_at_once_and_a_refused_one_shows_its_reason(
    client, alice, handbook, tmp_path, settings
):
    settings.UPLOAD_MAX_BYTES = 64 * 1024
    chosen = [
        SimpleUploadedFile("travel.md", files.write_markdown(tmp_path / "t.md").read_bytes()),
        SimpleUploadedFile("guide.pdf", files.write_pages_pdf(tmp_path / "g.pdf").read_bytes()),
        SimpleUploadedFile("video.mp4", b"\x00\x00\x00\x18ftypmp42"),
        SimpleUploadedFile("huge.txt", b"x" * (65 * 1024)),
    ]
    client.force_login(alice)

    response = client.post(
        reverse("knowledge_documents_add", args=[handbook.pk]), {"file": chosen}, **HTMX
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "<strong>video.mp4</strong>: Unsupported file type (.mp4)." in page
    assert "<strong>huge.txt</strong>: The file is larger than the limit of 64 KB." in page
    documents = Document.objects.filter(collection=handbook)
    assert sorted(d.original_name for d in documents) == ["guide.pdf", "travel.md"]
    assert all(d.uploaded_by == alice and d.status == "queued" for d in documents)
    for document in documents:
        assert f'id="document-{document.pk}"' in page


def test_superusers_delete_a_document_from_the_page(
    client, alice, handbook, tmp_path, django_capture_on_commit_callbacks
):
    document = stored(handbook, files.write_markdown(tmp_path / "travel.md"))
    client.force_login(alice)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("knowledge_document_delete", args=[document.pk]), **HTMX)

    assert (response.status_code, response.content) == (200, b"")
    assert not Document.objects.filter(pk=document.pk).exists()


def test_people_who_manage_nothing_cannot_change_anything(client, dave, handbook, tmp_path):
    document = stored(handbook, files.write_markdown(tmp_path / "travel.md"))
    client.force_login(dave)
    upload = SimpleUploadedFile("x.md", b"# X\n\nText.\n")

    responses = [
        client.post(reverse("knowledge_collection_add"), {"name": "Mine"}, **HTMX),
        client.post(reverse("knowledge_documents_add", args=[handbook.pk]), {"file": upload}),
        client.post(reverse("knowledge_document_delete", args=[document.pk]), **HTMX),
    ]

    assert [r.status_code for r in responses] == [403, 403, 403]
    assert Document.objects.filter(collection=handbook).count() == 1
    assert not Collection.objects.filter(name="Mine").exists()


def test_creating_a_collection_hides_the_empty_notice_that_is_always_on_the_page(
    client, alice, handbook
):
    """The out-of-band swap needs its target: #no-collections is rendered, hidden, even when
    there are collections (htmx logged oobErrorNoTarget otherwise, issue 10)."""
    client.force_login(alice)

    page = client.get(reverse("knowledge")).content.decode()
    added = client.post(reverse("knowledge_collection_add"), {"name": "Runbooks"}, **HTMX)

    assert '<p class="muted" id="no-collections" hidden>' in page
    assert 'id="no-collections" hx-swap-oob="true" hidden' in added.content.decode()


def test_a_queued_upload_line_names_its_document_so_the_page_can_clear_it(client, alice, handbook):
    client.force_login(alice)
    upload = SimpleUploadedFile("travel.md", b"# Travel\n\nBook early.\n")

    response = client.post(
        reverse("knowledge_documents_add", args=[handbook.pk]), {"file": upload}, **HTMX
    )

    document = Document.objects.get(original_name="travel.md")
    assert f'<li class="outcome-queued" data-document="{document.pk}">' in response.content.decode()
