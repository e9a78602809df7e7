# 党员留言互动 — two commands do all the set-up on a fresh machine:
#   make run    create the virtualenv, install, start the bot on the embedded defaults
#   make test   install and run the whole suite
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha1sum requirements.txt | cut -c1-12)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint bench clean

$(STAMP): requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

# ECharts for the dashboard, pinned in bot/dashboard/package-lock.json and served by the bot (no CDN).
ECHARTS := bot/dashboard/node_modules/echarts/dist/echarts.min.js
$(ECHARTS): bot/dashboard/package-lock.json
	cd bot/dashboard && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

install: $(STAMP) $(ECHARTS)

run: install
	$(PY) -m bot serve --host $(HOST) --port $(PORT)

test: install
	$(PY) -m pytest -q

lint: install
	$(PY) -m ruff check bot handlers flows tests bench wsgi.py gunicorn.conf.py

bench: install
	for b in bench/*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf var test-output .pytest_cache
