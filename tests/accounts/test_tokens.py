"""Users made by user_ensure, and API tokens: only a hash is kept; revoked, expired or unknown
ones open nothing; the admin and the `token` command make, list and revoke them."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

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

    assert await ws.receive(communicator, timeout=30) == {
        "type": "hello",
        "protocol": 1,
        "user": "dave",
    }
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


# --- expiry, last use, revocation ---------------------------------------------------------


@pytest.mark.django_db
def test_a_new_token_expires_after_the_configured_lifetime(dave: User, settings) -> None:
    settings.TOKEN_LIFETIME_DAYS = 90
    before = timezone.now()

    token_create(user=dave, name="bot")

    expires_at = ApiToken.objects.get(user=dave).expires_at
    assert expires_at is not None
    assert timedelta(days=90) <= expires_at - before < timedelta(days=90, minutes=1)


@pytest.mark.django_db
def test_a_token_can_be_made_to_never_expire(dave: User) -> None:
    token_create(user=dave, name="bot", days=0)

    assert ApiToken.objects.get(user=dave).expires_at is None


@pytest.mark.django_db
def test_an_expired_token_names_nobody(dave: User) -> None:
    raw = token_create(user=dave, name="bot")
    ApiToken.objects.filter(user=dave).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert user_for_token(raw=raw) is None


@pytest.mark.django_db
def test_last_use_is_recorded_at_most_once_a_minute(dave: User) -> None:
    raw = token_create(user=dave, name="bot")
    recent = timezone.now() - timedelta(seconds=30)
    ApiToken.objects.filter(user=dave).update(last_used_at=recent)

    user_for_token(raw=raw)
    assert ApiToken.objects.get(user=dave).last_used_at == recent

    stale = timezone.now() - timedelta(minutes=2)
    ApiToken.objects.filter(user=dave).update(last_used_at=stale)
    user_for_token(raw=raw)
    used = ApiToken.objects.get(user=dave).last_used_at
    assert used is not None and used > stale


@pytest.mark.django_db
def test_the_token_command_revokes_by_prefix_or_name(dave: User) -> None:
    by_prefix = token_create(user=dave, name="slack bridge")
    by_name = token_create(user=dave, name="wiki bot")
    kept = token_create(user=dave, name="kept")

    call_command("token", "--revoke", by_prefix[4:10], stdout=io.StringIO())
    call_command("token", "--revoke", "wiki bot", stdout=io.StringIO())

    assert user_for_token(raw=by_prefix) is None
    assert user_for_token(raw=by_name) is None
    assert user_for_token(raw=kept) == dave


@pytest.mark.django_db
def test_revoking_a_name_several_users_share_needs_their_username(dave: User, bob: User) -> None:
    of_dave = token_create(user=dave, name="cli")
    of_bob = token_create(user=bob, name="cli")

    with pytest.raises(CommandError, match="Several users"):
        call_command("token", "--revoke", "cli", stdout=io.StringIO())
    assert user_for_token(raw=of_dave) == dave

    call_command("token", "--revoke", "cli", "bob", stdout=io.StringIO())
    assert user_for_token(raw=of_bob) is None
    assert user_for_token(raw=of_dave) == dave


@pytest.mark.django_db
def test_revoking_an_unknown_token_says_so(dave: User) -> None:
    with pytest.raises(CommandError, match="No token"):
        call_command("token", "--revoke", "nothing-like-it", stdout=io.StringIO())


@pytest.mark.django_db
def test_the_token_command_prints_a_working_token_that_expires(dave: User) -> None:
    out = io.StringIO()
    call_command("token", "dave", "--name", "bot", "--days", "7", stdout=out)

    assert user_for_token(raw=out.getvalue().strip()) == dave
    expires_at = ApiToken.objects.get(user=dave).expires_at
    assert expires_at is not None and expires_at < timezone.now() + timedelta(days=8)


# --- the admin --------------------------------------------------------------------------------


def admin_add(client, user: User, name: str) -> str:
    """Add a token on the admin's form; return the raw token the page shows once."""
    response = client.post(
        reverse("admin:accounts_apitoken_add"),
        {"user": user.pk, "name": name, "expires_at_0": "", "expires_at_1": ""},
    )
    assert response.status_code == 200, response.content[:2000]
    return response.context["raw_token"]


@pytest.mark.django_db
def test_tokens_added_in_the_admin_work_and_are_shown_once(client, alice: User, dave: User) -> None:
    client.force_login(alice)

    first = admin_add(client, dave, "first bot")
    second = admin_add(client, dave, "second bot")  # a second add once failed with a 500

    assert first != second
    assert user_for_token(raw=first) == dave and user_for_token(raw=second) == dave
    listing = client.get(reverse("admin:accounts_apitoken_changelist")).content.decode()
    assert first not in listing and second not in listing
    token = ApiToken.objects.get(name="first bot")
    change = client.get(reverse("admin:accounts_apitoken_change", args=[token.pk]))
    assert first not in change.content.decode() and token.key_hash not in change.content.decode()
