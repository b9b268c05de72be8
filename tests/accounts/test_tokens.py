"""Users made by user_ensure, and API tokens: only a hash is kept; revoked or unknown ones open nothing."""

from __future__ import annotations

import hashlib

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import Group

from accounts.models import ApiToken, User
from accounts.services import token_create, user_ensure, user_for_token
from tests.support import ws

# --- user_ensure --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_user_ensure_creates_the_user_with_its_password_and_groups() -> None:
    user, created = user_ensure(username="erin", password="pw-erin", groups=["Sales", "HR"])

    assert created
    assert user.check_password("pw-erin")
    assert sorted(user.groups.values_list("name", flat=True)) == ["HR", "Sales"]
    assert not user.is_staff and not user.is_superuser


@pytest.mark.django_db
def test_user_ensure_again_keeps_the_password_and_rights_and_only_adds_groups() -> None:
    first, _ = user_ensure(username="erin", password="pw-erin", groups=["Sales"])

    again, created = user_ensure(
        username="erin", password="other", groups=["HR"], is_staff=True, is_superuser=True
    )

    assert not created and again.pk == first.pk
    again.refresh_from_db()
    assert again.check_password("pw-erin") and not again.check_password("other")
    assert not again.is_staff and not again.is_superuser  # rights are not raised by a re-run
    assert sorted(again.groups.values_list("name", flat=True)) == ["HR", "Sales"]
    assert Group.objects.filter(name="HR").count() == 1


# --- tokens -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_only_the_tokens_hash_is_stored(dave: User) -> None:
    raw = token_create(user=dave, name="slack bridge")

    row = ApiToken.objects.get(user=dave)
    assert raw.startswith("dct_") and len(raw) >= 40
    assert row.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert row.prefix == raw[4:10]
    stored = [str(value) for value in ApiToken.objects.filter(pk=row.pk).values().get().values()]
    assert not any(raw in value or raw[4:] in value for value in stored)


@pytest.mark.django_db
def test_each_token_is_new(dave: User) -> None:
    assert token_create(user=dave, name="a") != token_create(user=dave, name="b")
    assert ApiToken.objects.filter(user=dave).count() == 2


@pytest.mark.django_db
def test_a_token_names_its_user_and_records_its_use(dave: User) -> None:
    raw = token_create(user=dave, name="bot")
    assert ApiToken.objects.get(user=dave).last_used_at is None

    assert user_for_token(raw=raw) == dave
    assert ApiToken.objects.get(user=dave).last_used_at is not None


@pytest.mark.django_db
def test_unknown_revoked_and_deactivated_tokens_name_nobody(dave: User, bob: User) -> None:
    revoked = token_create(user=dave, name="old bot")
    ApiToken.objects.filter(user=dave).delete()
    of_leaver = token_create(user=bob, name="bob's bot")
    User.objects.filter(pk=bob.pk).update(is_active=False)

    assert user_for_token(raw="dct_not-a-token") is None
    assert user_for_token(raw=revoked) is None
    assert user_for_token(raw=of_leaver) is None


# --- the websocket auth middleware ----------------------------------------------------------


def bearer(raw: str) -> list[tuple[bytes, bytes]]:
    return [(b"authorization", f"Bearer {raw}".encode())]


async def refused(headers: list[tuple[bytes, bytes]]) -> bool:
    """True when the socket is told it is unauthorized and closed with 4401."""
    communicator = await ws.connect(headers)
    first = await ws.receive(communicator, timeout=30)
    closed = await communicator.receive_output(timeout=30)
    await communicator.disconnect()
    return (
        first["type"] == "error"
        and first["code"] == "unauthorized"
        and closed == {"type": "websocket.close", "code": 4401}
    )


@pytest.mark.django_db(transaction=True)
async def test_a_valid_token_opens_the_socket_as_its_user(dave: User) -> None:
    raw = await sync_to_async(token_create)(user=dave, name="bot")

    communicator = await ws.connect(bearer(raw))

    assert await ws.receive(communicator, timeout=30) == {"type": "hello", "protocol": 1, "user": "dave"}
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_revoked_token_is_refused_by_the_socket(dave: User) -> None:
    raw = await sync_to_async(token_create)(user=dave, name="bot")
    await sync_to_async(ApiToken.objects.filter(user=dave).delete)()

    assert await refused(bearer(raw))


@pytest.mark.django_db(transaction=True)
async def test_an_unknown_token_is_refused_by_the_socket(dave: User) -> None:
    real = await sync_to_async(token_create)(user=dave, name="bot")

    assert await refused(bearer("dct_" + "x" * 43))
    assert await refused(bearer(real[:-1]))  # one character short is another token


@pytest.mark.django_db(transaction=True)
async def test_the_token_of_a_deactivated_user_is_refused_by_the_socket(dave: User) -> None:
    raw = await sync_to_async(token_create)(user=dave, name="bot")
    await sync_to_async(User.objects.filter(pk=dave.pk).update)(is_active=False)

    assert await refused(bearer(raw))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("authorization", [b"Basic ZGF2ZTpwdy1kYXZl", b"Bearer ", b"Bearer"])
async def test_an_authorization_that_is_no_bearer_token_is_refused_despite_a_session(
    client, dave: User, authorization: bytes
) -> None:
    # A request that sends Authorization is judged by it alone: the cookie is not a fallback.
    session = await sync_to_async(ws.session_headers)(client, dave)

    assert await refused(session + [(b"authorization", authorization)])
