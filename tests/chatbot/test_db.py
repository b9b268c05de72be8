"""The chat path's connection check: a connection the server ended is replaced before the call."""

from __future__ import annotations

import select
import time

import pytest
from django.db import connection, connections

from chatbot.db import connection_checked

pytestmark = pytest.mark.django_db(transaction=True)


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _end_backend(pid: int) -> None:
    """End `pid` from another connection, as a server restart or an administrator would."""
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()


def test_a_connection_the_server_ended_is_replaced_before_the_call() -> None:
    ended = _backend_pid()
    _end_backend(ended)
    # The server's goodbye reaches this socket asynchronously: wait for it (bounded).
    select.select([connection.connection.fileno()], [], [], 5)

    connection_checked()

    assert connection.connection is None  # closed here, not discovered by a failing query
    assert _backend_pid() != ended


def test_a_live_connection_is_kept_and_needs_no_select_1() -> None:
    kept = _backend_pid()
    time.sleep(0.05)  # nothing arrives on an idle connection meanwhile

    connection_checked()

    assert connection.health_check_done  # type: ignore[attr-defined]  # no `SELECT 1` first
    assert _backend_pid() == kept
