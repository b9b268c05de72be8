"""REST for scripts: upload, status and delete with bearer tokens."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import User
from accounts.services import token_create
from knowledge.models import Document
from knowledge.uploads import document_upload
from tests.support import files

pytestmark = pytest.mark.django_db

URL = "/api/documents/"


def bearer(user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_create(user=user, name='script')}"}


def attach(path: Path) -> SimpleUploadedFile:
    return SimpleUploadedFile(path.name, path.read_bytes())


def stored(collection, path: Path) -> Document:
    with path.open("rb") as content:
        return document_upload(
            collection=collection, content=content, original_name=path.name, enqueue=False
        ).document


def test_superusers_upload_several_files_with_a_token(alice, handbook, tmp_path):
    md = files.write_markdown(tmp_path / "travel.md")
    docx = files.write_docx(tmp_path / "security.docx")
    # A script has no CSRF cookie: token requests must not need one.
    client = Client(enforce_csrf_checks=True)

    response = client.post(
        URL, {"collection": "handbook", "file": [attach(md), attach(docx)]}, headers=bearer(alice)
    )

    assert response.status_code == 201
    rows = response.json()["documents"]
    assert [(r["path"], r["status"], r["error"]) for r in rows] == [
        ("travel.md", "queued", ""),
        ("security.docx", "queued", ""),
    ]
    created = Document.objects.filter(pk__in=[r["document"] for r in rows])
    assert {(d.original_name, d.uploaded_by) for d in created} == {
        ("travel.md", alice),
        ("security.docx", alice),
    }


def test_a_refused_file_is_reported_and_the_others_go_on(client, alice, handbook, tmp_path):
    good = attach(files.write_markdown(tmp_path / "travel.md"))
    empty = SimpleUploadedFile("empty.md", b"")

    response = client.post(
        URL, {"collection": "handbook", "file": [empty, good]}, headers=bearer(alice)
    )

    assert response.status_code == 201
    assert [(r["status"], r["error"]) for r in response.json()["documents"]] == [
        ("failed", "The file is empty."),
        ("queued", ""),
    ]


def test_uploading_what_is_already_there_answers_200_and_nothing_usable_400(
    client, alice, handbook, tmp_path
):
    path = files.write_markdown(tmp_path / "travel.md")
    existing = stored(handbook, path)
    headers = bearer(alice)

    again = client.post(URL, {"collection": "handbook", "file": attach(path)}, headers=headers)
    refused = client.post(
        URL, {"collection": "handbook", "file": SimpleUploadedFile("x.exe", b"MZ")}, headers=headers
    )

    assert again.status_code == 200
    assert again.json()["documents"][0] == {
        "path": "travel.md",
        "document": existing.pk,
        "status": "duplicate",
        "error": "",
    }
    assert refused.status_code == 400
    assert refused.json()["documents"][0]["status"] == "failed"


def test_a_missing_collection_or_file_is_a_bad_request(client, alice, handbook, tmp_path):
    headers = bearer(alice)
    path = files.write_markdown(tmp_path / "travel.md")

    assert (
        client.post(URL, {"collection": "nope", "file": attach(path)}, headers=headers).status_code
        == 400
    )
    assert client.post(URL, {"collection": "handbook"}, headers=headers).status_code == 400


def test_uploads_need_a_valid_token_of_a_knowledge_manager(client, bob, handbook, tmp_path):
    path = files.write_markdown(tmp_path / "travel.md")
    data = {"collection": "handbook", "file": attach(path)}

    anonymous = client.post(URL, data)
    forged = client.post(URL, data, HTTP_AUTHORIZATION="Bearer dct_not-a-real-token")
    client.force_login(bob)  # a session is not a token: cookies are never consulted
    by_cookie = client.post(URL, data)
    not_manager = client.post(URL, data, headers=bearer(bob))

    assert [anonymous.status_code, forged.status_code, by_cookie.status_code] == [401, 401, 401]
    assert anonymous["WWW-Authenticate"].startswith("Bearer")
    assert not_manager.status_code == 403
    assert not Document.objects.exists()


def test_readers_see_the_status_of_documents_they_may_read_only(
    client, bob, carol, handbook, hr, tmp_path
):
    public = stored(handbook, files.write_markdown(tmp_path / "travel.md"))
    secret = stored(hr, files.write_docx(tmp_path / "salaries.docx"))

    mine = client.get(f"{URL}{public.pk}/", headers=bearer(bob))
    hidden = client.get(f"{URL}{secret.pk}/", headers=bearer(bob))
    allowed = client.get(f"{URL}{secret.pk}/", headers=bearer(carol))

    assert mine.status_code == 200
    assert mine.json() == {
        "document": public.pk,
        "collection": "handbook",
        "name": "travel.md",
        "title": "",
        "version": 1,
        "status": "queued",
        "progress": 0,
        "chunks": 0,
        "error": "",
    }
    assert hidden.status_code == 404
    assert allowed.status_code == 200
    assert client.get(f"{URL}{public.pk}/").status_code == 401


def test_superusers_see_the_status_of_every_document(client, alice, hr, tmp_path):
    secret = stored(hr, files.write_docx(tmp_path / "salaries.docx"))

    assert client.get(f"{URL}{secret.pk}/", headers=bearer(alice)).json()["status"] == "queued"


def test_superusers_delete_a_document_and_others_may_not(
    client, alice, bob, handbook, tmp_path, django_capture_on_commit_callbacks
):
    document = stored(handbook, files.write_markdown(tmp_path / "travel.md"))
    path = Path(document.file.path)

    refused = client.delete(f"{URL}{document.pk}/", headers=bearer(bob))
    with django_capture_on_commit_callbacks(execute=True):
        deleted = client.delete(f"{URL}{document.pk}/", headers=bearer(alice))
    missing = client.delete(f"{URL}{document.pk}/", headers=bearer(alice))

    assert refused.status_code == 403
    assert deleted.status_code == 204
    assert not Document.objects.filter(pk=document.pk).exists()
    assert not path.exists()
    assert missing.status_code == 404
