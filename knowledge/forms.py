"""Forms of the Knowledge page. They validate input; knowledge.collections writes."""

from __future__ import annotations

from django import forms
from django.contrib.auth.models import Group


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

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the collection a name.")
        return name
