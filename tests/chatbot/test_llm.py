"""The LLM client reads where the model is; with no model worker it says so at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatbot.llm import ModelUnavailable, base_url, stream_chat


@pytest.fixture
def no_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings) -> Path:
    """Embedded defaults on a var directory where no model worker was ever started."""
    settings.LLM_BASE_URL = ""
    var = tmp_path / "var"
    monkeypatch.setenv("DOCENT_VAR_DIR", str(var))
    return var


def test_a_configured_server_is_used_as_given(settings) -> None:
    settings.LLM_BASE_URL = "http://llm.example:8001/v1/"

    assert base_url() == "http://llm.example:8001/v1"


async def test_without_a_model_worker_the_answer_fails_with_a_clear_error_and_starts_none(
    no_worker: Path,
) -> None:
    with pytest.raises(ModelUnavailable, match="No model worker is running.*manage.py up"):
        async for _ in stream_chat([{"role": "user", "content": "hello"}]):
            pass

    assert not no_worker.exists(), "the client must not start a model worker"
