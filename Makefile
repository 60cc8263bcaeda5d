# ALLy: two commands on a fresh machine.
#   make run   - venv, torch 2.13.0 (CPU) first, the project with its extras, ingest corpus/, serve the chat
#   make test  - lint, type-check and the whole test suite (installs Chromium for the browser test as root)

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STORE  ?= .store
HOST   ?= 127.0.0.1
PORT   ?= 8000
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: run setup ingest serve test lint typecheck pytest eval eval-gate eval-scale system-deps clean bench bench-quick

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[serve,pathway,eval,dev]'
	touch $@

setup: $(VENV)/.installed

ingest: setup
	$(BIN)/ally ingest corpus --store $(STORE)

serve: setup
	$(BIN)/ally serve --store $(STORE) --host $(HOST) --port $(PORT)

run: ingest serve

system-deps:
	bash scripts/system-deps.sh

lint: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports

typecheck: setup
	$(BIN)/mypy

pytest: setup system-deps
	@set +e; $(BIN)/pytest -q $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: that is a failure here"; exit 1; fi; exit $$rc

eval: setup
	$(BIN)/ally eval --store $(STORE) --out artifacts/eval-report

# The accuracy gate: a fresh store from corpus/, then every system on the eval set; exits non-zero
# when ALLy falls below evals/thresholds.yaml. Then the frozen half of the clinician-worded set
# (never tuned on) against evals/thresholds-clinician.yaml. Then the same on the external development set
# (real PubMed text and expert questions, shared/external-dev) against evals/thresholds-external.yaml.
EXTERNAL_DEV ?= ../shared/external-dev
eval-gate: setup
	$(BIN)/ally ingest corpus --store artifacts/eval-store --json > /dev/null
	$(BIN)/ally eval --store artifacts/eval-store --out artifacts/eval-report
	$(BIN)/ally eval --store artifacts/eval-store --dataset evals/datasets/questions-clinician-frozen.jsonl \
	  --no-pathway --thresholds evals/thresholds-clinician.yaml --out artifacts/eval-report-clinician-frozen
	@if [ -f $(EXTERNAL_DEV)/questions.jsonl ]; then \
	  $(BIN)/ally ingest $(EXTERNAL_DEV)/docs --store artifacts/eval-external-store --json > /dev/null && \
	  $(BIN)/ally eval --store artifacts/eval-external-store --dataset $(EXTERNAL_DEV)/questions.jsonl \
	    --corpus $(EXTERNAL_DEV)/docs --no-pathway --thresholds evals/thresholds-external.yaml \
	    --out artifacts/eval-report-external && \
	  $(BIN)/ally eval --systems ally,langchain --store artifacts/eval-store \
	    --dataset $(EXTERNAL_DEV)/questions.jsonl --off-field general --no-pathway \
	    --thresholds evals/thresholds-off-field.yaml --out artifacts/eval-report-off-field; \
	else echo "external dev set not found at $(EXTERNAL_DEV): its gate is skipped"; fi

# The external questions again, over the 19,686-article PubMed corpus (shared/corpora/pubmed-real,
# ingested as PubMed XML): each question's gold documents among ~100x as many others, many on the
# same topics. Against evals/thresholds-external-scale.yaml. Not part of `make test`: its ingest
# takes about 7 minutes on 2 cores.
PUBMED_REAL ?= ../shared/corpora/pubmed-real
eval-scale: setup
	$(BIN)/ally ingest $(PUBMED_REAL)/*.xml --store artifacts/eval-pubmed-store --json > /dev/null
	$(BIN)/ally eval --systems ally,bm25,dense --store artifacts/eval-pubmed-store \
	  --dataset $(EXTERNAL_DEV)/questions.jsonl --corpus $(EXTERNAL_DEV)/docs --no-pathway \
	  --thresholds evals/thresholds-external-scale.yaml --out artifacts/eval-report-external-scale

test: lint typecheck pytest eval-gate

# Benchmarks (issue 8), outside `make test`: see benchmarks/README.md. bench-quick is a smoke run.
BENCH := ingest_bench latency_bench cold_bench http_bench
bench-quick: setup
	for b in $(BENCH); do $(BIN)/python -m benchmarks.$$b --quick || exit 1; done
	$(BIN)/python -m benchmarks.report --quick

# wrk (Debian package) drives the HTTP benchmark; without it Python clients are used and say so.
# The 107500 size (101,059 stored chunks) embeds once (~25 min on 2 cores), cached under artifacts/bench/
bench: setup
	command -v wrk >/dev/null || apt-get install -y -q wrk || true
	$(BIN)/python -m benchmarks.ingest_bench --chunks 1000 --repeats 2 --encoders onnx,onnx-int8,torch
	$(BIN)/python -m benchmarks.latency_bench --sizes 5000,20000,107500
	$(BIN)/python -m benchmarks.cold_bench --repeats 3
	$(BIN)/python -m benchmarks.http_bench --chunks 5000 --seconds 20
	$(BIN)/python -m benchmarks.report

clean:
	rm -rf $(STORE) artifacts .pytest_cache .mypy_cache .ruff_cache
