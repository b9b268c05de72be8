"""Small documents ingested in-process for tests (the real parse, chunk, embed and store)."""

from __future__ import annotations

import io

from knowledge.models import Collection, Document
from knowledge.pipeline import document_ingest
from knowledge.uploads import document_upload


def ingest_text(collection: Collection, name: str, text: str) -> Document:
    upload = document_upload(
        collection=collection, content=io.BytesIO(text.encode()), original_name=name, enqueue=False
    )
    document_ingest(document_id=upload.document.pk, version=upload.document.version)
    upload.document.refresh_from_db()
    assert upload.document.status == "ready", upload.document.error
    return upload.document


HR_SALARY = """# Salary bands 2026

## Merit budget
The 2026 merit budget is 3.7 percent of payroll. Managers receive their allocation in March.
"""

HANDBOOK_VACATION = """# Vacation and leave

## Employees
Full-time employees get 28 vacation days per year. Up to 5 unused days carry over to March.
"""
