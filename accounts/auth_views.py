"""The sign-in page: passwords unless LOCAL_LOGIN is off, and the single sign-on button."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode

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


def admin_sign_in(request: HttpRequest) -> HttpResponse:
    """The admin's own password page, or Docent's sign-in page when passwords are off."""
    if settings.LOCAL_LOGIN:
        return admin.site.login(request)
    return redirect(f"{reverse('login')}?{urlencode({'next': request.GET.get('next', '/admin/')})}")
