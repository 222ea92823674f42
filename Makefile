# Thin targets: each one calls fdbench or pytest inside .venv, creating .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PROFILE ?= default
PYTEST_ARGS ?=

.PHONY: setup system-deps bench quick test report microbench clean

setup: $(STAMP)

# Debian packages (scripts/system-deps): installed when missing as root, else one line naming
# the apt-get command. Every target that needs .venv runs it first, asking for what that target
# uses; with everything present it calls no apt. Alone, `make system-deps` checks them all.
SYSTEM_DEPS = all
test: SYSTEM_DEPS = test
setup microbench report: SYSTEM_DEPS = venv
bench quick: SYSTEM_DEPS = bench

system-deps:
	@PYTHON=$(PYTHON) sh scripts/system-deps $(SYSTEM_DEPS)

$(STAMP): pyproject.toml | system-deps
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

bench: $(STAMP)
	$(BIN)/fdbench bench --profile $(PROFILE)

quick: $(STAMP)
	$(BIN)/fdbench bench --profile quick

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# In-process WSGI micro-benchmarks (tests/bench), timed; the JSON feeds the report.
microbench: $(STAMP)
	mkdir -p results
	$(BIN)/python -m pytest tests/bench --benchmark-enable --benchmark-json=results/microbench.json $(PYTEST_ARGS)

report: $(STAMP)
	$(BIN)/fdbench report $(RUN)

clean:
	rm -rf $(VENV) var
