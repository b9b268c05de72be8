"""Parse an untrusted file in a child process with hard limits on what it may use and reach.

`parse_file` is the only entry point the ingest pipeline uses. The child runs
`python -m knowledge.parsers.sandbox`, reads a JSON request on stdin and
writes a JSON reply on stdout. A decompression bomb, a parser loop or a parser
exploited by a hostile file fails one document instead of the worker:

- resources (setrlimit, before the child starts Python): address space, CPU
  time, open files, new processes, and the size of any file it writes; a
  wall-clock timeout for the whole run; and no more than `output_bytes` of
  reply read back, so a huge reply cannot exhaust the worker either;
- reach: an environment built from an allow-list (no DATABASE_URL,
  SECRET_KEY, REDIS_URL, LLM_API_KEY or any other credential the worker was
  given), a scratch HOME and TMPDIR of its own, and, where the kernel lets an
  unprivileged process make a user namespace, a network namespace of its own
  with no interfaces but loopback (down): no TCP or UDP connection anywhere.

What is not cut (docs/knowledge.md, "The parser sandbox"): the child runs as
the worker's user, so an exploited parser could still read that user's files
and reach Unix sockets on disk; RLIMIT_NPROC binds no process of root.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .base import MAX_TEXT_CHARS, ParseContext, ParsedDocument, ParseError
from .registry import detect_mime, parse

MB = 1024 * 1024
PROJECT = Path(__file__).resolve().parents[2]
# Variables the child may inherit; everything else (credentials above all) stays behind.
ENV_ALLOWED = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ")
# How much of the child's stderr is kept to tell a MemoryError from a crash.
_STDERR_TAIL = 64 * 1024

# linux/sched.h: a user namespace lets an unprivileged process make the network one.
_CLONE_NEWUSER = 0x10000000
_CLONE_NEWNET = 0x40000000
# linux/prctl.h: the signal a process gets when the one that started it dies.
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class Limits:
    """What one parsing child may use. The pipeline takes these from settings."""

    timeout: float = 120  # seconds, wall clock; CPU time is capped at the same figure
    memory_bytes: int = 1536 * MB  # address space
    open_files: int = 64  # RLIMIT_NOFILE: the file, its parts, Python's own
    processes: int = 0  # RLIMIT_NPROC: no fork, no thread (not enforced for root)
    write_bytes: int = 16 * MB  # RLIMIT_FSIZE: the largest file it may write
    output_bytes: int = 64 * MB  # reply bytes read back; past this the document fails
    isolate_network: bool = True


@dataclass(frozen=True)
class ChildResult:
    returncode: int
    stdout: bytes
    stderr: bytes


class _OutputTooLarge(Exception):
    pass


def _size(size: int) -> str:
    return f"{size // MB} MB" if size >= MB else f"{size // 1024} KB"


def child_environment(home: str) -> dict[str, str]:
    """The environment a parsing child gets: the allow-list, and a scratch home of its own."""
    env = {name: os.environ[name] for name in ENV_ALLOWED if name in os.environ}
    env.setdefault("PATH", "/usr/bin:/bin")
    return {**env, "HOME": home, "TMPDIR": home, "PYTHONDONTWRITEBYTECODE": "1"}


_LIBC = ctypes.CDLL(None, use_errno=True)  # loaded here, not between fork and exec


def _unshare_network() -> None:
    """Enter new user and network namespaces if the kernel allows it; otherwise change nothing.

    Containers with the default seccomp profile refuse it (EPERM): the child then
    keeps the host's network, but no credential to use on it.
    """
    _LIBC.unshare(_CLONE_NEWUSER | _CLONE_NEWNET)


def _limit(limits: Limits) -> None:
    """Run in the child between fork and exec: nothing here can be undone by the parser."""
    cpu = max(1, int(limits.timeout))
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
    resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.write_bytes, limits.write_bytes))
    # A worker killed mid-parse (kill -9, out of memory) takes its child with it.
    _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if limits.isolate_network:
        _unshare_network()


def run_in_sandbox(*, argv: list[str], request: bytes, limits: Limits) -> ChildResult:
    """Run `python <argv>` under `limits`, with `request` on stdin; what it wrote and how it ended.

    Raises ParseError when it runs out of time or writes more than `output_bytes`.
    """
    with tempfile.TemporaryDirectory(prefix="docent-parse-") as home:
        proc = subprocess.Popen(
            [sys.executable, *argv],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=child_environment(home),
            cwd=PROJECT,
            preexec_fn=lambda: _limit(limits),
            start_new_session=True,  # its own process group, killed as one
        )
        try:
            stdout, stderr = _collect(proc, request, limits)
        except subprocess.TimeoutExpired as exc:
            raise ParseError(
                f"Reading the file took longer than {int(limits.timeout)} s; it may be damaged."
            ) from exc
        except _OutputTooLarge as exc:
            raise ParseError(
                f"The text read from the file is larger than the limit of "
                f"{_size(limits.output_bytes)}; split the file into smaller ones."
            ) from exc
        finally:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return ChildResult(returncode=proc.returncode, stdout=stdout, stderr=stderr)


def _collect(proc: subprocess.Popen[bytes], request: bytes, limits: Limits) -> tuple[bytes, bytes]:
    """Send the request, then read both pipes until they close, within the time and size caps."""
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    with contextlib.suppress(BrokenPipeError):  # a child that died at once: its status says why
        proc.stdin.write(request)  # a few hundred bytes: the pipe's buffer holds them
        proc.stdin.close()
    deadline = time.monotonic() + limits.timeout
    stdout, stderr = bytearray(), bytearray()
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ, stdout)
        selector.register(proc.stderr, selectors.EVENT_READ, stderr)
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise subprocess.TimeoutExpired(proc.args, limits.timeout)
            for key, _ in selector.select(remaining):
                data = os.read(key.fd, 256 * 1024)
                if not data:
                    selector.unregister(key.fileobj)
                    continue
                key.data.extend(data)
                if len(stdout) > limits.output_bytes:
                    raise _OutputTooLarge
                del stderr[:-_STDERR_TAIL]
    proc.wait(timeout=max(0.1, deadline - time.monotonic()))
    return bytes(stdout), bytes(stderr)


def parse_file(
    *,
    path: Path,
    original_name: str,
    limits: Limits | None = None,
    max_uncompressed_bytes: int = 200 * MB,
    max_text_chars: int = MAX_TEXT_CHARS,
) -> ParsedDocument:
    limits = limits or Limits()
    mime = detect_mime(path, original_name)
    request = json.dumps(
        {
            "path": str(path),
            "mime": mime,
            "original_name": original_name,
            "max_uncompressed_bytes": max_uncompressed_bytes,
            "max_text_chars": max_text_chars,
        }
    )
    child = run_in_sandbox(
        argv=["-m", "knowledge.parsers.sandbox"], request=request.encode(), limits=limits
    )
    if child.returncode == 0:
        return ParsedDocument.from_json(json.loads(child.stdout))
    try:
        reply = json.loads(child.stdout)
    except ValueError:
        reply = {}
    if "error" in reply:
        raise ParseError(reply["error"])
    if child.returncode < 0 or b"MemoryError" in child.stderr:
        raise ParseError(
            "Reading the file needed more memory or time than allowed; it may be damaged or hostile."
        )
    raise ParseError("The file could not be read (the reader stopped unexpectedly).")


def _reply(data: dict[str, object]) -> None:
    # ASCII escapes: any text, even a lone surrogate from a broken file, survives the trip.
    sys.stdout.buffer.write(json.dumps(data).encode("ascii"))


def _child() -> int:
    request = json.loads(sys.stdin.buffer.read())
    ctx = ParseContext(
        path=Path(request["path"]),
        mime=request["mime"],
        original_name=request["original_name"],
        max_uncompressed_bytes=request["max_uncompressed_bytes"],
        max_text_chars=request["max_text_chars"],
    )
    try:
        document = parse(ctx)
    except ParseError as exc:
        _reply({"error": str(exc)})
        return 2
    except MemoryError:
        _reply({"error": "Reading the file needed more memory than allowed; it may be hostile."})
        return 2
    except Exception as exc:  # noqa: BLE001 - any parser bug fails this document, readably
        _reply({"error": f"The file could not be read: {type(exc).__name__}: {exc}"[:500]})
        return 2
    _reply(document.to_json())
    return 0


if __name__ == "__main__":
    sys.exit(_child())
