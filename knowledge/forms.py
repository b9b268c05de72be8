"""Forms of the Knowledge page. They validate input; knowledge.collections writes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import Group

from accounts.models import User


class CollectionForm(forms.Form):
    name = forms.CharField(max_length=200)
    is_public = forms.BooleanField(
        required=False, label="Public", help_text="Every signed-in user may read it."
    )
    groups = forms.ModelMultipleChoiceField(
        queryset=Group.objects.order_by("name"),
        required=False,
        help_text="Members of these groups may read it.",
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limited = not user.is_superuser
        if self.limited:
            # Staff see only collections they may read (knowledge.selectors): one they could
            # not read would vanish from their page, so they share only with their own groups.
            self.fields["groups"].queryset = user.groups.order_by("name")  # type: ignore[attr-defined]
            self.fields["groups"].help_text = "Members of these groups (yours) may read it."

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the collection a name.")
        return name

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.limited and not cleaned.get("is_public") and not cleaned.get("groups"):
            raise forms.ValidationError(
                "Make it public or choose one of your groups: you would not see it otherwise."
            )
        return cleaned
