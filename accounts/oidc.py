"""Single sign-on with OpenID Connect (mozilla-django-oidc), groups following the directory.

The provider signs people in; on every sign-in its claims decide their Docent account:
created on the first one (named by OIDC_USERNAME_CLAIM), then name, e-mail and the groups
that Docent manages from the directory (OIDC_GROUPS_MANAGED) set to what the claims say,
added and removed. Staff follows OIDC_STAFF_GROUP only when that is set; superuser never
comes from a claim. See docs/configuration.md#single-sign-on.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

from accounts.models import User

log = logging.getLogger(__name__)

GROUP_NAME_MAX = 150  # django.contrib.auth.models.Group.name

# mozilla-django-oidc's endpoint settings, and their names in the discovery document.
_DISCOVERED = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
    "OIDC_OP_LOGOUT_ENDPOINT": "end_session_endpoint",  # Docent's own: sign-out at the provider
}


# --- the provider's endpoints -------------------------------------------------------------------


@functools.cache
def discovery(issuer: str) -> dict[str, Any]:
    """The issuer's /.well-known/openid-configuration, fetched once per process.

    Fetched at the first sign-in rather than when settings load: importing settings starts
    nothing, and a provider that is down must not stop Docent (or its password sign-in)
    from starting. A failure is not cached, so the next sign-in tries again.
    """
    response = requests.get(
        f"{issuer}/.well-known/openid-configuration", timeout=settings.OIDC_TIMEOUT
    )
    response.raise_for_status()
    document: dict[str, Any] = response.json()
    if str(document.get("issuer", "")).rstrip("/") != issuer:
        raise ImproperlyConfigured(
            f"OIDC_ISSUER is {issuer!r} but its discovery document names {document.get('issuer')!r}"
        )
    return document


def provider_setting(attr: str, *default: Any) -> Any:
    """A mozilla-django-oidc setting; an endpoint left unset comes from the issuer's discovery."""
    if attr in _DISCOVERED and not getattr(settings, attr, "") and settings.OIDC_ISSUER:
        found = discovery(settings.OIDC_ISSUER).get(_DISCOVERED[attr])
        if not found:
            raise ImproperlyConfigured(f"{settings.OIDC_ISSUER} publishes no {_DISCOVERED[attr]}")
        return found
    return import_from_settings(attr, *default)


# --- claims to groups -------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupMapping:
    """Which claim holds the groups, which Docent groups it decides, and which one means staff."""

    claim: str = "groups"
    # Group names or shell-style patterns ("docent-*"); "*" manages every group.
    managed: tuple[str, ...] = ("*",)
    staff_group: str = ""

    @classmethod
    def from_settings(cls) -> GroupMapping:
        return cls(
            claim=settings.OIDC_GROUPS_CLAIM,
            managed=tuple(settings.OIDC_GROUPS_MANAGED),
            staff_group=settings.OIDC_STAFF_GROUP,
        )

    def manages(self, name: str) -> bool:
        return any(fnmatchcase(name, pattern) for pattern in self.managed)

    def claimed(self, claims: Mapping[str, Any]) -> set[str]:
        """Every group name the claims carry (one string or a list of them)."""
        value = claims.get(self.claim) or []
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, Iterable):
            return set()
        return {name.strip() for name in names if isinstance(name, str) and name.strip()}

    def groups_for(self, claims: Mapping[str, Any]) -> set[str]:
        """The managed groups the person belongs in, by these claims."""
        wanted = set()
        for name in self.claimed(claims):
            if len(name) > GROUP_NAME_MAX:
                log.warning("OIDC: group %r is longer than Docent allows; ignored", name[:40])
            elif self.manages(name):
                wanted.add(name)
        return wanted


@dataclass(frozen=True)
class GroupChanges:
    added: list[str]
    removed: list[str]


