"""Who has Django's staff flag.

The flag no longer decides who manages knowledge: knowledge managers are given
collections by group (Collection.manager_groups), and the staff pages ask
knowledge.selectors.is_knowledge_manager. The flag remains what Django's admin
site checks at its door; the admin's knowledge models are for superusers only
(knowledge.admin). Readers' rights come from groups (knowledge.selectors).
"""

from __future__ import annotations

from typing import Any


def is_staff_member(user: Any) -> bool:
    """True for an active, signed-in staff user; False for anyone else, None included.

    `user` is whatever a request, a socket scope or a token lookup holds: a
    User, an AnonymousUser or None.
    """
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and getattr(user, "is_staff", False)
    )
