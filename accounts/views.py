"""A person's own API tokens in the browser: create (shown once), see last use, revoke."""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts import services
from accounts.models import User


def _user(request: HttpRequest) -> User:
    """The signed-in user (every view here is behind login_required)."""
    return cast(User, request.user)


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses it, e.g. “Slack bridge”.")
    days = forms.IntegerField(
        min_value=1,
        max_value=3650,
        required=False,
        label="Expires after (days)",
        help_text="Empty: the default lifetime.",
    )


# The new token waits in the server-side session for the one page that shows it, so a
# reload neither shows it again nor posts the form again (which would make a second one).
_SHOW_ONCE = "new_api_token"


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        request.session[_SHOW_ONCE] = services.token_create(
            user=_user(request), name=form.cleaned_data["name"], days=form.cleaned_data["days"]
        )
        return redirect("tokens")
    return render(
        request,
        "accounts/tokens.html",
        {
            "form": form,
            "created": request.session.pop(_SHOW_ONCE, None),
            "tokens": services.tokens_of(user=_user(request)),
        },
    )


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    if not services.token_revoke_own(user=_user(request), pk=pk):
        raise Http404("No such token.")
    return redirect("tokens")
