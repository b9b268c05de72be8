"""The audit log: what is recorded (and who did it), what never is, and who may read it."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.models import ApiToken, User
from accounts.services import token_create, user_ensure
from audit.models import AuditEvent
from audit.services import audit_record, token_use_record
from knowledge.collections import collection_create
from knowledge.lifecycle import collection_delete
from knowledge.models import Collection, Document
from knowledge.uploads import document_upload
from tests.support.personas import hr_staff_member

Action = AuditEvent.Action
pytestmark = pytest.mark.django_db


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def upload(collection: Collection, name: str, text: str, by: User | None = None) -> Document:
    return document_upload(
        collection=collection,
        content=io.BytesIO(text.encode()),
        original_name=name,
        uploaded_by=by,
        enqueue=False,
    ).document


# --- sign-ins ---------------------------------------------------------------------------------


def test_a_sign_in_and_a_failed_one_are_recorded_with_the_username_only(client, bob) -> None:
    client.post(reverse("login"), {"username": "bob", "password": "wrong-secret-123"})
    client.post(reverse("login"), {"username": "bob", "password": "pw-bob"})

    [failed] = events(Action.SIGN_IN_FAILED)
    assert (failed.actor, failed.actor_name, failed.target) == (None, "bob", "user bob")
    [signed_in] = events(Action.SIGN_IN)
    assert (signed_in.actor, signed_in.actor_name) == (bob, "bob")
    everything = repr(list(AuditEvent.objects.values()))
    assert "wrong-secret-123" not in everything and "pw-bob" not in everything


# --- groups, collections, documents ------------------------------------------------------------


def test_group_membership_changes_are_recorded_from_either_side(dave) -> None:
    sales = Group.objects.create(name="Sales")
    dave.groups.add(sales)
    sales.user_set.remove(dave)

    added, removed = events(Action.GROUP_MEMBERSHIP)
    assert (added.target, added.detail) == ("user dave", {"added": ["Sales"]})
    assert (removed.target, removed.detail) == ("user dave", {"removed": ["Sales"]})


def test_a_collection_created_given_readers_uploaded_to_and_deleted_is_recorded(alice) -> None:
    hr_group = Group.objects.create(name="HR")
    collection = collection_create(name="Payroll", is_public=False, groups=[hr_group])
    upload(collection, "bands.md", "# Bands\n\nBand A is the lowest.", by=alice)
    collection_delete(collection=collection)

    [created] = events(Action.COLLECTION_CREATE)
    assert created.target.endswith("(Payroll)") and created.detail == {"public": False}
    [readers] = events(Action.COLLECTION_READERS)
    assert readers.detail == {"added": ["HR"]}
    [uploaded] = events(Action.DOCUMENT_UPLOAD)
    assert uploaded.actor == alice and "bands.md in Payroll" in uploaded.target
    [deleted_document] = events(Action.DOCUMENT_DELETE)
    assert "bands.md in Payroll" in deleted_document.target
    [deleted] = events(Action.COLLECTION_DELETE)
    assert deleted.target.endswith("(Payroll)")


def test_a_delete_on_the_knowledge_page_names_the_staff_member_who_clicked(client, alice) -> None:
    collection = collection_create(name="Handbook", is_public=True)
    document = upload(collection, "old.md", "# Old\n\nSuperseded.")
    client.force_login(alice)

    client.post(reverse("knowledge_document_delete", args=[document.pk]))

    [deleted] = events(Action.DOCUMENT_DELETE)
    assert deleted.actor == alice and "old.md" in deleted.target


# --- tokens -------------------------------------------------------------------------------------


def test_tokens_made_and_revoked_on_the_page_are_recorded_without_the_secret(client, bob) -> None:
    client.force_login(bob)
    client.post(reverse("tokens"), {"name": "Slack bridge", "days": 30})
    token = ApiToken.objects.get(user=bob)
    client.post(reverse("token_revoke", args=[token.pk]))

    [created] = events(Action.TOKEN_CREATE)
    [revoked] = events(Action.TOKEN_REVOKE)
    for event in (created, revoked):
        assert event.actor == bob and "Slack bridge" in event.target
        assert event.detail == {"owner": "bob"}
        assert token.key_hash not in event.target


def test_a_token_s_first_use_of_the_day_is_recorded_once(bob) -> None:
    token_create(user=bob, name="cron")
    token = ApiToken.objects.get(user=bob)

    token_use_record(token=token)
    token_use_record(token=token)

    [used] = events(Action.TOKEN_USE)
    assert used.actor == bob and "cron" in used.target


# --- reading the log ----------------------------------------------------------------------------


def test_only_superusers_read_and_export_the_audit_log(client, alice, bob) -> None:
    hannah = hr_staff_member()
    for user, allowed in ((alice, True), (hannah, False), (bob, False)):
        client.force_login(user)
        for name in ("audit_log", "audit_export"):
            response = client.get(reverse(name))
            assert (response.status_code == 200) is allowed, (user, name)
    client.logout()
    assert client.get(reverse("audit_log")).status_code == 302  # to the sign-in page


def test_the_log_filters_by_action_and_person_and_exports_the_same_as_csv(client, alice) -> None:
    carol = user_ensure(username="carol", password="pw-carol", groups=["HR"])[0]
    user_ensure(username="bob", password="pw-bob", groups=["Engineering"])
    audit_record(actor=None, action=Action.SIGN_IN_FAILED, actor_name="=cmd|calc", target="x")
    audit_record(actor=carol, action=Action.SIGN_IN, target=carol)
    client.force_login(alice)

    page = client.get(reverse("audit_log"), {"action": "group_membership", "person": ""})
    text = page.content.decode()
    assert (
        "user carol" in text and "user bob" in text and "Signed in" not in text.split("<table")[1]
    )

    rows = list(
        csv.reader(
            io.StringIO(
                b"".join(
                    client.get(reverse("audit_export"), {"person": "CAROL"}).streaming_content
                ).decode()
            )
        )
    )
    assert rows[0] == ["time", "person", "action", "target", "detail"]
    assert [row[2] for row in rows[1:]] == ["signin"]

    # A username that reads as a spreadsheet formula is exported as text.
    exported = csv.reader(
        io.StringIO(b"".join(client.get(reverse("audit_export")).streaming_content).decode())
    )
    [failed] = [row for row in exported if row[2] == "signin_failed"]
    assert failed[1] == "'=cmd|calc"


def test_readers_given_from_the_group_s_side_are_recorded_on_the_collection() -> None:
    collection = collection_create(name="Payroll", is_public=False)
    hr_group = Group.objects.create(name="HR")

    hr_group.collections.add(collection)
    hr_group.collections.clear()

    added, removed = events(Action.COLLECTION_READERS)
    assert added.target.endswith("(Payroll)") and added.detail == {"added": ["HR"]}
    assert removed.target.endswith("(Payroll)") and removed.detail == {"removed": ["HR"]}


def test_a_bot_signing_in_with_its_token_is_recorded_once_a_day(bob) -> None:
    from accounts.services import user_for_token

    raw = token_create(user=bob, name="wiki bot")
    assert user_for_token(raw=raw) == bob
    ApiToken.objects.filter(user=bob).update(last_used_at=None)  # as if a minute went by
    assert user_for_token(raw=raw) == bob

    [used] = events(Action.TOKEN_USE)
    assert used.actor == bob and "wiki bot" in used.target
