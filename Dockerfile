# One image for web, worker and model worker (compose.yaml). Not built in CI: the
# development machines have no Docker engine; `make run` is the tested path.
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends build-essential cmake \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml ./
# Portable build (AVX2, FMA, F16C), not tuned to the building CPU: the image runs elsewhere.
ENV CMAKE_ARGS="-DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON" PIP_NO_CACHE_DIR=1
# Point pip at a CPU-only torch wheel if you have one: the default build carries CUDA.
RUN pip install torch==2.13.0 && pip install -e .
COPY . .
# Docent runs as its own user, never root. /data (DOCENT_VAR_DIR: documents, the prepared
# model) is created here so that a new volume mounted on it inherits its owner and mode.
RUN useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin docent \
    && mkdir -p /data && chown docent:docent /data && chmod 700 /data
USER docent
ENV DOCENT_VAR_DIR=/data HF_HUB_OFFLINE=1
EXPOSE 8000
CMD ["daphne", "--proxy-headers", "-b", "0.0.0.0", "-p", "8000", "config.asgi:application"]
