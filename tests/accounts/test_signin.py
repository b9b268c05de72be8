"""Sign-in is throttled (django-axes) and people's passwords must pass the validators."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.models import User
from accounts.services import user_create

STRONG = "correct horse battery staple 42"


def sign_in(client, username: str, password: str, *, address: str = "10.0.0.1"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def erin(db) -> User:
    return user_create(username="erin", password=STRONG)


# --- throttling -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_right_password_signs_in(client, erin: User) -> None:
    response = sign_in(client, "erin", STRONG)

    assert response.status_code == 302 and signed_in(client)


@pytest.mark.django_db
def test_after_five_wrong_passwords_even_the_right_one_is_refused(client, erin: User) -> None:
    answers = [sign_in(client, "erin", "guess").status_code for _ in range(5)]
    assert answers == [200, 200, 200, 200, 429]  # the fifth failure pauses sign-in

    response = sign_in(client, "erin", STRONG)

    assert not signed_in(client)
    assert response.status_code == 429
    assert "Sign-in paused" in response.content.decode()
    assert "try again later" in response.content.decode()


@pytest.mark.django_db
def test_a_lockout_holds_one_username_from_one_address(client, erin: User) -> None:
    user_create(username="frank", password=STRONG)
    for _ in range(5):
        sign_in(client, "erin", "guess")

    assert sign_in(client, "frank", STRONG).status_code == 302  # another username
    client.logout()
    assert sign_in(client, "erin", STRONG, address="10.0.0.2").status_code == 302


@pytest.mark.django_db
def test_fewer_failures_than_the_limit_still_let_the_right_password_in(client, erin: User) -> None:
    for _ in range(4):
        sign_in(client, "erin", "guess")

    assert sign_in(client, "erin", STRONG).status_code == 302 and signed_in(client)


# --- password validators ----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("weak", ["short1", "password123", "12345678901", "grace-hopper-x"])
def test_a_weak_password_is_refused_and_nothing_is_created(weak: str) -> None:
    with pytest.raises(ValidationError):
        user_create(username="grace-hopper", password=weak)

    assert not User.objects.filter(username="grace-hopper").exists()


@pytest.mark.django_db
def test_a_strong_password_makes_the_user_with_groups() -> None:
    user = user_create(username="grace", password=STRONG, groups=["HR"], is_staff=True)

    assert user.check_password(STRONG) and user.is_staff
    assert list(user.groups.values_list("name", flat=True)) == ["HR"]


@pytest.mark.django_db
def test_the_user_command_refuses_a_weak_password(monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("password\n"))

    with pytest.raises(CommandError, match="Password refused"):
        call_command("user", "heidi", "--password-stdin", stdout=io.StringIO())

    assert not User.objects.filter(username="heidi").exists()


@pytest.mark.django_db
def test_the_user_command_creates_a_user_with_a_strong_password(monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(STRONG + "\n"))

    call_command("user", "heidi", "--group", "HR", "--password-stdin", stdout=io.StringIO())

    assert User.objects.get(username="heidi").check_password(STRONG)
