# rnn-parity: every target sets itself up on a fresh machine (creates .venv, installs the project).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Hypothesis profile for the test suite: dev (fast), ci (derandomised), thorough.
PROFILE ?= ci
# pytest-xdist workers; the suite parallelises across cases.
WORKERS ?= 2
SEED ?= 7
EXAMPLES ?= 100
# Target that runs the layers: tensorflow (default), jax, torch or keras2 (tf_keras); extras install the others.
BACKEND ?= tensorflow
# Also build the cross-target matrix into the report: e.g. TARGETS=all or TARGETS=tensorflow,jax
TARGETS ?=
# Also build the export matrix into the report: e.g. EXPORTS=onnx,litert (installs the extras first)
EXPORTS ?=
EXPORT_EXTRAS := .[test,onnx,litert]

.PHONY: report report-check test test-backends test-exports test-dask sweep matrix test-thorough bench trust docs clean

report: $(STAMP)  ## the main job: sweep + every case in cases/ -> reports/<run-id>/index.html, reports/latest
	$(if $(EXPORTS),$(BIN)/python -m pip install --quiet -e '$(EXPORT_EXTRAS)')
	$(BIN)/rnn-parity report --examples $(EXAMPLES) --seed $(SEED) --target $(BACKEND) $(if $(TARGETS),--targets $(TARGETS)) $(if $(EXPORTS),--exports $(EXPORTS))

# report-check opens reports/latest/index.html in headless Chromium at 1280 px and fails (exit 1, one line per
# problem) on console errors, images that do not load, horizontal overflow or placeholder text (nan, None,
# undefined, NaN); it saves reports/<run>/screenshot.png. It needs Debian's Chromium, nothing is downloaded:
#   apt-get update && apt-get install -y chromium
report-check: $(STAMP)  ## check reports/latest/index.html in headless Chromium (run `make report` first)
	$(BIN)/python -m harness.reporting.browser_check reports/latest/index.html

test: $(STAMP)  ## the test suite, as CI runs it
	RNN_PARITY_PROFILE=$(PROFILE) $(BIN)/python -m pytest -n $(WORKERS) -p no:cacheprovider

test-backends: $(STAMP)  ## the `backends` group: JAX, PyTorch and Keras 2 (installs the extras first)
	$(BIN)/python -m pip install --quiet -e '.[test,jax,torch,keras2]'
	RNN_PARITY_PROFILE=$(PROFILE) $(BIN)/python -m pytest -n $(WORKERS) -m backends -p no:cacheprovider tests/backends

test-exports: $(STAMP)  ## the `exports` group: real ONNX (tf2onnx) and LiteRT conversions (installs the extras first)
	$(BIN)/python -m pip install --quiet -e '.[test,onnx,litert]'
	RNN_PARITY_PROFILE=$(PROFILE) $(BIN)/python -m pytest -m exports -p no:cacheprovider tests/exports

test-dask: $(STAMP)  ## the `dask` group: a sweep on a local dask scheduler + 2 workers equals the local sweep (installs the extra)
	$(BIN)/python -m pip install --quiet -e '.[test,dask]'
	RNN_PARITY_PROFILE=$(PROFILE) $(BIN)/python -m pytest -m dask -p no:cacheprovider tests/sweep/test_dask.py

matrix: $(STAMP)  ## the same sweep on every installed target -> matrix-out/matrix.{csv,html}
	$(BIN)/rnn-parity matrix --targets $(or $(TARGETS),all) --examples $(EXAMPLES) --seed $(SEED) --out matrix-out

test-thorough: $(STAMP)  ## long Hypothesis run (not in CI)
	RNN_PARITY_PROFILE=thorough $(BIN)/python -m pytest -n $(WORKERS) -p no:cacheprovider

bench: $(STAMP)  ## naive loop vs sweep on the same cases, diagnosis time, reference vs Keras; last line "speedup: <x>x"
	$(BIN)/python bench/exports.py --if-installed
	$(BIN)/python bench/run.py

trust: $(STAMP)  ## the zero-false-alarm run: ~11,000 correct cases (T up to 1,000, chaotic gains) -> trust-out/
	$(BIN)/python bench/trust.py

sweep: $(STAMP)  ## the sweep alone, records in sweep-out/
	$(BIN)/rnn-parity sweep --examples $(EXAMPLES) --seed $(SEED) --target $(BACKEND) --out sweep-out

docs: $(STAMP)  ## regenerate docs/flags.md and docs/known-differences.md from the code's registries
	$(BIN)/python -m harness.docs_pages

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) .hypothesis sweep-out matrix-out *.egg-info
