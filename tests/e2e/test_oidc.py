"""Single sign-on through a real OpenID Connect provider, in the real browser.

The provider is django-oauth-toolkit in a process of its own (tests/oidc_provider), with
its own people and groups; Docent is a real Daphne configured by environment alone, as an
operator would, with passwords switched off. Nothing on the way is mocked: the browser
signs in on the provider's pages, and Docent exchanges the code, checks the signed ID
token against the provider's keys and reads the userinfo endpoint.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from config.embedded import free_port
from tests.e2e.conftest import live_daphne
from tests.oidc_provider.harness import Provider, provider_running

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CLIENT_ID = "docent"
CLIENT_SECRET = "a-client-secret-only-the-provider-and-docent-know"
PASSWORD = "olivia-directory-password"


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    with provider_running(tmp_path_factory.mktemp("oidc-provider")) as running:
        yield running


@pytest.fixture
def docent_env() -> dict[str, str]:
    """More of Docent's environment; a test parametrizes it."""
    return {}


@pytest.fixture
def sso_url(
    transactional_db, provider: Provider, tmp_path, docent_env: dict[str, str]
) -> Iterator[str]:
    """A live Docent whose only way in is the provider (LOCAL_LOGIN=false)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    provider.register_client(
        CLIENT_ID,
        secret=CLIENT_SECRET,
        redirect_uri=f"{url}/oidc/callback/",
        post_logout_redirect_uri=f"{url}/accounts/login/",
    )
    secret_file = tmp_path / "oidc-client-secret"
    secret_file.write_text(CLIENT_SECRET + "\n")
    with live_daphne(
        port,
        OIDC_ISSUER=provider.issuer,
        OIDC_CLIENT_ID=CLIENT_ID,
        OIDC_CLIENT_SECRET_FILE=str(secret_file),
        OIDC_PROVIDER_NAME="Acme SSO",
        LOCAL_LOGIN="false",
        **docent_env,
    ) as live:
        yield live


def start_sign_in(page: Page, url: str) -> None:
    page.goto(f"{url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_role("link", name="Sign in with Acme SSO").click()


def sign_in_at_provider(page: Page, username: str, password: str) -> None:
    expect(page.get_by_role("heading", name="Acme directory")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in to Acme").click()


def consent(page: Page, *, allow: bool = True) -> None:
    page.get_by_role("button", name="Authorize" if allow else "Cancel").click()


def signed_in_as(page: Page, url: str, username: str) -> None:
    expect(page).to_have_url(f"{url}/")
    expect(page.get_by_role("button", name=f"Sign out {username}")).to_be_visible()


def groups_of(username: str) -> set[str]:
    return set(User.objects.get(username=username).groups.values_list("name", flat=True))


def expect_no_docent_session(page: Page, url: str) -> None:
    page.goto(f"{url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.get_by_role("link", name="Sign in with Acme SSO")).to_be_visible()


def test_the_first_sign_in_creates_the_person_in_their_directory_groups(
    provider: Provider, sso_url: str, page: Page
) -> None:
    provider.person("olivia", password=PASSWORD, groups=["HR", "Engineering"])

    start_sign_in(page, sso_url)
    sign_in_at_provider(page, "olivia", PASSWORD)
    consent(page)

    signed_in_as(page, sso_url, "olivia")
    olivia = User.objects.get(username="olivia")
    assert groups_of("olivia") == {"HR", "Engineering"}
    assert olivia.email == "olivia@acme.example"
    assert not olivia.has_usable_password()  # the provider is the only way in
    assert not olivia.is_staff and not olivia.is_superuser


def test_passwords_are_switched_off_on_the_sign_in_page(sso_url: str, page: Page) -> None:
    page.goto(f"{sso_url}/accounts/login/")

    expect(page.get_by_role("link", name="Sign in with Acme SSO")).to_be_visible()
    expect(page.locator("input[name=password]")).to_have_count(0)


def test_a_group_the_directory_removed_is_removed_at_the_next_sign_in(
    provider: Provider, sso_url: str, page: Page
) -> None:
    provider.person("olivia", password=PASSWORD, groups=["HR", "Engineering"])
    start_sign_in(page, sso_url)
    sign_in_at_provider(page, "olivia", PASSWORD)
    consent(page)
    signed_in_as(page, sso_url, "olivia")
    assert groups_of("olivia") == {"HR", "Engineering"}

    page.get_by_role("button", name="Sign out olivia").click()
    expect_no_docent_session(page, sso_url)  # signing out ends Docent's session
    provider.person("olivia", password=PASSWORD, groups=["HR"])  # left Engineering
    start_sign_in(page, sso_url)
    consent(page)  # still signed in at the provider: straight to its consent page

    signed_in_as(page, sso_url, "olivia")
    assert groups_of("olivia") == {"HR"}


def test_a_wrong_password_at_the_provider_leaves_no_docent_session(
    provider: Provider, sso_url: str, page: Page
) -> None:
    provider.person("olivia", password=PASSWORD, groups=["HR"])

    start_sign_in(page, sso_url)
    sign_in_at_provider(page, "olivia", "not-her-password")

    expect(page.locator("#refused")).to_contain_text("correct username and password")
    expect_no_docent_session(page, sso_url)
    assert not User.objects.filter(username="olivia").exists()


def test_a_person_the_directory_deactivated_cannot_sign_in(
    provider: Provider, sso_url: str, page: Page
) -> None:
    provider.person("olivia", password=PASSWORD, groups=["HR"], active=False)

    start_sign_in(page, sso_url)
    sign_in_at_provider(page, "olivia", PASSWORD)

    expect(page.locator("#refused")).to_be_visible()
    expect_no_docent_session(page, sso_url)
    assert not User.objects.filter(username="olivia").exists()


def test_refusing_consent_at_the_provider_returns_to_sign_in_without_a_session(
    provider: Provider, sso_url: str, page: Page
) -> None:
    provider.person("olivia", password=PASSWORD, groups=["HR"])

    start_sign_in(page, sso_url)
    sign_in_at_provider(page, "olivia", PASSWORD)
    consent(page, allow=False)

    expect(page).to_have_url(re.compile(r"/accounts/login/\?sso=failed"))
    expect(page.get_by_role("alert")).to_contain_text("Single sign-on did not sign you in")
    expect_no_docent_session(page, sso_url)
    assert not User.objects.filter(username="olivia").exists()


def test_a_person_deactivated_in_docent_is_refused_although_the_directory_vouches(
    provider: Provider, sso_url: str, page: Page
) -> None:
    User.objects.create(username="olivia", is_active=False)
    provider.person("olivia", password=PASSWORD, groups=["HR"])

    start_sign_in(page, sso_url)
    sign_in_at_provider(page, "olivia", PASSWORD)
    consent(page)

    expect(page).to_have_url(re.compile(r"/accounts/login/\?sso=failed"))
    expect_no_docent_session(page, sso_url)


@pytest.mark.parametrize("docent_env", [{"OIDC_SIGN_OUT_AT_PROVIDER": "true"}])
def test_signing_out_can_end_the_providers_session_too(
    provider: Provider, sso_url: str, page: Page
) -> None:
    provider.person("olivia", password=PASSWORD, groups=["HR"])
    start_sign_in(page, sso_url)
    sign_in_at_provider(page, "olivia", PASSWORD)
    consent(page)
    signed_in_as(page, sso_url, "olivia")

    page.get_by_role("button", name="Sign out olivia").click()

    expect(page).to_have_url(f"{sso_url}/accounts/login/")  # back from the provider
    expect_no_docent_session(page, sso_url)
    start_sign_in(page, sso_url)
    sign_in_at_provider(page, "olivia", PASSWORD)  # the provider asks for her password again
