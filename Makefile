# The two commands the README promises: `make demo` and `make test`. Both set everything up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR := demo-output

.PHONY: browser demo test venv clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The stamp is rebuilt whenever pyproject.toml changes, so new dependencies are picked up.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

venv: $(VENV)/.installed

demo: venv
	@rm -rf $(DEMO_DIR)
	@echo "== a synthetic export with known brushing rings (truth in $(DEMO_DIR)/export/truth)"
	$(BIN)/antifraud synth --out $(DEMO_DIR)/export --seed 7 --orders 50000
	@echo "== detecting brushing in it: scores, flagged entities and rings in $(DEMO_DIR)/run"
	$(BIN)/antifraud detect $(DEMO_DIR)/export/orders.csv --out $(DEMO_DIR)/run --seed 7
	@echo "== how well that run did against the planted truth"
	$(BIN)/antifraud evaluate $(DEMO_DIR)/run --truth $(DEMO_DIR)/export/truth
	@echo "== a Taobao-style GBK report with Chinese headers"
	$(BIN)/antifraud validate fixtures/taobao_gbk/orders.csv --profile taobao --out $(DEMO_DIR)/taobao-run
	@echo "== a broken export: bad rows go to quarantine.csv with file, line, column and reason"
	$(BIN)/antifraud validate fixtures/broken/orders.csv --out $(DEMO_DIR)/broken-run

# The evidence report's test renders pages in headless Chromium. On Debian, as root, install it
# when missing; elsewhere that test is skipped with a message.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "== installing chromium for the browser test (apt-get)"; \
	    { apt-get update -qq >/dev/null && \
	      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; } || \
	      echo "== could not install chromium: the browser test will be skipped"; \
	  else \
	    echo "== chromium not found (needs root and apt-get to install): the browser test will be skipped"; \
	  fi; }

test: venv browser
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache
