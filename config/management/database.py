"""What every command that uses the database calls first, so it works on a bare checkout.

`up` migrates before it starts anything; `ingest`, `search` and the others may
be the first thing run after a clone, before the database has any table. They
call `database_ready`: the embedded PostgreSQL is migrated on first use, and a
database of one's own (DATABASE_URL) is never changed behind the operator's
back; the command stops and says what to run instead.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError, OutputWrapper
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

# Namespace and key of the advisory lock that keeps two commands from migrating at once.
_LOCK = (0x6D67, 1)


def _pending() -> list[str]:
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, backwards in plan]


def database_ready(*, notices: OutputWrapper) -> None:
    """Apply the migrations the embedded database lacks, or stop and say to run `migrate`.

    `notices` is where the one line about migrating goes: stderr for commands whose
    stdout is read by tools.
    """
    pending = _pending()  # the first connection starts the embedded PostgreSQL
    if not pending:
        return
    if settings.DATABASE_URL:
        raise CommandError(
            f"The database lacks {len(pending)} migrations (the first: {pending[0]}); "
            "run `python manage.py migrate` first."
        )
    notices.write(f"Preparing the database ({len(pending)} migrations, first use only)…\n")
    database_migrate()


def database_migrate() -> None:
    """Migrate under an advisory lock: two commands started on a fresh checkout wait in turn."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", list(_LOCK))
    try:
        call_command("migrate", interactive=False, verbosity=0)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", list(_LOCK))
