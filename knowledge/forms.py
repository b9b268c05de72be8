"""Forms of the Knowledge page. They validate input; knowledge.collections writes.

Who may choose what: superusers any group, and whether a collection is public; a knowledge
manager only groups they belong to (they cannot hand a collection to people they are not
among), and never makes a collection public. Groups typed as names are matched regardless of
case, so "hr" picks the existing "HR" (knowledge.collections.group_ensure).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import Group

from accounts.models import User
from knowledge.models import Collection

GROUPS_HELP = "Members of these groups may read it."


def _choosable_groups(user: User) -> Any:
    return Group.objects.order_by("name") if user.is_superuser else user.groups.order_by("name")


class ReadersForm(forms.Form):
    """Who reads a collection. A manager's form lists only their own groups; the collection's
    other reader groups are kept as they are (`kept`)."""

    is_public = forms.BooleanField(
        required=False, label="Public", help_text="Every signed-in user may read it."
    )
    groups = forms.ModelMultipleChoiceField(
        queryset=Group.objects.none(), required=False, help_text=GROUPS_HELP
    )

    def __init__(
        self, *args: Any, user: User, collection: Collection | None = None, **kwargs: Any
    ) -> None:
        if collection is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "is_public": collection.is_public,
                "groups": list(collection.groups.all()),
            }
        super().__init__(*args, **kwargs)
        self.limited = not user.is_superuser
        self.collection = collection
        self.fields["groups"].queryset = _choosable_groups(user)  # type: ignore[attr-defined]
        if self.limited:
            self.fields["groups"].help_text = "Members of these groups (yours) may read it."
            # Public means every signed-in user: more than a manager's own groups.
            self.fields["is_public"].disabled = True
            self.fields["is_public"].help_text = "Only an administrator makes a collection public."

    def kept(self) -> list[Group]:
        """The collection's reader groups this person could not choose: left untouched."""
        if self.collection is None:
            return []
        choosable = self.fields["groups"].queryset  # type: ignore[attr-defined]
        return list(self.collection.groups.exclude(pk__in=choosable.values("pk")))


class CollectionForm(ReadersForm):
    """A new collection (superusers only): its name, readers and managers."""

    name = forms.CharField(max_length=200)
    manager_groups = forms.ModelMultipleChoiceField(
        queryset=Group.objects.order_by("name"),
        required=False,
        label="Managers",
        help_text="Members of these groups manage it: upload, re-ingest, delete, set readers.",
    )
    new_group = forms.CharField(
        max_length=150,
        required=False,
        label="New group",
        help_text="Readers not yet a group? Name it; an existing name in another case is reused.",
    )

    field_order = ["name", "is_public", "groups", "new_group", "manager_groups"]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the collection a name.")
        return name

    def clean_new_group(self) -> str:
        name = " ".join(self.cleaned_data.get("new_group", "").split())
        if name and self.limited:
            raise forms.ValidationError("Only an administrator creates groups.")
        return name

    def existing_new_group(self) -> Group | None:
        """The group the typed name means if it exists already, in whatever case."""
        name = self.cleaned_data.get("new_group", "")
        return Group.objects.filter(name__iexact=name).order_by("pk").first() if name else None


class RenameForm(forms.Form):
    name = forms.CharField(max_length=200)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the collection a name.")
        return name
