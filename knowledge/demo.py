"""The demo content: the bundled sample corpus in knowledge/sample/, a fictional company's
documents in three collections with different readers, for `up`, tests and benches."""

from __future__ import annotations

from pathlib import Path

from knowledge.collections import collection_ensure
from knowledge.parsers.registry import SUPPORTED_EXTENSIONS
from knowledge.uploads import UploadResult, document_upload

SAMPLE_DIR = Path(__file__).resolve().parent / "sample"

# folder -> (collection name, public?, groups that may read it)
SAMPLE_COLLECTIONS: dict[str, tuple[str, bool, list[str]]] = {
    "handbook": ("Employee handbook", True, []),
    "engineering": ("Engineering", False, ["Engineering"]),
    "hr": ("HR confidential", False, ["HR"]),
}


def sample_files(folder: str) -> list[Path]:
    return sorted(
        p for p in (SAMPLE_DIR / folder).iterdir() if p.suffix.lower() in SUPPORTED_EXTENSIONS
    )


def sample_corpus_install(*, enqueue: bool = True) -> list[UploadResult]:
    """Upload every sample file into its collection; files already there are duplicates, not re-read."""
    results = []
    for folder, (name, public, groups) in SAMPLE_COLLECTIONS.items():
        collection = collection_ensure(slug=folder, name=name, public=public, groups=groups)
        for path in sample_files(folder):
            with path.open("rb") as content:
                results.append(
                    document_upload(
                        collection=collection,
                        content=content,
                        original_name=path.name,
                        enqueue=enqueue,
                    )
                )
    return results
