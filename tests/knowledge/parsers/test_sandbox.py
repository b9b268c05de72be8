"""End to end through the sandboxed child process, as the ingest pipeline runs it."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import docx
import pytest

from knowledge.parsers.base import ParsedDocument, ParseError
from knowledge.parsers.sandbox import ENV_ALLOWED, MB, Limits, parse_file, run_in_sandbox
from tests.support import files
from tests.support.pdfwriter import write_pdf

PROJECT = Path(__file__).resolve().parents[3]


def test_a_docx_is_read_through_the_sandbox(tmp_path):
    document = docx.Document()
    document.add_heading("Security", level=1)
    document.add_paragraph("Lock your screen.")
    document.save(tmp_path / "policy.docx")

    parsed = parse_file(path=tmp_path / "policy.docx", original_name="IT policy.docx")

    assert parsed.title == "Security"
    assert [(s.heading_path, s.text) for s in parsed.sections] == [
        (("Security",), "Lock your screen.")
    ]


@pytest.mark.parametrize("kind", ["docx", "xlsx"])
def test_a_zip_bomb_is_refused_in_the_sandbox(zip_bomb, kind):
    with pytest.raises(ParseError, match="it may be a zip bomb"):
        parse_file(path=zip_bomb(kind), original_name=f"report.{kind}")


def test_a_hand_made_pdf_is_read_through_the_sandbox(pdf_file):
    parsed = parse_file(path=pdf_file, original_name="hello.pdf")

    assert [(s.page, s.text) for s in parsed.sections] == [(1, "Hello from Docent")]


def test_control_characters_in_a_pdfs_text_never_reach_the_database(tmp_path):
    # Chromium's "Save as PDF" of a Python manual page put NULs in the text layer, and
    # PostgreSQL refuses to store them: the document failed at its last step.
    path = tmp_path / "nul.pdf"
    write_pdf(path, [["Hello\x00World \x07and more"]], title="Bell\x07 report")

    parsed = parse_file(path=path, original_name="nul.pdf")

    assert parsed.title == "Bell report"
    assert [s.text for s in parsed.sections] == ["HelloWorld and more"]


def test_a_lone_surrogate_becomes_the_replacement_character():
    parsed = ParsedDocument.from_json(
        {
            "title": "T",
            "sections": [
                {"text": "a\ud800b", "heading_path": ["H\x00"], "page": None, "table_header": None}
            ],
        }
    )

    assert (parsed.sections[0].text, parsed.sections[0].heading_path) == ("a\ufffdb", ("H",))


def test_a_truncated_pdf_fails_readably_in_the_sandbox(tmp_path, pdf_file):
    data = pdf_file.read_bytes()
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(data[: len(data) // 2])

    with pytest.raises(ParseError) as failure:
        parse_file(path=cut, original_name="cut.pdf")

    assert str(failure.value).startswith("The PDF is damaged or incomplete")


def test_a_text_file_renamed_docx_is_refused_with_a_clear_message(tmp_path):
    path = tmp_path / "notes.docx"
    path.write_text("These are just notes typed in a text editor.\n", encoding="utf-8")

    with pytest.raises(ParseError, match=r"named \.docx but contains plain text"):
        parse_file(path=path, original_name="notes.docx")


def test_a_truncated_docx_is_refused_before_any_parsing(tmp_path):
    document = docx.Document()
    document.add_paragraph("Some text. " * 200)
    document.save(tmp_path / "full.docx")
    data = (tmp_path / "full.docx").read_bytes()
    (tmp_path / "cut.docx").write_bytes(data[: len(data) // 2])

    with pytest.raises(ParseError, match="looks like an Office document but is damaged"):
        parse_file(path=tmp_path / "cut.docx", original_name="cut.docx")


def test_an_empty_file_is_refused(tmp_path):
    (tmp_path / "empty.xlsx").write_bytes(b"")

    with pytest.raises(ParseError, match="The file is empty"):
        parse_file(path=tmp_path / "empty.xlsx", original_name="empty.xlsx")


def test_the_parsers_do_not_import_django():
    modules = ["csv", "docx", "email", "html", "office", "pptx", "xlsx", "sandbox", "registry"]
    imports = "; ".join(f"import knowledge.parsers.{name}" for name in modules)
    check = f"{imports}; import sys; assert 'django' not in sys.modules, 'django imported'"

    result = subprocess.run(
        [sys.executable, "-c", check], cwd=PROJECT, capture_output=True, text=True
    )

    assert result.returncode == 0, result.stderr


# --- what the child may use and reach -------------------------------------------------------

# Runs in the sandbox exactly as a parser does, and reports what it can see and use.
PROBE = """
import json, os, resource, socket, sys
request = json.loads(sys.stdin.buffer.read())
limits = {name: resource.getrlimit(getattr(resource, name))[0]
          for name in ("RLIMIT_NOFILE", "RLIMIT_NPROC", "RLIMIT_FSIZE", "RLIMIT_AS", "RLIMIT_CPU")}