def user_sync_from_claims(
    *, user: User, claims: Mapping[str, Any], mapping: GroupMapping
) -> GroupChanges:
    """Make the user's profile, managed groups and (if mapped) staff flag what the claims say.

    Groups the mapping does not manage are left as they are, whoever set them.
    Superusers keep their staff flag: a directory change must not lock the last
    administrator out of the admin.
    """
    if mapping.claim not in claims:
        # Then every managed group goes: most often the provider is not sending the claim.
        log.warning("OIDC: no %r claim for %s; check the provider's mapper", mapping.claim, user)
    with transaction.atomic():
        user.email = str(claims.get("email") or user.email)
        user.first_name = str(claims.get("given_name") or user.first_name)[:150]
        user.last_name = str(claims.get("family_name") or user.last_name)[:150]
        if mapping.staff_group and not user.is_superuser:
            user.is_staff = mapping.staff_group in mapping.claimed(claims)
        user.save()

        wanted = mapping.groups_for(claims)
        current = {group.name: group for group in user.groups.all()}
        removed = sorted(name for name in current if mapping.manages(name) and name not in wanted)
        added = sorted(wanted - current.keys())
        user.groups.remove(*(current[name] for name in removed))
        user.groups.add(*(Group.objects.get_or_create(name=name)[0] for name in added))
    if added or removed:
        log.info("OIDC: %s joined %s and left %s", user.username, added, removed)
    return GroupChanges(added=added, removed=removed)


def username_from_claims(claims: Mapping[str, Any]) -> str:
    """OIDC_USERNAME_CLAIM's value, else the e-mail address; "" when the claims have neither."""
    for claim in (settings.OIDC_USERNAME_CLAIM, "email"):
        value = claims.get(claim)
        if isinstance(value, str) and value.strip():
            return value.strip()[:150]
    return ""


# --- mozilla-django-oidc, configured from settings and discovery -----------------------------


