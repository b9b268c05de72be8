"""Local model workers: what each says it loaded, LLM_WORKERS of them started and stopped by `up`,
and the model settings refused when they make no sense."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from chatbot.llm import stream_chat
from chatbot.management.commands.llm_worker import bundled_model_path, loaded_line
from config import embedded, model_workers
from tests.config.test_commands import Output, env_for

ROOT = Path(__file__).resolve().parents[2]


def test_the_worker_line_names_model_quantisation_context_threads_and_attention() -> None:
    import llama_cpp

    path = bundled_model_path()
    llama = llama_cpp.Llama(
        model_path=str(path), n_ctx=512, n_threads=1, n_threads_batch=1, flash_attn=True,
        verbose=False,
    )

    line = loaded_line(llama, path)

    # Q4_1 is what the bundled file's GGUF metadata says (general.file_type 3), not a guess.
    assert line == (
        "model worker loaded SmolLM2-135M-Instruct.Q4_1.gguf: quantisation Q4_1, "
        "context 512 tokens, threads 1, flash attention on"
    )


@pytest.mark.parametrize(
    "name, value",
    [
        ("LLM_TEMPERATURE", "-0.5"),
        ("LLM_TEMPERATURE", "nan"),
        ("LLM_TOP_P", "0"),
        ("LLM_TOP_P", "1.5"),
        ("LLM_TOP_K", "-1"),
        ("LLM_REPEAT_PENALTY", "0.5"),
        ("LLM_MAX_ANSWER_TOKENS", "0"),
        ("LLM_WORKERS", "0"),
        ("LLM_WORKERS", "two"),
    ],
)
def test_nonsense_model_settings_stop_the_process_with_the_name(
    tmp_path: Path, name: str, value: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        cwd=ROOT, env=env_for(tmp_path / "var", **{name: value}), capture_output=True, text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and name in result.stderr


def test_sensible_model_settings_are_read(tmp_path: Path) -> None:
    show = (
        "from config import settings as s; "
        "print(s.LLM_TEMPERATURE, s.LLM_TOP_P, s.LLM_TOP_K, s.LLM_REPEAT_PENALTY, s.LLM_WORKERS)"
    )
    env = env_for(
        tmp_path / "var", LLM_TEMPERATURE="0.3", LLM_TOP_P="0.9", LLM_TOP_K="20",
        LLM_REPEAT_PENALTY="1.2", LLM_WORKERS="3",
    )

    result = subprocess.run([sys.executable, "-c", show], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)

    assert result.stdout.split() == ["0.3", "0.9", "20", "1.2", "3"], result.stderr


class RecordingServer(BaseHTTPRequestHandler):
    """An OpenAI-compatible server on loopback that keeps what it was sent and answers "ok"."""

    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        self.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        chunk = {"choices": [{"delta": {"content": "ok"}}]}
        body = f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


async def test_the_model_settings_are_sent_with_every_question(settings) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), RecordingServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.LLM_BASE_URL = f"http://127.0.0.1:{server.server_address[1]}/v1"
    settings.LLM_TEMPERATURE, settings.LLM_TOP_P, settings.LLM_TOP_K = 0.3, 0.9, 20
    settings.LLM_REPEAT_PENALTY, settings.LLM_MAX_ANSWER_TOKENS = 1.2, 77
    RecordingServer.received.clear()
    try:
        text = [piece async for piece in stream_chat([{"role": "user", "content": "hi"}])]
    finally:
        server.shutdown()
        server.server_close()

    assert text == ["ok"]
    sent = RecordingServer.received[0]
    assert (sent["temperature"], sent["top_p"], sent["top_k"]) == (0.3, 0.9, 20)
    assert (sent["repeat_penalty"], sent["max_tokens"]) == (1.2, 77)


def test_threads_are_split_over_the_workers_at_least_one_each(settings) -> None:
    settings.LLM_THREADS, settings.LLM_WORKERS = 8, 3
    assert model_workers.llm_worker_plan() == [2, 2, 2]
    settings.LLM_THREADS, settings.LLM_WORKERS = 2, 4
    assert model_workers.llm_worker_plan() == [1, 1, 1, 1]


@pytest.fixture
def up_var() -> Iterator[Path]:
    """A var directory for `up`, inside the session's: PostgreSQL's own user can reach it."""
    var = embedded.var_dir() / f"up-workers-{os.getpid()}"
    yield var
    subprocess.run([sys.executable, "manage.py", "down"], cwd=ROOT, env=env_for(var),
                   capture_output=True, timeout=120)
    shutil.rmtree(var, ignore_errors=True)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_up_starts_llm_workers_each_with_its_share_of_threads_and_stops_them_all(
    up_var: Path, monkeypatch: pytest.MonkeyPatch, settings
) -> None:
    port = embedded.free_port()
    env = env_for(up_var, LLM_WORKERS="2", LLM_THREADS="2")
    up = subprocess.Popen(
        [sys.executable, "manage.py", "up", "--no-demo", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    output = Output(up)
    try:
        output.wait_for("Docent is up")
        records = [json.loads((up_var / name).read_text()) for name in ("llm.json", "llm-1.json")]
        ports = {record["port"] for record in records}
        assert len(ports) == 2
        assert [record["threads"] for record in records] == [1, 1]
        for worker_port in ports:
            models = httpx.get(f"http://127.0.0.1:{worker_port}/v1/models", timeout=30)
            assert models.status_code == 200
        for log in ("llm.log", "llm-1.log"):  # each worker's own line of what it loaded
            said = (up_var / "log" / log).read_text()
            assert "quantisation Q4_0, context 2048 tokens, threads 1, flash attention on" in said

        # Both are listed, and the model line serves from both.
        monkeypatch.setenv("DOCENT_VAR_DIR", str(up_var))
        settings.LLM_BASE_URL = ""
        urls = [f"http://127.0.0.1:{p}/v1" for p in (records[0]["port"], records[1]["port"])]
        assert model_workers.llm_worker_urls() == urls
        assert model_workers.llm_worker_url() == urls[0]
        from chatbot.model_queue import backends_configured

        assert [url for url, _ in backends_configured()] == urls
    finally:
        up.send_signal(signal.SIGTERM)
        up.wait(timeout=120)
        output.closed.wait(timeout=30)

    assert up.returncode == 0, output.text()
    assert not any(alive(record["pid"]) for record in records)
    assert not (up_var / "llm.json").exists() and not (up_var / "llm-1.json").exists()
