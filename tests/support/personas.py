"""Personas beyond tests/conftest.py's four: hannah, staff in HR (a staff flag that no longer
manages anything), and hugo, the knowledge manager of HR."""

from __future__ import annotations

from django.contrib.auth.models import Permission

from accounts.models import User
from accounts.services import user_ensure
from knowledge.collections import collection_ensure

# What a knowledge manager is given in the admin: see collections, see, move and delete
# documents, see conversations (which the admin still keeps from anyone but superusers).
MANAGER_PERMISSIONS = (
    "view_collection",
    "view_document",
    "change_document",
    "delete_document",
    "view_conversation",
)


def hr_staff_member() -> User:
    """hannah: staff, in HR only, with the admin permissions a knowledge manager gets."""
    user = user_ensure(username="hannah", password="pw-hannah", groups=["HR"], is_staff=True)[0]
    user.user_permissions.add(*Permission.objects.filter(codename__in=MANAGER_PERMISSIONS))
    return User.objects.get(pk=user.pk)  # permissions are cached on the instance


def hr_manager() -> User:
    """hugo: the knowledge manager of HR. He reads HR (group HR) and manages the "hr"
    collection through the group "HR knowledge"; no staff flag, no admin permissions."""
    user = user_ensure(username="hugo", password="pw-hugo", groups=["HR", "HR knowledge"])[0]
    collection_ensure(
        slug="hr", name="HR confidential", public=False, groups=["HR"], managers=["HR knowledge"]
    )
    return User.objects.get(pk=user.pk)
