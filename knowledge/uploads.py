"""Many files at once, each on its own: what the Knowledge page and the REST API call.

One refused file (too big, empty, an unsupported type) is reported with its
reason and never stops the others; each accepted file is stored and queued in
its own transaction by `knowledge.ingestion.document_upload`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import BinaryIO, Literal

from knowledge.ingestion import UploadRejected, document_upload
from knowledge.models import Collection


@dataclass(frozen=True)
class UploadOutcome:
    """One file's fate at upload time. `document` is None when the file was refused."""

    path: str
    document: int | None
    status: Literal["queued", "duplicate", "failed"]
    error: str = ""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def documents_upload(
    *,
    collection: Collection,
    files: Iterable[tuple[str, BinaryIO]],
    uploaded_by=None,  # type: ignore[no-untyped-def]
    enqueue: bool = True,
) -> list[UploadOutcome]:
    """Upload each (name, content) pair into the collection; one outcome per file, in order."""
    outcomes: list[UploadOutcome] = []
    for name, content in files:
        try:
            result = document_upload(
                collection=collection,
                content=content,
                original_name=name,
                uploaded_by=uploaded_by,
                enqueue=enqueue,
            )
        except UploadRejected as exc:
            outcomes.append(
                UploadOutcome(path=name, document=None, status="failed", error=str(exc))
            )
            continue
        outcomes.append(
            UploadOutcome(path=name, document=result.document.pk, status=result.outcome)
        )
    return outcomes
