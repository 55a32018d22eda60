# Course and grader tasks. `make demo` is the main job, `make test` the test suite.
# Every target that needs Python packages depends on the virtual environment, which it builds itself.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# CPU build of TensorFlow unless an NVIDIA driver is present (override: make setup TF_EXTRA=gpu).
TF_EXTRA ?= $(shell command -v nvidia-smi >/dev/null 2>&1 && echo gpu || echo cpu)
JOBS   ?= $(shell $(PYTHON) -c 'import os; print(len(os.sched_getaffinity(0)))')
STAMP  := $(VENV)/.installed-$(TF_EXTRA)
# Jupyter refuses to start as root ("Running as root is not recommended") unless told: containers run as root.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: setup demo test test-fast test-gpu e2e release lab bench bench-sandbox bench-similarity lint clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$(TF_EXTRA),test]"
	rm -f $(VENV)/.installed-*
	touch $@

## demo: grade the bundled sample class (the instructor's main job)
demo: $(STAMP)
	$(BIN)/autograder grade data/sample_class --roster data/sample_roster.csv --out build/demo --jobs $(JOBS) \
		--cell-timeout 60 --memory-mb 3000

## test: the GPU leg first (one line saying it was skipped where no NVIDIA driver exists), then the
## whole suite (lint, release in sync, strict nbval of every solution notebook, grader, sandbox, attacks),
## so that the last test-runner line is the main suite's own "N passed".
test: $(STAMP)
	@if command -v nvidia-smi >/dev/null 2>&1; then $(MAKE) --no-print-directory test-gpu; \
	else echo "GPU notebook run skipped: no NVIDIA driver on this machine (nvidia-smi not found)"; fi
	$(BIN)/python -m pytest -n $(JOBS) --dist loadscope

## test-fast: everything but notebook execution (lint, release, format, collect, normalize, units), under 2 minutes
test-fast: $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) -m "not notebook" tests

## test-gpu: the notebooks on a GPU runtime, floats compared with a tolerance (tests/nbval_tolerance.py);
## a usage error where there is no NVIDIA driver or TensorFlow sees no GPU
test-gpu: $(STAMP)
	$(BIN)/python -m pytest -q --gpu solutions

## e2e: the student's and the instructor's path end to end (JupyterLab, report and formgrader in Chromium,
## the notebooks in a Colab imitation, the Colab badges); part of `make test` too
e2e: $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) --dist loadscope -m e2e tests

## release: regenerate the student editions in notebooks/ from solutions/
release: $(STAMP)
	$(BIN)/autograder release

## lab: JupyterLab on the course, opened where a student starts: the student editions in notebooks/
## (the whole repository is reachable from the file browser: solutions/ for authors)
lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/notebooks $(ALLOW_ROOT)

## bench: sequential `nbgrader autograde` against this grader with cold and warm kernels (--jobs 1 and JOBS)
## on a class handing in 01-04 and one handing in 01-06, in one run; the process pool against Dask LocalClusters (1 and JOBS workers);
## then the similarity stage
bench: $(STAMP)
	$(BIN)/python -m autograder.bench --kernels --jobs $(JOBS)
	$(BIN)/python -m autograder.bench --dask --jobs $(JOBS)
	$(BIN)/python -m autograder.bench --similarity --repeat 3

## bench-similarity: the similarity stage alone, on the sample class and 100 fabricated students x 6 notebooks
bench-similarity: $(STAMP)
	$(BIN)/python -m autograder.bench --similarity --repeat 3

## bench-sandbox: this grader with and without the kernel sandbox, side by side (the sandbox's cost)
bench-sandbox: $(STAMP)
	$(BIN)/python -m autograder.bench --sandbox-overhead --jobs $(JOBS) --repeat 3

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf build .pytest_cache
