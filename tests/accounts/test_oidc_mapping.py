"""Claims to account (accounts.oidc) with plain dicts, and the sign-in page's two ways in.

The whole sign-in through a real provider is tests/e2e/test_oidc.py; these pin the
rules one by one.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.models import User
from accounts.oidc import GroupMapping, user_sync_from_claims, username_from_claims
from tests.conftest import ROOT

EVERY_GROUP = GroupMapping()


def groups_of(user: User) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


# --- which groups the claims name ---------------------------------------------------------------


def test_every_claimed_group_is_managed_by_default() -> None:
    assert EVERY_GROUP.groups_for({"groups": ["HR", "Engineering"]}) == {"HR", "Engineering"}


def test_only_managed_names_and_patterns_come_from_the_claim() -> None:
    mapping = GroupMapping(managed=("HR", "docent-*"))

    claims = {"groups": ["HR", "docent-Legal", "Domain Users", "Engineering"]}

    assert mapping.groups_for(claims) == {"HR", "docent-Legal"}


def test_a_single_string_is_one_group_and_junk_is_ignored() -> None:
    assert EVERY_GROUP.groups_for({"groups": "HR"}) == {"HR"}
    assert EVERY_GROUP.groups_for({"groups": ["HR", 7, None, " ", {"x": 1}]}) == {"HR"}
    assert EVERY_GROUP.groups_for({"groups": 42}) == set()
    assert EVERY_GROUP.groups_for({}) == set()


def test_the_groups_claim_is_configurable() -> None:
    mapping = GroupMapping(claim="roles")

    assert mapping.groups_for({"roles": ["HR"], "groups": ["Engineering"]}) == {"HR"}


def test_a_group_name_longer_than_docent_allows_is_ignored() -> None:
    assert EVERY_GROUP.groups_for({"groups": ["x" * 151, "HR"]}) == {"HR"}


# --- the account follows the claims --------------------------------------------------------------


@pytest.mark.django_db
def test_sign_in_adds_the_claimed_groups_and_removes_the_others(carol: User) -> None:
    carol.groups.add(Group.objects.create(name="Legal"))  # carol is in HR and Legal

    changes = user_sync_from_claims(
        user=carol, claims={"groups": ["HR", "Engineering"]}, mapping=EVERY_GROUP
    )

    assert groups_of(carol) == {"HR", "Engineering"}
    assert (changes.added, changes.removed) == (["Engineering"], ["Legal"])


@pytest.mark.django_db
def test_a_person_with_no_groups_claim_leaves_every_managed_group(carol: User) -> None:
    user_sync_from_claims(user=carol, claims={"sub": "1"}, mapping=EVERY_GROUP)

    assert groups_of(carol) == set()


@pytest.mark.django_db
def test_groups_the_mapping_does_not_manage_stay_as_docent_set_them(carol: User) -> None:
    carol.groups.add(Group.objects.create(name="docent-Legal"))
    mapping = GroupMapping(managed=("docent-*",))

    user_sync_from_claims(user=carol, claims={"groups": ["docent-Sales"]}, mapping=mapping)

    assert groups_of(carol) == {"HR", "docent-Sales"}  # HR is Docent's own


@pytest.mark.django_db
def test_no_claim_makes_anyone_staff_or_superuser_without_a_staff_group(dave: User) -> None:
    claims = {"groups": ["staff", "admin", "superuser"], "is_staff": True, "is_superuser": True}

    user_sync_from_claims(user=dave, claims=claims, mapping=EVERY_GROUP)

    dave.refresh_from_db()
    assert not dave.is_staff and not dave.is_superuser


@pytest.mark.django_db
def test_without_a_staff_group_staff_set_in_docent_stays(dave: User) -> None:
    dave.is_staff = True
    dave.save()

    user_sync_from_claims(user=dave, claims={"groups": []}, mapping=EVERY_GROUP)

    dave.refresh_from_db()
    assert dave.is_staff


@pytest.mark.django_db
def test_the_staff_group_grants_staff_and_leaving_it_withdraws_it(dave: User) -> None:
    mapping = GroupMapping(staff_group="Docent admins")

    user_sync_from_claims(user=dave, claims={"groups": ["Docent admins"]}, mapping=mapping)
    dave.refresh_from_db()
    assert dave.is_staff and not dave.is_superuser

    user_sync_from_claims(user=dave, claims={"groups": ["HR"]}, mapping=mapping)
    dave.refresh_from_db()
    assert not dave.is_staff


@pytest.mark.django_db
def test_a_superuser_keeps_staff_whatever_the_directory_says(alice: User) -> None:
    mapping = GroupMapping(staff_group="Docent admins")

    user_sync_from_claims(user=alice, claims={"groups": []}, mapping=mapping)

    alice.refresh_from_db()
    assert alice.is_staff and alice.is_superuser


@pytest.mark.django_db
def test_name_and_email_follow_the_claims(dave: User) -> None:
    claims = {"email": "dave@acme.example", "given_name": "Dave", "family_name": "Jones"}

    user_sync_from_claims(user=dave, claims=claims, mapping=EVERY_GROUP)

    dave.refresh_from_db()
    assert (dave.email, dave.first_name, dave.last_name) == ("dave@acme.example", "Dave", "Jones")


# --- usernames --------------------------------------------------------------------------------


def test_the_username_is_preferred_username_else_the_email(settings) -> None:
    settings.OIDC_USERNAME_CLAIM = "preferred_username"

    assert username_from_claims({"preferred_username": "olivia", "email": "o@x"}) == "olivia"
    assert username_from_claims({"email": "olivia@acme.example"}) == "olivia@acme.example"
    assert username_from_claims({"sub": "123"}) == ""


def test_the_username_claim_is_configurable(settings) -> None:
    settings.OIDC_USERNAME_CLAIM = "upn"

    assert username_from_claims({"upn": "olivia@acme.example", "preferred_username": "o"}) == (
        "olivia@acme.example"
    )


# --- the sign-in page -------------------------------------------------------------------------


@pytest.fixture
def sso(settings):
    settings.OIDC_ENABLED = True
    settings.OIDC_PROVIDER_NAME = "Acme SSO"
    settings.OIDC_RP_CLIENT_ID = "docent"
    settings.OIDC_RP_CLIENT_SECRET = "secret"
    # Nothing listens on port 9: a request to the provider would fail loudly.
    settings.OIDC_ISSUER = "http://127.0.0.1:9/o"
    settings.AUTHENTICATION_BACKENDS = [
        *settings.AUTHENTICATION_BACKENDS,
        "accounts.oidc.DirectoryBackend",
    ]
    return settings


@pytest.mark.django_db
def test_the_sign_in_page_offers_only_passwords_without_single_sign_on(client) -> None:
    page = client.get(reverse("login")).content.decode()

    assert 'name="password"' in page
    assert "Sign in with" not in page


@pytest.mark.django_db
def test_the_sign_in_page_offers_the_provider_and_passwords(client, sso) -> None:
    page = client.get(reverse("login") + "?next=/c/3/").content.decode()

    assert "Sign in with Acme SSO" in page
    assert 'href="/oidc/authenticate/?next=/c/3/"' in page
    assert 'name="password"' in page


@pytest.mark.django_db
def test_with_passwords_off_the_form_is_gone_and_a_right_password_is_refused(
    client, sso, dave: User
) -> None:
    sso.LOCAL_LOGIN = False

    page = client.get(reverse("login")).content.decode()
    response = client.post(reverse("login"), {"username": "dave", "password": "pw-dave"})

    assert 'name="password"' not in page and "Sign in with Acme SSO" in page
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_with_passwords_off_the_admin_sends_people_to_the_sign_in_page(client, sso) -> None:
    sso.LOCAL_LOGIN = False

    response = client.get("/admin/login/?next=/admin/knowledge/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2Fknowledge%2F"


@pytest.mark.django_db
def test_a_password_sign_in_never_reaches_the_provider(client, sso, dave: User) -> None:
    # A code and state in the query string must not send a password sign-in to the
    # provider (port 9 would raise); the password backend alone decides.
    url = reverse("login") + "?code=abc&state=xyz"

    wrong = client.post(url, {"username": "dave", "password": "guess"}, REMOTE_ADDR="10.0.0.9")
    right = client.post(url, {"username": "dave", "password": "pw-dave"}, REMOTE_ADDR="10.0.0.9")

    assert wrong.status_code == 200 and right.status_code == 302
    assert "_auth_user_id" in client.session


@pytest.mark.django_db
def test_the_provider_out_of_reach_is_said_on_the_sign_in_page(client, sso) -> None:
    response = client.get("/oidc/authenticate/", follow=True)

    assert response.redirect_chain[-1][0] == "/accounts/login/?sso=unavailable"
    assert "cannot be reached right now" in response.content.decode()


@pytest.mark.django_db
def test_without_single_sign_on_its_urls_are_not_found(client) -> None:
    assert client.get("/oidc/authenticate/").status_code == 404
    assert client.get("/oidc/callback/?code=a&state=b").status_code == 404


# --- settings ---------------------------------------------------------------------------------


def test_passwords_off_without_a_provider_refuses_to_start() -> None:
    env = {**os.environ, "LOCAL_LOGIN": "false", "DJANGO_SETTINGS_MODULE": "config.settings"}
    env.pop("OIDC_CLIENT_ID", None)

    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode != 0
    assert "LOCAL_LOGIN=false leaves no way in" in done.stderr