opened = []
try:
    for _ in range(1000):
        opened.append(open(os.devnull))
    too_many_files = None
except OSError as exc:
    too_many_files = exc.strerror
for f in opened:
    f.close()
try:
    socket.create_connection(("127.0.0.1", request["port"]), timeout=5).close()
    network = "connected"
except OSError as exc:
    network = exc.strerror or type(exc).__name__
print(json.dumps({"environ": dict(os.environ), "limits": limits, "network": network,
                  "too_many_files": too_many_files}))
"""

SECRETS = {
    "DATABASE_URL": "postgres://docent:hunter2@db/docent",
    "SECRET_KEY": "django-secret-value",
    "LLM_API_KEY": "sk-model-key",
    "REDIS_URL": "redis://:redispw@redis:6379/0",
    "GITHUB_TOKEN": "ghp_token_value",
    "SMTP_PASSWORD": "mail-password",
}


def probe(limits: Limits, port: int = 9) -> dict:
    result = run_in_sandbox(
        argv=["-c", PROBE], request=json.dumps({"port": port}).encode(), limits=limits
    )
    assert result.returncode == 0, result.stderr.decode()
    return json.loads(result.stdout)


def test_the_child_sees_none_of_the_workers_credentials(monkeypatch):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)

    seen = probe(Limits())["environ"]

    assert not set(SECRETS) & set(seen)
    assert not set(SECRETS.values()) & set(seen.values())
    assert set(seen) <= {*ENV_ALLOWED, "HOME", "TMPDIR", "PYTHONDONTWRITEBYTECODE"}
    assert Path(seen["HOME"]).name.startswith("docent-parse-")
    assert not Path(seen["HOME"]).exists()  # a scratch folder, gone once the child is


def test_the_limits_are_in_effect_in_the_child():
    limits = Limits(
        timeout=30, memory_bytes=1024 * MB, open_files=40, processes=0, write_bytes=3 * MB
    )

    seen = probe(limits)

    assert seen["limits"] == {
        "RLIMIT_NOFILE": 40,
        "RLIMIT_NPROC": 0,  # binds every user but root (docs/knowledge.md)
        "RLIMIT_FSIZE": 3 * MB,
        "RLIMIT_AS": 1024 * MB,
        "RLIMIT_CPU": 30,
    }
    assert seen["too_many_files"] == "Too many open files"


def test_a_child_writing_a_file_past_the_limit_is_stopped():
    write = "import os; open(os.environ['TMPDIR'] + '/big', 'wb').write(bytes(2 * 1024 * 1024))"

    result = run_in_sandbox(argv=["-c", write], request=b"", limits=Limits(write_bytes=MB))

    # Python ignores SIGXFSZ, so the kernel refuses the write instead of killing the child.
    assert result.returncode == 1
    assert b"OSError: [Errno 27] File too large" in result.stderr


def test_the_child_cannot_open_a_network_connection():
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        # The same connection from here works: only the child is cut off.
        socket.create_connection(("127.0.0.1", port), timeout=5).close()

        seen = probe(Limits(), port=port)

    assert seen["network"] == "Network is unreachable"


def test_a_reply_larger_than_the_output_cap_fails_readably(tmp_path):
    path = files.write_markdown(
        tmp_path / "long.md", "# Long\n\n" + "All work and no play. " * 20_000
    )

    with pytest.raises(ParseError, match=r"The text read from the file is larger than the limit"):
        parse_file(path=path, original_name="long.md", limits=Limits(output_bytes=100_000))

    assert parse_file(path=path, original_name="long.md").text_chars > 400_000


def test_a_file_with_more_text_than_the_cap_is_refused_with_the_figures(tmp_path):
    path = files.write_markdown(tmp_path / "long.md", "# Long\n\n" + "x" * 5_000)

    with pytest.raises(ParseError) as failure:
        parse_file(path=path, original_name="long.md", max_text_chars=4_000)

    assert str(failure.value) == (
        "The file holds 5,000 characters of text, more than the limit of 4,000 for one document;"
        " split it into smaller files."
    )
