# The two commands the README promises: `make demo` and `make test`. Both set everything up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR := demo-output
# A fixed alliance pseudonym key, for the demo only: real members get theirs from the alliance.
DEMO_ENV := ANTIFRAUD_PSEUDONYM_KEY=demo-alliance-key-not-for-real-use ANTIFRAUD_PSEUDONYM_KEY_ID=demo-alliance

.PHONY: browser cjk-font system demo test venv clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The stamp is rebuilt whenever pyproject.toml changes, so new dependencies are picked up.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

venv: $(VENV)/.installed

demo: venv system
	@rm -rf $(DEMO_DIR)
	@echo "== a synthetic export with known brushing rings (truth in $(DEMO_DIR)/export/truth)"
	$(BIN)/antifraud synth --out $(DEMO_DIR)/export --seed 7 --orders 50000
	@echo "== a signing key for this member (the private key is readable by its owner only)"
	$(BIN)/antifraud keys generate $(DEMO_DIR)/keys/demo-platform
	@echo "== detecting brushing in it: scores, rings, evidence and signed acr/1 findings in $(DEMO_DIR)/run"
	$(DEMO_ENV) $(BIN)/antifraud detect $(DEMO_DIR)/export/orders.csv --out $(DEMO_DIR)/run --seed 7 \
	  --member demo-platform --member-uscc 91440300708461136T --signing-key $(DEMO_DIR)/keys/demo-platform
	@echo "== how well that run did against the planted truth"
	$(BIN)/antifraud evaluate $(DEMO_DIR)/run --truth $(DEMO_DIR)/export/truth
	@echo "== the findings go into the member's record store and out as a feed; a peer imports it"
	$(BIN)/antifraud records add $(DEMO_DIR)/run/findings.jsonl --store $(DEMO_DIR)/store --keyring $(DEMO_DIR)/keys
	$(BIN)/antifraud records list --store $(DEMO_DIR)/store --ring R0001
	$(BIN)/antifraud feed export --store $(DEMO_DIR)/store --member demo-platform --out $(DEMO_DIR)/feed \
	  --signing-key $(DEMO_DIR)/keys/demo-platform
	$(BIN)/antifraud feed import $(DEMO_DIR)/feed --store $(DEMO_DIR)/peer-store --keyring $(DEMO_DIR)/keys
	@echo "== what the peer now holds on ring R0001, and the merchants' credit grades (A-D) its records give"
	$(BIN)/antifraud query --store $(DEMO_DIR)/peer-store --ring R0001
	$(BIN)/antifraud records grades --store $(DEMO_DIR)/peer-store --keyring $(DEMO_DIR)/keys
	@echo "== an evidence bundle for a regulator, signed, then verified"
	$(BIN)/antifraud bundle $(DEMO_DIR)/run --finding R0001 --out $(DEMO_DIR)/bundle-R0001.zip \
	  --signing-key $(DEMO_DIR)/keys/demo-platform
	$(BIN)/antifraud verify $(DEMO_DIR)/bundle-R0001.zip --keyring $(DEMO_DIR)/keys
	@echo "== credit codes checked, with what is wrong (exit code 1: one of them is invalid, as it should be)"
	$(BIN)/antifraud uscc 91440300708461136T 91350211M0000XUF46 914403001922038217 || [ $$? -eq 1 ]
	@echo "== a Taobao-style GBK report with Chinese headers (the profile is found from the headers)"
	$(DEMO_ENV) $(BIN)/antifraud validate fixtures/taobao_gbk/orders.csv --out $(DEMO_DIR)/taobao-run
	@echo "== the same report after Excel, as a workbook: ids Excel rewrote as numbers are quarantined"
	$(DEMO_ENV) $(BIN)/antifraud validate fixtures/taobao_excel/orders.xlsx --out $(DEMO_DIR)/taobao-excel-run
	@echo "== a broken export: bad rows go to quarantine.csv with file, line, column and reason"
	$(DEMO_ENV) $(BIN)/antifraud validate fixtures/broken/orders.csv --out $(DEMO_DIR)/broken-run
	@echo
	@echo "Done. Next:"
	@echo "  read the run summary:        $(DEMO_DIR)/run/summary.md"
	@echo "  open the regulator's report: unzip $(DEMO_DIR)/bundle-R0001.zip, then open index.html"
	@echo "  run on your own export:      $(BIN)/antifraud detect YOUR-EXPORT.csv --out run/"
	@echo "  every command's options:     $(BIN)/antifraud -h, $(BIN)/antifraud COMMAND -h"

# Installs Debian package $(2) with apt-get when the check $(1) fails, as root; otherwise says which
# tests ($(3)) will be skipped.
define apt_install
	@$(1) || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "== installing $(2) for $(3) (apt-get)"; \
	    { apt-get update -qq >/dev/null && \
	      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(2) >/dev/null; } || \
	      echo "== could not install $(2): $(3) will be skipped"; \
	  else \
	    echo "== $(2) not found (needs root and apt-get to install): $(3) will be skipped"; \
	  fi; }
endef

# The evidence report's test renders pages in headless Chromium. On Debian, as root, install it
# when missing; elsewhere that test is skipped with a message.
browser:
	$(call apt_install,command -v chromium >/dev/null 2>&1,chromium,the browser test)

# The report and its pictures are in Chinese by default: without a CJK font, matplotlib and
# Chromium draw shop names and headings as boxes. Installed like Chromium, else those checks skip.
cjk-font:
	$(call apt_install,fc-list :lang=zh family 2>/dev/null | grep -q .,fonts-wqy-microhei,the Chinese rendering tests)

# Everything outside Python that the tests and the demo use.
system: browser cjk-font

test: venv system
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache
