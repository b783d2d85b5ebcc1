# The two commands of the README: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi

.PHONY: run test install lint bench clean

$(VENV)/.installed: pyproject.toml examples/wangge-noticeboard/pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]' -e examples/wangge-noticeboard
	touch $@

install: $(VENV)/.installed

# The web server and one job consumer (flask worker), stopped together by Ctrl-C.
run: install
	$(FLASK) init --demo-if-empty
	$(PY) -m core.jobs.launch --host 127.0.0.1 --port 5000

test: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest -p no:cacheprovider
	@if [ -n "$$WANGGE_TEST_DATABASE_URL" ]; then \
		echo "== the whole suite again on PostgreSQL =="; \
		WANGGE_TEST_BACKEND=postgresql $(VENV)/bin/pytest -p no:cacheprovider; \
	else echo "WANGGE_TEST_DATABASE_URL is not set: PostgreSQL run skipped"; fi

lint: install
	$(VENV)/bin/ruff check .

bench: install
	$(PY) -m bench.grid
	$(PY) -m bench.affairs_import
	$(PY) -m bench.inquiry
	$(PY) -m bench.stations_signup

clean:
	rm -rf $(VENV)
