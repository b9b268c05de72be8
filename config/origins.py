"""Which web origins may open a browser's websocket (WEBSOCKET_ALLOWED_ORIGINS).

A browser sends its cookies with a websocket from any site, so a socket that is
authenticated by its session must come from one of our own pages: its Origin
header (scheme, host and port) must be in the allow-list. A socket from another
site, or one without Origin, is refused before it is accepted.

The list is its own setting rather than ALLOWED_HOSTS because a Host header has
no scheme: `http://docent.example.com` (a downgraded page) and
`https://docent.example.com:8443` are other origins than the one people use.
`origins_from_hosts` derives the default from ALLOWED_HOSTS.

Importing this module imports nothing of Channels (settings import it).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def origins_from_hosts(hosts: Iterable[str], *, https: bool, port: int) -> list[str]:
    """The origins of pages served for these hosts: https on 443 in production, else http on port.

    A host pattern ".example.com" (any subdomain) and "*" (any host) keep their meaning.
    """
    origins = []
    for host in hosts:
        if host == "*":
            origins.append("*")
        elif https:
            origins.append(f"https://{host}")
        else:
            origins.append(f"http://{host}:{port}")
    return origins


def websocket_origin_validator(inner: Any, allowed: Iterable[str] | None = None) -> Any:
    """Wrap an ASGI websocket application: refuse a socket whose Origin is not allowed.

    `allowed` defaults to settings.WEBSOCKET_ALLOWED_ORIGINS. Channels' OriginValidator
    compares scheme, host and port (a default port counts as given) and refuses a socket
    without Origin.
    """
    from channels.security.websocket import OriginValidator
    from django.conf import settings

    class Validator(OriginValidator):  # type: ignore[misc]  # channels ships no types
        def valid_origin(self, parsed_origin: Any) -> bool:
            # "http://127.0.0.1:8000.evil.example" has a port that is no number: reading it
            # raises ValueError, which must refuse the socket, not crash it.
            try:
                return bool(super().valid_origin(parsed_origin))
            except ValueError:
                return False

    origins = list(settings.WEBSOCKET_ALLOWED_ORIGINS if allowed is None else allowed)
    return Validator(inner, origins)
