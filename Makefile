# One-command entry points; the README's first lines call these.
PY := .venv/bin/python
SETUP_STAMP := .venv/.setup-stamp

.PHONY: setup quickstart lint format test test-fast hf-common-tests bench

setup: $(SETUP_STAMP)

$(SETUP_STAMP): pyproject.toml constraints.txt scripts/setup.sh
	bash scripts/setup.sh
	touch $@

quickstart: setup
	.venv/bin/affect-llm quickstart --out runs/quickstart

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format: setup
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

# Everything (what CI runs), one pytest worker per core (at most 4: each trains tiny models, so
# memory grows with workers); it ends with the 25 slowest tests.
PYTEST_WORKERS := -n auto --maxprocesses 4 --dist worksteal
test: lint
	$(PY) -m pytest $(PYTEST_WORKERS)

# The edit loop: skip the tests marked slow (CI still runs them).
test-fast: setup
	$(PY) -m pytest $(PYTEST_WORKERS) -m "not slow"

# transformers' common model tests on the tiny configs (needs ../shared/transformers_tests and
# parameterized + pytest-timeout; see docs/modeling.md). Not part of `make test`.
hf-common-tests: setup
	PYTHON=$${PYTHON:-$(PY)} bash scripts/transformers_common_tests/run.sh

bench: setup
	$(PY) benchmarks/bench_scoring.py
	$(PY) benchmarks/bench_rewards.py
	$(PY) benchmarks/bench_decoding.py
	$(PY) benchmarks/bench_grpo.py
	$(PY) benchmarks/bench_cpu_lm_head.py
	$(PY) benchmarks/bench_memory.py
	$(PY) benchmarks/bench_startup.py
