"""Staff are recognised one way (accounts.roles) in code, sockets and templates alike."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client

from accounts.models import User
from accounts.roles import is_staff_member

pytestmark = pytest.mark.django_db


def test_only_an_active_staff_user_is_staff(alice: User, bob: User) -> None:
    inactive = User.objects.create_user("eve", password="pw-eve", is_staff=True, is_active=False)

    assert is_staff_member(alice)
    assert not is_staff_member(bob)
    assert not is_staff_member(inactive)
    assert not is_staff_member(AnonymousUser())
    assert not is_staff_member(None)


def test_the_menu_offers_staff_pages_to_staff_only(client: Client, alice: User, bob: User) -> None:
    staff_links = ('href="/knowledge/"', 'href="/frequent/"')

    client.force_login(alice)
    as_staff = client.get("/").content.decode()
    client.force_login(bob)
    as_reader = client.get("/").content.decode()

    assert all(link in as_staff for link in staff_links)
    assert not any(link in as_reader for link in staff_links)
