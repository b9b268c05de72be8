"""Who is staff: the one check every page, API, socket and template makes.

Staff manage knowledge (collections, uploads, deletes, ingest progress) and
see the frequent questions. Readers' rights come from groups instead
(knowledge.selectors).
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
