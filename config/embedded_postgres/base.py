from __future__ import annotations

from typing import Any

from django.db.backends.postgresql import base

from config import embedded


class DatabaseWrapper(base.DatabaseWrapper):
    """Django's PostgreSQL backend, with the embedded server started lazily.

    `manage.py help` starts nothing; the first query starts PostgreSQL (about a
    second) and every later process finds it running.
    """

    _embedded: dict[str, str] | None = None

    def get_connection_params(self) -> dict[str, Any]:
        if DatabaseWrapper._embedded is None:
            DatabaseWrapper._embedded = embedded.ensure_postgres()
        self.settings_dict.update({k: v for k, v in DatabaseWrapper._embedded.items() if v})
        return super().get_connection_params()