class DirectoryBackend(OIDCAuthenticationBackend):
    """Signs in whoever the provider vouches for, syncing their account from the claims."""

    get_settings = staticmethod(provider_setting)

    def __init__(self) -> None:
        # Django builds every backend for every sign-in, password ones too, and the base
        # class reads the provider's endpoints here: that would fetch the discovery document
        # for a password. The endpoints are read when used instead (the properties below).
        self.UserModel = get_user_model()
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = settings.OIDC_RP_SIGN_ALGO
        self.OIDC_RP_IDP_SIGN_KEY = None

    @property
    def OIDC_OP_TOKEN_ENDPOINT(self) -> str:  # noqa: N802 (the base class's name)
        return str(provider_setting("OIDC_OP_TOKEN_ENDPOINT"))

    @property
    def OIDC_OP_USER_ENDPOINT(self) -> str:  # noqa: N802
        return str(provider_setting("OIDC_OP_USER_ENDPOINT"))

    @property
    def OIDC_OP_JWKS_ENDPOINT(self) -> str:  # noqa: N802
        return str(provider_setting("OIDC_OP_JWKS_ENDPOINT"))

    def authenticate(
        self, request: HttpRequest | None, *, nonce: str | None, code_verifier: str | None = None
    ) -> User | None:
        # Keyword-only `nonce`: only the callback's call binds here, so a password sign-in
        # (username=, password=) never reaches the provider, whatever its query string says.
        user: User | None = super().authenticate(request, nonce=nonce, code_verifier=code_verifier)
        return user

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        """The base checks the signature, expiry and nonce; the token must also be for us."""
        payload: dict[str, Any] = super().verify_token(token, **kwargs)
        audience = payload.get("aud")
        audiences = [audience] if isinstance(audience, str) else list(audience or [])
        if self.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("OIDC: the ID token is for another client")
        issuer = settings.OIDC_ISSUER
        if issuer and str(payload.get("iss", "")).rstrip("/") != issuer:
            raise SuspiciousOperation("OIDC: the ID token comes from another issuer")
        return payload

    def get_userinfo(
        self, access_token: str, id_token: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        """The ID token's claims, updated by the userinfo endpoint's.

        Some providers put groups in one, some in the other (Entra ID's app roles come
        only in the ID token), so both count; both must be about the same person.
        """
        userinfo: dict[str, Any] = super().get_userinfo(access_token, id_token, payload)
        if userinfo.get("sub") != payload.get("sub"):
            raise SuspiciousOperation("OIDC: userinfo is about someone else than the ID token")
        return {**payload, **userinfo}

    def get_username(self, claims: Mapping[str, Any]) -> str:
        return username_from_claims(claims)

    def verify_claims(self, claims: Mapping[str, Any]) -> bool:
        return bool(username_from_claims(claims))

    def filter_users_by_claims(self, claims: Mapping[str, Any]) -> Any:
        # The same username signs in to the same account, local or not: that is how a small
        # install moves to single sign-on (docs/configuration.md#single-sign-on).
        return self.UserModel.objects.filter(username__iexact=username_from_claims(claims))

    def create_user(self, claims: Mapping[str, Any]) -> User:
        with transaction.atomic():
            user: User = self.UserModel(username=username_from_claims(claims))
            user.set_unusable_password()  # the provider is the only way in
            user_sync_from_claims(user=user, claims=claims, mapping=GroupMapping.from_settings())
        log.info("OIDC: created %s on first sign-in", user.username)
        return user

    def update_user(self, user: User, claims: Mapping[str, Any]) -> User:
        user_sync_from_claims(user=user, claims=claims, mapping=GroupMapping.from_settings())
        return user


def provider_sign_out_url(request: HttpRequest, *, id_token: str) -> str | None:
    """Where to end the provider's session too (RP-initiated logout), then come back to sign-in.

    None when the provider publishes no end_session_endpoint or cannot be reached: the
    Docent session is over either way.
    """
    try:
        endpoint = str(provider_setting("OIDC_OP_LOGOUT_ENDPOINT"))
    except (ImproperlyConfigured, requests.RequestException) as exc:
        log.warning("OIDC: cannot sign out at the provider: %s", exc)
        return None
    query = urlencode(
        {
            "id_token_hint": id_token,
            "client_id": settings.OIDC_RP_CLIENT_ID,
            "post_logout_redirect_uri": request.build_absolute_uri(reverse("login")),
        }
    )
    return f"{endpoint}?{query}"


def _sign_in_page(problem: str) -> str:
    return f"{reverse('login')}?sso={problem}"


class SignInStart(OIDCAuthenticationRequestView):
    """/oidc/authenticate/: off to the provider's sign-in page."""

    get_settings = staticmethod(provider_setting)

    def __init__(self, **kwargs: Any) -> None:
        # The base reads the endpoint here, before any error could become a page.
        super(OIDCAuthenticationRequestView, self).__init__(**kwargs)
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID

    @property
    def OIDC_OP_AUTH_ENDPOINT(self) -> str:  # noqa: N802 (the base class's name)
        return str(provider_setting("OIDC_OP_AUTHORIZATION_ENDPOINT"))

    def get(self, request: HttpRequest) -> HttpResponse:
        if not settings.OIDC_ENABLED:
            raise Http404("Single sign-on is not configured.")
        try:
            response: HttpResponse = super().get(request)
        except requests.RequestException as exc:
            log.error("OIDC: the provider's discovery document is out of reach: %s", exc)
            return HttpResponseRedirect(_sign_in_page("unavailable"))
        return response


class SignInCallback(OIDCAuthenticationCallbackView):
    """/oidc/callback/: the provider sends the person back here, signed in or refused."""

    get_settings = staticmethod(provider_setting)

    @property
    def failure_url(self) -> str:
        return _sign_in_page("failed")

    def get(self, request: HttpRequest) -> HttpResponse:
        if not settings.OIDC_ENABLED:
            raise Http404("Single sign-on is not configured.")
        try:
            response: HttpResponse = super().get(request)
        except requests.RequestException as exc:
            log.error("OIDC: the provider's token or userinfo endpoint failed: %s", exc)
            return HttpResponseRedirect(_sign_in_page("unavailable"))
        return response
