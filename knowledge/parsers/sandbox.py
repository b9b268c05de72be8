"""Parse an untrusted file in a child process with hard limits.

`parse_file` is the only entry point the ingest pipeline uses. The child runs
`python -m knowledge.parsers.sandbox`, reads a JSON request on stdin and
writes a JSON reply on stdout. Address space and CPU time are capped with
setrlimit and the whole run with a wall-clock timeout, so a decompression bomb
or a parser loop fails one document instead of the worker.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

from .base import ParseContext, ParsedDocument, ParseError
from .registry import detect_mime, parse


def _limit(memory_bytes: int, cpu_seconds: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))


def parse_file(
    *,
    path: Path,
    original_name: str,
    timeout: float = 120,
    memory_bytes: int = 1536 * 1024 * 1024,
    max_uncompressed_bytes: int = 200 * 1024 * 1024,
) -> ParsedDocument:
    mime = detect_mime(path, original_name)
    request = json.dumps(
        {
            "path": str(path),
            "mime": mime,
            "original_name": original_name,
            "max_uncompressed_bytes": max_uncompressed_bytes,
        }
    )
    cpu_seconds = max(1, int(timeout))
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "knowledge.parsers.sandbox"],
            input=request.encode(),
            capture_output=True,
            timeout=timeout,
            preexec_fn=lambda: _limit(memory_bytes, cpu_seconds),
            cwd=Path(__file__).resolve().parents[2],
        )
    except subprocess.TimeoutExpired as exc:
        raise ParseError(
            f"Reading the file took longer than {int(timeout)} s; it may be damaged."
        ) from exc
    if proc.returncode == 0:
        return ParsedDocument.from_json(json.loads(proc.stdout))
    try:
        reply = json.loads(proc.stdout)
    except ValueError:
        reply = {}
    if "error" in reply:
        raise ParseError(reply["error"])
    if proc.returncode < 0 or b"MemoryError" in proc.stderr:
        raise ParseError(
            "Reading the file needed more memory or time than allowed; it may be damaged or hostile."
        )
    raise ParseError("The file could not be read (the reader stopped unexpectedly).")


def _child() -> int:
    request = json.loads(sys.stdin.buffer.read())
    ctx = ParseContext(
        path=Path(request["path"]),
        mime=request["mime"],
        original_name=request["original_name"],
        max_uncompressed_bytes=request["max_uncompressed_bytes"],
    )
    try:
        document = parse(ctx)
    except ParseError as exc:
        json.dump({"error": str(exc)}, sys.stdout)
        return 2
    except MemoryError:
        json.dump(
            {"error": "Reading the file needed more memory than allowed; it may be hostile."},
            sys.stdout,
        )
        return 2
    except Exception as exc:  # noqa: BLE001 - any parser bug fails this document, readably
        json.dump(
            {"error": f"The file could not be read: {type(exc).__name__}: {exc}"[:500]}, sys.stdout
        )
        return 2
    json.dump(document.to_json(), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(_child())
