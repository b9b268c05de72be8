"""Signing in (passwords unless LOCAL_LOGIN is off, the single sign-on button) and out."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.views import LoginView, LogoutView
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode

from accounts import oidc

# What ?sso= on the sign-in page means (accounts.oidc sends people back with it).
SSO_PROBLEMS = {
    "failed": "Single sign-on did not sign you in. Try again, or ask your administrator.",
    "unavailable": "The single sign-on provider cannot be reached right now. Try again later.",
}


class SignInView(LoginView):
    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(
            local_login=settings.LOCAL_LOGIN,
            sso_provider=settings.OIDC_PROVIDER_NAME if settings.OIDC_ENABLED else "",
            sso_problem=SSO_PROBLEMS.get(self.request.GET.get("sso", "")),
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.LOCAL_LOGIN:
            # Refused before any password is checked (AUTHENTICATION_BACKENDS has no
            # password backend then either: config/settings.py).
            context = self.get_context_data(form=None)
            context["refused"] = "Passwords are switched off here."
            return render(request, "registration/login.html", context, status=403)
        return super().post(request, *args, **kwargs)


class SignOutView(LogoutView):
    """Ends the Docent session; with OIDC_SIGN_OUT_AT_PROVIDER, the provider's one too."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        id_token = request.session.get("oidc_id_token")  # kept only with that setting
        response = super().post(request, *args, **kwargs)
        if settings.OIDC_ENABLED and settings.OIDC_SIGN_OUT_AT_PROVIDER and id_token:
            at_provider = oidc.provider_sign_out_url(request, id_token=id_token)
            if at_provider:
                return HttpResponseRedirect(at_provider)
        return response


def admin_sign_in(request: HttpRequest) -> HttpResponse:
    """The admin's own password page, or Docent's sign-in page when passwords are off."""
    if settings.LOCAL_LOGIN:
        return admin.site.login(request)
    return redirect(f"{reverse('login')}?{urlencode({'next': request.GET.get('next', '/admin/')})}")
