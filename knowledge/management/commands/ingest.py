"""Ingest files and folders into a collection (queue, wait for the worker, or run here).

Every file found gets a row: a file in a folder whose type Docent cannot read is
reported `skipped` with the reason, never passed over in silence. Hidden files
and folders (".git", ".DS_Store") are not looked into.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TypedDict

from django.core.management.base import BaseCommand, CommandError, CommandParser

from config import embedded
from config.management.database import database_ready
from knowledge.collections import collection_ensure
from knowledge.models import Document
from knowledge.parsers.registry import SUPPORTED_EXTENSIONS, UNSUPPORTED_MESSAGE
from knowledge.pipeline import document_ingest, documents_wait
from knowledge.uploads import UploadRejected, document_upload


class FileRow(TypedDict):
    """One JSON line of `--json`: the contract tools outside the code rely on."""

    path: str
    document: int | None
    status: str  # queued, duplicate, ready, failed, or skipped (a type Docent cannot read)
    chunks: int
    error: str


def _visible_files(folder: Path) -> list[Path]:
    """Files under `folder`, recursively, in a stable order; hidden files and folders left out."""
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def expand(paths: list[str]) -> tuple[list[Path], list[Path]]:
    """(files to ingest, files skipped): files as given, and what folders hold.

    A file named on the command line is always tried (its bytes decide its type);
    a file found in a folder is tried only if its extension is one Docent reads.
    """
    found: list[Path] = []
    skipped: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for file in _visible_files(path):
                supported = file.suffix.lower() in SUPPORTED_EXTENSIONS
                (found if supported else skipped).append(file)
        elif path.is_file():
            found.append(path)
        else:
            raise CommandError(f"No such file or folder: {raw}")
    return found, skipped


class Command(BaseCommand):
    help = "Ingest files or folders into a collection (created if missing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument("--collection", required=True, metavar="SLUG")
        audience = parser.add_mutually_exclusive_group()
        audience.add_argument(
            "--public", action="store_true", default=None, help="every signed-in user may read it"
        )
        audience.add_argument(
            "--group",
            action="append",
            default=[],
            dest="groups",
            metavar="NAME",
            help="members of this group may read it (repeatable)",
        )
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--wait",
            action="store_true",
            help="queue to the Celery worker and wait until every file is done",
        )
        mode.add_argument(
            "--sync", action="store_true", help="run the pipeline in this process; no worker needed"
        )
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="one JSON line per file"
        )

    def handle(
        self,
        *args: object,
        paths: list[str],
        collection: str,
        public: bool | None,
        groups: list[str],
        wait: bool,
        sync: bool,
        as_json: bool,
        **options: object,
    ) -> None:
        # Uploads are queued on Redis and progress is published there; `--sync` too.
        embedded.ensure_services(redis=True)
        files, skipped = expand(paths)
        if not files and not skipped:
            raise CommandError(f"No files found in {', '.join(paths)}.")
        database_ready(notices=self.stderr)
        target = collection_ensure(slug=collection, public=public, groups=groups)
        results: list[FileRow] = [
            FileRow(
                path=str(path), document=None, status="skipped", chunks=0, error=UNSUPPORTED_MESSAGE
            )
            for path in skipped
        ]
        # Documents this run queued or ingested: id -> version, and id -> row, filled in at the end.
        versions: dict[int, int] = {}
        rows: dict[int, FileRow] = {}
        for number, path in enumerate(files, start=1):
            row = FileRow(path=str(path), document=None, status="queued", chunks=0, error="")
            results.append(row)
            try:
                with path.open("rb") as content:
                    upload = document_upload(
                        collection=target,
                        content=content,
                        original_name=path.name,
                        enqueue=not sync,
                    )
            except UploadRejected as exc:
                row["status"], row["error"] = "failed", str(exc)
                continue
            row["document"] = upload.document.pk
            if upload.outcome == "duplicate":
                row["status"], row["chunks"] = "duplicate", upload.document.chunk_count
                continue
            if sync:
                self._progress(number, len(files), path.name, as_json)
                document_ingest(document_id=upload.document.pk, version=upload.document.version)
            versions[upload.document.pk], rows[upload.document.pk] = upload.document.version, row
        if wait and versions:
            documents_wait(
                versions=versions,
                on_progress=lambda done, total: self._progress(done, total, "", as_json),
            )
        if sync or wait:
            self._fill(rows)
        self._report(results, as_json)
        failed = sum(r["status"] == "failed" for r in results)
        if failed:
            raise CommandError(f"{failed} of {len(results)} files failed.")

    @staticmethod
    def _fill(rows: dict[int, FileRow]) -> None:
        """Each row's status as the database has it now; a deleted document failed."""
        documents = Document.objects.in_bulk(list(rows))
        for pk, row in rows.items():
            document = documents.get(pk)
            if document is None:
                row["status"] = "failed"
                row["error"] = "The document was deleted while ingesting."
            else:
                row["status"], row["chunks"] = document.status, document.chunk_count
                row["error"] = document.error

    def _progress(self, done: int, total: int, name: str, as_json: bool) -> None:
        if as_json or not sys.stderr.isatty():
            return
        width = 30
        filled = int(width * done / max(total, 1))
        sys.stderr.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {name[:40]:<40}"
        )
        sys.stderr.flush()
        if done == total:
            sys.stderr.write("\n")

    def _report(self, results: list[FileRow], as_json: bool) -> None:
        for row in sorted(results, key=lambda row: row["path"]):
            if as_json:
                self.stdout.write(json.dumps(row))
            else:
                detail = (
                    f"{row['chunks']} chunks"
                    if row["status"] in ("ready", "duplicate")
                    else row["error"]
                )
                self.stdout.write(f"{row['status']:<9} {row['path']}  {detail}")
